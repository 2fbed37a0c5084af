//! Querying several storages as one (upstream's `NewMergeQuerier` with `ChainedSeriesMerge`).
//!
//! Queriers are either *primary* (the local TSDB: its errors fail the query) or *secondary*
//! (remote read: its errors become warnings, the query goes on with what the others have).
//! Series with equal labels from several queriers are merged into one, samples interleaved by
//! timestamp with repeats dropped; when several queriers have a sample at the same timestamp,
//! the one listed first wins (primaries before secondaries).

mod chain;
mod set;

use pm_common::model::Matcher;

pub use chain::{ChainIterator, ChainSeries};
pub use set::MergeSeriesSet;

use crate::error::{Result, Warnings};
use crate::query::{LabelHints, LabelQuerier, Querier, SelectHints};
use crate::series::{BoxSeriesSet, EmptySeriesSet};
use set::{LimitedSet, SecondarySet};

/// A querier over several queriers; see the module documentation.
pub struct MergeQuerier {
    /// Primaries first, then secondaries; `secondary_from` is the index of the first secondary.
    queriers: Vec<Box<dyn Querier>>,
    secondary_from: usize,
}

impl MergeQuerier {
    pub fn new(primaries: Vec<Box<dyn Querier>>, secondaries: Vec<Box<dyn Querier>>) -> Self {
        let secondary_from = primaries.len();
        let mut queriers = primaries;
        queriers.extend(secondaries);
        MergeQuerier {
            queriers,
            secondary_from,
        }
    }

    /// Like [`new`](Self::new), but a lone primary is returned as it is, sparing a layer of
    /// indirection on the common single-storage path.
    pub fn boxed(
        mut primaries: Vec<Box<dyn Querier>>,
        secondaries: Vec<Box<dyn Querier>>,
    ) -> Box<dyn Querier> {
        if primaries.len() == 1
            && secondaries.is_empty()
            && let Some(q) = primaries.pop()
        {
            return q;
        }
        Box::new(MergeQuerier::new(primaries, secondaries))
    }

    fn is_secondary(&self, i: usize) -> bool {
        i >= self.secondary_from
    }

    /// Runs a label lookup on every querier and merges the answers.
    fn merge_labels(
        &self,
        hints: Option<&LabelHints>,
        lookup: impl Fn(&dyn Querier) -> Result<(Vec<String>, Warnings)>,
    ) -> Result<(Vec<String>, Warnings)> {
        let mut warnings = Warnings::new();
        let mut lists = Vec::with_capacity(self.queriers.len());
        for (i, q) in self.queriers.iter().enumerate() {
            match lookup(q.as_ref()) {
                Ok((values, w)) => {
                    warnings.extend(&w);
                    lists.push(values);
                }
                Err(e) if self.is_secondary(i) => warnings.push_error(&e),
                Err(e) => return Err(e),
            }
        }
        Ok((merge_label_lists(lists, hints), warnings))
    }
}

impl LabelQuerier for MergeQuerier {
    fn label_values(
        &self,
        name: &str,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings)> {
        self.merge_labels(hints, |q| q.label_values(name, hints, matchers))
    }

    fn label_names(
        &self,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings)> {
        self.merge_labels(hints, |q| q.label_names(hints, matchers))
    }
}

impl Querier for MergeQuerier {
    /// With one querier its set is returned as is (honouring `sort`); with several, each is
    /// asked for a sorted set, as merging needs, the result is sorted, and the hints' series
    /// limit applies to the merged result.
    fn select(
        &self,
        sort: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> BoxSeriesSet {
        let sort = sort || self.queriers.len() > 1;
        let mut sets: Vec<BoxSeriesSet> = self
            .queriers
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let set = q.select(sort, hints, matchers);
                if self.is_secondary(i) {
                    Box::new(SecondarySet::new(set))
                } else {
                    set
                }
            })
            .collect();
        match sets.len() {
            0 => Box::new(EmptySeriesSet),
            1 => sets.pop().unwrap_or_else(|| Box::new(EmptySeriesSet)),
            _ => {
                let merged = Box::new(MergeSeriesSet::new(sets));
                match hints.map_or(0, |h| h.limit) {
                    0 => merged,
                    limit => Box::new(LimitedSet::new(merged, limit)),
                }
            }
        }
    }
}

/// Merges lists of strings into one sorted list without repeats (label names and values from
/// several sources). The inputs are normally sorted already; the stable sort finds their runs,
/// so this costs about `n log k` for `k` lists.
pub fn merge_sorted_strings(lists: Vec<Vec<String>>) -> Vec<String> {
    let mut lists = lists.into_iter();
    let Some(mut all) = lists.next() else {
        return Vec::new();
    };
    for l in lists {
        all.extend(l);
    }
    all.sort();
    all.dedup();
    all
}

/// The label names or values several queriers answered, merged as
/// [`merge_sorted_strings`] does and cut to the hints' limit (0 is no limit), which applies to
/// the merged answer, not to each querier's.
pub fn merge_label_lists(lists: Vec<Vec<String>>, hints: Option<&LabelHints>) -> Vec<String> {
    let mut merged = merge_sorted_strings(lists);
    if let Some(limit) = hints.map(|h| h.limit).filter(|&l| l > 0) {
        merged.truncate(limit);
    }
    merged
}

#[cfg(test)]
mod tests;
