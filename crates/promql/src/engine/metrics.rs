//! The engine's own metrics, with upstream's `prometheus_engine_*` names and help texts.
//!
//! Upstream's engine also owns `prometheus_engine_query_log_enabled` and
//! `_query_log_failures_total`; here the query log is the server's, which registers those two.

use std::time::Duration;

use pm_common::metrics::{
    Counter, Gauge, Histogram, MetricsError, Objective, Opts, Registry, Summary, objective,
};

/// The `slice` label values of the duration metrics, in upstream's order of evaluation.
const SLICES: [&str; 4] = ["queue_time", "prepare_time", "inner_eval", "result_sort"];

/// The objectives of `prometheus_engine_query_duration_seconds`, as upstream configures them.
const OBJECTIVES: [Objective; 3] = [
    objective(0.5, 0.05),
    objective(0.9, 0.01),
    objective(0.99, 0.001),
];

/// Handles to the registered metrics; cloning shares them.
#[derive(Clone, Debug)]
pub(crate) struct EngineMetrics {
    pub queries: Gauge,
    pub samples: Counter,
    pub samples_read: Counter,
    durations: [Summary; 4],
    histograms: [Histogram; 4],
}

impl EngineMetrics {
    /// Registers the metrics; `max_concurrency` is reported as `queries_concurrent_max`, `-1`
    /// when unlimited, as upstream without an active-query tracker.
    pub fn register(
        registry: &Registry,
        max_concurrency: Option<usize>,
    ) -> Result<Self, MetricsError> {
        let opts = |name: &str, help: &str| Opts::new(format!("prometheus_engine_{name}"), help);
        let queries = registry.gauge(opts(
            "queries",
            "The current number of queries being executed or waiting.",
        ))?;
        let max = registry.gauge(opts(
            "queries_concurrent_max",
            "The max number of concurrent queries.",
        ))?;
        max.set(max_concurrency.map_or(-1.0, |n| n as f64));
        let samples = registry.counter(opts(
            "query_samples_total",
            "The total number of samples loaded by all queries (full window per step for range-vector).",
        ))?;
        let samples_read = registry.counter(opts(
            "query_samples_read_total",
            "The total number of samples read by all queries (only new points per step for range-vector).",
        ))?;
        let histogram_vec = registry.histogram_vec(
            opts(
                "query_duration_histogram_seconds",
                "The duration of various parts of PromQL query execution.",
            ),
            &[0.01, 0.1, 1.0, 10.0],
            &["slice"],
        )?;
        let histograms = SLICES.map(|slice| histogram_vec.with_label_values(&[slice]));
        let summary_vec = registry.summary_vec(
            opts("query_duration_seconds", "Query timings"),
            &OBJECTIVES,
            &["slice"],
        )?;
        // Every slice is there from the start, as upstream creates them eagerly.
        let durations = SLICES.map(|slice| summary_vec.with_label_values(&[slice]));
        Ok(EngineMetrics {
            queries,
            samples,
            samples_read,
            durations,
            histograms,
        })
    }

    /// Records the phases a query went through, in [`SLICES`] order: the queue only under a
    /// concurrency limit, the result sort only for range queries, as upstream.
    pub fn observe(&self, phases: [Option<Duration>; 4]) {
        for (i, d) in phases.iter().enumerate() {
            if let Some(d) = d {
                let secs = d.as_secs_f64();
                self.durations[i].observe(secs);
                self.histograms[i].observe(secs);
            }
        }
    }
}
