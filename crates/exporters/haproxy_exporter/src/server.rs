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
use pm_common::expfmt::dto::MetricFamily;
use pm_common::metrics::{Collector, CounterVec, GaugeVec, Opts, Registry, render};
use pm_common::process::{ProcessCollector, build_info_family};
use pm_common::web::{LandingConfig, LandingLink, landing_page};

use crate::cli::Flags;
use crate::error::ConfigError;
use crate::exporter::Exporter;
use crate::pidfile::PidFileCollector;

/// What every request shares.
#[derive(Debug)]
pub struct App {
    exporter: Exporter,
    /// The exporter's own metrics, gathered with HAProxy's on each request.
    own: Registry,
    requests: CounterVec,
    in_flight: GaugeVec,
}

impl App {
    pub fn new(flags: &Flags) -> Result<Self, ConfigError> {
        let exporter = Exporter::new(&flags.options())?;
        let own = Registry::new();
        let requests = own
            .counter_vec(
                Opts::new(
                    "promhttp_metric_handler_requests_total",
                    "Total number of scrapes by HTTP status code.",
                ),
                &["code"],
            )
            .expect("a valid metric definition");
        for code in ["200", "500", "503"] {
            requests.with_label_values(&[code]);
        }
        let in_flight = own
            .gauge_vec(
                Opts::new(
                    "promhttp_metric_handler_requests_in_flight",
                    "Current number of scrapes being served.",
                ),
                &[],
            )
            .expect("a valid metric definition");
        own.register(Arc::new(ProcessCollector::new()));
        own.register(Arc::new(BuildInfo));
        if let Some(pid_file) = flags.pid_file() {
            own.register(Arc::new(PidFileCollector::new("haproxy", pid_file)));
        }
        Ok(Self {
            exporter,
            own,
            requests,
            in_flight,
        })
    }

    pub fn exporter(&self) -> &Exporter {
        &self.exporter
    }

    /// Everything one scrape exposes, sorted and merged as client_golang gathers.
    pub async fn gather(&self) -> Vec<MetricFamily> {
        let in_flight = self.in_flight.with_label_values(&[]);
        in_flight.inc();
        let haproxy = self.exporter.collect().await;
        let registry = self.own.clone();
        let scraped = Registry::new();
        scraped.register(Arc::new(OwnMetrics(registry)));
        scraped.register(Arc::new(Scraped(std::sync::Mutex::new(haproxy))));
        let families = scraped.gather();
        in_flight.dec();
        families
    }
}

/// The exporter's registry, gathered as one collector of a request's registry.
struct OwnMetrics(Registry);

impl Collector for OwnMetrics {
    fn collect(&self, out: &mut Vec<MetricFamily>) {
        out.extend(self.0.gather());
    }
}

/// Families computed for one request, handed over once.
struct Scraped(std::sync::Mutex<Vec<MetricFamily>>);

impl Collector for Scraped {
    fn collect(&self, out: &mut Vec<MetricFamily>) {
        out.append(
            &mut self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
    }
}

struct BuildInfo;

impl Collector for BuildInfo {
    fn collect(&self, out: &mut Vec<MetricFamily>) {
        out.push(build_info_family(
            "haproxy_exporter",
            env!("CARGO_PKG_VERSION"),
            "unknown",
            "unknown",
        ));
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
    let families = app.gather().await;
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    let (content_type, body) = render(&families, accept);
    app.requests.with_label_values(&["200"]).inc();
    ([(CONTENT_TYPE, content_type)], body).into_response()
}
