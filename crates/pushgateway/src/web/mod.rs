//! The HTTP surface: push API, `/metrics`, the JSON API, the status page and the lifecycle
//! endpoints, all under `--web.route-prefix`.

mod api;
mod body;
mod exposition;
mod push;
mod status;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{any, get, put};
use http::StatusCode;
use jiff::Timestamp;
use tokio::sync::Notify;

use crate::metrics::OwnMetrics;
use crate::store::Store;

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    pub store: Arc<Store>,
    pub metrics: OwnMetrics,
    /// Flag values for `/api/v1/status` and the status page.
    pub flags: Vec<(&'static str, String)>,
    pub start_time: Timestamp,
    /// The externally visible path prefix, for links in the status page.
    pub external_prefix: String,
    /// Whether the consistency check is on (a successful push answers 200, else 202).
    pub checked: bool,
    /// `--web.enable-lifecycle`.
    pub lifecycle: bool,
    /// Notified by `/-/quit` when the lifecycle API is enabled.
    pub quit: Arc<Notify>,
}

/// Which optional routes exist and where.
#[derive(Debug, Clone, Default)]
pub struct RouteOptions {
    /// `""` or `/prefix`, see `Flags::route_prefix`.
    pub prefix: String,
    pub telemetry_path: String,
    pub enable_admin_api: bool,
}

/// Builds the whole router.
pub fn router(state: Arc<AppState>, options: &RouteOptions) -> Router {
    let p = &options.prefix;
    let telemetry = if options.telemetry_path.starts_with('/') {
        format!("{p}{}", options.telemetry_path)
    } else {
        format!("{p}/{}", options.telemetry_path)
    };
    let api = if p.is_empty() {
        "/api/v1".to_owned()
    } else {
        format!("{p}/api/v1")
    };
    let mut router = Router::new()
        .route(&format!("{p}/-/healthy"), get(healthy))
        .route(&format!("{p}/-/ready"), get(ready))
        .route(&telemetry, get(exposition::metrics))
        .route(
            &format!("{p}/metrics/{{*rest}}"),
            put(push::put).post(push::post).delete(push::delete),
        )
        .route(&format!("{p}/status"), get(status::page))
        .route(&format!("{p}/"), get(status::page))
        .route(&format!("{p}/-/quit"), any(quit))
        .route(
            &format!("{api}/status"),
            get(api::status).options(api::options),
        )
        .route(
            &format!("{api}/metrics"),
            get(api::metrics).options(api::options),
        );
    if options.enable_admin_api {
        router = router.route(&format!("{api}/admin/wipe"), put(push::wipe));
    }
    router.layer(DefaultBodyLimit::disable()).with_state(state)
}

async fn healthy(State(s): State<Arc<AppState>>) -> &'static str {
    s.metrics.request("healthy", 200, &http::Method::GET);
    "OK"
}

async fn ready(State(s): State<Arc<AppState>>) -> &'static str {
    s.metrics.request("ready", 200, &http::Method::GET);
    "OK"
}

/// `/-/quit`: PUT or POST shut down when `--web.enable-lifecycle` is set.
async fn quit(State(s): State<Arc<AppState>>, method: http::Method) -> (StatusCode, &'static str) {
    if method != http::Method::PUT && method != http::Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            "Only POST or PUT requests allowed.",
        );
    }
    if !s.lifecycle {
        return (StatusCode::FORBIDDEN, "Lifecycle API is not enabled.");
    }
    s.quit.notify_one();
    (StatusCode::OK, "Requesting termination... Goodbye!")
}
