//! The scrape manager's own metrics, with upstream's names and help texts.

use pm_common::metrics::{
    Counter, CounterVec, GaugeVec, MetricsError, Objective, Opts, Registry, SummaryVec, objective,
};

/// The objectives of upstream's scrape timing summaries.
const OBJECTIVES: [Objective; 5] = [
    objective(0.01, 0.001),
    objective(0.05, 0.005),
    objective(0.5, 0.05),
    objective(0.9, 0.01),
    objective(0.99, 0.001),
];

/// Everything the manager, its pools and loops count. Cloned `Arc`s share the values.
pub struct ScrapeMetrics {
    pub(crate) exceeded_target_limit: Counter,
    pub(crate) pools_total: Counter,
    pub(crate) pools_failed: Counter,
    pub(crate) reloads: Counter,
    pub(crate) reloads_failed: Counter,
    pub(crate) exceeded_label_limits: Counter,
    pub(crate) sync_failed: CounterVec,
    pub(crate) sync_total: CounterVec,
    pub(crate) pool_targets: GaugeVec,
    pub(crate) pool_target_limit: GaugeVec,
    pub(crate) reload_length: SummaryVec,
    pub(crate) sync_length: SummaryVec,
    pub(crate) interval_length: SummaryVec,
    pub(crate) exceeded_body_size_limit: Counter,
    pub(crate) exceeded_sample_limit: Counter,
    pub(crate) exceeded_bucket_limit: Counter,
    pub(crate) sample_duplicate: Counter,
    pub(crate) sample_out_of_bounds: Counter,
    pub(crate) sample_out_of_order: Counter,
    pub(crate) cache_flush_forced: Counter,
    pub(crate) exemplar_out_of_order: Counter,
}

impl ScrapeMetrics {
    pub fn register(registry: &Registry) -> Result<ScrapeMetrics, MetricsError> {
        let c = |name: &str, help: &str| registry.counter(Opts::new(name, help));
        let job = &["scrape_job"];
        Ok(ScrapeMetrics {
            exceeded_target_limit: c(
                "prometheus_target_scrape_pool_exceeded_target_limit_total",
                "Total number of times scrape pools hit the target limit, during sync or config reload.",
            )?,
            pools_total: c(
                "prometheus_target_scrape_pools_total",
                "Total number of scrape pool creation attempts.",
            )?,
            pools_failed: c(
                "prometheus_target_scrape_pools_failed_total",
                "Total number of scrape pool creations that failed.",
            )?,
            reloads: c(
                "prometheus_target_scrape_pool_reloads_total",
                "Total number of scrape pool reloads.",
            )?,
            reloads_failed: c(
                "prometheus_target_scrape_pool_reloads_failed_total",
                "Total number of failed scrape pool reloads.",
            )?,
            exceeded_label_limits: c(
                "prometheus_target_scrape_pool_exceeded_label_limits_total",
                "Total number of times scrape pools hit the label limits, during sync or config reload.",
            )?,
            sync_failed: registry.counter_vec(
                Opts::new(
                    "prometheus_target_sync_failed_total",
                    "Total number of target sync failures.",
                ),
                job,
            )?,
            sync_total: registry.counter_vec(
                Opts::new(
                    "prometheus_target_scrape_pool_sync_total",
                    "Total number of syncs that were executed on a scrape pool.",
                ),
                job,
            )?,
            pool_targets: registry.gauge_vec(
                Opts::new(
                    "prometheus_target_scrape_pool_targets",
                    "Current number of targets in this scrape pool.",
                ),
                job,
            )?,
            pool_target_limit: registry.gauge_vec(
                Opts::new(
                    "prometheus_target_scrape_pool_target_limit",
                    "Maximum number of targets allowed in this scrape pool.",
                ),
                job,
            )?,
            reload_length: registry.summary_vec(
                Opts::new(
                    "prometheus_target_reload_length_seconds",
                    "Actual interval to reload the scrape pool with a given configuration.",
                ),
                &OBJECTIVES,
                &["interval"],
            )?,
            sync_length: registry.summary_vec(
                Opts::new(
                    "prometheus_target_sync_length_seconds",
                    "Actual interval to sync the scrape pool.",
                ),
                &OBJECTIVES,
                &["scrape_job"],
            )?,
            interval_length: registry.summary_vec(
                Opts::new(
                    "prometheus_target_interval_length_seconds",
                    "Actual intervals between scrapes.",
                ),
                &OBJECTIVES,
                &["interval"],
            )?,
            exceeded_body_size_limit: c(
                "prometheus_target_scrapes_exceeded_body_size_limit_total",
                "Total number of scrapes that hit the body size limit",
            )?,
            exceeded_sample_limit: c(
                "prometheus_target_scrapes_exceeded_sample_limit_total",
                "Total number of scrapes that hit the sample limit and were rejected.",
            )?,
            exceeded_bucket_limit: c(
                "prometheus_target_scrapes_exceeded_native_histogram_bucket_limit_total",
                "Total number of scrapes that hit the native histogram bucket limit and were rejected.",
            )?,
            sample_duplicate: c(
                "prometheus_target_scrapes_sample_duplicate_timestamp_total",
                "Total number of samples rejected due to duplicate timestamps but different values.",
            )?,
            sample_out_of_bounds: c(
                "prometheus_target_scrapes_sample_out_of_bounds_total",
                "Total number of samples rejected due to timestamp falling outside of the time bounds.",
            )?,
            sample_out_of_order: c(
                "prometheus_target_scrapes_sample_out_of_order_total",
                "Total number of samples rejected due to not being out of the expected order.",
            )?,
            cache_flush_forced: c(
                "prometheus_target_scrapes_cache_flush_forced_total",
                "How many times a scrape cache was flushed due to getting big while scrapes are failing.",
            )?,
            exemplar_out_of_order: c(
                "prometheus_target_scrapes_exemplar_out_of_order_total",
                "Total number of exemplar rejected due to not being out of the expected order.",
            )?,
        })
    }

    /// Forgets a removed pool's per-job series.
    pub(crate) fn remove_job(&self, job: &str) {
        for vec in [&self.pool_targets, &self.pool_target_limit] {
            let _ = vec.remove_label_values(&[job]);
        }
        for vec in [&self.sync_failed, &self.sync_total] {
            let _ = vec.remove_label_values(&[job]);
        }
        let _ = self.sync_length.remove_label_values(&[job]);
    }
}
