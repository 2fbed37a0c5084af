//! The HTTP face: the landing page and `/metrics` with `collect[]`/`exclude[]` filtering,
//! a bound on concurrent scrapes, and the `promhttp_metric_handler_*` metrics.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pm_common::expfmt::dto::MetricFamily;
use pm_common::metrics::{CounterVec, Gauge, Opts, Registry, gather_scraped, render};
use pm_common::process::{ProcessCollector, build_info_family};
use pm_common::web::{LandingConfig, LandingLink, landing_page};

use crate::cli::Settings;
use crate::error::ConfigError;
use crate::scrape::NodeCollector;

/// What every request shares.
#[derive(Debug)]
pub struct Exporter {
    node: NodeCollector,
    /// process_* and promhttp_*; `None` with `--web.disable-exporter-metrics`.
    exporter_metrics: Option<Registry>,
    requests: CounterVec,
    in_flight: Gauge,
    /// Requests being served, for `--web.max-requests`.
    active: AtomicUsize,
    max_requests: usize,
}

impl Exporter {
    pub fn new(settings: &Settings) -> Result<Self, ConfigError> {
        let node = NodeCollector::new(settings)?;
        let registry = Registry::new();
        let requests = registry
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
        let errors = registry
            .counter_vec(
                Opts::new(
                    "promhttp_metric_handler_errors_total",
                    "Total number of internal errors encountered by the promhttp metric handler.",
                ),
                &["cause"],
            )
            .expect("a valid metric definition");
        for cause in ["encoding", "gathering"] {
            errors.with_label_values(&[cause]);
        }
        let in_flight = registry
            .gauge(Opts::new(
                "promhttp_metric_handler_requests_in_flight",
                "Current number of scrapes being served.",
            ))
            .expect("a valid metric definition");
        registry.register(Arc::new(ProcessCollector::new()));
        Ok(Self {
            node,
            exporter_metrics: (!settings.disable_exporter_metrics).then_some(registry),
            requests,
            in_flight,
            active: AtomicUsize::new(0),
            max_requests: settings.flags.max_requests,
        })
    }

    pub fn node(&self) -> &NodeCollector {
        &self.node
    }

    /// Gathers everything one request exposes, sorted and merged as client_golang does.
    pub fn gather(&self, chosen: Vec<bool>) -> Vec<MetricFamily> {
        let mut families = self.node.scrape(&chosen);
        families.push(build_info_family(
            "node_exporter",
            env!("CARGO_PKG_VERSION"),
            "unknown",
            "unknown",
        ));
        match &self.exporter_metrics {
            Some(own) => gather_scraped(own, families),
            None => gather_scraped(&Registry::new(), families),
        }
    }
}

/// The router: landing page at `/` and the metrics at `telemetry_path`.
pub fn router(exporter: Arc<Exporter>, telemetry_path: &str) -> Router {
    let landing = LandingConfig {
        name: "Node Exporter".into(),
        description: "Prometheus Node Exporter".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        links: vec![LandingLink::new("Metrics", telemetry_path)],
        ..Default::default()
    };
    let router = Router::new()
        .route(telemetry_path, get(metrics))
        .with_state(exporter);
    if telemetry_path == "/" {
        router
    } else {
        router.route("/", landing_page(landing))
    }
}

async fn metrics(
    State(exporter): State<Arc<Exporter>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (collect, exclude) = parse_filters(query.as_deref().unwrap_or(""));
    if !collect.is_empty() && !exclude.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            "Combined collect and exclude queries are not allowed.\n",
        )
            .into_response();
    }
    let chosen = match exporter.node.select(&collect, &exclude) {
        Ok(c) => c,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("Couldn't create filtered metrics handler: {e}\n"),
            )
                .into_response();
        }
    };
    let active = exporter.active.fetch_add(1, Ordering::SeqCst);
    let _guard = ActiveGuard(&exporter.active);
    if exporter.max_requests > 0 && active >= exporter.max_requests {
        let code = "503";
        exporter.requests.with_label_values(&[code]).inc();
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Limit of concurrent requests reached ({}), try again later.\n",
                exporter.max_requests
            ),
        )
            .into_response();
    }
    exporter.in_flight.inc();
    let accept = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let worker = Arc::clone(&exporter);
    let rendered = tokio::task::spawn_blocking(move || {
        let families = worker.gather(chosen);
        render(&families, accept.as_deref())
    })
    .await;
    exporter.in_flight.dec();
    match rendered {
        Ok((content_type, body)) => {
            exporter.requests.with_label_values(&["200"]).inc();
            ([(CONTENT_TYPE, content_type)], body).into_response()
        }
        Err(e) => {
            exporter.requests.with_label_values(&["500"]).inc();
            tracing::error!(err = %e, "scrape task failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "scrape failed\n").into_response()
        }
    }
}

struct ActiveGuard<'a>(&'a AtomicUsize);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The `collect[]` and `exclude[]` query parameters, in order.
fn parse_filters(query: &str) -> (Vec<String>, Vec<String>) {
    let (mut collect, mut exclude) = (Vec::new(), Vec::new());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(k);
        let value = decode(v);
        match key.as_str() {
            "collect[]" => collect.push(value),
            "exclude[]" => exclude.push(value),
            _ => {}
        }
    }
    (collect, exclude)
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_from_query() {
        let (c, e) = parse_filters("collect%5B%5D=cpu&collect[]=meminfo&x=1&exclude[]=a+b");
        assert_eq!(c, ["cpu", "meminfo"]);
        assert_eq!(e, ["a b"]);
        assert_eq!(decode("%4"), "%4");
    }
}
