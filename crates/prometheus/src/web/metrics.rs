//! The server's own metrics under upstream's names: HTTP requests per handler, config reloads,
//! readiness and build info; `prometheus_tsdb_*` are added by the database and `process_*`
//! here, all in one registry served on `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::HttpBody as _;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use pm_common::metrics::{CounterVec, Gauge, HistogramVec, Opts, Registry};
use pm_common::process::{BuildInfo, ProcessCollector};

/// Upstream's buckets for `prometheus_http_request_duration_seconds`.
const DURATION_BUCKETS: [f64; 9] = [0.1, 0.2, 0.4, 1.0, 3.0, 8.0, 20.0, 60.0, 120.0];

#[derive(Debug, Clone)]
pub struct ServerMetrics {
    pub registry: Registry,
    requests: CounterVec,
    duration: HistogramVec,
    response_size: HistogramVec,
    pub config_success: Gauge,
    pub config_success_time: Gauge,
    pub ready: Gauge,
}

impl ServerMetrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = registry
            .counter_vec(
                Opts::new(
                    "prometheus_http_requests_total",
                    "Counter of HTTP requests.",
                ),
                &["code", "handler"],
            )
            .expect("fresh registry");
        let duration = registry
            .histogram_vec(
                Opts::new(
                    "prometheus_http_request_duration_seconds",
                    "Histogram of latencies for HTTP requests.",
                ),
                &DURATION_BUCKETS,
                &["handler"],
            )
            .expect("fresh registry");
        let sizes: Vec<f64> = (0..8).map(|i| 100.0 * 10f64.powi(i)).collect();
        let response_size = registry
            .histogram_vec(
                Opts::new(
                    "prometheus_http_response_size_bytes",
                    "Histogram of response size for HTTP requests.",
                ),
                &sizes,
                &["handler"],
            )
            .expect("fresh registry");
        let config_success = registry
            .gauge(Opts::new(
                "prometheus_config_last_reload_successful",
                "Whether the last configuration reload attempt was successful.",
            ))
            .expect("fresh registry");
        let config_success_time = registry
            .gauge(Opts::new(
                "prometheus_config_last_reload_success_timestamp_seconds",
                "Timestamp of the last successful configuration reload.",
            ))
            .expect("fresh registry");
        let ready = registry
            .gauge(Opts::new(
                "prometheus_ready",
                "Whether Prometheus startup was fully completed and the server is ready for normal operation.",
            ))
            .expect("fresh registry");
        registry.register(Arc::new(ProcessCollector::new()));
        registry.register(Arc::new(BuildInfo::new(
            "prometheus",
            env!("CARGO_PKG_VERSION"),
        )));
        Self {
            registry,
            requests,
            duration,
            response_size,
            config_success,
            config_success_time,
            ready,
        }
    }

    fn observe(&self, handler: &str, code: u16, seconds: f64, size: u64) {
        self.requests
            .with_label_values(&[itoa::Buffer::new().format(code), handler])
            .inc();
        self.duration.with_label_values(&[handler]).observe(seconds);
        self.response_size
            .with_label_values(&[handler])
            .observe(size as f64);
    }
}

impl Default for ServerMetrics {
    fn default() -> Self {
        Self::new()
    }
}

/// What the middleware needs: the metrics and the route prefix to strip from handler names.
#[derive(Debug, Clone)]
pub struct Instrumentation {
    pub metrics: ServerMetrics,
    pub prefix: String,
}

/// Counts and times every routed request under its route pattern without the prefix, with
/// parameters written as upstream's router writes them (`/api/v1/label/:name/values`).
pub async fn instrument(
    State(inst): State<Arc<Instrumentation>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(path) = request.extensions().get::<MatchedPath>().cloned() else {
        return next.run(request).await;
    };
    let handler = path
        .as_str()
        .strip_prefix(inst.prefix.as_str())
        .unwrap_or(path.as_str())
        .replace("{name}", ":name");
    let began = Instant::now();
    let response = next.run(request).await;
    let size = response.body().size_hint().exact().unwrap_or(0);
    inst.metrics.observe(
        &handler,
        response.status().as_u16(),
        began.elapsed().as_secs_f64(),
        size,
    );
    response
}
