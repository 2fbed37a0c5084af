//! The HTTP API v1 (`/api/v1/*`), with upstream's paths, parameters, JSON and error codes.
//! Handlers read the storage through [`Queryable`] so tests can drive them over any storage.

mod exemplars;
pub mod json;
pub mod params;
mod query;
pub mod response;
pub mod rules;
mod series;
pub mod status;
pub mod targets;
#[cfg(test)]
mod tests;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::routing::get;
use pm_promql::engine::Engine;
use pm_storage::{ExemplarQueryable, Queryable};
use tokio::sync::Semaphore;

use response::{ApiError, ErrorType};
use rules::RulesSource;
use status::ServerStatus;
use targets::TargetsSource;

/// What the API reads: samples and exemplars.
#[derive(Clone)]
pub struct Storage {
    pub queryable: Arc<dyn Queryable>,
    pub exemplars: Arc<dyn ExemplarQueryable>,
}

impl Storage {
    /// One storage serving both, e.g. the in-memory storage of tests.
    pub fn of<S: Queryable + ExemplarQueryable + 'static>(storage: S) -> Self {
        let storage = Arc::new(storage);
        Self {
            queryable: storage.clone(),
            exemplars: storage,
        }
    }
}

/// The storage, set once the database is open (upstream answers 503 until then).
pub type StorageSlot = Arc<OnceLock<Storage>>;

/// What the API handlers share.
pub struct ApiState {
    pub storage: StorageSlot,
    pub engine: Engine,
    /// `--query.max-concurrency` permits.
    pub query_gate: Arc<Semaphore>,
    pub status: Arc<ServerStatus>,
    pub targets: Option<Arc<dyn TargetsSource>>,
    /// The rule manager, for `/rules` and `/alerts`; without one both lists are empty.
    pub rules: Option<Arc<dyn RulesSource>>,
}

impl ApiState {
    fn storage(&self) -> Result<Arc<dyn Queryable>, ApiError> {
        self.storage_pair().map(|s| s.queryable)
    }

    fn storage_pair(&self) -> Result<Storage, ApiError> {
        self.storage
            .get()
            .cloned()
            .ok_or_else(|| ApiError::new(ErrorType::Unavailable, "TSDB not ready"))
    }
}

/// The API's routes, relative to `/api/v1`.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/query", get(query::instant).post(query::instant))
        .route("/query_range", get(query::range).post(query::range))
        .route(
            "/format_query",
            get(query::format_query).post(query::format_query),
        )
        .route(
            "/query_exemplars",
            get(exemplars::query_exemplars).post(exemplars::query_exemplars),
        )
        .route("/series", get(series::series).post(series::series))
        .route("/labels", get(series::labels).post(series::labels))
        .route("/label/{name}/values", get(series::label_values))
        .route("/targets", get(targets::targets))
        .route("/targets/metadata", get(targets::targets_metadata))
        .route("/metadata", get(targets::metadata))
        .route("/rules", get(rules::rules))
        .route("/alerts", get(rules::alerts))
        .route("/status/config", get(status::config))
        .route("/status/flags", get(status::flags))
        .route("/status/runtimeinfo", get(status::runtime_info))
        .route("/status/buildinfo", get(status::build_info))
        .with_state(state)
}
