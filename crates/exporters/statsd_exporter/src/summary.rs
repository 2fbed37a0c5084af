//! Summary series for observers mapped with `observer_type: summary` (upstream's default).
//!
//! The estimator and its sliding window are pm-common's (client_golang's algorithm); a
//! mapping's objectives, `max_age` and `age_buckets` are honoured. `buf_cap` sizes
//! client_golang's batching of observations, which no reader can see (see pm-common's
//! summary), so it is accepted and has nothing to change.

use std::sync::Arc;

use pm_common::expfmt::dto;
use pm_common::metrics::{MetricValue, Objective, Summary, SummaryWindow};

/// The objectives and window shared by every series of a mapping.
#[derive(Debug)]
pub struct SummaryConfig {
    objectives: Arc<[Objective]>,
    window: SummaryWindow,
}

impl SummaryConfig {
    /// From a mapping's (or the defaults') quantiles and window; upstream keys objectives by
    /// quantile, so a repeated quantile keeps the last error given.
    pub fn new(quantiles: &[pm_mapper::Objective], window: SummaryWindow) -> Self {
        let mut objectives: Vec<Objective> = Vec::new();
        for q in quantiles {
            match objectives.iter_mut().find(|o| o.quantile == q.quantile) {
                Some(o) => o.epsilon = q.error,
                None => objectives.push(pm_common::metrics::objective(q.quantile, q.error)),
            }
        }
        objectives.sort_by(|a, b| a.quantile.total_cmp(&b.quantile));
        SummaryConfig {
            objectives: objectives.into(),
            window,
        }
    }
}

/// One summary series.
#[derive(Debug)]
pub struct SummarySeries(Summary);

/// Upstream repeats a sampled observation `1/rate` times; past this many repeats the rest are
/// dropped, so that a tiny rate cannot stall the exporter.
const MAX_REPEATS: u32 = 10_000;

impl SummarySeries {
    pub fn new(config: Arc<SummaryConfig>) -> Self {
        SummarySeries(Summary::with_window(&config.objectives, config.window))
    }

    pub fn observe(&mut self, v: f64, n: u32) {
        for _ in 0..n.min(MAX_REPEATS) {
            self.0.observe(v);
        }
    }

    pub fn write_to(&self, metric: &mut dto::Metric) {
        self.0.write_to(metric);
    }
}
