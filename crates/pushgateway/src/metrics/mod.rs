//! The daemon's own metrics, named as upstream's.

use std::sync::Arc;

use pm_common::expfmt::dto;
use pm_common::metrics::{Collector, CounterVec, Objective, Opts, Registry, SummaryVec, objective};
use pm_common::process::{ProcessCollector, build_info_family};

/// The registry behind `/metrics` (besides the pushed groups) and the instruments handlers use.
#[derive(Debug, Clone)]
pub struct OwnMetrics {
    pub registry: Registry,
    requests: CounterVec,
    push_size: SummaryVec,
    push_duration: SummaryVec,
}

/// The objectives the Pushgateway gives its push summaries.
const OBJECTIVES: [Objective; 3] = [
    objective(0.1, 0.01),
    objective(0.5, 0.05),
    objective(0.9, 0.01),
];

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
        let summary = |name: &str, help: &str| {
            registry
                .summary_vec(Opts::new(name, help), &OBJECTIVES, &["method"])
                .expect("a fresh registry has no metric of this name")
        };
        let push_size = summary(
            "pushgateway_http_push_size_bytes",
            "HTTP request size for pushes to the Pushgateway.",
        );
        let push_duration = summary(
            "pushgateway_http_push_duration_seconds",
            "HTTP request duration for pushes to the Pushgateway.",
        );
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
        self.push_size
            .with_label_values(&[&method])
            .observe(size as f64);
        self.push_duration
            .with_label_values(&[&method])
            .observe(seconds);
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
