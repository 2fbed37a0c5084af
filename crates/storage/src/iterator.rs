//! The sample iterator: how every consumer reads the samples of one series.
//!
//! The protocol is upstream's `chunkenc.Iterator`. An iterator starts *before* its first sample;
//! [`SampleIterator::next`] and [`SampleIterator::seek`] move it and report the [`ValueType`] of
//! the sample it now stands on, and the `at*` accessors read that sample. Floats, integer
//! histograms and float histograms may alternate within one series, which is why every move
//! reports the type rather than the iterator having one.

use pm_common::model::{FloatHistogram, Histogram, Sample};

use crate::error::StorageError;

/// The kind of sample an iterator stands on after a move; `None` once it is exhausted (or failed:
/// check [`SampleIterator::err`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    None,
    Float,
    Histogram,
    FloatHistogram,
}

impl ValueType {
    /// Whether the iterator stands on a sample.
    pub fn is_some(self) -> bool {
        self != ValueType::None
    }

    /// Upstream's names (`none`, `float`, `histogram`, `floathistogram`), used in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::None => "none",
            ValueType::Float => "float",
            ValueType::Histogram => "histogram",
            ValueType::FloatHistogram => "floathistogram",
        }
    }
}

/// A histogram sample in the form PromQL computes with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistogramSample {
    pub t: i64,
    pub h: FloatHistogram,
}

/// Iterates over the samples of one series in ascending timestamp order, each timestamp at most
/// once.
///
/// Contract, shared by every implementation:
/// * `next` moves to the following sample; `seek(t)` moves to the first sample with timestamp
///   `>= t`. **`seek` never moves backwards**: if the current sample already satisfies `t`, it
///   stays put and returns the current type (so seeking to an older time is a cheap no-op).
///   Seeking an exhausted iterator keeps returning [`ValueType::None`].
/// * The `at*` accessors are only meaningful after a move that returned a type other than
///   `None`. [`at`](Self::at) needs a float sample; [`at_histogram`](Self::at_histogram) an
///   integer histogram; [`at_float_histogram`](Self::at_float_histogram) accepts both histogram
///   kinds (converting integer counts); [`at_t`](Self::at_t) any kind. Calling an accessor that
///   does not fit the sample type is a caller bug; implementations may panic.
/// * Once a move returns `None`, [`err`](Self::err) tells exhaustion (`None`) from failure.
///
/// Histogram accessors fill a caller-owned value so its bucket vectors are reused from sample to
/// sample instead of allocating each time.
pub trait SampleIterator: Send {
    fn next(&mut self) -> ValueType;

    fn seek(&mut self, t: i64) -> ValueType;

    /// Timestamp and value of the current float sample.
    fn at(&self) -> (i64, f64);

    /// Copies the current integer histogram into `h` and returns its timestamp.
    fn at_histogram(&self, h: &mut Histogram) -> i64;

    /// Copies the current histogram (integer counts converted) into `fh` and returns its
    /// timestamp.
    fn at_float_histogram(&self, fh: &mut FloatHistogram) -> i64;

    /// Timestamp of the current sample, whatever its type.
    fn at_t(&self) -> i64;

    /// Why iteration stopped early, if it did.
    fn err(&self) -> Option<&StorageError>;

    /// Start timestamp of the current sample (upstream's `AtST`): when the counter or the delta
    /// interval the sample reports on began, in milliseconds. `0` means unknown, which is what
    /// every storage that does not keep start timestamps reports.
    fn at_st(&self) -> i64 {
        0
    }

    /// Batch read for range evaluation: behaves as `seek(mint)`, then appends every sample with
    /// timestamp `<= maxt` (both bounds inclusive) to `floats` or `histograms`, and leaves the
    /// iterator on the first sample after `maxt`, whose type it returns (`None` when exhausted).
    ///
    /// Because it starts with a `seek`, consecutive calls over ascending, possibly overlapping
    /// windows work; samples already passed are not returned again. Implementations over
    /// in-memory or decoded data override this to copy runs without a call per sample.
    fn fill(
        &mut self,
        mint: i64,
        maxt: i64,
        floats: &mut Vec<Sample>,
        histograms: &mut Vec<HistogramSample>,
    ) -> ValueType {
        fill_each(self, mint, maxt, floats, histograms, |_, _| {})
    }

    /// As [`fill`](Self::fill), also appending each sample's [`at_st`](Self::at_st) to
    /// `float_sts` or `histogram_sts`, parallel to the samples appended. Only the engine's
    /// start-timestamp-aware functions need this, so it walks sample by sample.
    fn fill_with_start_timestamps(
        &mut self,
        mint: i64,
        maxt: i64,
        floats: &mut Vec<Sample>,
        histograms: &mut Vec<HistogramSample>,
        float_sts: &mut Vec<i64>,
        histogram_sts: &mut Vec<i64>,
    ) -> ValueType {
        fill_each(self, mint, maxt, floats, histograms, |it, vt| {
            let sts = if vt == ValueType::Float {
                &mut *float_sts
            } else {
                &mut *histogram_sts
            };
            sts.push(it.at_st());
        })
    }
}

/// The sample-by-sample walk behind the provided `fill` methods; `each` sees the iterator on
/// every sample appended.
fn fill_each<I: SampleIterator + ?Sized>(
    it: &mut I,
    mint: i64,
    maxt: i64,
    floats: &mut Vec<Sample>,
    histograms: &mut Vec<HistogramSample>,
    mut each: impl FnMut(&I, ValueType),
) -> ValueType {
    let mut vt = it.seek(mint);
    while vt.is_some() && it.at_t() <= maxt {
        push_current(it, vt, floats, histograms);
        each(it, vt);
        vt = it.next();
    }
    vt
}

/// Appends the sample `it` is on (of type `vt`, not `None`) to the list for its kind; both
/// histogram kinds are kept as float histograms, as [`SampleIterator::fill`] promises.
pub(crate) fn push_current<I: SampleIterator + ?Sized>(
    it: &I,
    vt: ValueType,
    floats: &mut Vec<Sample>,
    histograms: &mut Vec<HistogramSample>,
) {
    match vt {
        ValueType::Float => {
            let (t, v) = it.at();
            floats.push(Sample { t, v });
        }
        _ => {
            let mut h = FloatHistogram::default();
            let t = it.at_float_histogram(&mut h);
            histograms.push(HistogramSample { t, h });
        }
    }
}

/// An iterator over nothing, e.g. for a series with no samples in the queried range.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmptyIterator;

impl SampleIterator for EmptyIterator {
    fn next(&mut self) -> ValueType {
        ValueType::None
    }

    fn seek(&mut self, _t: i64) -> ValueType {
        ValueType::None
    }

    fn at(&self) -> (i64, f64) {
        panic!("at() on an empty iterator")
    }

    fn at_histogram(&self, _h: &mut Histogram) -> i64 {
        panic!("at_histogram() on an empty iterator")
    }

    fn at_float_histogram(&self, _fh: &mut FloatHistogram) -> i64 {
        panic!("at_float_histogram() on an empty iterator")
    }

    fn at_t(&self) -> i64 {
        panic!("at_t() on an empty iterator")
    }

    fn err(&self) -> Option<&StorageError> {
        None
    }
}

/// An iterator that failed before producing anything.
#[derive(Clone, Debug)]
pub struct ErrorIterator(pub StorageError);

impl SampleIterator for ErrorIterator {
    fn next(&mut self) -> ValueType {
        ValueType::None
    }

    fn seek(&mut self, _t: i64) -> ValueType {
        ValueType::None
    }

    fn at(&self) -> (i64, f64) {
        panic!("at() on a failed iterator")
    }

    fn at_histogram(&self, _h: &mut Histogram) -> i64 {
        panic!("at_histogram() on a failed iterator")
    }

    fn at_float_histogram(&self, _fh: &mut FloatHistogram) -> i64 {
        panic!("at_float_histogram() on a failed iterator")
    }

    fn at_t(&self) -> i64 {
        panic!("at_t() on a failed iterator")
    }

    fn err(&self) -> Option<&StorageError> {
        Some(&self.0)
    }
}
