//! The notifier's own metrics, with upstream's names and help texts.

use pm_common::metrics::{
    Counter, CounterVec, Gauge, MetricsError, Opts, Registry, SummaryVec, objective,
};

/// The `alertmanager` label of the per-Alertmanager metrics: the URL alerts are posted to.
const AM_LABEL: &str = "alertmanager";

pub(crate) struct NotifierMetrics {
    pub latency: SummaryVec,
    pub errors: CounterVec,
    pub sent: CounterVec,
    pub dropped: Counter,
    pub queue_length: Gauge,
    pub queue_capacity: Gauge,
    pub alertmanagers_discovered: Gauge,
}

impl NotifierMetrics {
    pub fn register(registry: &Registry) -> Result<NotifierMetrics, MetricsError> {
        let gauge = |name: &str, help: &str| registry.gauge(Opts::new(name, help));
        let per_am =
            |name: &str, help: &str| registry.counter_vec(Opts::new(name, help), &[AM_LABEL]);
        Ok(NotifierMetrics {
            latency: registry.summary_vec(
                Opts::new(
                    "prometheus_notifications_latency_seconds",
                    "Latency quantiles for sending alert notifications.",
                ),
                &[
                    objective(0.5, 0.05),
                    objective(0.9, 0.01),
                    objective(0.99, 0.001),
                ],
                &[AM_LABEL],
            )?,
            errors: per_am(
                "prometheus_notifications_errors_total",
                "Total number of sent alerts affected by errors.",
            )?,
            sent: per_am(
                "prometheus_notifications_sent_total",
                "Total number of alerts sent.",
            )?,
            dropped: registry.counter(Opts::new(
                "prometheus_notifications_dropped_total",
                "Total number of alerts dropped due to errors when sending to Alertmanager.",
            ))?,
            queue_length: gauge(
                "prometheus_notifications_queue_length",
                "The number of alert notifications in the queue.",
            )?,
            queue_capacity: gauge(
                "prometheus_notifications_queue_capacity",
                "The capacity of the alert notifications queue.",
            )?,
            alertmanagers_discovered: gauge(
                "prometheus_notifications_alertmanagers_discovered",
                "The number of alertmanagers discovered and active.",
            )?,
        })
    }

    /// Starts the per-Alertmanager counters at zero, so a new Alertmanager shows up at once.
    pub fn add_alertmanager(&self, url: &str) {
        self.sent.with_label_values(&[url]);
        self.errors.with_label_values(&[url]);
    }

    /// Forgets an Alertmanager that is no longer discovered.
    pub fn remove_alertmanager(&self, url: &str) {
        let _ = self.latency.remove_label_values(&[url]);
        let _ = self.sent.remove_label_values(&[url]);
        let _ = self.errors.remove_label_values(&[url]);
    }
}
