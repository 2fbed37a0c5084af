//! Counters the log keeps about itself, exported as upstream's `prometheus_tsdb_wal_*`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Updated by the writer as it goes; read when metrics are gathered.
#[derive(Debug, Default)]
pub struct WalMetrics {
    /// Pages (or the filled part of one) handed to the OS.
    pub page_flushes: AtomicU64,
    /// Pages finished: filled, or padded when a segment was closed.
    pub completed_pages: AtomicU64,
    /// `log` calls that failed.
    pub writes_failed: AtomicU64,
    pub truncations: AtomicU64,
    pub truncations_failed: AtomicU64,
    /// Record fragments written, and their bytes with headers.
    pub record_part_writes: AtomicU64,
    pub record_parts_bytes: AtomicU64,
    /// Bytes compression saved over the records' plain size.
    pub record_bytes_saved: AtomicU64,
    /// The segment being written.
    pub segment_current: AtomicU64,
    pub fsyncs: AtomicU64,
    /// Total fsync time, in nanoseconds.
    pub fsync_nanos: AtomicU64,
}

impl WalMetrics {
    pub(crate) fn inc(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }

    pub(crate) fn observe_fsync(&self, took: Duration) {
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.fsync_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Seconds spent in fsync so far.
    pub fn fsync_seconds(&self) -> f64 {
        self.fsync_nanos.load(Ordering::Relaxed) as f64 / 1e9
    }
}
