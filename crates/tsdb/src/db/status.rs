//! What the status API reports about the database: `/api/v1/status/tsdb` and
//! `/api/v1/status/walreplay`.

use std::sync::Arc;

use serde::Serialize;

use super::Db;
use crate::head::{Stat, WalReplayProgress};

/// `/api/v1/status/tsdb`'s `data`, with upstream's JSON field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TsdbStatus {
    pub head_stats: HeadStatus,
    pub series_count_by_metric_name: Vec<Stat>,
    pub label_value_count_by_label_name: Vec<Stat>,
    pub memory_in_bytes_by_label_name: Vec<Stat>,
    pub series_count_by_label_value_pair: Vec<Stat>,
}

/// The head's figures; an empty head reports upstream's sentinels (`minTime` the largest and
/// `maxTime` the smallest 64-bit integer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeadStatus {
    pub num_series: u64,
    pub num_label_pairs: usize,
    pub chunk_count: i64,
    pub min_time: i64,
    pub max_time: i64,
}

impl Db {
    /// The head's statistics with the top `limit` entries of each cardinality list, series
    /// counted by the values of `by_label` for the first (upstream's `DB.Head().Stats` as the
    /// API calls it: `__name__` and the `limit` query parameter, 10 by default).
    pub fn stats(&self, by_label: &str, limit: usize) -> TsdbStatus {
        let head = self.head();
        let p = head.postings_stats(by_label, limit);
        TsdbStatus {
            head_stats: HeadStatus {
                num_series: head.num_series() as u64,
                num_label_pairs: p.num_label_pairs,
                chunk_count: head.num_chunks() as i64,
                min_time: head.min_time(),
                max_time: head.max_time(),
            },
            series_count_by_metric_name: p.series_count_by_metric_name,
            label_value_count_by_label_name: p.label_value_count_by_label_name,
            memory_in_bytes_by_label_name: p.memory_in_bytes_by_label_name,
            series_count_by_label_value_pair: p.series_count_by_label_value_pair,
        }
    }

    /// The WAL replay's progress; done once the database is open.
    pub fn replay_progress(&self) -> Arc<WalReplayProgress> {
        self.shared.replay.clone()
    }
}
