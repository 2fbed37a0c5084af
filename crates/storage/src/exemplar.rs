//! Reading exemplars (the `/api/v1/query_exemplars` endpoint). Exemplars are written through
//! [`Appender::append_exemplar`](crate::Appender::append_exemplar).

use pm_common::model::{Exemplar, Labels, Matcher};

use crate::error::Result;

/// The exemplars of one series.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExemplarQueryResult {
    pub series_labels: Labels,
    /// Oldest first.
    pub exemplars: Vec<Exemplar>,
}

/// Reads exemplars.
pub trait ExemplarQuerier: Send + Sync {
    /// The exemplars with timestamps in `[start, end]` (milliseconds, inclusive) of the series
    /// matching any of `matcher_sets`, all matchers of a set applying together. Series come
    /// sorted by labels; series without exemplars in range are left out.
    fn select(
        &self,
        start: i64,
        end: i64,
        matcher_sets: &[Vec<Matcher>],
    ) -> Result<Vec<ExemplarQueryResult>>;
}

/// Something that stores exemplars.
pub trait ExemplarQueryable: Send + Sync {
    fn exemplar_querier(&self) -> Result<Box<dyn ExemplarQuerier>>;
}
