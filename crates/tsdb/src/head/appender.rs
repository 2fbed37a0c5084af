//! Write transactions on the head.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use pm_common::model::{Exemplar, FloatHistogram, Histogram, Labels, Metadata};
use pm_storage::{
    AppendOptions, Appendable, Appender, DuplicateSample, Result, SeriesRef, StorageError,
};

use super::series::{Applied, MemSeries};
use super::{Head, HeadError, HeadInner, lock};
use crate::record::{self, RefExemplar, RefMetadata, RefSample, RefSeries};

struct PendingSample {
    series: Arc<MemSeries>,
    t: i64,
    v: f64,
    ooo: bool,
}

/// A transaction on the head (see [`pm_storage::Appender`] for the contract).
pub struct HeadAppender {
    head: Arc<HeadInner>,
    options: AppendOptions,
    /// The head's newest timestamp and lowest acceptable one when the transaction started.
    head_max_t: i64,
    min_valid_t: i64,
    samples: Vec<PendingSample>,
    exemplars: Vec<(Arc<MemSeries>, Exemplar)>,
    metadata: Vec<(Arc<MemSeries>, Metadata)>,
    /// Newest in-order sample this transaction holds per series, and the series touched.
    last: HashMap<u64, (i64, f64)>,
    touched: HashMap<u64, Arc<MemSeries>>,
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
            samples: Vec::new(),
            exemplars: Vec::new(),
            metadata: Vec::new(),
            last: HashMap::new(),
            touched: HashMap::new(),
        }
    }
}

impl HeadAppender {
    fn series(&mut self, r: SeriesRef, labels: &Labels) -> Arc<MemSeries> {
        let series = match self.head.series.by_ref(r.0) {
            Some(s) if !r.is_unknown() && s.labels == *labels => s,
            _ => self.head.get_or_create(labels, None).0,
        };
        self.touch(&series);
        series
    }

    fn existing(&mut self, r: SeriesRef, labels: &Labels) -> Result<Arc<MemSeries>> {
        let series = self
            .head
            .series
            .by_ref(r.0)
            .or_else(|| self.head.series.by_labels(labels.hash_value(), labels))
            .ok_or_else(|| StorageError::other(HeadError::UnknownSeries(r.0)))?;
        self.touch(&series);
        Ok(series)
    }

    fn touch(&mut self, series: &Arc<MemSeries>) {
        self.touched.entry(series.r).or_insert_with(|| {
            series.pending.fetch_add(1, Ordering::AcqRel);
            series.clone()
        });
    }

    fn ooo_window(&self) -> i64 {
        if self.options.discard_out_of_order {
            0
        } else {
            self.head.opts.out_of_order_time_window
        }
    }

    /// Upstream's `memSeries.appendable`: whether `t` goes in order, out of order, or nowhere.
    fn check(&self, series: &MemSeries, t: i64, v: f64) -> Result<bool> {
        let (max_t, last_v) = {
            let d = series.lock();
            match self.last.get(&series.r) {
                Some(&(pt, pv)) if pt > d.max_t => (pt, pv),
                _ => (d.max_t, d.last_value),
            }
        };
        let stats = &self.head.stats;
        if t >= self.min_valid_t {
            if max_t == i64::MIN || t > max_t {
                return Ok(false);
            }
            if t == max_t {
                // Exact duplicates are accepted (federation produces them) and stored once.
                if last_v.to_bits() == v.to_bits() {
                    return Ok(false);
                }
                return Err(DuplicateSample::float(t, last_v, v).into());
            }
        }
        let window = self.ooo_window();
        if window > 0 && self.head_max_t != i64::MIN && t >= self.head_max_t - window {
            return Ok(true);
        }
        if window > 0 {
            stats.too_old_samples.fetch_add(1, Ordering::Relaxed);
            return Err(StorageError::TooOldSample);
        }
        if t < self.min_valid_t {
            stats.out_of_bound_samples.fetch_add(1, Ordering::Relaxed);
            return Err(StorageError::OutOfBounds);
        }
        stats
            .out_of_order_samples_rejected
            .fetch_add(1, Ordering::Relaxed);
        Err(StorageError::OutOfOrderSample)
    }

    fn push_sample(&mut self, series: Arc<MemSeries>, t: i64, v: f64, ooo: bool) {
        if !ooo {
            self.last.insert(series.r, (t, v));
        }
        self.samples.push(PendingSample { series, t, v, ooo });
    }

    /// Writes the transaction's records to the WAL.
    fn log(&self, wal: &mut crate::wal::Wal) -> Result<Vec<Arc<MemSeries>>> {
        let mut recs: Vec<Vec<u8>> = Vec::new();
        let new_series: Vec<_> = self
            .touched
            .values()
            .filter(|s| !s.logged.load(Ordering::Acquire))
            .cloned()
            .collect();
        if !new_series.is_empty() {
            let series: Vec<_> = new_series
                .iter()
                .map(|s| RefSeries {
                    r: s.r,
                    labels: s.labels.clone(),
                })
                .collect();
            let mut b = Vec::new();
            record::encode_series(&series, &mut b);
            recs.push(b);
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
            let mut b = Vec::new();
            record::encode_metadata(&md, &mut b);
            recs.push(b);
        }
        if !self.samples.is_empty() {
            let samples: Vec<_> = self
                .samples
                .iter()
                .map(|s| RefSample {
                    r: s.series.r,
                    t: s.t,
                    v: s.v,
                })
                .collect();
            let mut b = Vec::new();
            record::encode_samples(&samples, &mut b);
            recs.push(b);
        }
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
            let mut b = Vec::new();
            record::encode_exemplars(&ex, &mut b);
            recs.push(b);
        }
        let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
        wal.log(&refs).map_err(StorageError::other)?;
        Ok(new_series)
    }

    fn release(&mut self) {
        for s in self.touched.values() {
            s.pending.fetch_sub(1, Ordering::AcqRel);
        }
        self.touched.clear();
    }
}

impl Drop for HeadAppender {
    /// Commit and rollback consume the appender, so this is where every transaction ends.
    fn drop(&mut self) {
        self.release();
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
        if self.ooo_window() == 0 && t < self.min_valid_t {
            self.head
                .stats
                .out_of_bound_samples
                .fetch_add(1, Ordering::Relaxed);
            return Err(StorageError::OutOfBounds);
        }
        let series = self.series(r, labels);
        let ooo = self.check(&series, t, v)?;
        let r = SeriesRef(series.r);
        self.push_sample(series, t, v, ooo);
        Ok(r)
    }

    fn append_histogram(
        &mut self,
        _series: SeriesRef,
        _labels: &Labels,
        _t: i64,
        h: Option<&Histogram>,
        fh: Option<&FloatHistogram>,
    ) -> Result<SeriesRef> {
        if h.is_none() && fh.is_none() {
            return Err(StorageError::MissingHistogram);
        }
        Err(StorageError::other(HeadError::HistogramsUnsupported))
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
        let series = self.existing(r, labels)?;
        let mut e = exemplar.clone();
        e.ts = Some(e.ts.unwrap_or(0));
        lock(&self.head.exemplars).validate(series.r, &e)?;
        let r = SeriesRef(series.r);
        self.exemplars.push((series, e));
        Ok(r)
    }

    fn update_metadata(
        &mut self,
        r: SeriesRef,
        labels: &Labels,
        metadata: &Metadata,
    ) -> Result<SeriesRef> {
        let series = self.existing(r, labels)?;
        let r = SeriesRef(series.r);
        if series.lock().metadata.as_ref() != Some(metadata) {
            self.metadata.push((series, metadata.clone()));
        }
        Ok(r)
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
        let series = self.series(r, labels);
        let max_t = {
            let d = series.lock();
            self.last
                .get(&series.r)
                .map_or(d.max_t, |&(pt, _)| pt.max(d.max_t))
        };
        if ct <= max_t {
            return Err(StorageError::OutOfOrderCreatedTimestamp);
        }
        if ct < self.min_valid_t {
            return Err(StorageError::OutOfBounds);
        }
        let r = SeriesRef(series.r);
        self.push_sample(series, ct, 0.0, false);
        Ok(r)
    }

    fn append_histogram_ct_zero(
        &mut self,
        _series: SeriesRef,
        _labels: &Labels,
        t: i64,
        ct: i64,
        _h: Option<&Histogram>,
        _fh: Option<&FloatHistogram>,
    ) -> Result<SeriesRef> {
        if ct >= t {
            return Err(StorageError::CreatedTimestampNotBeforeSample);
        }
        Err(StorageError::other(HeadError::HistogramsUnsupported))
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        let head = self.head.clone();
        let mut state = lock(&head.commit);
        if let Some(wal) = state.wal.as_mut() {
            let logged = self.log(wal)?;
            for s in logged {
                s.logged.store(true, Ordering::Release);
            }
        }
        let seq = state.seq + 1;
        state.seq = seq;
        let oldest = head.oldest_snapshot();
        let stats = &head.stats;
        let (mut in_order, mut ooo, mut chunks) = (0u64, 0u64, 0u64);
        for s in &self.samples {
            let mut d = s.series.lock();
            match d.apply(s.t, s.v, seq, s.ooo, &head.chunk_opts) {
                Applied::InOrder { chunk_created } => {
                    in_order += 1;
                    chunks += u64::from(chunk_created);
                }
                Applied::OutOfOrder => ooo += 1,
                // A sample equal to the newest, or one another transaction overtook.
                Applied::Dropped => {}
            }
            d.trim_commits(oldest);
            drop(d);
            head.observe_time(s.t);
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
        drop(state);
        stats
            .samples_appended
            .fetch_add(in_order + ooo, Ordering::Relaxed);
        stats
            .out_of_order_samples_appended
            .fetch_add(ooo, Ordering::Relaxed);
        stats.chunks_created.fetch_add(chunks, Ordering::Relaxed);
        self.release();
        Ok(())
    }

    fn rollback(mut self: Box<Self>) -> Result<()> {
        self.release();
        Ok(())
    }
}
