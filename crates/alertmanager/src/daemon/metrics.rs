//! The daemon's own metrics beyond the API counters and the notification pipeline: the
//! silence store's maintenance and queries, the dispatcher's ingest latency and the HTTP
//! surface, with upstream 0.25's names, types, labels and buckets.

use std::time::Instant;

use pm_common::metrics::{
    Counter, DEFAULT_BUCKETS, Gauge, Histogram, HistogramVec, Opts, Registry, Summary,
};

#[derive(Debug)]
pub struct ServerMetrics {
    pub silences_gc_duration: Summary,
    pub silences_snapshot_duration: Summary,
    pub silences_snapshot_size: Gauge,
    pub silences_queries: Counter,
    pub silences_query_duration: Histogram,
    pub alert_processing_duration: Summary,
    pub http_in_flight: Gauge,
    pub http_limit_exceeded: Counter,
    pub http_request_duration: HistogramVec,
    pub http_response_size: HistogramVec,
}

impl ServerMetrics {
    pub fn new(registry: &Registry) -> Self {
        let summary = |name: &str, help: &str| {
            registry
                .summary(Opts::new(name, help), &[])
                .expect("distinct metric names")
        };
        let counter = |name: &str, help: &str| {
            registry
                .counter(Opts::new(name, help))
                .expect("distinct metric names")
        };
        let gauge = |name: &str, help: &str, labels: &[(&str, &str)]| {
            let mut opts = Opts::new(name, help);
            for (k, v) in labels {
                opts = opts.const_label(*k, *v);
            }
            registry.gauge(opts).expect("distinct metric names")
        };
        let histogram_vec = |name: &str, help: &str, buckets: &[f64]| {
            registry
                .histogram_vec(Opts::new(name, help), buckets, &["handler", "method"])
                .expect("distinct metric names")
        };
        // At zero here: gossip needs clustering, and our silence queries cannot fail.
        counter(
            "alertmanager_silences_gossip_messages_propagated_total",
            "Number of received gossip messages that have been further gossiped.",
        );
        counter(
            "alertmanager_silences_query_errors_total",
            "How many silence received queries did not succeed.",
        );
        ServerMetrics {
            silences_gc_duration: summary(
                "alertmanager_silences_gc_duration_seconds",
                "Duration of the last silence garbage collection cycle.",
            ),
            silences_snapshot_duration: summary(
                "alertmanager_silences_snapshot_duration_seconds",
                "Duration of the last silence snapshot.",
            ),
            silences_snapshot_size: gauge(
                "alertmanager_silences_snapshot_size_bytes",
                "Size of the last silence snapshot in bytes.",
                &[],
            ),
            silences_queries: counter(
                "alertmanager_silences_queries_total",
                "How many silence queries were received.",
            ),
            silences_query_duration: registry
                .histogram(
                    Opts::new(
                        "alertmanager_silences_query_duration_seconds",
                        "Duration of silence query evaluation.",
                    ),
                    &DEFAULT_BUCKETS,
                )
                .expect("distinct metric names"),
            alert_processing_duration: summary(
                "alertmanager_dispatcher_alert_processing_duration_seconds",
                "Summary of latencies for the processing of alerts.",
            ),
            http_in_flight: gauge(
                "alertmanager_http_requests_in_flight",
                "Current number of HTTP requests being processed.",
                &[("method", "get")],
            ),
            http_limit_exceeded: registry
                .counter(
                    Opts::new(
                        "alertmanager_http_concurrency_limit_exceeded_total",
                        "Total number of times an HTTP request failed because the concurrency limit was reached.",
                    )
                    .const_label("method", "get"),
                )
                .expect("distinct metric names"),
            http_request_duration: histogram_vec(
                "alertmanager_http_request_duration_seconds",
                "Histogram of latencies for HTTP requests.",
                &[0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 5.0, 20.0, 60.0],
            ),
            http_response_size: histogram_vec(
                "alertmanager_http_response_size_bytes",
                "Histogram of response size for HTTP requests.",
                &[1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8],
            ),
        }
    }
}

/// Seconds since `start`, for the duration summaries and histograms.
pub fn seconds_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}
