//! Database options, named after upstream's `--storage.tsdb.*` flags.

use crate::retention::{DEFAULT_MIN_BLOCK_DURATION, max_block_duration};
use crate::wal::{Compression, DEFAULT_SEGMENT_SIZE};

/// Upstream's default `--storage.tsdb.retention.time` (when no size limit is set either).
pub const DEFAULT_RETENTION: i64 = 15 * 24 * 3600 * 1000;

#[derive(Clone, Copy, Debug)]
pub struct DbOptions {
    /// `--storage.tsdb.retention.time` in milliseconds; 0 keeps blocks forever.
    pub retention_duration: i64,
    /// `--storage.tsdb.retention.size` in bytes; 0 or less for no limit.
    pub max_bytes: i64,
    /// `--storage.tsdb.min-block-duration`: the head's block range, in milliseconds.
    pub min_block_duration: i64,
    /// `--storage.tsdb.max-block-duration`: the largest compacted block, in milliseconds.
    pub max_block_duration: i64,
    /// `out_of_order_time_window` (storage.tsdb config), in milliseconds.
    pub out_of_order_time_window: i64,
    /// `--storage.tsdb.no-lockfile`.
    pub no_lockfile: bool,
    /// `--storage.tsdb.wal-compression` (snappy when on).
    pub wal_compression: Compression,
    /// `--storage.tsdb.wal-segment-size` in bytes.
    pub wal_segment_size: usize,
    /// `--storage.tsdb.max-exemplars` (exemplar storage size); 0 disables exemplars.
    pub max_exemplars: usize,
}

impl Default for DbOptions {
    /// Upstream's defaults: 15 days of retention, 2h blocks compacted up to 10% of the
    /// retention (36h), snappy WAL compression, 128 MiB segments.
    fn default() -> Self {
        DbOptions {
            retention_duration: DEFAULT_RETENTION,
            max_bytes: 0,
            min_block_duration: DEFAULT_MIN_BLOCK_DURATION,
            max_block_duration: max_block_duration(DEFAULT_RETENTION),
            out_of_order_time_window: 0,
            no_lockfile: false,
            wal_compression: Compression::Snappy,
            wal_segment_size: DEFAULT_SEGMENT_SIZE,
            max_exemplars: 0,
        }
    }
}
