//! The HTTP face: `/metrics` with HAProxy's families, the exporter's own metrics (process_*,
//! build info, `promhttp_metric_handler_*`, and haproxy_process_* with a pid file), and the
//! landing page.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pm_common::metrics::{HandlerMetrics, Registry, gather_scraped, render};
use pm_common::process::{BuildInfo, ProcessCollector};
use pm_common::web::{LandingConfig, LandingLink, landing_page};

use crate::cli::Flags;
use crate::error::ConfigError;
use crate::exporter::Exporter;

/// What every request shares.
#[derive(Debug)]
pub struct App {
    exporter: Exporter,
    /// The exporter's own metrics, gathered with HAProxy's on each request.
    own: Registry,
    handler: HandlerMetrics,
}

impl App {
    pub fn new(flags: &Flags) -> Result<Self, ConfigError> {
        let exporter = Exporter::new(&flags.options())?;
        let own = Registry::new();
        let handler = HandlerMetrics::register(&own);
        own.register(Arc::new(ProcessCollector::new()));
        own.register(Arc::new(BuildInfo::new(
            "haproxy_exporter",
            env!("CARGO_PKG_VERSION"),
        )));
        if let Some(pid_file) = flags.pid_file() {
            own.register(Arc::new(ProcessCollector::for_pid_file(
                "haproxy", pid_file,
            )));
        }
        Ok(Self {
            exporter,
            own,
            handler,
        })
    }

    pub fn exporter(&self) -> &Exporter {
        &self.exporter
    }
}

/// The router: landing page at `/` and the metrics at `telemetry_path`.
pub fn router(app: Arc<App>, telemetry_path: &str) -> Router {
    let landing = LandingConfig {
        name: "Haproxy Exporter".into(),
        description: "Prometheus exporter for HAProxy".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        links: vec![LandingLink::new("Metrics", telemetry_path)],
        ..Default::default()
    };
    let router = Router::new()
        .route(telemetry_path, get(metrics))
        .with_state(app)
        .layer(tower_http::compression::CompressionLayer::new().gzip(true));
    if telemetry_path == "/" {
        router
    } else {
        router.route("/", landing_page(landing))
    }
}

async fn metrics(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let in_flight = app.handler.start();
    let families = gather_scraped(&app.own, app.exporter.collect().await);
    drop(in_flight);
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    let (content_type, body) = render(&families, accept);
    ([(CONTENT_TYPE, content_type)], body).into_response()
}
