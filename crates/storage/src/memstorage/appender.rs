//! The test storage's appender: validates at append time, applies everything at commit.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use pm_common::model::{CounterResetHint, Exemplar, FloatHistogram, Histogram, Labels, Metadata};

use super::{Inner, MemStorage, series_ref};
use crate::append::{AppendOptions, Appender, SeriesRef};
use crate::error::{DuplicateSample, EXEMPLAR_MAX_LABEL_SET_LENGTH, Result, StorageError};
use crate::histogram::{validate_float_histogram, validate_histogram};
use crate::series::{SampleValue, SeriesSample};

pub(super) struct MemAppender {
    storage: MemStorage,
    /// Touched series in first-touch order.
    pending: Vec<PendingSeries>,
    /// Index into `pending` by series position.
    by_pos: HashMap<usize, usize>,
}

struct PendingSeries {
    pos: usize,
    samples: Vec<SeriesSample>,
    /// Parallel to `samples`.
    start_timestamps: Vec<i64>,
    exemplars: Vec<Exemplar>,
    metadata: Option<Metadata>,
}

/// What to do with a sample that passed validation.
enum Verdict {
    Append,
    /// The very same sample is already there: accepted, nothing to store.
    Ignore,
}

impl MemAppender {
    pub(super) fn new(storage: MemStorage) -> Self {
        MemAppender {
            storage,
            pending: Vec::new(),
            by_pos: HashMap::new(),
        }
    }

    fn pending_mut(&mut self, pos: usize) -> &mut PendingSeries {
        let idx = *self.by_pos.entry(pos).or_insert_with(|| {
            self.pending.push(PendingSeries {
                pos,
                samples: Vec::new(),
                start_timestamps: Vec::new(),
                exemplars: Vec::new(),
                metadata: None,
            });
            self.pending.len() - 1
        });
        &mut self.pending[idx]
    }

    fn pending(&self, pos: usize) -> Option<&PendingSeries> {
        self.by_pos.get(&pos).map(|&i| &self.pending[i])
    }

    /// The newest sample of a series: this transaction's, else the committed one.
    fn last_sample(&self, inner: &Inner, pos: usize) -> Option<SeriesSample> {
        self.pending(pos)
            .and_then(|p| p.samples.last())
            .or_else(|| inner.series[pos].samples.last())
            .cloned()
    }

    /// Validates and queues one sample with its start timestamp, creating the series if
    /// needed.
    fn add_sample(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        st: i64,
        sample: SeriesSample,
    ) -> Result<SeriesRef> {
        let storage = self.storage.clone();
        let mut inner = storage.write();
        if inner.min_valid_time.is_some_and(|min| sample.t < min) {
            return Err(StorageError::OutOfBounds);
        }
        let pos = inner.get_or_create(series, labels);
        let verdict = check_appendable(self.last_sample(&inner, pos).as_ref(), &sample)?;
        if let Verdict::Append = verdict {
            let pending = self.pending_mut(pos);
            pending.samples.push(sample);
            pending.start_timestamps.push(st);
        }
        Ok(series_ref(pos))
    }

    /// Queues a created-timestamp zero sample; see [`Appender::append_ct_zero`].
    fn add_ct_zero(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        t: i64,
        zero: SeriesSample,
    ) -> Result<SeriesRef> {
        if zero.t >= t {
            return Err(StorageError::CreatedTimestampNotBeforeSample);
        }
        let storage = self.storage.clone();
        let mut inner = storage.write();
        if inner.min_valid_time.is_some_and(|min| zero.t < min) {
            return Err(StorageError::OutOfBounds);
        }
        let pos = inner.get_or_create(series, labels);
        if self
            .last_sample(&inner, pos)
            .is_some_and(|last| last.t >= zero.t)
        {
            return Err(StorageError::OutOfOrderCreatedTimestamp);
        }
        let pending = self.pending_mut(pos);
        pending.samples.push(zero);
        pending.start_timestamps.push(0);
        Ok(series_ref(pos))
    }

    /// The position of an existing series, for exemplars and metadata.
    fn existing(&self, series: SeriesRef, labels: &Labels) -> Result<usize> {
        self.storage
            .read()
            .lookup(series, labels)
            .ok_or(StorageError::NotFound)
    }
}

/// The TSDB's in-order rules: newer samples are appended, older ones rejected, and a sample at
/// the newest timestamp is accepted only if identical (a repeated scrape of the same data).
fn check_appendable(last: Option<&SeriesSample>, new: &SeriesSample) -> Result<Verdict> {
    let Some(last) = last else {
        return Ok(Verdict::Append);
    };
    match new.t.cmp(&last.t) {
        Ordering::Greater => Ok(Verdict::Append),
        Ordering::Less => Err(StorageError::OutOfOrderSample),
        Ordering::Equal => match (&last.value, &new.value) {
            (SampleValue::Float(old), SampleValue::Float(v)) if old.to_bits() == v.to_bits() => {
                Ok(Verdict::Ignore)
            }
            (SampleValue::Float(old), SampleValue::Float(v)) => {
                Err(DuplicateSample::float(new.t, *old, *v).into())
            }
            (_, SampleValue::Float(v)) => {
                Err(DuplicateSample::histogram_to_float(new.t, *v).into())
            }
            (old, h) if same_histogram(old, h) => Ok(Verdict::Ignore),
            _ => Err(DuplicateSample::bare().into()),
        },
    }
}

/// Histogram equality as upstream's `Equals`: sums compare by bit pattern, so a histogram with a
/// NaN sum equals itself.
fn same_histogram(a: &SampleValue, b: &SampleValue) -> bool {
    match (a, b) {
        (SampleValue::Histogram(x), SampleValue::Histogram(y)) => {
            x.sum.to_bits() == y.sum.to_bits()
                && Histogram {
                    sum: 0.0,
                    ..Histogram::clone(x)
                } == Histogram {
                    sum: 0.0,
                    ..Histogram::clone(y)
                }
        }
        (SampleValue::FloatHistogram(x), SampleValue::FloatHistogram(y)) => {
            x.sum.to_bits() == y.sum.to_bits()
                && FloatHistogram {
                    sum: 0.0,
                    ..FloatHistogram::clone(x)
                } == FloatHistogram {
                    sum: 0.0,
                    ..FloatHistogram::clone(y)
                }
        }
        _ => false,
    }
}

/// The value to store for a histogram append, validated as the TSDB head does.
fn histogram_value(h: Option<&Histogram>, fh: Option<&FloatHistogram>) -> Result<SampleValue> {
    match (h, fh) {
        (Some(h), _) => {
            validate_histogram(h)?;
            Ok(SampleValue::Histogram(Arc::new(h.clone())))
        }
        (None, Some(fh)) => {
            validate_float_histogram(fh)?;
            Ok(SampleValue::FloatHistogram(Arc::new(fh.clone())))
        }
        (None, None) => Err(StorageError::MissingHistogram),
    }
}

/// The zero histogram injected at a created timestamp: a counter reset with the same bucket
/// layout parameters, so the TSDB need not cut a new chunk for it.
fn zero_histogram(h: Option<&Histogram>, fh: Option<&FloatHistogram>) -> Result<SampleValue> {
    match (h, fh) {
        (Some(h), _) => Ok(SampleValue::Histogram(Arc::new(Histogram {
            counter_reset_hint: CounterResetHint::CounterReset,
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            custom_values: h.custom_values.clone(),
            ..Histogram::default()
        }))),
        (None, Some(fh)) => Ok(SampleValue::FloatHistogram(Arc::new(FloatHistogram {
            counter_reset_hint: CounterResetHint::CounterReset,
            schema: fh.schema,
            zero_threshold: fh.zero_threshold,
            custom_values: fh.custom_values.clone(),
            ..FloatHistogram::default()
        }))),
        (None, None) => Err(StorageError::MissingHistogram),
    }
}

/// Upstream's exemplar checks: bounded label size, and each series' exemplars ordered by
/// (timestamp, value, label hash) with the newest one not repeated.
fn check_exemplar(newest: Option<&Exemplar>, e: &Exemplar) -> Result<()> {
    let label_len: usize = e
        .labels
        .iter()
        .map(|l| l.name.chars().count() + l.value.chars().count())
        .sum();
    if label_len > EXEMPLAR_MAX_LABEL_SET_LENGTH {
        return Err(StorageError::ExemplarLabelLength);
    }
    let Some(newest) = newest else {
        return Ok(());
    };
    let (ts, newest_ts) = (e.ts.unwrap_or(0), newest.ts.unwrap_or(0));
    if e.labels == newest.labels && ts == newest_ts && e.value == newest.value {
        return Err(StorageError::DuplicateExemplar);
    }
    let out_of_order = ts < newest_ts
        || (ts == newest_ts && e.value < newest.value)
        || (ts == newest_ts
            && e.value == newest.value
            && e.labels.hash_value() < newest.labels.hash_value());
    if out_of_order {
        return Err(StorageError::OutOfOrderExemplar);
    }
    Ok(())
}

impl Appender for MemAppender {
    /// Nothing to switch: this storage has no out-of-order window, so it always discards
    /// out-of-order samples.
    fn set_options(&mut self, _options: AppendOptions) {}

    fn append(&mut self, series: SeriesRef, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef> {
        self.append_with_st(series, labels, 0, t, v)
    }

    fn append_histogram(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        t: i64,
        h: Option<&Histogram>,
        fh: Option<&FloatHistogram>,
    ) -> Result<SeriesRef> {
        self.append_histogram_with_st(series, labels, 0, t, h, fh)
    }

    fn append_with_st(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        st: i64,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef> {
        self.add_sample(series, labels, st, SeriesSample::float(t, v))
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
        let value = histogram_value(h, fh)?;
        self.add_sample(series, labels, st, SeriesSample { t, value })
    }

    fn append_exemplar(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        exemplar: &Exemplar,
    ) -> Result<SeriesRef> {
        let pos = self.existing(series, labels)?;
        let newest = self
            .pending(pos)
            .and_then(|p| p.exemplars.last().cloned())
            .or_else(|| self.storage.read().series[pos].exemplars.last().cloned());
        check_exemplar(newest.as_ref(), exemplar)?;
        self.pending_mut(pos).exemplars.push(exemplar.clone());
        Ok(series_ref(pos))
    }

    fn update_metadata(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        metadata: &Metadata,
    ) -> Result<SeriesRef> {
        let pos = self.existing(series, labels)?;
        self.pending_mut(pos).metadata = Some(metadata.clone());
        Ok(series_ref(pos))
    }

    fn append_ct_zero(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        t: i64,
        ct: i64,
    ) -> Result<SeriesRef> {
        self.add_ct_zero(series, labels, t, SeriesSample::float(ct, 0.0))
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
        let value = zero_histogram(h, fh)?;
        self.add_ct_zero(series, labels, t, SeriesSample { t: ct, value })
    }

    /// Applies the transaction. A sample overtaken by a concurrent commit to the same series is
    /// dropped, as the TSDB does at commit time.
    fn commit(self: Box<Self>) -> Result<()> {
        let mut inner = self.storage.write();
        for p in self.pending {
            let s = &mut inner.series[p.pos];
            if !p.samples.is_empty() {
                let samples = Arc::make_mut(&mut s.samples);
                let sts = Arc::make_mut(&mut s.start_timestamps);
                for (sample, st) in p.samples.into_iter().zip(p.start_timestamps) {
                    if samples.last().is_none_or(|last| last.t < sample.t) {
                        samples.push(sample);
                        sts.push(st);
                    }
                }
            }
            s.exemplars.extend(p.exemplars);
            if p.metadata.is_some() {
                s.metadata = p.metadata;
            }
        }
        Ok(())
    }

    fn rollback(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}
