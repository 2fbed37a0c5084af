//! Merging sorted series sets.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use pm_common::model::Labels;

use crate::error::{StorageError, Warnings};
use crate::merge::chain::ChainSeries;
use crate::series::{BoxSeries, BoxSeriesSet, SeriesSet};

/// Merges series sets that are each sorted by labels into one sorted set; series with equal
/// labels in several sets become one [`ChainSeries`], the sets' order deciding which sample wins
/// a shared timestamp.
///
/// The first error of any set ends the merged set and is reported by [`SeriesSet::err`]; the
/// warnings are those of all sets together.
pub struct MergeSeriesSet {
    sets: Vec<BoxSeriesSet>,
    /// The next series of each set, not yet returned.
    heads: Vec<Option<BoxSeries>>,
    /// Sets with a head, ordered by (labels, set index).
    heap: BinaryHeap<Reverse<(Labels, usize)>>,
    started: bool,
    failed: Option<usize>,
}

impl MergeSeriesSet {
    pub fn new(sets: Vec<BoxSeriesSet>) -> Self {
        let n = sets.len();
        MergeSeriesSet {
            sets,
            heads: (0..n).map(|_| None).collect(),
            heap: BinaryHeap::with_capacity(n),
            started: false,
            failed: None,
        }
    }

    /// Reads the next series of set `i` into its head slot.
    fn advance(&mut self, i: usize) {
        match self.sets[i].next() {
            Some(s) => {
                self.heap.push(Reverse((s.labels().clone(), i)));
                self.heads[i] = Some(s);
            }
            None => {
                if self.sets[i].err().is_some() && self.failed.is_none() {
                    self.failed = Some(i);
                }
            }
        }
    }
}

impl SeriesSet for MergeSeriesSet {
    fn next(&mut self) -> Option<BoxSeries> {
        if !self.started {
            self.started = true;
            for i in 0..self.sets.len() {
                self.advance(i);
            }
        }
        if self.failed.is_some() {
            return None;
        }
        let Reverse((labels, first)) = self.heap.pop()?;
        let mut members = vec![first];
        while let Some(Reverse((l, _))) = self.heap.peek()
            && *l == labels
        {
            let Some(Reverse((_, i))) = self.heap.pop() else {
                break;
            };
            members.push(i);
        }
        // The heap orders equal labels by set index, so `members` is in set order.
        let mut group: Vec<BoxSeries> = Vec::with_capacity(members.len());
        for &i in &members {
            group.extend(self.heads[i].take());
            self.advance(i);
        }
        if group.len() == 1 {
            group.pop()
        } else {
            Some(Box::new(ChainSeries::new(labels, group)))
        }
    }

    fn err(&self) -> Option<&StorageError> {
        self.failed.and_then(|i| self.sets[i].err())
    }

    fn warnings(&self) -> Warnings {
        let mut w = Warnings::new();
        for s in &self.sets {
            w.extend(&s.warnings());
        }
        w
    }
}

/// Stops a set after `limit` series: several queriers each honouring a series limit can
/// together exceed it.
pub(crate) struct LimitedSet {
    inner: BoxSeriesSet,
    remaining: usize,
}

impl LimitedSet {
    pub(crate) fn new(inner: BoxSeriesSet, limit: usize) -> Self {
        LimitedSet {
            inner,
            remaining: limit,
        }
    }
}

impl SeriesSet for LimitedSet {
    fn next(&mut self) -> Option<BoxSeries> {
        self.remaining = self.remaining.checked_sub(1)?;
        self.inner.next()
    }

    fn err(&self) -> Option<&StorageError> {
        self.inner.err()
    }

    fn warnings(&self) -> Warnings {
        self.inner.warnings()
    }
}

/// Wraps the set of a secondary querier (e.g. remote read): a failure before its first series
/// becomes a warning and an empty result instead of failing the whole query, as upstream.
/// A failure after series were already returned stays an error, since the merged result would
/// otherwise be silently incomplete.
pub(crate) struct SecondarySet {
    inner: BoxSeriesSet,
    started: bool,
    /// The failure turned into a warning.
    demoted: Option<String>,
}

impl SecondarySet {
    pub(crate) fn new(inner: BoxSeriesSet) -> Self {
        SecondarySet {
            inner,
            started: false,
            demoted: None,
        }
    }
}

impl SeriesSet for SecondarySet {
    fn next(&mut self) -> Option<BoxSeries> {
        if self.demoted.is_some() {
            return None;
        }
        let s = self.inner.next();
        if s.is_none()
            && !self.started
            && let Some(e) = self.inner.err()
        {
            self.demoted = Some(e.to_string());
        }
        self.started = true;
        s
    }

    fn err(&self) -> Option<&StorageError> {
        if self.demoted.is_some() {
            None
        } else {
            self.inner.err()
        }
    }

    fn warnings(&self) -> Warnings {
        let mut w = self.inner.warnings();
        if let Some(m) = &self.demoted {
            w.push(m.as_str());
        }
        w
    }
}
