//! The daemon's own metrics, named as upstream's.

mod quantile;
mod summary;

use std::sync::Arc;

use pm_common::expfmt::dto;
use pm_common::metrics::{Collector, CounterVec, Opts, Registry};
use pm_common::process::{ProcessCollector, build_info_family};
use summary::SummaryVec;

/// The registry behind `/metrics` (besides the pushed groups) and the instruments handlers use.
#[derive(Debug, Clone)]
pub struct OwnMetrics {
    pub registry: Registry,
    requests: CounterVec,
    push_size: Arc<SummaryVec>,
    push_duration: Arc<SummaryVec>,
}

impl OwnMetrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = registry
            .counter_vec(
                Opts::new(
                    "pushgateway_http_requests_total",
                    "Total HTTP requests processed by the Pushgateway, excluding scrapes.",
                ),
                &["handler", "code", "method"],
            )
            .expect("a fresh registry has no metric of this name");
        let push_size = Arc::new(SummaryVec::new(
            "pushgateway_http_push_size_bytes",
            "HTTP request size for pushes to the Pushgateway.",
            "method",
        ));
        let push_duration = Arc::new(SummaryVec::new(
            "pushgateway_http_push_duration_seconds",
            "HTTP request duration for pushes to the Pushgateway.",
            "method",
        ));
        registry.register(push_size.clone());
        registry.register(push_duration.clone());
        registry.register(Arc::new(ProcessCollector::new()));
        registry.register(Arc::new(BuildInfo));
        Self {
            registry,
            requests,
            push_size,
            push_duration,
        }
    }

    /// Counts a request as `pushgateway_http_requests_total{handler,code,method}`.
    pub fn request(&self, handler: &str, code: u16, method: &http::Method) {
        let method = method.as_str().to_ascii_lowercase();
        self.requests
            .with_label_values(&[handler, &code.to_string(), &method])
            .inc();
    }

    /// Records a push's request size and handling time.
    pub fn push(&self, method: &http::Method, size: usize, seconds: f64) {
        let method = method.as_str().to_ascii_lowercase();
        self.push_size.observe(&method, size as f64);
        self.push_duration.observe(&method, seconds);
    }
}

impl Default for OwnMetrics {
    fn default() -> Self {
        Self::new()
    }
}

struct BuildInfo;

impl Collector for BuildInfo {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        out.push(build_info_family(
            "pushgateway",
            env!("CARGO_PKG_VERSION"),
            option_env!("PM_GIT_REVISION").unwrap_or("unknown"),
            option_env!("PM_GIT_BRANCH").unwrap_or("unknown"),
        ));
    }
}
