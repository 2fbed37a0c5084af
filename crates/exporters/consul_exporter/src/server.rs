//! The HTTP face: `/metrics` (Consul's families with the exporter's own), the landing page,
//! `/-/healthy` and `/-/ready`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use pm_common::metrics::{HandlerMetrics, Registry, gather_scraped};
use pm_common::process::{BuildInfo, ProcessCollector};
use pm_common::web::{LandingConfig, LandingLink, exposition, healthy, landing_page};

use crate::cli::Flags;
use crate::client::{Client, ConnectOptions};
use crate::error::ConfigError;
use crate::exporter::{Exporter, Options};

/// What every request shares.
#[derive(Debug)]
pub struct App {
    exporter: Exporter,
    own: Registry,
    handler: HandlerMetrics,
}

impl App {
    /// `token` is the ACL token (upstream's Consul client takes `CONSUL_HTTP_TOKEN`).
    pub fn new(flags: &Flags, token: Option<String>) -> Result<Self, ConfigError> {
        let connect = ConnectOptions {
            server: flags.server.clone(),
            ca_file: flags.ca_file.clone(),
            cert_file: flags.cert_file.clone(),
            key_file: flags.key_file.clone(),
            server_name: flags.server_name.clone(),
            insecure: flags.insecure(),
            timeout: flags.timeout,
            token,
        };
        let client = Client::new(&connect, flags.query_options())?;
        let options = Options {
            kv_prefix: flags.kv_prefix.clone(),
            kv_filter: unanchored("kv.filter", &flags.kv_filter)?,
            meta_filter: unanchored("meta.filter", &flags.meta_filter)?,
            health_summary: flags.health_summary(),
            agent_only: flags.agent_only(),
            request_limit: flags.request_limit,
        };
        let own = Registry::new();
        let handler = HandlerMetrics::register(&own);
        own.register(Arc::new(ProcessCollector::new()));
        own.register(Arc::new(BuildInfo::new(
            "consul_exporter",
            env!("CARGO_PKG_VERSION"),
        )));
        Ok(Self {
            exporter: Exporter::new(client, options),
            own,
            handler,
        })
    }
}

/// A Go regular expression matched anywhere in the text, as `regexp.MatchString`.
fn unanchored(flag: &'static str, pattern: &str) -> Result<regex::Regex, ConfigError> {
    let error = |reason: String| ConfigError::Regex {
        flag,
        pattern: pattern.to_owned(),
        reason,
    };
    let translated = pm_common::model::to_rust_syntax(pattern).map_err(|e| error(e.to_string()))?;
    regex::RegexBuilder::new(&translated)
        .octal(true)
        .build()
        .map_err(|e| error(e.to_string()))
}

/// The router: metrics, health endpoints and the landing page.
pub fn router(app: Arc<App>, flags: &Flags) -> Router {
    let telemetry_path = flags.telemetry_path.as_str();
    let options = flags.query_options();
    let mut router = Router::new()
        .route(telemetry_path, get(metrics))
        .with_state(app)
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
        .route("/-/healthy", healthy("OK"))
        .route("/-/ready", healthy("OK"));
    if telemetry_path != "/" && !telemetry_path.is_empty() {
        router = router.route(
            "/",
            landing_page(LandingConfig {
                name: "consul_exporter".into(),
                description: "Prometheus Exporter for Consul".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                links: vec![LandingLink::new("Metrics", telemetry_path)],
                extra_html: format!(
                    "<h2>Options</h2><pre>AllowStale: {}\nRequireConsistent: {}</pre>",
                    options.allow_stale, options.require_consistent
                ),
                ..Default::default()
            }),
        );
    }
    router
}

async fn metrics(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let in_flight = app.handler.start();
    let scraped = app.exporter.collect().await;
    let families = gather_scraped(&app.own, scraped);
    drop(in_flight);
    exposition(&families, &headers)
}
