//! The HTTP side: `/probe`, the landing page with recent probes, `/logs`, `/config`,
//! `/metrics`, `/-/healthy` and `/-/reload`, all under `--web.route-prefix`.

mod history;
mod probe;
mod state;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use pm_common::web::metrics_endpoint;

pub use history::{History, ProbeResult};
pub use probe::go_error;
pub use state::{AppState, Settings};

/// The daemon's router; `external_url` is where `/` redirects when a route prefix is set.
pub fn router(app: Arc<AppState>, external_url: &str) -> Router {
    let prefix = app.settings.route_prefix.clone();
    let route = |path: &str| format!("{prefix}{path}");
    let mut router = Router::new()
        .route(&route("probe"), get(probe::handler))
        .route(&route("logs"), get(logs))
        .route(&route("config"), get(config_page))
        .route(&route("-/reload"), any(reload))
        .route(&route("-/healthy"), get(|| async { "Healthy" }));
    if prefix == "/" {
        router = router.route("/", get(landing));
    } else {
        let target = external_url.to_owned();
        let with_slash = prefix.clone();
        // Like Go's ServeMux for a `/prefix/` pattern: the bare prefix moves permanently.
        let bare = get(move || async move {
            (
                StatusCode::MOVED_PERMANENTLY,
                [(header::LOCATION, with_slash)],
            )
        });
        router = router
            .route(&prefix, get(landing))
            .route(prefix.trim_end_matches('/'), bare)
            .route(
                "/",
                get(move || async move { (StatusCode::FOUND, [(header::LOCATION, target)]) }),
            );
    }
    let metrics = Router::new().route(
        &route("metrics"),
        metrics_endpoint(Arc::clone(&app.registry)),
    );
    router.with_state(app).merge(metrics)
}

async fn reload(State(app): State<Arc<AppState>>, method: axum::http::Method) -> Response {
    if method != axum::http::Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            "This endpoint requires a POST request.\n",
        )
            .into_response();
    }
    match app.reload() {
        Ok(()) => StatusCode::OK.into_response(),
        Err(err) => go_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("failed to reload config: {err}"),
        ),
    }
}

async fn config_page(State(app): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain")],
        app.config().to_yaml(),
    )
        .into_response()
}

async fn logs(
    State(app): State<Arc<AppState>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let id = params.get("id").and_then(|v| v.parse::<u64>().ok());
    let target = params.get("target").map_or("", String::as_str);
    let module = params.get("module").map_or("", String::as_str);
    if id.is_some() && !target.is_empty() {
        return go_error(
            StatusCode::BAD_REQUEST,
            "Probe id and target can't be defined at the same time",
        );
    }
    if id.is_none() && target.is_empty() {
        return go_error(
            StatusCode::BAD_REQUEST,
            "Probe id or target must be defined as http query parameters",
        );
    }
    if target.is_empty() && !module.is_empty() {
        return go_error(
            StatusCode::BAD_REQUEST,
            "Probe module filter only works in conjunction with target parameter",
        );
    }
    let result = match id {
        Some(id) => app.history.by_id(id).ok_or("Probe id not found"),
        None => app
            .history
            .by_target(target, module)
            .ok_or("Probe target not found"),
    };
    match result {
        Ok(result) => ([(header::CONTENT_TYPE, "text/plain")], result.debug_output).into_response(),
        Err(message) => go_error(StatusCode::NOT_FOUND, message),
    }
}

async fn landing(State(app): State<Arc<AppState>>) -> Response {
    let mut page = String::from(
        "<html>\n    <head><title>Blackbox Exporter</title></head>\n    <body>\n    <h1>Blackbox Exporter</h1>\n    \
         <p><a href=\"probe?target=prometheus.io&module=http_2xx\">Probe prometheus.io for http_2xx</a></p>\n    \
         <p><a href=\"probe?target=prometheus.io&module=http_2xx&debug=true\">Debug probe prometheus.io for http_2xx</a></p>\n    \
         <p><a href=\"metrics\">Metrics</a></p>\n    <p><a href=\"config\">Configuration</a></p>\n    \
         <h2>Recent Probes</h2>\n    <table border='1'><tr><th>Module</th><th>Target</th><th>Result</th><th>Debug</th>",
    );
    for result in app.history.list().iter().rev() {
        let outcome = if result.success {
            "Success"
        } else {
            "<strong>Failure</strong>"
        };
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{outcome}</td><td><a href='logs?id={}'>Logs</a></td></td>",
            escape_html(&result.module),
            escape_html(&result.target),
            result.id
        );
    }
    page.push_str("</table></body>\n    </html>");
    ([(header::CONTENT_TYPE, "text/html")], page).into_response()
}

/// Go's `html.EscapeString`.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            _ => out.push(c),
        }
    }
    out
}
