//! The discovery metrics, with upstream's names, shared by every manager of a process (the
//! managers tell themselves apart by the `name` label, which upstream sets as a const label).

use pm_common::metrics::{
    Counter, CounterVec, GaugeVec, Histogram, HistogramVec, MetricsError, Opts, Registry,
};

/// Buckets for RPC and refresh durations. Upstream exports these as summaries, which the
/// registry does not offer; a histogram keeps the `_sum` and `_count` series dashboards use.
const DURATION_BUCKETS: [f64; 8] = [0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0];

/// Every discovery metric: the managers' and the providers'.
#[derive(Debug)]
pub struct Metrics {
    pub(crate) failed_configs: GaugeVec,
    pub(crate) discovered_targets: GaugeVec,
    pub(crate) received_updates: CounterVec,
    pub(crate) delayed_updates: CounterVec,
    pub(crate) sent_updates: CounterVec,
    pub(crate) refresh_failures: CounterVec,
    pub(crate) refresh_duration: HistogramVec,
    pub(crate) file_read_errors: Counter,
    pub(crate) file_scan_duration: Histogram,
    pub(crate) file_watcher_errors: Counter,
    pub(crate) file_mtime: GaugeVec,
    pub(crate) dns_lookups: Counter,
    pub(crate) dns_lookup_failures: Counter,
    pub(crate) consul_rpc_failures: Counter,
    pub(crate) consul_rpc_duration: HistogramVec,
    pub(crate) http_failures: Counter,
}

impl Metrics {
    /// Registers the metrics once per process; every manager then shares the result.
    pub fn register(registry: &Registry) -> Result<Metrics, MetricsError> {
        let opts = Opts::new;
        Ok(Metrics {
            failed_configs: registry.gauge_vec(
                opts(
                    "prometheus_sd_failed_configs",
                    "Current number of service discovery configurations that failed to load.",
                ),
                &["name"],
            )?,
            discovered_targets: registry.gauge_vec(
                opts(
                    "prometheus_sd_discovered_targets",
                    "Current number of discovered targets.",
                ),
                &["config", "name"],
            )?,
            received_updates: registry.counter_vec(
                opts(
                    "prometheus_sd_received_updates_total",
                    "Total number of update events received from the SD providers.",
                ),
                &["name"],
            )?,
            delayed_updates: registry.counter_vec(
                opts(
                    "prometheus_sd_updates_delayed_total",
                    "Total number of update events that couldn't be sent immediately.",
                ),
                &["name"],
            )?,
            sent_updates: registry.counter_vec(
                opts(
                    "prometheus_sd_updates_total",
                    "Total number of update events sent to the SD consumers.",
                ),
                &["name"],
            )?,
            refresh_failures: registry.counter_vec(
                opts(
                    "prometheus_sd_refresh_failures_total",
                    "Number of refresh failures for the given SD mechanism.",
                ),
                &["config", "mechanism"],
            )?,
            refresh_duration: registry.histogram_vec(
                opts(
                    "prometheus_sd_refresh_duration_seconds",
                    "The duration of a refresh in seconds for the given SD mechanism.",
                ),
                &DURATION_BUCKETS,
                &["config", "mechanism"],
            )?,
            file_read_errors: registry.counter(opts(
                "prometheus_sd_file_read_errors_total",
                "The number of File-SD read errors.",
            ))?,
            file_scan_duration: registry.histogram(
                opts(
                    "prometheus_sd_file_scan_duration_seconds",
                    "The duration of the File-SD scan in seconds.",
                ),
                &DURATION_BUCKETS,
            )?,
            file_watcher_errors: registry.counter(opts(
                "prometheus_sd_file_watcher_errors_total",
                "The number of File-SD errors caused by filesystem watch failures.",
            ))?,
            file_mtime: registry.gauge_vec(
                opts(
                    "prometheus_sd_file_mtime_seconds",
                    "Timestamp (mtime) of files read by FileSD. Timestamp is set at read time.",
                ),
                &["filename"],
            )?,
            dns_lookups: registry.counter(opts(
                "prometheus_sd_dns_lookups_total",
                "The number of DNS-SD lookups.",
            ))?,
            dns_lookup_failures: registry.counter(opts(
                "prometheus_sd_dns_lookup_failures_total",
                "The number of DNS-SD lookup failures.",
            ))?,
            consul_rpc_failures: registry.counter(opts(
                "prometheus_sd_consul_rpc_failures_total",
                "The number of Consul RPC call failures.",
            ))?,
            consul_rpc_duration: registry.histogram_vec(
                opts(
                    "prometheus_sd_consul_rpc_duration_seconds",
                    "The duration of a Consul RPC call in seconds.",
                ),
                &DURATION_BUCKETS,
                &["call", "endpoint"],
            )?,
            http_failures: registry.counter(opts(
                "prometheus_sd_http_failures_total",
                "Number of HTTP service discovery refresh failures.",
            ))?,
        })
    }
}
