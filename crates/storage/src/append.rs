//! Write access: appendables hand out appenders, appenders are write transactions.

use std::fmt;

use pm_common::model::{Exemplar, FloatHistogram, Histogram, Labels, Metadata};

use crate::error::Result;

/// An opaque handle to a series, handed out by an appender so later appends can skip the label
/// lookup. `0` ([`SeriesRef::UNKNOWN`]) means "no handle": always accepted as input, and when
/// returned it must not be cached.
///
/// References are ephemeral: an appender may reject or ignore a reference it handed out earlier
/// (e.g. after the series was garbage-collected), and then falls back to the labels — which is
/// why every call passes both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesRef(pub u64);

impl SeriesRef {
    pub const UNKNOWN: SeriesRef = SeriesRef(0);

    pub fn is_unknown(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for SeriesRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Something that accepts writes.
pub trait Appendable: Send + Sync {
    /// Starts a new write transaction. Appenders are independent of one another: each may be used
    /// from its own thread.
    fn appender(&self) -> Box<dyn Appender>;
}

impl<T: Appendable + ?Sized> Appendable for std::sync::Arc<T> {
    fn appender(&self) -> Box<dyn Appender> {
        (**self).appender()
    }
}

/// Per-call behaviour switches of an appender (upstream's `storage.AppendOptions`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppendOptions {
    /// Reject out-of-order samples with
    /// [`StorageError::OutOfOrderSample`](crate::StorageError::OutOfOrderSample) even when the
    /// storage accepts out-of-order data otherwise. Rule evaluation sets it for all its appends
    /// and the scrape loop for staleness markers: an old value must never be inserted behind newer
    /// data there.
    pub discard_out_of_order: bool,
}

/// A write transaction (upstream's `storage.Appender`).
///
/// * **Atomicity and visibility.** Nothing appended is visible to queriers before
///   [`commit`](Self::commit); after `commit` returns, all of it is. [`rollback`](Self::rollback)
///   discards everything. Dropping an appender without either rolls back.
/// * **Durability.** When `commit` returns `Ok`, every accepted sample, histogram, exemplar and
///   metadata update has been written to the write-ahead log (when the storage has one) and is
///   recovered after a crash; there is no `fsync` per commit, as upstream, so a power loss may
///   lose the last commits, not a process crash.
/// * **Validation happens at append time.** A call that returns an error changed nothing and
///   the transaction stays usable: the scrape loop counts rejected samples by kind
///   ([`StorageError::OutOfOrderSample`](crate::StorageError::OutOfOrderSample),
///   [`DuplicateSample`](crate::StorageError::DuplicateSample), …) and goes on. Samples appended
///   to one series within a transaction must be in ascending timestamp order.
/// * Not thread-safe: one appender is used by one thread at a time.
pub trait Appender: Send {
    /// Applies `options` to the calls that follow, until changed again; `AppendOptions::default()`
    /// restores the storage's normal behaviour.
    fn set_options(&mut self, options: AppendOptions);

    /// Adds a float sample to the series `labels` (sorted, without duplicate names) and returns
    /// its reference for later calls. `series` may be [`SeriesRef::UNKNOWN`].
    fn append(&mut self, series: SeriesRef, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef>;

    /// Adds a float sample with its start timestamp `st` (when the counter or delta interval
    /// it reports on began, upstream's `AppenderV2`; `0` = unknown). Storages that do not keep
    /// start timestamps store the sample alone, which is the default.
    fn append_with_st(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        st: i64,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef> {
        let _ = st;
        self.append(series, labels, t, v)
    }

    /// As [`append_with_st`](Self::append_with_st) for a native histogram sample.
    fn append_histogram_with_st(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        st: i64,
        t: i64,
        h: Option<&Histogram>,
        fh: Option<&FloatHistogram>,
    ) -> Result<SeriesRef> {
        let _ = st;
        self.append_histogram(series, labels, t, h, fh)
    }

    /// Adds a native histogram sample. Exactly one of `h` and `fh` is expected; when both are
    /// given the integer histogram is stored, when neither the call fails with
    /// [`StorageError::MissingHistogram`](crate::StorageError::MissingHistogram). The storage
    /// does not keep references to them after the call.
    fn append_histogram(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        t: i64,
        h: Option<&Histogram>,
        fh: Option<&FloatHistogram>,
    ) -> Result<SeriesRef>;

    /// Attaches an exemplar to an existing series (one that has a sample, committed or earlier
    /// in this transaction). An exemplar without a timestamp is stored at time 0, as upstream;
    /// the scrape loop fills in the scrape time before calling.
    fn append_exemplar(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        exemplar: &Exemplar,
    ) -> Result<SeriesRef>;

    /// Records the metadata of an existing series; written to the WAL when it changed.
    fn update_metadata(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        metadata: &Metadata,
    ) -> Result<SeriesRef>;

    /// Injects a synthetic `0` sample at the created timestamp `ct` of the sample about to be
    /// appended at `t`, marking where a counter started. Must be called before the corresponding
    /// [`append`](Self::append). Fails with
    /// [`CreatedTimestampNotBeforeSample`](crate::StorageError::CreatedTimestampNotBeforeSample)
    /// when `ct >= t` and
    /// [`OutOfOrderCreatedTimestamp`](crate::StorageError::OutOfOrderCreatedTimestamp) when the
    /// series already has a sample at or after `ct`; callers ignore both.
    fn append_ct_zero(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        t: i64,
        ct: i64,
    ) -> Result<SeriesRef>;

    /// As [`append_ct_zero`](Self::append_ct_zero) for histograms: the zero histogram takes
    /// the schema, zero threshold and custom bounds of `h`/`fh` and is marked as a counter reset.
    fn append_histogram_ct_zero(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        t: i64,
        ct: i64,
        h: Option<&Histogram>,
        fh: Option<&FloatHistogram>,
    ) -> Result<SeriesRef>;

    /// Makes the transaction durable and visible (see the trait docs).
    fn commit(self: Box<Self>) -> Result<()>;

    /// Discards the transaction.
    fn rollback(self: Box<Self>) -> Result<()>;
}
