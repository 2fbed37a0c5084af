//! Series and series sets: what a select returns, and list-backed implementations of both.

use std::collections::VecDeque;
use std::sync::Arc;

use pm_common::model::{FloatHistogram, Histogram, Labels, Sample};

use crate::error::{StorageError, Warnings};
use crate::iterator::{HistogramSample, SampleIterator, ValueType};

/// One series of a query result: its identity and a way to read its samples.
///
/// A series owns (or shares) what it needs, so it stays readable after the set that produced
/// it has moved on, and may be iterated any number of times.
pub trait Series: Send + Sync {
    fn labels(&self) -> &Labels;

    /// A fresh iterator positioned before the first sample.
    fn iter(&self) -> Box<dyn SampleIterator>;

    /// Appends the samples in `[mint, maxt]` to `floats` and `histograms`, exactly as a fresh
    /// iterator's [`SampleIterator::fill`] would. Range queries read every selected sample
    /// through here, so series over encoded chunks override it to decode straight into the
    /// caller's buffers instead of building an iterator's own copy of the series first.
    fn fill_range(
        &self,
        mint: i64,
        maxt: i64,
        floats: &mut Vec<Sample>,
        histograms: &mut Vec<HistogramSample>,
    ) -> Result<(), StorageError> {
        fill_range_by_iter(self, mint, maxt, floats, histograms)
    }
}

/// [`Series::fill_range`] through the series' iterator: the general path, which overrides
/// fall back to for data their shortcut does not handle.
pub fn fill_range_by_iter<S: Series + ?Sized>(
    series: &S,
    mint: i64,
    maxt: i64,
    floats: &mut Vec<Sample>,
    histograms: &mut Vec<HistogramSample>,
) -> Result<(), StorageError> {
    let mut it = series.iter();
    it.fill(mint, maxt, floats, histograms);
    it.err().map_or(Ok(()), |e| Err(e.clone()))
}

/// A boxed series, as series sets yield them.
pub type BoxSeries = Box<dyn Series>;

/// The series matching a select, produced one at a time.
///
/// Protocol (upstream's `storage.SeriesSet`):
/// * [`next`](Self::next) yields series until it returns `None`; then [`err`](Self::err) tells
///   exhaustion (`None`) from failure. After a failure the set yields nothing more.
/// * When the select asked for sorting, series come in ascending [`Labels`] order (upstream's
///   `labels.Compare`) and no two have the same labels. Unsorted sets promise neither order nor
///   uniqueness across sources; asking for no sorting lets implementations skip work.
/// * [`warnings`](Self::warnings) may grow during iteration; read it after the set is drained.
pub trait SeriesSet: Send {
    fn next(&mut self) -> Option<BoxSeries>;

    fn err(&self) -> Option<&StorageError>;

    fn warnings(&self) -> Warnings;
}

/// A boxed series set, as queriers return them.
pub type BoxSeriesSet = Box<dyn SeriesSet>;

/// The value of one stored sample.
#[derive(Clone, Debug, PartialEq)]
pub enum SampleValue {
    Float(f64),
    Histogram(Arc<Histogram>),
    FloatHistogram(Arc<FloatHistogram>),
}

impl SampleValue {
    pub fn value_type(&self) -> ValueType {
        match self {
            SampleValue::Float(_) => ValueType::Float,
            SampleValue::Histogram(_) => ValueType::Histogram,
            SampleValue::FloatHistogram(_) => ValueType::FloatHistogram,
        }
    }
}

/// A timestamped sample of any type.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesSample {
    pub t: i64,
    pub value: SampleValue,
}

impl SeriesSample {
    pub fn float(t: i64, v: f64) -> Self {
        SeriesSample {
            t,
            value: SampleValue::Float(v),
        }
    }

    pub fn histogram(t: i64, h: Histogram) -> Self {
        SeriesSample {
            t,
            value: SampleValue::Histogram(Arc::new(h)),
        }
    }

    pub fn float_histogram(t: i64, fh: FloatHistogram) -> Self {
        SeriesSample {
            t,
            value: SampleValue::FloatHistogram(Arc::new(fh)),
        }
    }
}

/// A series whose samples are held in memory (upstream's `storage.NewListSeries`); used for
/// test data, remote-read results and in-memory storages.
#[derive(Clone, Debug)]
pub struct ListSeries {
    labels: Labels,
    samples: Arc<[SeriesSample]>,
    /// Start timestamps parallel to `samples`, for storages that keep them.
    start_timestamps: Option<Arc<[i64]>>,
}

impl ListSeries {
    /// `samples` must be in strictly ascending timestamp order (checked in debug builds).
    pub fn new(labels: Labels, samples: impl Into<Arc<[SeriesSample]>>) -> Self {
        let samples = samples.into();
        debug_assert!(
            samples.windows(2).all(|w| w[0].t < w[1].t),
            "ListSeries samples must have strictly ascending timestamps"
        );
        ListSeries {
            labels,
            samples,
            start_timestamps: None,
        }
    }

    /// Attaches a start timestamp to every sample (`0` = unknown); `sts` must be as long as
    /// the samples (checked in debug builds).
    pub fn with_start_timestamps(mut self, sts: impl Into<Arc<[i64]>>) -> Self {
        let sts = sts.into();
        debug_assert_eq!(
            sts.len(),
            self.samples.len(),
            "one start timestamp per sample"
        );
        self.start_timestamps = Some(sts);
        self
    }

    /// A float-only series from `(t, v)` pairs in ascending timestamp order.
    pub fn from_floats(labels: Labels, samples: impl IntoIterator<Item = (i64, f64)>) -> Self {
        let samples: Vec<SeriesSample> = samples
            .into_iter()
            .map(|(t, v)| SeriesSample::float(t, v))
            .collect();
        ListSeries::new(labels, samples)
    }

    pub fn samples(&self) -> &[SeriesSample] {
        &self.samples
    }
}

impl Series for ListSeries {
    fn labels(&self) -> &Labels {
        &self.labels
    }

    fn iter(&self) -> Box<dyn SampleIterator> {
        let mut it = ListIterator::new(self.samples.clone());
        it.start_timestamps = self.start_timestamps.clone();
        Box::new(it)
    }
}

/// Iterates over a shared slice of samples; seeks by binary search.
#[derive(Clone, Debug)]
pub struct ListIterator {
    samples: Arc<[SeriesSample]>,
    start_timestamps: Option<Arc<[i64]>>,
    /// Index of the current sample; `None` before the first move. Equal to the length once
    /// exhausted.
    pos: Option<usize>,
}

impl ListIterator {
    pub fn new(samples: Arc<[SeriesSample]>) -> Self {
        ListIterator {
            samples,
            start_timestamps: None,
            pos: None,
        }
    }

    fn current(&self) -> &SeriesSample {
        let pos = self.pos.expect("accessor called before next() or seek()");
        &self.samples[pos]
    }

    fn value_type_at(&self, pos: usize) -> ValueType {
        self.samples
            .get(pos)
            .map_or(ValueType::None, |s| s.value.value_type())
    }
}

impl SampleIterator for ListIterator {
    fn next(&mut self) -> ValueType {
        let pos = match self.pos {
            None => 0,
            Some(p) => (p + 1).min(self.samples.len()),
        };
        self.pos = Some(pos);
        self.value_type_at(pos)
    }

    fn seek(&mut self, t: i64) -> ValueType {
        let start = self.pos.unwrap_or(0);
        let rest = self.samples.get(start..).unwrap_or_default();
        let pos = start + gallop(rest, |s| s.t < t);
        self.pos = Some(pos);
        self.value_type_at(pos)
    }

    fn at(&self) -> (i64, f64) {
        let s = self.current();
        match s.value {
            SampleValue::Float(v) => (s.t, v),
            _ => panic!("at() on a histogram sample"),
        }
    }

    fn at_histogram(&self, h: &mut Histogram) -> i64 {
        let s = self.current();
        match &s.value {
            SampleValue::Histogram(src) => h.clone_from(src),
            _ => panic!("at_histogram() on a sample that is not an integer histogram"),
        }
        s.t
    }

    fn at_float_histogram(&self, fh: &mut FloatHistogram) -> i64 {
        let s = self.current();
        match &s.value {
            SampleValue::Histogram(src) => *fh = src.to_float(),
            SampleValue::FloatHistogram(src) => fh.clone_from(src),
            SampleValue::Float(_) => panic!("at_float_histogram() on a float sample"),
        }
        s.t
    }

    fn at_t(&self) -> i64 {
        self.current().t
    }

    fn at_st(&self) -> i64 {
        let pos = self.pos.expect("accessor called before next() or seek()");
        self.start_timestamps.as_ref().map_or(0, |sts| sts[pos])
    }

    fn err(&self) -> Option<&StorageError> {
        None
    }

    fn fill(
        &mut self,
        mint: i64,
        maxt: i64,
        floats: &mut Vec<Sample>,
        histograms: &mut Vec<HistogramSample>,
    ) -> ValueType {
        if !self.seek(mint).is_some() {
            return ValueType::None;
        }
        let start = self.pos.unwrap_or(0);
        let len = gallop(&self.samples[start..], |s| s.t <= maxt);
        for s in &self.samples[start..start + len] {
            match &s.value {
                SampleValue::Float(v) => floats.push(Sample { t: s.t, v: *v }),
                SampleValue::Histogram(h) => histograms.push(HistogramSample {
                    t: s.t,
                    h: h.to_float(),
                }),
                SampleValue::FloatHistogram(h) => histograms.push(HistogramSample {
                    t: s.t,
                    h: FloatHistogram::clone(h),
                }),
            }
        }
        self.pos = Some(start + len);
        self.value_type_at(start + len)
    }
}

/// The first index of `items` for which `pred` is false (`pred` must hold for a prefix), found
/// by exponential then binary search: iterators usually move a short way, so this costs about
/// `log(distance)` rather than `log(len)`.
fn gallop<T>(items: &[T], pred: impl Fn(&T) -> bool) -> usize {
    let mut hi = 1;
    while hi < items.len() && pred(&items[hi - 1]) {
        hi *= 2;
    }
    let lo = hi / 2;
    let hi = hi.min(items.len());
    lo + items[lo..hi].partition_point(pred)
}

/// A series set over series already in memory (upstream's `NewMockSeriesSet`, with warnings).
/// Yields the series in the order given: sort them first if the set answers a sorted select.
#[derive(Default)]
pub struct VecSeriesSet {
    series: VecDeque<BoxSeries>,
    warnings: Warnings,
}

impl VecSeriesSet {
    pub fn new(series: impl IntoIterator<Item = BoxSeries>) -> Self {
        VecSeriesSet {
            series: series.into_iter().collect(),
            warnings: Warnings::new(),
        }
    }

    /// Attaches warnings to report beside the series.
    pub fn with_warnings(mut self, warnings: Warnings) -> Self {
        self.warnings = warnings;
        self
    }
}

impl SeriesSet for VecSeriesSet {
    fn next(&mut self) -> Option<BoxSeries> {
        self.series.pop_front()
    }

    fn err(&self) -> Option<&StorageError> {
        None
    }

    fn warnings(&self) -> Warnings {
        self.warnings.clone()
    }
}

/// A set with no series (upstream's `EmptySeriesSet`); also an empty chunk series set.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmptySeriesSet;

impl SeriesSet for EmptySeriesSet {
    fn next(&mut self) -> Option<BoxSeries> {
        None
    }

    fn err(&self) -> Option<&StorageError> {
        None
    }

    fn warnings(&self) -> Warnings {
        Warnings::new()
    }
}

/// A set that failed before yielding anything (upstream's `ErrSeriesSet`); also a failed chunk
/// series set.
#[derive(Clone, Debug)]
pub struct ErrorSeriesSet(pub StorageError);

impl SeriesSet for ErrorSeriesSet {
    fn next(&mut self) -> Option<BoxSeries> {
        None
    }

    fn err(&self) -> Option<&StorageError> {
        Some(&self.0)
    }

    fn warnings(&self) -> Warnings {
        Warnings::new()
    }
}

#[cfg(test)]
mod tests;
