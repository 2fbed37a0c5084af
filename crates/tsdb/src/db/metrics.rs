//! The database's own metrics under upstream's `prometheus_tsdb_*` names, computed when
//! gathered so that the hot paths only bump atomics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use pm_common::expfmt::dto;
use pm_common::metrics::{Collector, ConstFamily, ConstKind};

use super::Shared;
use crate::head::TypedCounter;

/// Counters of the maintenance work.
#[derive(Debug, Default)]
pub(crate) struct DbStats {
    pub(crate) compactions: AtomicU64,
    pub(crate) compactions_triggered: AtomicU64,
    pub(crate) compactions_failed: AtomicU64,
    pub(crate) reloads: AtomicU64,
    pub(crate) reload_failures: AtomicU64,
    pub(crate) time_retentions: AtomicU64,
    pub(crate) size_retentions: AtomicU64,
    /// Seconds the WAL replay took on open, as `f64` bits.
    pub(crate) replay_seconds: AtomicU64,
}

/// Reads the database when gathered; reports nothing once it is closed and dropped.
pub(crate) struct DbCollector {
    db: Weak<Shared>,
}

impl DbCollector {
    pub(crate) fn new(db: &Arc<Shared>) -> Self {
        Self {
            db: Arc::downgrade(db),
        }
    }
}

fn family(out: &mut Vec<dto::MetricFamily>, name: &str, help: &str, kind: ConstKind, v: f64) {
    out.push(
        ConstFamily::new(name, help, kind)
            .with(&[], v)
            .into_family(),
    );
}

fn counter(out: &mut Vec<dto::MetricFamily>, name: &str, help: &str, v: &AtomicU64) {
    family(
        out,
        name,
        help,
        ConstKind::Counter,
        v.load(Ordering::Relaxed) as f64,
    );
}

/// A counter with upstream's `type` label, both series always present.
fn typed(out: &mut Vec<dto::MetricFamily>, name: &str, help: &str, c: &TypedCounter) {
    let [float, histogram] = c.get();
    out.push(
        ConstFamily::new(name, help, ConstKind::Counter)
            .with(&[("type", "float")], float as f64)
            .with(&[("type", "histogram")], histogram as f64)
            .into_family(),
    );
}

impl Collector for DbCollector {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        let Some(db) = self.db.upgrade() else {
            return;
        };
        let head = &db.head;
        let hs = head.stats();
        let gauge = ConstKind::Gauge;
        family(
            out,
            "prometheus_tsdb_head_series",
            "Total number of series in the head block.",
            gauge,
            head.num_series() as f64,
        );
        family(
            out,
            "prometheus_tsdb_head_chunks",
            "Total number of chunks in the head block.",
            gauge,
            head.num_chunks() as f64,
        );
        typed(
            out,
            "prometheus_tsdb_head_samples_appended_total",
            "Total number of appended samples.",
            &hs.samples_appended,
        );
        counter(
            out,
            "prometheus_tsdb_head_series_created_total",
            "Total number of series created in the head",
            &hs.series_created,
        );
        counter(
            out,
            "prometheus_tsdb_head_series_removed_total",
            "Total number of series removed in the head",
            &hs.series_removed,
        );
        counter(
            out,
            "prometheus_tsdb_head_chunks_created_total",
            "Total number of chunks created in the head",
            &hs.chunks_created,
        );
        counter(
            out,
            "prometheus_tsdb_head_chunks_removed_total",
            "Total number of chunks removed in the head",
            &hs.chunks_removed,
        );
        counter(
            out,
            "prometheus_tsdb_mmap_chunk_corruptions_total",
            "Total number of memory-mapped chunk corruptions.",
            &hs.mmap_chunk_corruptions,
        );
        family(
            out,
            "prometheus_tsdb_head_chunks_storage_size_bytes",
            "Size of the chunks_head directory.",
            gauge,
            head.chunk_files_bytes() as f64,
        );
        counter(
            out,
            "prometheus_tsdb_head_truncations_total",
            "Total number of head truncations attempted.",
            &hs.truncations,
        );
        counter(
            out,
            "prometheus_tsdb_head_truncations_failed_total",
            "Total number of head truncations that failed.",
            &hs.truncations_failed,
        );
        family(
            out,
            "prometheus_tsdb_head_active_appenders",
            "Number of currently active appender transactions",
            gauge,
            hs.active_appenders.load(Ordering::Relaxed) as f64,
        );
        for (name, help, v) in [
            (
                "prometheus_tsdb_head_out_of_order_samples_appended_total",
                "Total number of appended out of order samples.",
                &hs.out_of_order_samples_appended,
            ),
            (
                "prometheus_tsdb_too_old_samples_total",
                "Total number of out of order samples ingestion failed attempts with out of order support enabled, but sample outside of time window.",
                &hs.too_old_samples,
            ),
        ] {
            typed(out, name, help, v);
        }
        family(
            out,
            "prometheus_tsdb_data_replay_duration_seconds",
            "Time taken to replay the data on disk.",
            gauge,
            f64::from_bits(db.stats.replay_seconds.load(Ordering::Relaxed)),
        );
        typed(
            out,
            "prometheus_tsdb_out_of_order_samples_total",
            "Total number of out of order samples ingestion failed attempts due to out of order being disabled.",
            &hs.out_of_order_samples_rejected,
        );
        typed(
            out,
            "prometheus_tsdb_out_of_bound_samples_total",
            "Total number of out of bound samples ingestion failed attempts with out of order support disabled.",
            &hs.out_of_bound_samples,
        );
        let (mint, maxt) = (head.min_time(), head.max_time());
        if mint != i64::MAX {
            family(
                out,
                "prometheus_tsdb_head_min_time",
                "Minimum time bound of the head block.",
                gauge,
                mint as f64,
            );
            family(
                out,
                "prometheus_tsdb_head_max_time",
                "Maximum timestamp of the head block.",
                gauge,
                maxt as f64,
            );
        }
        let blocks = db.blocks();
        let bytes: u64 = blocks.iter().map(|b| b.size()).sum();
        family(
            out,
            "prometheus_tsdb_blocks_loaded",
            "Number of currently loaded data blocks",
            gauge,
            blocks.len() as f64,
        );
        family(
            out,
            "prometheus_tsdb_storage_blocks_bytes",
            "The number of bytes that are currently used for local storage by all blocks.",
            gauge,
            bytes as f64,
        );
        let lowest = blocks.first().map(|b| b.meta().min_time).unwrap_or(mint);
        if lowest != i64::MAX {
            family(
                out,
                "prometheus_tsdb_lowest_timestamp",
                "Lowest timestamp value stored in the database. The unit is decided by the library consumer.",
                gauge,
                lowest as f64,
            );
        }
        family(
            out,
            "prometheus_tsdb_retention_limit_seconds",
            "Max age in seconds blocks should be kept.",
            gauge,
            db.opts.retention_duration as f64 / 1000.0,
        );
        family(
            out,
            "prometheus_tsdb_retention_limit_bytes",
            "Max number of bytes to be retained in the tsdb blocks, configured 0 means disabled",
            gauge,
            db.opts.max_bytes.max(0) as f64,
        );
        let s = &db.stats;
        counter(
            out,
            "prometheus_tsdb_compactions_total",
            "Total number of compactions that were executed for the partition.",
            &s.compactions,
        );
        counter(
            out,
            "prometheus_tsdb_compactions_triggered_total",
            "Total number of triggered compactions for the partition.",
            &s.compactions_triggered,
        );
        counter(
            out,
            "prometheus_tsdb_compactions_failed_total",
            "Total number of compactions that failed for the partition.",
            &s.compactions_failed,
        );
        counter(
            out,
            "prometheus_tsdb_reloads_total",
            "Number of times the database reloaded block data from disk.",
            &s.reloads,
        );
        counter(
            out,
            "prometheus_tsdb_reloads_failures_total",
            "Number of times the database failed to reloadBlocks block data from disk.",
            &s.reload_failures,
        );
        counter(
            out,
            "prometheus_tsdb_time_retentions_total",
            "The number of times that blocks were deleted because the maximum time limit was exceeded.",
            &s.time_retentions,
        );
        counter(
            out,
            "prometheus_tsdb_size_retentions_total",
            "The number of times that blocks were deleted because the maximum number of bytes was exceeded.",
            &s.size_retentions,
        );
        super::wal_metrics::collect(&db, out);
    }
}
