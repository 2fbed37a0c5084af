//! An in-memory storage for tests (feature `testsuite`): the PromQL script runner loads its data
//! here and scrape-loop tests inspect what was appended.
//!
//! It keeps every series' samples sorted in a vector and answers selects by scanning all series,
//! so it is simple rather than fast. Appends are validated like the TSDB's in-order path
//! (out-of-order, duplicate and out-of-bounds samples are rejected with upstream's errors); there
//! is no out-of-order window, no WAL and no retention.

mod appender;
mod querier;

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use pm_common::model::{Exemplar, Labels, Matcher, Metadata};

use crate::append::{Appendable, Appender, SeriesRef};
use crate::error::Result;
use crate::exemplar::{ExemplarQuerier, ExemplarQueryResult, ExemplarQueryable};
use crate::query::{Querier, Queryable};
use crate::series::SeriesSample;
use crate::storage::Storage;
use appender::MemAppender;
use querier::{MemQuerier, SnapshotSeries};

/// The in-memory storage. Clones share the same data.
#[derive(Clone, Default)]
pub struct MemStorage {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// Series by position; a series' reference is its position plus one.
    series: Vec<MemSeries>,
    /// Positions by labels, kept in label order so queriers see series sorted.
    index: BTreeMap<Labels, usize>,
    /// Samples older than this are out of bounds.
    min_valid_time: Option<i64>,
}

struct MemSeries {
    labels: Labels,
    /// Committed samples in ascending timestamp order; shared with queriers, copied on write.
    samples: Arc<Vec<SeriesSample>>,
    /// The samples' start timestamps (`0` = unknown), parallel to `samples`.
    start_timestamps: Arc<Vec<i64>>,
    exemplars: Vec<Exemplar>,
    metadata: Option<Metadata>,
}

impl Inner {
    /// The position of the series `labels`, trusting `series` when it names that very series.
    fn lookup(&self, series: SeriesRef, labels: &Labels) -> Option<usize> {
        let by_ref = usize::try_from(series.0)
            .ok()
            .and_then(|r| r.checked_sub(1))
            .filter(|&i| self.series.get(i).is_some_and(|s| s.labels == *labels));
        by_ref.or_else(|| self.index.get(labels).copied())
    }

    fn get_or_create(&mut self, series: SeriesRef, labels: &Labels) -> usize {
        if let Some(i) = self.lookup(series, labels) {
            return i;
        }
        let i = self.series.len();
        self.series.push(MemSeries {
            labels: labels.clone(),
            samples: Arc::default(),
            start_timestamps: Arc::default(),
            exemplars: Vec::new(),
            metadata: None,
        });
        self.index.insert(labels.clone(), i);
        i
    }
}

fn series_ref(i: usize) -> SeriesRef {
    SeriesRef(i as u64 + 1)
}

impl MemStorage {
    pub fn new() -> Self {
        MemStorage::default()
    }

    /// Rejects later appends older than `t` with
    /// [`StorageError::OutOfBounds`](crate::StorageError::OutOfBounds), like the TSDB head's
    /// lower bound.
    pub fn set_min_valid_time(&self, t: i64) {
        self.write().min_valid_time = Some(t);
    }

    /// The committed samples of the series `labels` (empty when it does not exist).
    pub fn samples(&self, labels: &Labels) -> Vec<SeriesSample> {
        let inner = self.read();
        inner
            .index
            .get(labels)
            .map(|&i| inner.series[i].samples.to_vec())
            .unwrap_or_default()
    }

    /// The committed exemplars of the series `labels`, oldest first.
    pub fn exemplars(&self, labels: &Labels) -> Vec<Exemplar> {
        let inner = self.read();
        inner
            .index
            .get(labels)
            .map(|&i| inner.series[i].exemplars.clone())
            .unwrap_or_default()
    }

    /// The last committed metadata of the series `labels`.
    pub fn metadata(&self, labels: &Labels) -> Option<Metadata> {
        let inner = self.read();
        inner
            .index
            .get(labels)
            .and_then(|&i| inner.series[i].metadata.clone())
    }

    /// Labels of every series holding at least one committed sample, in label order.
    pub fn series_labels(&self) -> Vec<Labels> {
        let inner = self.read();
        inner
            .index
            .iter()
            .filter(|&(_, &i)| !inner.series[i].samples.is_empty())
            .map(|(l, _)| l.clone())
            .collect()
    }

    /// Lock poisoning only follows a panic in another test thread; the data is still coherent
    /// because every write applies in one step under the lock.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Appendable for MemStorage {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(MemAppender::new(self.clone()))
    }
}

impl Queryable for MemStorage {
    /// Snapshots the series (sharing their sample vectors), so later commits do not change what
    /// the querier returns.
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>> {
        let inner = self.read();
        let series = inner
            .index
            .values()
            .map(|&i| &inner.series[i])
            .filter(|s| !s.samples.is_empty())
            .map(|s| SnapshotSeries {
                labels: s.labels.clone(),
                samples: s.samples.clone(),
                start_timestamps: s.start_timestamps.clone(),
            })
            .collect();
        Ok(Box::new(MemQuerier::new(series, mint, maxt)))
    }
}

impl ExemplarQueryable for MemStorage {
    fn exemplar_querier(&self) -> Result<Box<dyn ExemplarQuerier>> {
        Ok(Box::new(self.clone()))
    }
}

/// Reads the live data: exemplar queries are one-shot, so no snapshot is needed.
impl ExemplarQuerier for MemStorage {
    fn select(
        &self,
        start: i64,
        end: i64,
        matcher_sets: &[Vec<Matcher>],
    ) -> Result<Vec<ExemplarQueryResult>> {
        let inner = self.read();
        let results = inner
            .index
            .iter()
            .filter(|(labels, _)| {
                matcher_sets
                    .iter()
                    .any(|set| set.iter().all(|m| m.matches(labels.get_or_empty(m.name()))))
            })
            .filter_map(|(labels, &i)| {
                let exemplars: Vec<Exemplar> = inner.series[i]
                    .exemplars
                    .iter()
                    .filter(|e| (start..=end).contains(&e.ts.unwrap_or(0)))
                    .cloned()
                    .collect();
                (!exemplars.is_empty()).then(|| ExemplarQueryResult {
                    series_labels: labels.clone(),
                    exemplars,
                })
            })
            .collect();
        Ok(results)
    }
}

impl Storage for MemStorage {
    fn start_time(&self) -> Result<i64> {
        let inner = self.read();
        Ok(inner
            .series
            .iter()
            .filter_map(|s| s.samples.first().map(|x| x.t))
            .min()
            .unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests;
