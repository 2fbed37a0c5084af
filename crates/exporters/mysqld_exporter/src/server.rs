//! The HTTP face: `/metrics` (the `[client]` server and the exporter's own metrics),
//! `/probe?target=&auth_module=` for any server, `/-/reload` for the client configuration,
//! and the landing page.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use mysql_async::Opts;
use pm_common::metrics::{Gauge, HandlerMetrics, Opts as MetricOpts, Registry, gather_scraped};
use pm_common::process::{BuildInfo, ProcessCollector};
use pm_common::web::{LandingConfig, LandingLink, exposition, landing_page};

use crate::cli::Flags;
use crate::collectors::{Collector, Settings};
use crate::config::{CLIENT, ClientConfig, Section, Sources};
use crate::error::ConfigError;
use crate::exporter::{ScrapeMetrics, scrape};

/// What every request shares.
#[derive(Debug)]
pub struct App {
    config: RwLock<Arc<ClientConfig>>,
    sources: Sources,
    collectors: Vec<Collector>,
    settings: Settings,
    session: Vec<String>,
    timeout_offset: f64,
    own: Registry,
    handler: HandlerMetrics,
    metrics: ScrapeMetrics,
    reload_ok: Gauge,
    reload_time: Gauge,
}

impl App {
    /// Loads the client configuration; a bad one stops the exporter, as upstream.
    pub fn new(flags: &Flags) -> Result<Self, ConfigError> {
        let sources = flags.sources();
        let config = ClientConfig::load(&sources)?;
        let own = Registry::new();
        let handler = HandlerMetrics::register(&own);
        own.register(Arc::new(ProcessCollector::new()));
        own.register(Arc::new(BuildInfo::new(
            "mysqld_exporter",
            env!("CARGO_PKG_VERSION"),
        )));
        let metrics = ScrapeMetrics::register(&own);
        let gauge = |name, help| {
            own.gauge(MetricOpts::new(name, help))
                .expect("a valid metric")
        };
        let reload_ok = gauge(
            "mysqld_exporter_config_last_reload_successful",
            "Mysqld exporter config loaded successfully.",
        );
        let reload_time = gauge(
            "mysqld_exporter_config_last_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload.",
        );
        reload_ok.set(1.0);
        reload_time.set_to_current_time();
        let collectors = flags.collectors();
        for c in &collectors {
            tracing::info!(scraper = c.spec().name, "Scraper enabled");
        }
        Ok(Self {
            config: RwLock::new(Arc::new(config)),
            sources,
            collectors,
            settings: flags.settings(),
            session: flags.session_settings(),
            timeout_offset: flags.timeout_offset,
            own,
            handler,
            metrics,
            reload_ok,
            reload_time,
        })
    }

    fn config(&self) -> Arc<ClientConfig> {
        self.config
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Re-reads the configuration, keeping the old one if the new one is bad.
    pub fn reload(&self) -> Result<(), ConfigError> {
        match ClientConfig::load(&self.sources) {
            Ok(config) => {
                *self.config.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
                self.reload_ok.set(1.0);
                self.reload_time.set_to_current_time();
                Ok(())
            }
            Err(e) => {
                self.reload_ok.set(0.0);
                Err(e)
            }
        }
    }

    fn opts(&self, section: &Section, target: &str) -> Result<Opts, crate::error::SectionError> {
        Ok(section.opts(target)?.init(self.session.clone()).into())
    }

    /// The scrape deadline from Prometheus' `X-Prometheus-Scrape-Timeout-Seconds`, less
    /// `--timeout-offset` when that leaves time to scrape.
    fn deadline(&self, headers: &HeaderMap) -> Option<Instant> {
        let raw = headers.get("X-Prometheus-Scrape-Timeout-Seconds")?;
        let mut seconds: f64 = match raw.to_str().ok().and_then(|s| s.trim().parse().ok()) {
            Some(s) => s,
            None => {
                tracing::error!(value = ?raw, "Failed to parse timeout from Prometheus header");
                return None;
            }
        };
        if self.timeout_offset >= seconds {
            tracing::error!(
                offset = self.timeout_offset,
                prometheus_scrape_timeout = seconds,
                "Timeout offset should be lower than prometheus scrape timeout"
            );
        } else {
            seconds -= self.timeout_offset;
        }
        let timeout = Duration::try_from_secs_f64(seconds).ok()?;
        Instant::now().checked_add(timeout)
    }

    /// The enabled collectors, narrowed to those named by `collect[]` parameters if any.
    fn filtered(&self, query: Option<&str>) -> Vec<Collector> {
        let wanted: Vec<String> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .filter(|(k, _)| k == "collect[]")
            .map(|(_, v)| v.into_owned())
            .collect();
        if wanted.is_empty() {
            return self.collectors.clone();
        }
        self.collectors
            .iter()
            .copied()
            .filter(|c| wanted.iter().any(|w| w == c.spec().name))
            .collect()
    }
}

/// The router: metrics, probe, reload and the landing page.
pub fn router(app: Arc<App>, telemetry_path: &str) -> Router {
    let mut router = Router::new()
        .route(telemetry_path, get(metrics))
        .route("/probe", get(probe))
        .route("/-/reload", any(reload))
        .with_state(app)
        .layer(tower_http::compression::CompressionLayer::new().gzip(true));
    if telemetry_path != "/" && !telemetry_path.is_empty() {
        router = router.route(
            "/",
            landing_page(LandingConfig {
                name: "MySQLd Exporter".into(),
                description: "Prometheus Exporter for MySQL servers".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                links: vec![LandingLink::new("Metrics", telemetry_path)],
                ..Default::default()
            }),
        );
    }
    router
}

async fn metrics(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let in_flight = app.handler.start();
    let config = app.config();
    let scraped = match config.section(CLIENT).map(|s| app.opts(s, "")) {
        Some(Ok(opts)) => {
            let collectors = app.filtered(query.as_deref());
            scrape(
                opts,
                &collectors,
                &app.settings,
                app.deadline(&headers),
                &app.metrics,
            )
            .await
        }
        Some(Err(err)) => {
            tracing::error!(%err, "Failed to form dsn from section [client]");
            app.metrics.failed();
            Vec::new()
        }
        None => {
            tracing::error!("Failed to parse section [client] from config file");
            app.metrics.failed();
            Vec::new()
        }
    };
    let families = gather_scraped(&app.own, scraped);
    drop(in_flight);
    exposition(&families, &headers)
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, format!("{message}\n")).into_response()
}

/// Scrapes `target` with the credentials of the section named by `auth_module`.
async fn probe(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let param = |name: &str| {
        url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let target = param("target");
    if target.is_empty() {
        return bad_request("target is required".into());
    }
    let mut auth_module = param("auth_module");
    if auth_module.is_empty() {
        auth_module = CLIENT.into();
    }
    let config = app.config();
    let Some(section) = config.section(&auth_module) else {
        tracing::error!("Could not find section [{auth_module}] from config file");
        return bad_request(format!("Could not find config section [{auth_module}]"));
    };
    let opts = match app.opts(section, &target) {
        Ok(opts) => opts,
        Err(err) => {
            tracing::error!(%err, "Failed to form dsn from section [{auth_module}]");
            return bad_request(format!(
                "Error forming dsn from config section [{auth_module}]"
            ));
        }
    };
    tracing::debug!(target = %Section::describe(&opts), "probing");
    let registry = Registry::new();
    let metrics = ScrapeMetrics::register(&registry);
    let collectors = app.filtered(query.as_deref());
    let scraped = scrape(
        opts,
        &collectors,
        &app.settings,
        app.deadline(&headers),
        &metrics,
    )
    .await;
    exposition(&gather_scraped(&registry, scraped), &headers)
}

/// Upstream answers 200 either way: `ok` on success, an empty body (and a log line) if the
/// new configuration is bad.
async fn reload(State(app): State<Arc<App>>) -> &'static str {
    match app.reload() {
        Ok(()) => "ok",
        Err(error) => {
            tracing::warn!(file = %app.sources.my_cnf.display(), %error, "Error reloading host config");
            ""
        }
    }
}
