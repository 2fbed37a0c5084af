//! `/api/v2/status` and `/api/v2/receivers`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::json;
use super::model::{Receiver, format_time};
use crate::daemon::App;

#[derive(Serialize)]
struct Status {
    cluster: Cluster,
    config: ConfigOut,
    uptime: String,
    #[serde(rename = "versionInfo")]
    version_info: VersionInfo,
}

/// Clustering is not supported yet: the node always reports itself alone.
#[derive(Serialize)]
struct Cluster {
    peers: [(); 0],
    status: &'static str,
}

#[derive(Serialize)]
struct ConfigOut {
    original: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionInfo {
    branch: &'static str,
    build_date: &'static str,
    build_user: &'static str,
    go_version: &'static str,
    revision: &'static str,
    version: &'static str,
}

pub(super) async fn status(State(app): State<Arc<App>>) -> Response {
    let runtime = app.runtime();
    json(
        StatusCode::OK,
        &Status {
            cluster: Cluster {
                peers: [],
                status: "disabled",
            },
            config: ConfigOut {
                original: runtime.config.to_redacted_yaml(),
            },
            uptime: format_time(app.started),
            version_info: VersionInfo {
                branch: "unknown",
                build_date: "unknown",
                build_user: "unknown",
                go_version: option_env!("PM_RUSTC_VERSION").unwrap_or("unknown"),
                revision: "unknown",
                version: env!("CARGO_PKG_VERSION"),
            },
        },
    )
}

pub(super) async fn receivers(State(app): State<Arc<App>>) -> Response {
    let runtime = app.runtime();
    let out: Vec<Receiver> = runtime
        .config
        .receivers
        .iter()
        .map(|r| Receiver {
            name: r.name.clone(),
        })
        .collect();
    json(StatusCode::OK, &out)
}
