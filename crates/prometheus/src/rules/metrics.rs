//! The rule manager's own metrics, named as upstream's; per-group series carry
//! `rule_group="<file>;<group>"` and disappear with their group.

use pm_common::metrics::{
    CounterVec, GaugeVec, Histogram, MetricsError, Opts, Registry, Summary, objective,
};

/// Upstream's buckets for its rule and group duration histograms.
const DURATION_BUCKETS: [f64; 4] = [0.01, 0.1, 1.0, 10.0];

/// The `prometheus_rule_*` metrics.
#[derive(Clone, Debug)]
pub struct RuleMetrics {
    pub eval_duration: Summary,
    pub eval_duration_histogram: Histogram,
    pub group_duration: Summary,
    pub group_duration_histogram: Histogram,
    pub iterations_missed: CounterVec,
    pub iterations_scheduled: CounterVec,
    pub eval_total: CounterVec,
    pub eval_failures: CounterVec,
    pub group_interval: GaugeVec,
    pub group_last_eval_time: GaugeVec,
    pub group_last_duration: GaugeVec,
    pub group_last_rule_duration_sum: GaugeVec,
    pub group_last_restore_duration: GaugeVec,
    pub group_rules: GaugeVec,
    pub group_samples: GaugeVec,
}

impl RuleMetrics {
    pub fn register(registry: &Registry) -> Result<Self, MetricsError> {
        let counter = |name: &str, help: &str| {
            registry.counter_vec(
                Opts::new(format!("prometheus_{name}"), help),
                &["rule_group"],
            )
        };
        let gauge = |name: &str, help: &str| {
            registry.gauge_vec(
                Opts::new(format!("prometheus_{name}"), help),
                &["rule_group"],
            )
        };
        Ok(RuleMetrics {
            eval_duration: registry.summary(
                Opts::new(
                    "prometheus_rule_evaluation_duration_seconds",
                    "The duration for a rule to execute.",
                ),
                &[
                    objective(0.5, 0.05),
                    objective(0.9, 0.01),
                    objective(0.99, 0.001),
                ],
            )?,
            eval_duration_histogram: registry.histogram(
                Opts::new(
                    "prometheus_rule_evaluation_duration_histogram_seconds",
                    "The duration for a rule to execute.",
                ),
                &DURATION_BUCKETS,
            )?,
            group_duration: registry.summary(
                Opts::new(
                    "prometheus_rule_group_duration_seconds",
                    "The duration of rule group evaluations.",
                ),
                &[
                    objective(0.01, 0.001),
                    objective(0.05, 0.005),
                    objective(0.5, 0.05),
                    objective(0.9, 0.01),
                    objective(0.99, 0.001),
                ],
            )?,
            group_duration_histogram: registry.histogram(
                Opts::new(
                    "prometheus_rule_group_duration_histogram_seconds",
                    "The duration of rule group evaluations.",
                ),
                &DURATION_BUCKETS,
            )?,
            iterations_missed: counter(
                "rule_group_iterations_missed_total",
                "The total number of rule group evaluations missed due to slow rule group evaluation.",
            )?,
            iterations_scheduled: counter(
                "rule_group_iterations_total",
                "The total number of scheduled rule group evaluations, whether executed or missed.",
            )?,
            eval_total: counter(
                "rule_evaluations_total",
                "The total number of rule evaluations.",
            )?,
            eval_failures: counter(
                "rule_evaluation_failures_total",
                "The total number of rule evaluation failures.",
            )?,
            group_interval: gauge(
                "rule_group_interval_seconds",
                "The interval of a rule group.",
            )?,
            group_last_eval_time: gauge(
                "rule_group_last_evaluation_timestamp_seconds",
                "The timestamp of the last rule group evaluation in seconds.",
            )?,
            group_last_duration: gauge(
                "rule_group_last_duration_seconds",
                "The duration of the last rule group evaluation.",
            )?,
            group_last_rule_duration_sum: gauge(
                "rule_group_last_rule_duration_sum_seconds",
                "The sum of time in seconds it took to evaluate each rule in the group regardless of concurrency. This should be higher than the group duration if rules are evaluated concurrently.",
            )?,
            group_last_restore_duration: gauge(
                "rule_group_last_restore_duration_seconds",
                "The duration of the last alert rules alerts restoration using the `ALERTS_FOR_STATE` series.",
            )?,
            group_rules: gauge("rule_group_rules", "The number of rules.")?,
            group_samples: gauge(
                "rule_group_last_evaluation_samples",
                "The number of samples returned during the last rule group evaluation.",
            )?,
        })
    }

    /// Metrics not registered anywhere, for tests and tools that evaluate rules off-server.
    pub fn unregistered() -> Self {
        Self::register(&Registry::new()).expect("a fresh registry has no name clashes")
    }

    /// Creates a group's series, so they show (at 0) before its first evaluation.
    pub(crate) fn add_group(&self, key: &str, interval_seconds: f64, rules: usize) {
        for c in [
            &self.iterations_missed,
            &self.iterations_scheduled,
            &self.eval_total,
            &self.eval_failures,
        ] {
            c.with_label_values(&[key]);
        }
        for g in [
            &self.group_last_eval_time,
            &self.group_last_duration,
            &self.group_last_rule_duration_sum,
            &self.group_samples,
        ] {
            g.with_label_values(&[key]);
        }
        self.group_rules.with_label_values(&[key]).set(rules as f64);
        self.group_interval
            .with_label_values(&[key])
            .set(interval_seconds);
    }

    /// Drops a removed group's series.
    pub(crate) fn remove_group(&self, key: &str) {
        for c in [
            &self.iterations_missed,
            &self.iterations_scheduled,
            &self.eval_total,
            &self.eval_failures,
        ] {
            let _ = c.remove_label_values(&[key]);
        }
        for g in [
            &self.group_interval,
            &self.group_last_eval_time,
            &self.group_last_duration,
            &self.group_last_rule_duration_sum,
            &self.group_last_restore_duration,
            &self.group_rules,
            &self.group_samples,
        ] {
            let _ = g.remove_label_values(&[key]);
        }
    }
}
