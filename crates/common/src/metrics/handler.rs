//! client_golang's `promhttp.Handler()` instrumentation and per-request gathering, for exporters
//! that scrape their target on each request and serve the result with their own metrics.

use std::sync::{Arc, Mutex, PoisonError};

use super::registry::normalize;
use super::render::Encoder;
use super::{Collector, CounterVec, Gauge, Opts, Registry, RenderOptions};
use crate::expfmt::Format;
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

/// [`gather_scraped`] and [`encode`](super::encode) in one pass, for exporters whose scraped
/// side is large (statsd, graphite): `scraped` yields families in name order, each built on
/// demand, and each is encoded and dropped before the next, so a scrape of 100k families
/// never holds them all as `dto` values at once. The result is the same as encoding
/// `gather_scraped(registry, scraped.collect())`.
pub fn encode_scraped(
    registry: &Registry,
    scraped: impl IntoIterator<Item = MetricFamily>,
    format: Format,
    options: RenderOptions,
) -> Vec<u8> {
    let mut own = registry.gather().into_iter().peekable();
    let mut scraped = scraped.into_iter().peekable();
    let mut encoder = Encoder::new(format, options);
    loop {
        let from_own = match (own.peek(), scraped.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(o), Some(s)) => o.name <= s.name,
        };
        let mut mf = if from_own { own.next() } else { scraped.next() }.expect("peeked");
        if from_own {
            // Same rule as the registry's merge: the registered family comes first and a
            // same-named scraped family joins it only with the same type.
            while let Some(dup) = scraped.next_if(|s| s.name == mf.name) {
                if dup.r#type == mf.r#type {
                    mf.metric.extend(dup.metric);
                    normalize(&mut mf);
                } else {
                    tracing::warn!(
                        family = dup.name(),
                        "dropping metric family collected with a conflicting type"
                    );
                }
            }
        } else {
            normalize(&mut mf);
        }
        if !mf.metric.is_empty() {
            encoder.push(&mf);
        }
    }
    encoder.finish()
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

    #[test]
    fn streaming_encode_matches_gather_then_encode() {
        let registry = Registry::new();
        HandlerMetrics::register(&registry);
        registry.register(Arc::new(BuildInfo::new("x_exporter", "1.0.0")));
        let gauge = |name: &str, labels: &[(&str, &str)], v| {
            ConstFamily::new(name, "help", ConstKind::Gauge)
                .with(labels, v)
                .into_family()
        };
        let mut unsorted = gauge("b_multi", &[("z", "1"), ("a", "2")], 1.0);
        unsorted
            .metric
            .extend(gauge("b_multi", &[("a", "1")], 2.0).metric);
        let scraped = || {
            vec![
                gauge("a_up", &[], 1.0),
                unsorted.clone(),
                // Joins the registered gauge of the same name and type.
                gauge(
                    "promhttp_metric_handler_requests_in_flight",
                    &[("x", "y")],
                    7.0,
                ),
                // Conflicts with the registered counter: dropped.
                gauge("promhttp_metric_handler_requests_total", &[], 3.0),
                ConstFamily::new("zz_empty", "", ConstKind::Gauge).into_family(),
            ]
        };
        for accept in [
            "text/plain",
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
            "application/openmetrics-text;version=1.0.0",
        ] {
            let format = crate::expfmt::negotiate_including_openmetrics(accept);
            let options = RenderOptions {
                openmetrics: true,
                created_lines: false,
            };
            let expected =
                crate::metrics::encode(&gather_scraped(&registry, scraped()), format, options);
            let streamed = encode_scraped(&registry, scraped(), format, options);
            assert_eq!(
                String::from_utf8_lossy(&streamed),
                String::from_utf8_lossy(&expected),
                "{accept}"
            );
        }
        let text = String::from_utf8(encode_scraped(
            &registry,
            scraped(),
            crate::expfmt::negotiate("text/plain"),
            RenderOptions::default(),
        ))
        .unwrap();
        assert!(
            text.contains("b_multi{a=\"1\"} 2\nb_multi{a=\"2\",z=\"1\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("promhttp_metric_handler_requests_in_flight{x=\"y\"} 7\n"));
        assert!(!text.contains("promhttp_metric_handler_requests_total 3"));
        assert!(!text.contains("zz_empty"));
    }
}
