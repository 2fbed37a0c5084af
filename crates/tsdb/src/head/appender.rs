//! Write transactions on the head.

use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use foldhash::HashMap as FastMap;

use pm_common::model::{
    CUSTOM_BUCKETS_SCHEMA, CounterResetHint, Exemplar, FloatHistogram, Histogram, Labels, Metadata,
};
use pm_storage::{
    AppendOptions, Appendable, Appender, DuplicateSample, Result, SampleValue, SeriesRef,
    StorageError, validate_float_histogram, validate_histogram,
};

use super::index::PageCursor;
use super::series::{Applied, MemSeries};
use super::{Head, HeadError, HeadInner, TypedCounter, lock};
use crate::record::{
    self, RefExemplar, RefFloatHistogramSample, RefHistogramSample, RefMetadata, RefSeries,
};

struct PendingSample {
    /// Index of the series in [`HeadAppender::touched`].
    slot: usize,
    t: i64,
    v: SampleValue,
    ooo: bool,
}

/// A series the transaction holds (its `pending` count raised until the transaction ends),
/// with its newest in-order sample in the transaction.
struct Touched {
    series: Arc<MemSeries>,
    last: Option<(i64, SampleValue)>,
}

fn is_histogram(v: &SampleValue) -> bool {
    !matches!(v, SampleValue::Float(_))
}

/// Upstream's `Equals` for the duplicate check: everything but the counter-reset hint, the
/// sum compared bit for bit so equal NaN sums match.
fn same_histogram(a: &SampleValue, b: &SampleValue) -> bool {
    match (a, b) {
        (SampleValue::Histogram(x), SampleValue::Histogram(y)) => {
            x.sum.to_bits() == y.sum.to_bits()
                && Histogram {
                    counter_reset_hint: CounterResetHint::Unknown,
                    sum: 0.0,
                    ..Histogram::clone(x)
                } == Histogram {
                    counter_reset_hint: CounterResetHint::Unknown,
                    sum: 0.0,
                    ..Histogram::clone(y)
                }
        }
        (SampleValue::FloatHistogram(x), SampleValue::FloatHistogram(y)) => x.equals(y),
        _ => false,
    }
}

/// Upstream's schema rule, checked before the histogram's structure.
fn check_schema(schema: i32) -> Result<()> {
    let exponential =
        pm_common::model::MIN_EXPONENTIAL_SCHEMA..=pm_common::model::MAX_EXPONENTIAL_SCHEMA;
    if schema == CUSTOM_BUCKETS_SCHEMA || exponential.contains(&schema) {
        Ok(())
    } else {
        Err(StorageError::other(HeadError::InvalidSchema(schema)))
    }
}

/// WAL records encoded back to back into one buffer, so a commit reuses one allocation for
/// all of them.
#[derive(Default)]
pub(super) struct Records {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Records {
    fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Encodes one record with `encode`, which appends it to the buffer.
    fn add(&mut self, encode: impl FnOnce(&mut Vec<u8>)) {
        encode(&mut self.buf);
        self.ends.push(self.buf.len());
    }

    pub(super) fn slices(&self) -> Vec<&[u8]> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let rec = &self.buf[start..end];
                start = end;
                rec
            })
            .collect()
    }
}

/// Sample records for `samples` (reference, time, value): floats, then integer and float
/// histograms, those with custom buckets in records of their own as upstream writes them.
pub(super) fn sample_records<'a>(
    samples: impl Iterator<Item = (u64, i64, &'a SampleValue)>,
    recs: &mut Records,
) {
    let (mut hists, mut custom_hists) = (Vec::new(), Vec::new());
    let (mut fhists, mut custom_fhists) = (Vec::new(), Vec::new());
    // Floats, nearly always all of the samples, are encoded as they come; the record is
    // taken back out if there was none.
    let start = recs.buf.len();
    let mut floats = record::SamplesEncoder::new(&mut recs.buf);
    for (r, t, v) in samples {
        match v {
            SampleValue::Float(v) => floats.push(r, t, *v),
            SampleValue::Histogram(h) => {
                let to = if h.schema == CUSTOM_BUCKETS_SCHEMA {
                    &mut custom_hists
                } else {
                    &mut hists
                };
                to.push(RefHistogramSample {
                    r,
                    t,
                    h: Histogram::clone(h),
                });
            }
            SampleValue::FloatHistogram(h) => {
                let to = if h.schema == CUSTOM_BUCKETS_SCHEMA {
                    &mut custom_fhists
                } else {
                    &mut fhists
                };
                to.push(RefFloatHistogramSample {
                    r,
                    t,
                    fh: FloatHistogram::clone(h),
                });
            }
        }
    }
    if floats.is_empty() {
        recs.buf.truncate(start);
    } else {
        recs.ends.push(recs.buf.len());
    }
    for h in [hists, custom_hists].into_iter().filter(|h| !h.is_empty()) {
        recs.add(|b| record::encode_histograms(&h, b));
    }
    for h in [fhists, custom_fhists]
        .into_iter()
        .filter(|h| !h.is_empty())
    {
        recs.add(|b| record::encode_float_histograms(&h, b));
    }
}

/// The buffers of a transaction, kept in the head's pool between transactions as upstream
/// pools them: a scrape's transaction would otherwise grow its vectors and its slot map from
/// empty every time (rehashing the map several times for a thousand series).
#[derive(Default)]
pub(super) struct AppendBuffers {
    samples: Vec<PendingSample>,
    /// The series touched, in order, and their index by reference: a scrape appends to each
    /// series once per transaction, so this is one probe of a fast map per sample.
    touched: Vec<Touched>,
    slots: FastMap<u64, usize>,
    /// The WAL records being written.
    records: Records,
}

/// Pooled buffers beyond this many are freed: the pool only needs to cover the transactions
/// that append at the same time, not every open one.
const POOLED_BUFFERS: usize = 8;

/// Buffers of a transaction larger than this many samples (a big remote-write request, a
/// federation scrape) are freed rather than pooled, so the pool holds at most a few MiB.
pub(super) const POOLED_MAX_SAMPLES: usize = 16_384;

/// A transaction on the head (see [`pm_storage::Appender`] for the contract).
pub struct HeadAppender {
    head: Arc<HeadInner>,
    options: AppendOptions,
    /// The head's newest timestamp and lowest acceptable one when the transaction started.
    head_max_t: i64,
    min_valid_t: i64,
    /// Empty until the first sample: a scrape opens its transaction before the target
    /// answers, and only takes pooled buffers once it has something to append.
    bufs: AppendBuffers,
    /// Not pooled with the buffers: a page it holds may be freed after the transaction.
    cursor: PageCursor,
    exemplars: Vec<(Arc<MemSeries>, Exemplar)>,
    metadata: Vec<(Arc<MemSeries>, Metadata)>,
}

impl Appendable for Head {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(self.appender())
    }
}

impl Head {
    pub fn appender(&self) -> HeadAppender {
        let head = self.inner.clone();
        let head_max_t = head.max_time.load(Ordering::Acquire);
        let min_valid = head.min_valid_time.load(Ordering::Acquire);
        // Samples older than half a chunk range behind the newest may already be compacted.
        let min_valid_t = if head_max_t == i64::MIN {
            min_valid
        } else {
            min_valid.max(head_max_t.saturating_sub(head.opts.chunk_range / 2))
        };
        head.stats.active_appenders.fetch_add(1, Ordering::Relaxed);
        HeadAppender {
            head,
            options: AppendOptions::default(),
            head_max_t,
            min_valid_t,
            bufs: AppendBuffers::default(),
            cursor: PageCursor::default(),
            exemplars: Vec::new(),
            metadata: Vec::new(),
        }
    }
}

impl HeadAppender {
    /// The slot of the series `r` refers to, or of the one with `labels` (created if
    /// missing) when `r` is unknown, stale, or names other labels.
    fn slot(&mut self, r: SeriesRef, labels: &Labels) -> usize {
        if !r.is_unknown() {
            self.take_pooled();
            // One probe of the slot map for a series new to the transaction, the usual case.
            match self.bufs.slots.entry(r.0) {
                Entry::Occupied(e) => {
                    let i = *e.get();
                    if self.bufs.touched[i].series.labels == *labels {
                        return i;
                    }
                }
                Entry::Vacant(e) => {
                    if let Some(series) = self.head.series.by_ref_via(r.0, &mut self.cursor)
                        && series.labels == *labels
                        && series.reserve()
                    {
                        self.bufs.touched.push(Touched { series, last: None });
                        return *e.insert(self.bufs.touched.len() - 1);
                    }
                }
            }
        }
        // A series retired between the lookup and the reservation is out of the head once
        // its removal is awaited, so the next lookup creates the series afresh.
        loop {
            let series = self.head.get_or_create(labels, None).0;
            match self.touch(&series) {
                Some(i) => return i,
                None => series.await_removal(),
            }
        }
    }

    /// The slot of an existing series, by reference or else by labels.
    fn existing(&mut self, r: SeriesRef, labels: &Labels) -> Result<usize> {
        if let Some(&i) = self.bufs.slots.get(&r.0) {
            return Ok(i);
        }
        let series = self
            .head
            .series
            .by_ref_via(r.0, &mut self.cursor)
            .or_else(|| self.head.series.by_labels(labels.hash_value(), labels))
            .ok_or_else(|| StorageError::other(HeadError::UnknownSeries(r.0)))?;
        // Retired since the lookup: gone, as if garbage collection had come first.
        self.touch(&series)
            .ok_or_else(|| StorageError::other(HeadError::UnknownSeries(r.0)))
    }

    /// Takes pooled buffers before the first series is touched (nothing is pending yet, so
    /// there is nothing to keep).
    fn take_pooled(&mut self) {
        if self.bufs.touched.capacity() == 0
            && let Some(pooled) = lock(&self.head.append_pool).pop()
        {
            self.bufs = pooled;
        }
    }

    /// The slot of `series`, reserving it for this transaction on first use; `None` if
    /// garbage collection retired it.
    fn touch(&mut self, series: &Arc<MemSeries>) -> Option<usize> {
        self.take_pooled();
        match self.bufs.slots.entry(series.r) {
            Entry::Occupied(e) => Some(*e.get()),
            Entry::Vacant(e) => {
                if !series.reserve() {
                    return None;
                }
                let touched = &mut self.bufs.touched;
                touched.push(Touched {
                    series: Arc::clone(series),
                    last: None,
                });
                Some(*e.insert(touched.len() - 1))
            }
        }
    }

    fn ooo_window(&self) -> i64 {
        if self.options.discard_out_of_order {
            0
        } else {
            self.head.opts.out_of_order_time_window
        }
    }

    /// Upstream's `memSeries.appendable` (and its histogram twins): whether `t` goes in
    /// order, out of order, or nowhere.
    fn check(&self, slot: usize, t: i64, v: &SampleValue) -> Result<bool> {
        let (max_t, last) = {
            let touched = &self.bufs.touched[slot];
            let d = touched.series.lock();
            match &touched.last {
                Some((pt, pv)) if *pt > d.max_t => (*pt, pv.clone()),
                _ => (d.max_t, d.last.clone()),
            }
        };
        let stats = &self.head.stats;
        let count = |c: &TypedCounter| c.inc(is_histogram(v));
        if t >= self.min_valid_t {
            if max_t == i64::MIN || t > max_t {
                return Ok(false);
            }
            if t == max_t {
                // Exact duplicates are accepted (federation produces them) and stored once.
                return match (v, &last) {
                    (SampleValue::Float(new), SampleValue::Float(old)) => {
                        if new.to_bits() == old.to_bits() {
                            Ok(false)
                        } else {
                            Err(DuplicateSample::float(t, *old, *new).into())
                        }
                    }
                    (SampleValue::Float(new), _) => {
                        Err(DuplicateSample::histogram_to_float(t, *new).into())
                    }
                    _ if same_histogram(v, &last) => Ok(false),
                    _ => Err(DuplicateSample::bare().into()),
                };
            }
        }
        let window = self.ooo_window();
        if window > 0 && self.head_max_t != i64::MIN && t >= self.head_max_t - window {
            return Ok(true);
        }
        if window > 0 {
            count(&stats.too_old_samples);
            return Err(StorageError::TooOldSample);
        }
        if t < self.min_valid_t {
            count(&stats.out_of_bound_samples);
            return Err(StorageError::OutOfBounds);
        }
        count(&stats.out_of_order_samples_rejected);
        Err(StorageError::OutOfOrderSample)
    }

    fn push_sample(&mut self, slot: usize, t: i64, v: SampleValue, ooo: bool) {
        if !ooo {
            self.bufs.touched[slot].last = Some((t, v.clone()));
        }
        self.bufs.samples.push(PendingSample { slot, t, v, ooo });
    }

    fn series_ref(&self, slot: usize) -> SeriesRef {
        SeriesRef(self.bufs.touched[slot].series.r)
    }

    /// Reference, time and value of a pending sample, what a sample record holds.
    fn as_record<'a>(&self, s: &'a PendingSample) -> (u64, i64, &'a SampleValue) {
        (self.bufs.touched[s.slot].series.r, s.t, &s.v)
    }

    /// Appends a validated sample of any type.
    fn append_value(
        &mut self,
        r: SeriesRef,
        labels: &Labels,
        t: i64,
        v: SampleValue,
    ) -> Result<SeriesRef> {
        if self.ooo_window() == 0 && t < self.min_valid_t {
            self.head.stats.out_of_bound_samples.inc(is_histogram(&v));
            return Err(StorageError::OutOfBounds);
        }
        let slot = self.slot(r, labels);
        let ooo = self.check(slot, t, &v)?;
        self.push_sample(slot, t, v, ooo);
        Ok(self.series_ref(slot))
    }

    /// A created-timestamp zero sample: only after the series' newest sample.
    fn append_ct_zero_value(
        &mut self,
        r: SeriesRef,
        labels: &Labels,
        ct: i64,
        zero: SampleValue,
    ) -> Result<SeriesRef> {
        let slot = self.slot(r, labels);
        let max_t = {
            let touched = &self.bufs.touched[slot];
            let d = touched.series.lock();
            touched
                .last
                .as_ref()
                .map_or(d.max_t, |(pt, _)| (*pt).max(d.max_t))
        };
        if ct <= max_t {
            return Err(StorageError::OutOfOrderCreatedTimestamp);
        }
        if ct < self.min_valid_t {
            return Err(StorageError::OutOfBounds);
        }
        self.push_sample(slot, ct, zero, false);
        Ok(self.series_ref(slot))
    }

    /// Writes the transaction's records to the WAL, and its out-of-order samples to the
    /// write-behind log `wbl` when there is one.
    fn log(
        &mut self,
        wal: &mut crate::wal::Wal,
        wbl: Option<&mut crate::wal::Wal>,
    ) -> Result<Vec<Arc<MemSeries>>> {
        let mut recs = std::mem::take(&mut self.bufs.records);
        recs.clear();
        let result = self.log_into(&mut recs, wal, wbl);
        self.bufs.records = recs;
        result
    }

    fn log_into(
        &self,
        recs: &mut Records,
        wal: &mut crate::wal::Wal,
        wbl: Option<&mut crate::wal::Wal>,
    ) -> Result<Vec<Arc<MemSeries>>> {
        let new_series: Vec<_> = self
            .bufs
            .touched
            .iter()
            .filter(|t| !t.series.logged.load(Ordering::Acquire))
            .map(|t| t.series.clone())
            .collect();
        if !new_series.is_empty() {
            let series: Vec<_> = new_series
                .iter()
                .map(|s| RefSeries {
                    r: s.r,
                    labels: s.labels.clone(),
                })
                .collect();
            recs.add(|b| record::encode_series(&series, b));
        }
        if !self.metadata.is_empty() {
            let md: Vec<_> = self
                .metadata
                .iter()
                .map(|(s, m)| RefMetadata {
                    r: s.r,
                    metric_type: m.metric_type,
                    unit: m.unit.clone(),
                    help: m.help.clone(),
                })
                .collect();
            recs.add(|b| record::encode_metadata(&md, b));
        }
        // Out-of-order samples go to the write-behind log when there is one, after the WAL
        // records that define their series (upstream's order).
        let in_wal = |s: &&PendingSample| wbl.is_none() || !s.ooo;
        sample_records(
            self.bufs
                .samples
                .iter()
                .filter(in_wal)
                .map(|s| self.as_record(s)),
            recs,
        );
        if !self.exemplars.is_empty() {
            let ex: Vec<_> = self
                .exemplars
                .iter()
                .map(|(s, e)| RefExemplar {
                    r: s.r,
                    t: e.ts.unwrap_or(0),
                    v: e.value,
                    labels: e.labels.clone(),
                })
                .collect();
            recs.add(|b| record::encode_exemplars(&ex, b));
        }
        wal.log(&recs.slices()).map_err(StorageError::other)?;
        if let Some(wbl) = wbl {
            recs.clear();
            let samples = self
                .bufs
                .samples
                .iter()
                .filter(|s| s.ooo)
                .map(|s| self.as_record(s));
            sample_records(samples, recs);
            if !recs.is_empty() {
                wbl.log(&recs.slices()).map_err(StorageError::other)?;
            }
        }
        Ok(new_series)
    }

    fn release(&mut self) {
        for t in &self.bufs.touched {
            t.series.pending.fetch_sub(1, Ordering::AcqRel);
        }
        self.bufs.touched.clear();
        self.bufs.slots.clear();
        self.bufs.samples.clear();
    }
}

impl Drop for HeadAppender {
    /// Commit and rollback consume the appender, so this is where every transaction ends.
    fn drop(&mut self) {
        self.release();
        let capacity = self
            .bufs
            .samples
            .capacity()
            .max(self.bufs.touched.capacity());
        if capacity > 0 && capacity <= POOLED_MAX_SAMPLES {
            let mut pool = lock(&self.head.append_pool);
            if pool.len() < POOLED_BUFFERS {
                pool.push(std::mem::take(&mut self.bufs));
            }
        }
        self.head
            .stats
            .active_appenders
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl Appender for HeadAppender {
    fn set_options(&mut self, options: AppendOptions) {
        self.options = options;
    }

    fn append(&mut self, r: SeriesRef, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef> {
        self.append_value(r, labels, t, SampleValue::Float(v))
    }

    fn append_histogram(
        &mut self,
        r: SeriesRef,
        labels: &Labels,
        t: i64,
        h: Option<&Histogram>,
        fh: Option<&FloatHistogram>,
    ) -> Result<SeriesRef> {
        if self.ooo_window() == 0 && t < self.min_valid_t {
            self.head.stats.out_of_bound_samples.inc(true);
            return Err(StorageError::OutOfBounds);
        }
        let v = match (h, fh) {
            (Some(h), _) => {
                check_schema(h.schema)?;
                validate_histogram(h)?;
                SampleValue::Histogram(Arc::new(h.clone()))
            }
            (None, Some(fh)) => {
                check_schema(fh.schema)?;
                validate_float_histogram(fh)?;
                SampleValue::FloatHistogram(Arc::new(fh.clone()))
            }
            (None, None) => return Err(StorageError::MissingHistogram),
        };
        self.append_value(r, labels, t, v)
    }

    fn append_exemplar(
        &mut self,
        r: SeriesRef,
        labels: &Labels,
        exemplar: &Exemplar,
    ) -> Result<SeriesRef> {
        if self.head.opts.max_exemplars == 0 {
            return Err(StorageError::ExemplarsDisabled);
        }
        let slot = self.existing(r, labels)?;
        let series = self.bufs.touched[slot].series.clone();
        let mut e = exemplar.clone();
        e.ts = Some(e.ts.unwrap_or(0));
        lock(&self.head.exemplars).validate(series.r, &e)?;
        self.exemplars.push((series, e));
        Ok(self.series_ref(slot))
    }

    fn update_metadata(
        &mut self,
        r: SeriesRef,
        labels: &Labels,
        metadata: &Metadata,
    ) -> Result<SeriesRef> {
        let slot = self.existing(r, labels)?;
        let series = &self.bufs.touched[slot].series;
        if series.lock().metadata.as_ref() != Some(metadata) {
            self.metadata.push((series.clone(), metadata.clone()));
        }
        Ok(self.series_ref(slot))
    }

    fn append_ct_zero(
        &mut self,
        r: SeriesRef,
        labels: &Labels,
        t: i64,
        ct: i64,
    ) -> Result<SeriesRef> {
        if ct >= t {
            return Err(StorageError::CreatedTimestampNotBeforeSample);
        }
        self.append_ct_zero_value(r, labels, ct, SampleValue::Float(0.0))
    }

    fn append_histogram_ct_zero(
        &mut self,
        r: SeriesRef,
        labels: &Labels,
        t: i64,
        ct: i64,
        h: Option<&Histogram>,
        fh: Option<&FloatHistogram>,
    ) -> Result<SeriesRef> {
        if ct >= t {
            return Err(StorageError::CreatedTimestampNotBeforeSample);
        }
        // A zero histogram with the sample's layout, so no chunk is cut for it, marked as the
        // counter reset it is.
        let zero = match (h, fh) {
            (Some(h), _) => SampleValue::Histogram(Arc::new(Histogram {
                counter_reset_hint: CounterResetHint::CounterReset,
                schema: h.schema,
                zero_threshold: h.zero_threshold,
                custom_values: h.custom_values.clone(),
                ..Histogram::default()
            })),
            (None, Some(fh)) => SampleValue::FloatHistogram(Arc::new(FloatHistogram {
                counter_reset_hint: CounterResetHint::CounterReset,
                schema: fh.schema,
                zero_threshold: fh.zero_threshold,
                custom_values: fh.custom_values.clone(),
                ..FloatHistogram::default()
            })),
            (None, None) => return Err(StorageError::MissingHistogram),
        };
        self.append_ct_zero_value(r, labels, ct, zero)
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        let head = self.head.clone();
        let mut guard = lock(&head.commit);
        let state = &mut *guard;
        if let Some(wal) = state.wal.as_mut() {
            let logged = self.log(wal, state.wbl.as_mut())?;
            for s in logged {
                s.logged.store(true, Ordering::Release);
            }
        }
        let seq = state.seq + 1;
        state.seq = seq;
        let oldest = head.oldest_snapshot();
        let stats = &head.stats;
        // Appended and out-of-order counts per type (float, histogram).
        let (mut appended, mut ooo, mut chunks) = ([0u64; 2], [0u64; 2], 0u64);
        let (mut min_t, mut max_t) = (i64::MAX, i64::MIN);
        let mut samples = std::mem::take(&mut self.bufs.samples);
        for s in samples.drain(..) {
            let kind = usize::from(is_histogram(&s.v));
            let series = &self.bufs.touched[s.slot].series;
            let mut d = series.lock();
            // Trimming first leaves at most this commit's record, which the series keeps
            // inline without allocating.
            d.trim_commits(oldest);
            match d.apply(s.t, s.v, seq, s.ooo, &head.chunk_opts) {
                Applied::InOrder { chunk_created } => {
                    appended[kind] += 1;
                    chunks += u64::from(chunk_created);
                    if chunk_created {
                        head.spill(series, &mut d);
                    }
                }
                Applied::OutOfOrder => {
                    appended[kind] += 1;
                    ooo[kind] += 1;
                }
                // A sample equal to the newest, or one another transaction overtook.
                Applied::Dropped => {}
            }
            drop(d);
            min_t = min_t.min(s.t);
            max_t = max_t.max(s.t);
        }
        self.bufs.samples = samples;
        // The head's time range moves once per transaction, not once per sample.
        if min_t <= max_t {
            head.observe_time(min_t);
            head.observe_time(max_t);
        }
        for (s, m) in self.metadata.drain(..) {
            s.lock().metadata = Some(m);
        }
        {
            let mut ex = lock(&head.exemplars);
            for (s, e) in self.exemplars.drain(..) {
                ex.add(s.r, e);
            }
        }
        head.visible_seq.store(seq, Ordering::Release);
        drop(guard);
        stats.samples_appended.add(appended);
        stats.out_of_order_samples_appended.add(ooo);
        stats.chunks_created.fetch_add(chunks, Ordering::Relaxed);
        self.release();
        Ok(())
    }

    fn rollback(mut self: Box<Self>) -> Result<()> {
        self.release();
        Ok(())
    }
}
