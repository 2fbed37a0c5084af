//! The notification metrics, with upstream's names and labels.

use pm_common::metrics::{
    Counter, CounterVec, DEFAULT_BUCKETS, Gauge, Histogram, HistogramVec, Opts, Registry, Summary,
};

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
    pub nflog_query_duration: Histogram,
    pub nflog_gc_duration: Summary,
    pub nflog_snapshot_duration: Summary,
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
        let summary = |name: &str, help: &str| {
            registry
                .summary(Opts::new(name, help), &[])
                .expect("distinct metric names")
        };
        // Upstream's series that stay at zero here: gossip needs clustering, which is
        // absent, and our log lookups cannot fail.
        for (name, help) in [
            (
                "alertmanager_nflog_gossip_messages_propagated_total",
                "Number of received gossip messages that have been further gossiped.",
            ),
            (
                "alertmanager_nflog_query_errors_total",
                "Number notification log received queries that failed.",
            ),
        ] {
            registry
                .counter(Opts::new(name, help))
                .expect("distinct metric names");
        }
        NotifyMetrics {
            nflog_query_duration: registry
                .histogram(
                    Opts::new(
                        "alertmanager_nflog_query_duration_seconds",
                        "Duration of notification log query evaluation.",
                    ),
                    &DEFAULT_BUCKETS,
                )
                .expect("distinct metric names"),
            nflog_gc_duration: summary(
                "alertmanager_nflog_gc_duration_seconds",
                "Duration of the last notification log garbage collection cycle.",
            ),
            nflog_snapshot_duration: summary(
                "alertmanager_nflog_snapshot_duration_seconds",
                "Duration of the last notification log snapshot.",
            ),
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
