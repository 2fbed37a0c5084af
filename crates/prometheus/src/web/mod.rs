//! The server's HTTP surface: the API, federation, `/metrics`, the health, readiness and
//! lifecycle endpoints, all under `--web.route-prefix`, instrumented per handler.

pub mod api;
pub mod federate;
pub mod metrics;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue, ORIGIN,
};
use http::{Method, StatusCode};
use pm_common::model::GoRegex;
use pm_common::web::{Readiness, healthy, metrics_endpoint, ready};
use tokio::sync::{Notify, mpsc, oneshot};
use tower_http::compression::CompressionLayer;

use api::v1::ApiState;
use federate::FederationState;
use metrics::{Instrumentation, ServerMetrics, instrument};

/// A reload request: the daemon answers on the enclosed channel with the reason a reload
/// failed, if it did.
pub type ReloadRequest = oneshot::Sender<Result<(), String>>;

/// Everything the routes need.
pub struct WebOptions {
    /// `""` or `/prefix`.
    pub prefix: String,
    pub enable_lifecycle: bool,
    /// `--web.cors.origin`, anchored.
    pub cors_origin: GoRegex,
    pub readiness: Readiness,
    pub metrics: ServerMetrics,
    pub api: Arc<ApiState>,
    pub federation: Arc<FederationState>,
    /// Where `/-/reload` sends its requests.
    pub reload: mpsc::Sender<ReloadRequest>,
    /// Notified by `/-/quit`.
    pub quit: Arc<Notify>,
}

#[derive(Clone)]
struct Lifecycle {
    enabled: bool,
    reload: mpsc::Sender<ReloadRequest>,
    quit: Arc<Notify>,
}

/// Builds the whole router.
pub fn router(options: WebOptions) -> Router {
    let p = options.prefix.clone();
    let readiness = options.readiness.clone();
    let cors = Arc::new(options.cors_origin);
    let api = api::v1::router(options.api.clone())
        .layer(middleware::from_fn_with_state(cors.clone(), set_cors))
        .layer(middleware::from_fn_with_state(
            readiness.clone(),
            require_ready,
        ))
        .merge(
            api::v1::ungated_router(options.api)
                .layer(middleware::from_fn_with_state(cors, set_cors)),
        );
    let federate = Router::new()
        .route("/federate", get(federate::federate))
        .with_state(options.federation)
        .layer(middleware::from_fn_with_state(
            readiness.clone(),
            require_ready,
        ));
    let lifecycle = Lifecycle {
        enabled: options.enable_lifecycle,
        reload: options.reload,
        quit: options.quit,
    };
    let own = Router::new()
        .route("/-/reload", any(reload))
        .route("/-/quit", any(quit))
        .with_state(lifecycle)
        .route("/-/healthy", healthy("Prometheus Server is Healthy.\n"))
        .route(
            "/-/ready",
            ready("Prometheus Server is Ready.\n", readiness),
        )
        .route(
            "/metrics",
            metrics_endpoint(Arc::new(options.metrics.registry.clone())),
        );
    let inner = Router::new()
        .nest("/api/v1", api)
        .merge(federate)
        .merge(own)
        .layer(CompressionLayer::new().gzip(true));
    let app = if p.is_empty() {
        inner
    } else {
        Router::new().nest(&p, inner)
    };
    let inst = Arc::new(Instrumentation {
        metrics: options.metrics,
        prefix: p,
    });
    app.route_layer(middleware::from_fn_with_state(inst, instrument))
        .layer(middleware::map_request(api::v1::query_log::remember_path))
}

/// Upstream answers everything but health, readiness and `/metrics` with 503 until the
/// storage is open.
async fn require_ready(
    State(readiness): State<Readiness>,
    request: Request,
    next: Next,
) -> Response {
    if readiness.is_ready() {
        next.run(request).await
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()
    }
}

/// Upstream's `SetCORS`: only for requests with an `Origin`; `*` when any origin is allowed.
async fn set_cors(State(origin_re): State<Arc<GoRegex>>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(ORIGIN).cloned();
    let mut response = next.run(request).await;
    let Some(origin) = origin else {
        return response;
    };
    let headers = response.headers_mut();
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Accept, Authorization, Content-Type, Origin"),
    );
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    headers.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Date"),
    );
    if origin_re.as_str() == ".*" {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    } else if origin.to_str().is_ok_and(|o| origin_re.is_match(o)) {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    response
}

fn lifecycle_gate(lifecycle: &Lifecycle, method: &Method) -> Option<Response> {
    if method != Method::POST && method != Method::PUT {
        return Some(
            (
                StatusCode::METHOD_NOT_ALLOWED,
                "Only POST or PUT requests allowed",
            )
                .into_response(),
        );
    }
    if !lifecycle.enabled {
        return Some((StatusCode::FORBIDDEN, "Lifecycle API is not enabled.").into_response());
    }
    None
}

async fn reload(State(lifecycle): State<Lifecycle>, method: Method) -> Response {
    if let Some(refused) = lifecycle_gate(&lifecycle, &method) {
        return refused;
    }
    let (tx, rx) = oneshot::channel();
    let outcome = match lifecycle.reload.send(tx).await {
        Ok(()) => rx.await.unwrap_or_else(|_| Err("shutting down".into())),
        Err(_) => Err("shutting down".into()),
    };
    match outcome {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}\n"),
        )
            .into_response(),
    }
}

async fn quit(State(lifecycle): State<Lifecycle>, method: Method) -> Response {
    if let Some(refused) = lifecycle_gate(&lifecycle, &method) {
        return refused;
    }
    lifecycle.quit.notify_one();
    "Requesting termination... Goodbye!".into_response()
}
