//! Read access: queryables hand out queriers over a time range; queriers select series and list
//! label names and values.

use pm_common::model::Matcher;

use crate::error::{Result, Warnings};
use crate::series::BoxSeriesSet;

/// Something that can be queried, e.g. the TSDB, a remote-read endpoint, or the PromQL test
/// loader's in-memory storage.
pub trait Queryable: Send + Sync {
    /// A querier over samples with timestamps in `[mint, maxt]` (milliseconds, both inclusive).
    ///
    /// The querier sees a consistent view: data appended after this call may or may not be
    /// visible, but what a querier returns does not change while it lives. Resources it pins
    /// (block readers, head chunks) are released when it is dropped.
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>>;
}

impl<T: Queryable + ?Sized> Queryable for std::sync::Arc<T> {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>> {
        (**self).querier(mint, maxt)
    }
}

/// Label name and value lookups, shared by sample and chunk queriers.
///
/// Results are sorted and free of repeats. With matchers, only series matching all of them count.
/// Both may be computed over a longer range than the querier's (upstream does for the head);
/// callers must not rely on exact time filtering.
pub trait LabelQuerier: Send + Sync {
    /// The values of label `name`.
    fn label_values(
        &self,
        name: &str,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings)>;

    /// The names of all labels.
    fn label_names(
        &self,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings)>;
}

/// Selects series with their samples over the querier's time range.
pub trait Querier: LabelQuerier {
    /// The series matching all `matchers`; see [`SeriesSet`](crate::SeriesSet) for the order
    /// promised when `sort` is true. Errors are reported through the returned set, so selects can
    /// be started lazily and run concurrently.
    ///
    /// Hints let the implementation do less work (e.g. skip samples for `series` calls); an
    /// implementation may ignore them, so the caller still filters what it needs.
    fn select(&self, sort: bool, hints: Option<&SelectHints>, matchers: &[Matcher])
    -> BoxSeriesSet;
}

/// What a select is for, passed so that storages can skip work (upstream's `SelectHints`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectHints {
    /// Start of the data needed, in milliseconds (inclusive). Storages that honour it trim
    /// samples to `[start, end]` unless [`disable_trimming`](Self::disable_trimming) is set.
    pub start: i64,
    /// End of the data needed, in milliseconds (inclusive).
    pub end: i64,
    /// Maximum number of series to return; `0` means no limit.
    pub limit: usize,
    /// Query resolution step in milliseconds (0 for instant queries).
    pub step: i64,
    /// The surrounding function or aggregation (e.g. `rate`, `sum`), or `series` when only
    /// labels are wanted (series and label APIs), in which case samples may be omitted.
    pub func: String,
    /// Label names of the surrounding aggregation's `by`/`without` clause.
    pub grouping: Vec<String>,
    /// Whether `grouping` is a `by` (true) or `without` (false) list.
    pub by: bool,
    /// Range of the range-vector selector in milliseconds (0 for instant vectors).
    pub range: i64,
    /// Total number of shards series are split into by label hash; 0 disables sharding.
    pub shard_count: u64,
    /// The shard to return, in `0..shard_count`.
    pub shard_index: u64,
    /// Return whole chunks even when they reach outside `[start, end]`: faster, and the engine
    /// filters by time anyway.
    pub disable_trimming: bool,
}

/// Hints for label lookups (upstream's `LabelHints`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LabelHints {
    /// Maximum number of names or values to return; `0` means no limit.
    pub limit: usize,
}
