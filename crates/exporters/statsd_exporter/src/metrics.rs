//! The exporter's own metrics, named and labelled as upstream's.

use pm_common::metrics::{Counter, CounterVec, Gauge, GaugeVec, MetricsError, Opts, Registry};

use crate::line::ParseMetrics;

/// Every `statsd_exporter_*` metric.
#[derive(Debug, Clone)]
pub struct ExporterMetrics {
    pub events: CounterVec,
    pub events_flushed: Counter,
    pub events_unmapped: Counter,
    pub udp_packets: Counter,
    pub udp_packet_drops: Counter,
    pub tcp_connections: Counter,
    pub tcp_errors: Counter,
    pub tcp_line_too_long: Counter,
    pub unixgram_packets: Counter,
    pub lines: Counter,
    pub parse: ParseMetrics,
    pub config_reloads: CounterVec,
    pub loaded_mappings: Gauge,
    pub events_conflict: CounterVec,
    pub events_error: CounterVec,
    pub events_actions: CounterVec,
    pub metrics_count: GaugeVec,
    pub relay_packets: CounterVec,
    pub relay_long_lines: CounterVec,
    pub relay_lines: CounterVec,
}

impl ExporterMetrics {
    pub fn register(r: &Registry) -> Result<Self, MetricsError> {
        let c = |name: &str, help: &str| r.counter(Opts::new(name, help));
        let cv =
            |name: &str, help: &str, labels: &[&str]| r.counter_vec(Opts::new(name, help), labels);
        Ok(ExporterMetrics {
            events: cv(
                "statsd_exporter_events_total",
                "The total number of StatsD events seen.",
                &["type"],
            )?,
            events_flushed: c(
                "statsd_exporter_event_queue_flushed_total",
                "Number of times events were flushed to exporter",
            )?,
            events_unmapped: c(
                "statsd_exporter_events_unmapped_total",
                "The total number of StatsD events no mapping was found for.",
            )?,
            udp_packets: c(
                "statsd_exporter_udp_packets_total",
                "The total number of StatsD packets received over UDP.",
            )?,
            udp_packet_drops: c(
                "statsd_exporter_udp_packet_drops_total",
                "The total number of dropped StatsD packets which received over UDP.",
            )?,
            tcp_connections: c(
                "statsd_exporter_tcp_connections_total",
                "The total number of TCP connections handled.",
            )?,
            tcp_errors: c(
                "statsd_exporter_tcp_connection_errors_total",
                "The number of errors encountered reading from TCP.",
            )?,
            tcp_line_too_long: c(
                "statsd_exporter_tcp_too_long_lines_total",
                "The number of lines discarded due to being too long.",
            )?,
            unixgram_packets: c(
                "statsd_exporter_unixgram_packets_total",
                "The total number of StatsD packets received over Unixgram.",
            )?,
            lines: c(
                "statsd_exporter_lines_total",
                "The total number of StatsD lines received.",
            )?,
            parse: ParseMetrics {
                samples: c(
                    "statsd_exporter_samples_total",
                    "The total number of StatsD samples received.",
                )?,
                sample_errors: cv(
                    "statsd_exporter_sample_errors_total",
                    "The total number of errors parsing StatsD samples.",
                    &["reason"],
                )?,
                tags: c(
                    "statsd_exporter_tags_total",
                    "The total number of DogStatsD tags processed.",
                )?,
                tag_errors: c(
                    "statsd_exporter_tag_errors_total",
                    "The number of errors parsing DogStatsD tags.",
                )?,
            },
            config_reloads: cv(
                "statsd_exporter_config_reloads_total",
                "The number of configuration reloads.",
                &["outcome"],
            )?,
            loaded_mappings: r.gauge(Opts::new(
                "statsd_exporter_loaded_mappings",
                "The current number of configured metric mappings.",
            ))?,
            events_conflict: cv(
                "statsd_exporter_events_conflict_total",
                "The total number of StatsD events with conflicting names.",
                &["type", "metric_name"],
            )?,
            events_error: cv(
                "statsd_exporter_events_error_total",
                "The total number of StatsD events discarded due to errors.",
                &["reason"],
            )?,
            events_actions: cv(
                "statsd_exporter_events_actions_total",
                "The total number of StatsD events by action.",
                &["action"],
            )?,
            metrics_count: r.gauge_vec(
                Opts::new(
                    "statsd_exporter_metrics_total",
                    "The total number of metrics.",
                ),
                &["type"],
            )?,
            relay_packets: cv(
                "statsd_exporter_relay_packets_total",
                "The number of StatsD packets relayed.",
                &["target"],
            )?,
            relay_long_lines: cv(
                "statsd_exporter_relay_long_lines_total",
                "The number lines that were too long to relay.",
                &["target"],
            )?,
            relay_lines: cv(
                "statsd_exporter_relay_lines_relayed_total",
                "The number of lines that were buffered to be relayed.",
                &["target"],
            )?,
        })
    }
}
