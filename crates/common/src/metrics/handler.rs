//! client_golang's `promhttp.Handler()` instrumentation and per-request gathering, for exporters
//! that scrape their target on each request and serve the result with their own metrics.

use std::sync::{Arc, Mutex, PoisonError};

use super::{Collector, CounterVec, Gauge, Opts, Registry};
use crate::expfmt::dto::MetricFamily;

/// `promhttp_metric_handler_requests_total{code}` and `_in_flight`, as `promhttp.Handler()`
/// instruments the default registry's handler.
#[derive(Debug, Clone)]
pub struct HandlerMetrics {
    requests: CounterVec,
    in_flight: Gauge,
}

impl HandlerMetrics {
    pub fn register(registry: &Registry) -> Self {
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
        let in_flight = registry
            .gauge(Opts::new(
                "promhttp_metric_handler_requests_in_flight",
                "Current number of scrapes being served.",
            ))
            .expect("a valid metric definition");
        Self {
            requests,
            in_flight,
        }
    }

    /// Counts a request in flight until the guard is dropped.
    pub fn start(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(self)
    }
}

/// A scrape being served; dropping it counts it as answered with 200.
#[derive(Debug)]
pub struct InFlight<'a>(&'a HandlerMetrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.dec();
        self.0.requests.with_label_values(&["200"]).inc();
    }
}

/// `registry`'s families and `scraped` together, sorted and with same-named families merged.
pub fn gather_scraped(registry: &Registry, scraped: Vec<MetricFamily>) -> Vec<MetricFamily> {
    struct Persistent(Registry);
    impl Collector for Persistent {
        fn collect(&self, out: &mut Vec<MetricFamily>) {
            out.extend(self.0.gather());
        }
    }
    struct Once(Mutex<Vec<MetricFamily>>);
    impl Collector for Once {
        fn collect(&self, out: &mut Vec<MetricFamily>) {
            out.append(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
        }
    }
    let request = Registry::new();
    request.register(Arc::new(Persistent(registry.clone())));
    request.register(Arc::new(Once(Mutex::new(scraped))));
    request.gather()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{ConstFamily, ConstKind};
    use crate::process::BuildInfo;

    #[test]
    fn gathers_sorted_and_counts_requests() {
        let registry = Registry::new();
        let handler = HandlerMetrics::register(&registry);
        registry.register(Arc::new(BuildInfo::new("x_exporter", "1.0.0")));
        let scraped = vec![
            ConstFamily::new("a_up", "", ConstKind::Gauge)
                .with(&[], 1.0)
                .into_family(),
        ];
        let in_flight = handler.start();
        let families = gather_scraped(&registry, scraped);
        drop(in_flight);
        let names: Vec<_> = families.iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            [
                "a_up",
                "promhttp_metric_handler_requests_in_flight",
                "promhttp_metric_handler_requests_total",
                "x_exporter_build_info"
            ]
        );
        assert_eq!(
            families[1].metric[0].gauge.as_ref().unwrap().value,
            Some(1.0)
        );
        let after = gather_scraped(&registry, Vec::new());
        let total = after
            .iter()
            .find(|f| f.name() == "promhttp_metric_handler_requests_total")
            .unwrap();
        let ok = total
            .metric
            .iter()
            .find(|m| m.label[0].value() == "200")
            .unwrap();
        assert_eq!(ok.counter.as_ref().unwrap().value, Some(1.0));
    }
}
