//! The daemon's own metrics, named as upstream's.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use pm_common::expfmt::dto;
use pm_common::metrics::{Collector, CounterVec, Opts, Registry};
use pm_common::process::{ProcessCollector, build_info_family};

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
        ));
        let push_duration = Arc::new(SummaryVec::new(
            "pushgateway_http_push_duration_seconds",
            "HTTP request duration for pushes to the Pushgateway.",
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

/// A summary by `method` with count and sum only. Upstream also streams 0.1/0.5/0.9 quantiles;
/// pm-common has no quantile estimator, so those lines are absent (documented).
#[derive(Debug)]
struct SummaryVec {
    name: &'static str,
    help: &'static str,
    by_method: Mutex<BTreeMap<String, (u64, f64)>>,
}

impl SummaryVec {
    fn new(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            by_method: Mutex::default(),
        }
    }

    fn observe(&self, method: &str, value: f64) {
        let mut map = self
            .by_method
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = map.entry(method.to_owned()).or_default();
        entry.0 += 1;
        entry.1 += value;
    }
}

impl Collector for SummaryVec {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        let map = self
            .by_method
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if map.is_empty() {
            return;
        }
        out.push(dto::MetricFamily {
            name: Some(self.name.to_owned()),
            help: Some(self.help.to_owned()),
            r#type: Some(dto::MetricType::Summary as i32),
            metric: map
                .iter()
                .map(|(method, (count, sum))| dto::Metric {
                    label: vec![dto::LabelPair {
                        name: Some("method".to_owned()),
                        value: Some(method.clone()),
                    }],
                    summary: Some(dto::Summary {
                        sample_count: Some(*count),
                        sample_sum: Some(*sum),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect(),
            unit: None,
        });
    }
}
