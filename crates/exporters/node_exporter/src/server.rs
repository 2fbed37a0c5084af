//! The HTTP face: the landing page and `/metrics` with `collect[]`/`exclude[]` filtering,
//! a bound on concurrent scrapes, and the `promhttp_metric_handler_*` metrics. Concurrent
//! scrapes with the same selection share collections (see [`crate::coalesce`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pm_common::expfmt::dto::MetricFamily;
use pm_common::metrics::{CounterVec, Gauge, Opts, Registry};
use pm_common::process::{ProcessCollector, build_info_family};
use pm_common::web::{LandingConfig, LandingLink, landing_page};

use crate::cli::Settings;
use crate::coalesce::Coalescer;
use crate::error::ConfigError;
use crate::exposition::Page;
use crate::scrape::NodeCollector;

/// How long a collection may run before the scrapes queued behind it start their own: far
/// above a healthy collection (tens of milliseconds), far below a scrape timeout.
const COLLECTION_STALL: Duration = Duration::from_secs(1);

/// How long no scrape must be in flight before the heap's free memory goes back to the
/// kernel: long enough that a burst of back-to-back scrapes (gaps of microseconds) does not
/// trim and refault between requests, short enough that the daemon is small again right after
/// the burst.
const IDLE_BEFORE_TRIM: Duration = Duration::from_millis(10);

/// What every request shares.
#[derive(Debug)]
pub struct Exporter {
    node: NodeCollector,
    build_info: MetricFamily,
    pages: Arc<Coalescer<Vec<bool>, Arc<Page>>>,
    /// process_* and promhttp_*; `None` with `--web.disable-exporter-metrics`.
    exporter_metrics: Option<Registry>,
    requests: CounterVec,
    in_flight: Gauge,
    /// Requests being served, for `--web.max-requests`.
    active: AtomicUsize,
    max_requests: usize,
    /// A trim waits for the end of [`IDLE_BEFORE_TRIM`]; at most one at a time.
    trim_pending: AtomicBool,
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
            build_info: build_info_family(
                "node_exporter",
                env!("CARGO_PKG_VERSION"),
                "unknown",
                "unknown",
            ),
            pages: Arc::new(Coalescer::new(COLLECTION_STALL)),
            exporter_metrics: (!settings.disable_exporter_metrics).then_some(registry),
            requests,
            in_flight,
            active: AtomicUsize::new(0),
            max_requests: settings.flags.max_requests,
            trim_pending: AtomicBool::new(false),
        })
    }

    pub fn node(&self) -> &NodeCollector {
        &self.node
    }

    /// Runs the chosen collectors once: their families and the build info, sorted.
    pub fn collect(&self, chosen: &[bool]) -> Page {
        let mut families = self.node.scrape(chosen);
        families.push(self.build_info.clone());
        Page::new(families)
    }

    /// A page from a collection that starts after this call, shared with the concurrent
    /// requests for the same selection; `None` if the collection panicked.
    async fn shared_page(self: &Arc<Self>, chosen: Vec<bool>) -> Option<Arc<Page>> {
        let exporter = Arc::clone(self);
        let key = chosen.clone();
        self.pages
            .get(key, move || Arc::new(exporter.collect(&chosen)))
            .await
    }

    /// Called when the last request in flight finishes: unless another one starts meanwhile,
    /// returns the memory the scrapes freed (their pages and encodings) to the kernel, as
    /// Go's scavenger does for upstream.
    fn trim_when_idle(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.trim_pending.swap(true, Ordering::SeqCst) {
            return;
        }
        let exporter = Arc::clone(self);
        runtime.spawn(async move {
            tokio::time::sleep(IDLE_BEFORE_TRIM).await;
            exporter.trim_pending.store(false, Ordering::SeqCst);
            if exporter.active.load(Ordering::SeqCst) == 0 {
                // Otherwise the request in flight schedules the next attempt when it ends.
                let _ = tokio::task::spawn_blocking(crate::malloc::release_free_memory).await;
            }
        });
    }

    /// The exporter's own families (process_*, promhttp_*), gathered per request.
    fn own_families(&self) -> Vec<MetricFamily> {
        self.exporter_metrics
            .as_ref()
            .map(Registry::gather)
            .unwrap_or_default()
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
    let _guard = ActiveGuard(&exporter);
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
    let page = exporter.shared_page(chosen).await;
    let rendered = page.map(|page| page.render(exporter.own_families(), accept.as_deref()));
    exporter.in_flight.dec();
    match rendered {
        Some((content_type, body)) => {
            exporter.requests.with_label_values(&["200"]).inc();
            ([(CONTENT_TYPE, content_type)], body).into_response()
        }
        None => {
            exporter.requests.with_label_values(&["500"]).inc();
            (StatusCode::INTERNAL_SERVER_ERROR, "scrape failed\n").into_response()
        }
    }
}

struct ActiveGuard<'a>(&'a Arc<Exporter>);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.trim_when_idle();
        }
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
