//! The HTTP API v1 (`/api/v1/*`), with upstream's paths, parameters, JSON and error codes.
//! Handlers read the storage through [`Queryable`] so tests can drive them over any storage.

pub mod alertmanagers;
mod exemplars;
pub mod json;
pub mod params;
pub mod parse_query;
mod query;
pub mod query_log;
pub mod response;
pub mod rules;
mod series;
pub mod status;
pub mod targets;
#[cfg(test)]
mod tests;
pub mod tsdb;
#[cfg(test)]
mod tsdb_tests;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use pm_promql::engine::Engine;
use pm_storage::{Appendable, ExemplarQueryable, Queryable};
use pm_tsdb::Db;

use alertmanagers::AlertmanagersSource;
use response::{ApiError, ErrorType};
use rules::RulesSource;
use status::ServerStatus;
use targets::TargetsSource;

/// What the API reads (samples and exemplars) and the remote-write receiver appends to.
#[derive(Clone)]
pub struct Storage {
    pub queryable: Arc<dyn Queryable>,
    pub exemplars: Arc<dyn ExemplarQueryable>,
    /// The database itself, for its status and admin endpoints (absent over other storages).
    pub db: Option<Arc<Db>>,
    pub appendable: Arc<dyn Appendable>,
}

impl Storage {
    /// One storage serving both, e.g. the in-memory storage of tests.
    pub fn of<S: Queryable + ExemplarQueryable + Appendable + 'static>(storage: S) -> Self {
        let storage = Arc::new(storage);
        Self {
            queryable: storage.clone(),
            exemplars: storage.clone(),
            appendable: storage,
            db: None,
        }
    }

    /// The database serving everything: samples, the exemplars its head keeps, and its own
    /// status and admin endpoints.
    pub fn of_db(db: Arc<Db>) -> Self {
        Self {
            queryable: db.clone(),
            exemplars: Arc::new(DbExemplars(db.clone())),
            appendable: db.clone(),
            db: Some(db),
        }
    }
}

struct DbExemplars(Arc<Db>);

impl ExemplarQueryable for DbExemplars {
    fn exemplar_querier(&self) -> pm_storage::Result<Box<dyn pm_storage::ExemplarQuerier>> {
        self.0.head().exemplar_querier()
    }
}

/// The storage, set once the database is open (upstream answers 503 until then).
pub type StorageSlot = Arc<OnceLock<Storage>>;

/// What the API handlers share.
pub struct ApiState {
    pub storage: StorageSlot,
    pub engine: Engine,
    pub status: Arc<ServerStatus>,
    pub targets: Option<Arc<dyn TargetsSource>>,
    pub tsdb: tsdb::TsdbState,
    pub alertmanagers: Option<Arc<dyn AlertmanagersSource>>,
    /// The remote-write receiver's and the remote-read server's settings.
    pub remote: Arc<crate::remote::http::RemoteApi>,
    /// The rule manager, for `/rules` and `/alerts`; without one both lists are empty.
    pub rules: Option<Arc<dyn RulesSource>>,
    /// `global.query_log_file`, reopened by the daemon on every config load.
    pub query_log: Arc<query_log::QueryLog>,
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
            "/parse_query",
            get(parse_query::parse_query).post(parse_query::parse_query),
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
        .route("/alertmanagers", get(alertmanagers::alertmanagers))
        .route("/rules", get(rules::rules))
        .route("/alerts", get(rules::alerts))
        .route("/status/config", get(status::config))
        .route("/status/flags", get(status::flags))
        .route("/status/runtimeinfo", get(status::runtime_info))
        .route("/status/buildinfo", get(status::build_info))
        .route("/status/tsdb", get(tsdb::status))
        .route(
            "/admin/tsdb/delete_series",
            post(tsdb::delete_series).put(tsdb::delete_series),
        )
        .route(
            "/admin/tsdb/clean_tombstones",
            post(tsdb::clean_tombstones).put(tsdb::clean_tombstones),
        )
        .route(
            "/admin/tsdb/snapshot",
            post(tsdb::snapshot).put(tsdb::snapshot),
        )
        .route(
            "/write",
            post(crate::remote::http::write)
                .layer(DefaultBodyLimit::max(crate::remote::http::MAX_BODY)),
        )
        .route(
            "/read",
            post(crate::remote::http::read)
                .layer(DefaultBodyLimit::max(crate::remote::http::MAX_BODY)),
        )
        .with_state(state)
}

/// The routes answered before the storage is ready (upstream does not gate them), relative
/// to `/api/v1`.
pub fn ungated_router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/status/walreplay", get(tsdb::wal_replay))
        .with_state(state)
}
