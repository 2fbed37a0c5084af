//! The HTTP face: `/metrics` (the configured server, the exporter's own metrics and, with a
//! pid file, memcached's process metrics), `/scrape?target=` for any other server, and the
//! landing page.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pm_common::metrics::{HandlerMetrics, Registry, gather_scraped};
use pm_common::process::{BuildInfo, ProcessCollector};
use pm_common::web::{LandingConfig, LandingLink, exposition, landing_page};

use crate::cli::Flags;
use crate::client::{Client, Tls};
use crate::error::ConfigError;
use crate::exporter::Exporter;

/// What every request shares.
#[derive(Debug)]
pub struct App {
    /// `None` when `--memcached.address` is empty.
    exporter: Option<Exporter>,
    timeout: Duration,
    tls: Option<Tls>,
    own: Registry,
    handler: HandlerMetrics,
}

impl App {
    pub fn new(flags: &Flags) -> Result<Self, ConfigError> {
        let tls = flags.tls()?;
        let exporter = (!flags.address.is_empty())
            .then(|| Exporter::new(Client::new(&flags.address, flags.timeout, tls.clone())));
        let own = Registry::new();
        let handler = HandlerMetrics::register(&own);
        own.register(Arc::new(ProcessCollector::new()));
        own.register(Arc::new(BuildInfo::new(
            "memcached_exporter",
            env!("CARGO_PKG_VERSION"),
        )));
        if let Some(pid_file) = flags.pid_file() {
            own.register(Arc::new(ProcessCollector::for_pid_file(
                "memcached",
                pid_file,
            )));
        }
        Ok(Self {
            exporter,
            timeout: flags.timeout,
            tls,
            own,
            handler,
        })
    }
}

/// The router: metrics, the multi-target scrape endpoint and the landing page.
pub fn router(app: Arc<App>, telemetry_path: &str, scrape_path: &str) -> Router {
    let mut router = Router::new()
        .route(telemetry_path, get(metrics))
        .route(scrape_path, get(scrape))
        .with_state(app)
        .layer(tower_http::compression::CompressionLayer::new().gzip(true));
    if telemetry_path != "/" && !telemetry_path.is_empty() {
        router = router.route(
            "/",
            landing_page(LandingConfig {
                name: "memcached_exporter".into(),
                description: "Prometheus Exporter for Memcached servers".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                links: vec![LandingLink::new("Metrics", telemetry_path)],
                ..Default::default()
            }),
        );
    }
    router
}

async fn metrics(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let in_flight = app.handler.start();
    let scraped = match &app.exporter {
        Some(e) => e.collect().await,
        None => Vec::new(),
    };
    let families = gather_scraped(&app.own, scraped);
    drop(in_flight);
    exposition(&families, &headers)
}

#[derive(Debug, serde::Deserialize)]
struct Target {
    #[serde(default)]
    target: String,
}

/// Scrapes the server named by `target` with the exporter's timeout and TLS settings.
async fn scrape(
    State(app): State<Arc<App>>,
    Query(query): Query<Target>,
    headers: HeaderMap,
) -> Response {
    if query.target.is_empty() {
        tracing::warn!("'target' parameter must be specified");
        return (
            StatusCode::BAD_REQUEST,
            "'target' parameter must be specified\n",
        )
            .into_response();
    }
    let exporter = Exporter::new(Client::new(&query.target, app.timeout, app.tls.clone()));
    let families = gather_scraped(&Registry::new(), exporter.collect().await);
    exposition(&families, &headers)
}
