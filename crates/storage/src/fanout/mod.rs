//! A storage that writes to a primary and any number of secondaries and reads from all of them
//! (upstream's `storage.NewFanout`): the local TSDB plus remote write/read.

use std::sync::Arc;

use pm_common::model::{Exemplar, FloatHistogram, Histogram, Labels, Metadata};

use crate::append::{AppendOptions, Appendable, Appender, SeriesRef};
use crate::error::Result;
use crate::merge::MergeQuerier;
use crate::query::{Querier, Queryable};
use crate::storage::Storage;

/// Fans writes out to a primary and secondaries, and merges reads from all of them.
///
/// Reads: the primary's errors fail a query, the secondaries' become warnings (see
/// [`crate::merge`]). Writes: see [`FanoutAppender`].
pub struct Fanout {
    primary: Arc<dyn Storage>,
    secondaries: Vec<Arc<dyn Storage>>,
}

impl Fanout {
    pub fn new(primary: Arc<dyn Storage>, secondaries: Vec<Arc<dyn Storage>>) -> Self {
        Fanout {
            primary,
            secondaries,
        }
    }
}

impl Queryable for Fanout {
    /// Fails if any storage cannot open a querier, as upstream: that is a setup problem, not a
    /// partial result.
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>> {
        let primary = self.primary.querier(mint, maxt)?;
        let secondaries = self
            .secondaries
            .iter()
            .map(|s| s.querier(mint, maxt))
            .collect::<Result<Vec<_>>>()?;
        Ok(MergeQuerier::boxed(vec![primary], secondaries))
    }
}

impl Appendable for Fanout {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(FanoutAppender {
            primary: self.primary.appender(),
            secondaries: self.secondaries.iter().map(|s| s.appender()).collect(),
        })
    }
}

impl Storage for Fanout {
    /// The earliest start time of all storages.
    fn start_time(&self) -> Result<i64> {
        let mut start = self.primary.start_time()?;
        for s in &self.secondaries {
            start = start.min(s.start_time()?);
        }
        Ok(start)
    }
}

/// Appends to the primary, then to each secondary.
///
/// * Each call goes to the primary first; if it fails, the secondaries are not called. The
///   reference returned is the primary's; secondaries are always given
///   [`SeriesRef::UNKNOWN`], since the primary's references mean nothing to them.
/// * `commit` commits the primary, then each secondary in order; after the first failure the
///   remaining secondaries are rolled back instead, and that failure is returned.
/// * `rollback` rolls back all of them and returns the first failure.
pub struct FanoutAppender {
    primary: Box<dyn Appender>,
    secondaries: Vec<Box<dyn Appender>>,
}

impl FanoutAppender {
    fn fan(
        &mut self,
        series: SeriesRef,
        mut call: impl FnMut(&mut dyn Appender, SeriesRef) -> Result<SeriesRef>,
    ) -> Result<SeriesRef> {
        let r = call(self.primary.as_mut(), series)?;
        for s in &mut self.secondaries {
            call(s.as_mut(), SeriesRef::UNKNOWN)?;
        }
        Ok(r)
    }
}

impl Appender for FanoutAppender {
    fn set_options(&mut self, options: AppendOptions) {
        self.primary.set_options(options);
        for s in &mut self.secondaries {
            s.set_options(options);
        }
    }

    fn append(&mut self, series: SeriesRef, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef> {
        self.fan(series, |a, r| a.append(r, labels, t, v))
    }

    fn append_histogram(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        t: i64,
        h: Option<&Histogram>,
        fh: Option<&FloatHistogram>,
    ) -> Result<SeriesRef> {
        self.fan(series, |a, r| a.append_histogram(r, labels, t, h, fh))
    }

    fn append_with_st(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        st: i64,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef> {
        self.fan(series, |a, r| a.append_with_st(r, labels, st, t, v))
    }

    fn append_histogram_with_st(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        st: i64,
        t: i64,
        h: Option<&Histogram>,
        fh: Option<&FloatHistogram>,
    ) -> Result<SeriesRef> {
        self.fan(series, |a, r| {
            a.append_histogram_with_st(r, labels, st, t, h, fh)
        })
    }

    fn append_exemplar(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        exemplar: &Exemplar,
    ) -> Result<SeriesRef> {
        self.fan(series, |a, r| a.append_exemplar(r, labels, exemplar))
    }

    fn update_metadata(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        metadata: &Metadata,
    ) -> Result<SeriesRef> {
        self.fan(series, |a, r| a.update_metadata(r, labels, metadata))
    }

    fn append_ct_zero(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        t: i64,
        ct: i64,
    ) -> Result<SeriesRef> {
        self.fan(series, |a, r| a.append_ct_zero(r, labels, t, ct))
    }

    fn append_histogram_ct_zero(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        t: i64,
        ct: i64,
        h: Option<&Histogram>,
        fh: Option<&FloatHistogram>,
    ) -> Result<SeriesRef> {
        self.fan(series, |a, r| {
            a.append_histogram_ct_zero(r, labels, t, ct, h, fh)
        })
    }

    fn commit(self: Box<Self>) -> Result<()> {
        let mut result = self.primary.commit();
        for s in self.secondaries {
            if result.is_ok() {
                result = s.commit();
            } else if let Err(e) = s.rollback() {
                tracing::error!(err = %e, "squashed rollback error on commit");
            }
        }
        result
    }

    fn rollback(self: Box<Self>) -> Result<()> {
        let mut result = self.primary.rollback();
        for s in self.secondaries {
            match (s.rollback(), &result) {
                (Err(e), Ok(())) => result = Err(e),
                (Err(e), Err(_)) => {
                    tracing::error!(err = %e, "squashed rollback error on rollback");
                }
                (Ok(()), _) => {}
            }
        }
        result
    }
}

#[cfg(all(test, feature = "testsuite"))]
mod tests;
