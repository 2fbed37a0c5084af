//! The notification metrics, with upstream's names and labels.

use pm_common::metrics::{Counter, CounterVec, Gauge, HistogramVec, Opts, Registry};

/// The integrations upstream pre-registers, so every series exists from the start.
const INTEGRATIONS: [&str; 17] = [
    "discord",
    "email",
    "incidentio",
    "jira",
    "msteams",
    "msteamsv2",
    "opsgenie",
    "pagerduty",
    "pushover",
    "rocketchat",
    "slack",
    "sns",
    "telegram",
    "victorops",
    "webex",
    "webhook",
    "wechat",
];

const REASONS: [&str; 4] = [
    "other",
    "clientError",
    "serverError",
    "contextCanceledOrDeadlineExceeded",
];

#[derive(Debug)]
pub struct NotifyMetrics {
    pub notifications: CounterVec,
    pub failed: CounterVec,
    pub requests: CounterVec,
    pub requests_failed: CounterVec,
    pub latency: HistogramVec,
    pub nflog_queries: Counter,
    pub nflog_snapshot_size: Gauge,
    pub nflog_maintenance: Counter,
    pub nflog_maintenance_errors: Counter,
}

impl NotifyMetrics {
    pub fn new(registry: &Registry) -> Self {
        let counter = |name: &str, help: &str, labels: &[&str]| {
            registry
                .counter_vec(Opts::new(name, help), labels)
                .expect("distinct metric names")
        };
        let notifications = counter(
            "alertmanager_notifications_total",
            "The total number of attempted notifications.",
            &["integration"],
        );
        let failed = counter(
            "alertmanager_notifications_failed_total",
            "The total number of failed notifications.",
            &["integration", "reason"],
        );
        let requests = counter(
            "alertmanager_notification_requests_total",
            "The total number of attempted notification requests.",
            &["integration"],
        );
        let requests_failed = counter(
            "alertmanager_notification_requests_failed_total",
            "The total number of failed notification requests.",
            &["integration"],
        );
        let latency = registry
            .histogram_vec(
                Opts::new(
                    "alertmanager_notification_latency_seconds",
                    "The latency of notifications in seconds.",
                ),
                &[1.0, 5.0, 10.0, 15.0, 20.0],
                &["integration"],
            )
            .expect("distinct metric names");
        for i in INTEGRATIONS {
            notifications.with_label_values(&[i]);
            requests.with_label_values(&[i]);
            requests_failed.with_label_values(&[i]);
            latency.with_label_values(&[i]);
            for r in REASONS {
                failed.with_label_values(&[i, r]);
            }
        }
        NotifyMetrics {
            notifications,
            failed,
            requests,
            requests_failed,
            latency,
            nflog_queries: registry
                .counter(Opts::new(
                    "alertmanager_nflog_queries_total",
                    "Number of notification log queries were received.",
                ))
                .expect("distinct metric names"),
            nflog_snapshot_size: registry
                .gauge(Opts::new(
                    "alertmanager_nflog_snapshot_size_bytes",
                    "Size of the last notification log snapshot in bytes.",
                ))
                .expect("distinct metric names"),
            nflog_maintenance: registry
                .counter(Opts::new(
                    "alertmanager_nflog_maintenance_total",
                    "How many maintenances were executed for the notification log.",
                ))
                .expect("distinct metric names"),
            nflog_maintenance_errors: registry
                .counter(Opts::new(
                    "alertmanager_nflog_maintenance_errors_total",
                    "How many maintenances were executed for the notification log that failed.",
                ))
                .expect("distinct metric names"),
        }
    }
}
