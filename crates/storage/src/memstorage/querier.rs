//! The test storage's querier: a snapshot of the series, filtered by scanning.

use std::sync::Arc;

use pm_common::model::{Labels, Matcher};

use crate::error::{Result, Warnings};
use crate::query::{LabelHints, LabelQuerier, Querier, SelectHints};
use crate::series::{BoxSeries, BoxSeriesSet, ListSeries, SeriesSample, VecSeriesSet};

/// The `func` hint of selects that want labels only.
const SERIES_FUNC: &str = "series";

pub(super) struct MemQuerier {
    /// Series with samples, in label order.
    series: Vec<SnapshotSeries>,
    mint: i64,
    maxt: i64,
}

/// One series as a querier sees it.
pub(super) struct SnapshotSeries {
    pub labels: Labels,
    pub samples: Arc<Vec<SeriesSample>>,
    /// Parallel to `samples`.
    pub start_timestamps: Arc<Vec<i64>>,
}

/// The samples of one series a select matched, with their start timestamps.
struct Matched<'a> {
    labels: &'a Labels,
    samples: &'a [SeriesSample],
    start_timestamps: &'a [i64],
}

impl MemQuerier {
    pub(super) fn new(series: Vec<SnapshotSeries>, mint: i64, maxt: i64) -> Self {
        MemQuerier { series, mint, maxt }
    }

    /// Series matching all matchers with at least one sample in `[mint, maxt]`, with those
    /// samples.
    fn matching<'a>(
        &'a self,
        mint: i64,
        maxt: i64,
        matchers: &'a [Matcher],
    ) -> impl Iterator<Item = Matched<'a>> + 'a {
        self.series.iter().filter_map(move |s| {
            if !matchers
                .iter()
                .all(|m| m.matches(s.labels.get_or_empty(m.name())))
            {
                return None;
            }
            let start = s.samples.partition_point(|x| x.t < mint);
            let end = s.samples.partition_point(|x| x.t <= maxt);
            (start < end).then(|| Matched {
                labels: &s.labels,
                samples: &s.samples[start..end],
                start_timestamps: &s.start_timestamps[start..end],
            })
        })
    }

    fn label_query(
        &self,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
        mut collect: impl FnMut(&Labels, &mut Vec<String>),
    ) -> Result<(Vec<String>, Warnings)> {
        let mut out = Vec::new();
        for m in self.matching(self.mint, self.maxt, matchers) {
            collect(m.labels, &mut out);
        }
        out.sort_unstable();
        out.dedup();
        if let Some(limit) = hints.map(|h| h.limit).filter(|&l| l > 0) {
            out.truncate(limit);
        }
        Ok((out, Warnings::new()))
    }
}

impl LabelQuerier for MemQuerier {
    fn label_values(
        &self,
        name: &str,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings)> {
        self.label_query(hints, matchers, |labels, out| {
            if let Some(v) = labels.get(name) {
                out.push(v.to_owned());
            }
        })
    }

    fn label_names(
        &self,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings)> {
        self.label_query(hints, matchers, |labels, out| {
            out.extend(labels.iter().map(|l| l.name.to_owned()));
        })
    }
}

impl Querier for MemQuerier {
    /// Always sorted. Honours the hints' time range (as the TSDB's block querier does), the
    /// `series` function (labels only), sharding and the series limit.
    fn select(
        &self,
        _sort: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> BoxSeriesSet {
        let (mint, maxt) = hints.map_or((self.mint, self.maxt), |h| (h.start, h.end));
        let labels_only = hints.is_some_and(|h| h.func == SERIES_FUNC);
        let shard = hints
            .filter(|h| h.shard_count > 0)
            .map(|h| (h.shard_count, h.shard_index));
        let limit = hints.map_or(0, |h| h.limit);
        let series = self
            .matching(mint, maxt, matchers)
            .filter(|m| shard.is_none_or(|(count, index)| m.labels.hash_value() % count == index))
            .map(|m| {
                if labels_only {
                    return Box::new(ListSeries::new(m.labels.clone(), Vec::new())) as BoxSeries;
                }
                let mut series = ListSeries::new(m.labels.clone(), m.samples.to_vec());
                if m.start_timestamps.iter().any(|&st| st != 0) {
                    series = series.with_start_timestamps(m.start_timestamps.to_vec());
                }
                Box::new(series) as BoxSeries
            });
        let series: Vec<BoxSeries> = if limit > 0 {
            series.take(limit).collect()
        } else {
            series.collect()
        };
        Box::new(VecSeriesSet::new(series))
    }
}
