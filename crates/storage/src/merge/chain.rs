//! Chained merging of series with identical labels (upstream's `ChainedSeriesMerge`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use pm_common::model::{CounterResetHint, FloatHistogram, Histogram, Labels, Sample};

use crate::error::StorageError;
use crate::iterator::{HistogramSample, SampleIterator, ValueType, push_current};
use crate::series::{BoxSeries, Series, fill_range_by_iter};

/// Several series with the same labels seen as one: their samples interleaved by timestamp, a
/// timestamp present in several of them taken once, from the series that comes first in the
/// list (the merge querier lists primaries before secondaries, each in the order given).
pub struct ChainSeries {
    labels: Labels,
    series: Vec<BoxSeries>,
}

impl ChainSeries {
    /// `series` should all carry `labels`; their own labels are not consulted again.
    pub fn new(labels: Labels, series: Vec<BoxSeries>) -> Self {
        ChainSeries { labels, series }
    }
}

impl Series for ChainSeries {
    fn labels(&self) -> &Labels {
        &self.labels
    }

    fn iter(&self) -> Box<dyn SampleIterator> {
        Box::new(ChainIterator::new(
            self.series.iter().map(|s| s.iter()).collect(),
        ))
    }

    /// The members' own batch reads one after the other, when each member's float samples all
    /// come after the previous members' (the same series in consecutive blocks): then the
    /// merge has nothing to interleave or drop. Otherwise, and whenever histograms are read
    /// (the merge rewrites their counter-reset hints where it switches members), the samples
    /// go through the merging iterator.
    fn fill_range(
        &self,
        mint: i64,
        maxt: i64,
        floats: &mut Vec<Sample>,
        histograms: &mut Vec<HistogramSample>,
    ) -> Result<(), StorageError> {
        let (nf, nh) = (floats.len(), histograms.len());
        let mut last: Option<i64> = None;
        let mut in_order = true;
        for s in &self.series {
            let from = floats.len();
            s.fill_range(mint, maxt, floats, histograms)?;
            let first = floats.get(from).map(|p| p.t);
            if histograms.len() > nh || first.is_some_and(|t| last.is_some_and(|l| t <= l)) {
                in_order = false;
                break;
            }
            if floats.len() > from {
                last = floats.last().map(|p| p.t);
            }
        }
        if in_order {
            return Ok(());
        }
        floats.truncate(nf);
        histograms.truncate(nh);
        fill_range_by_iter(self, mint, maxt, floats, histograms)
    }
}

/// Merges sample iterators by timestamp, dropping repeated timestamps (the earliest iterator
/// in the list wins).
///
/// When consecutive samples come from different iterators, the counter-reset hint of a counter
/// histogram can no longer be trusted (the reset may have happened in the data the other source
/// lacks), so it is reported as unknown; gauge histograms keep their hint.
pub struct ChainIterator {
    iters: Vec<Box<dyn SampleIterator>>,
    /// The type of the sample each iterator stands on.
    types: Vec<ValueType>,
    /// Iterators standing on a sample, except the current one, ordered by (timestamp, index).
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    curr: Option<usize>,
    started: bool,
    /// Timestamp of the current (last returned) sample.
    last_t: Option<i64>,
    /// Whether the current sample comes from the same iterator as the one before it.
    consecutive: bool,
    /// Index of an iterator that failed; iteration is over.
    failed: Option<usize>,
    /// Scratch space for seeks, kept to avoid an allocation per seek.
    reseek: Vec<usize>,
}

impl ChainIterator {
    pub fn new(iters: Vec<Box<dyn SampleIterator>>) -> Self {
        let n = iters.len();
        ChainIterator {
            iters,
            types: vec![ValueType::None; n],
            heap: BinaryHeap::with_capacity(n),
            curr: None,
            started: false,
            last_t: None,
            consecutive: false,
            failed: None,
            reseek: Vec::with_capacity(n),
        }
    }

    /// Queues iterator `i` after a move that returned `vt`. Returns false if it failed.
    fn enqueue(&mut self, i: usize, vt: ValueType) -> bool {
        self.types[i] = vt;
        if vt.is_some() {
            self.heap.push(Reverse((self.iters[i].at_t(), i)));
        } else if self.iters[i].err().is_some() {
            self.failed = Some(i);
            self.curr = None;
            return false;
        }
        true
    }

    /// Makes the earliest queued sample current, skipping timestamps already returned.
    fn pop_next(&mut self, prev: Option<usize>) -> ValueType {
        while let Some(Reverse((t, i))) = self.heap.pop() {
            if self.last_t.is_some_and(|last| t <= last) {
                let vt = self.iters[i].next();
                if !self.enqueue(i, vt) {
                    return ValueType::None;
                }
                continue;
            }
            self.curr = Some(i);
            self.consecutive = prev == Some(i);
            self.last_t = Some(t);
            return self.types[i];
        }
        self.curr = None;
        ValueType::None
    }

    fn current(&self) -> &dyn SampleIterator {
        let c = self.curr.expect("accessor called without a current sample");
        self.iters[c].as_ref()
    }

    fn fix_hint(&self, hint: &mut CounterResetHint) {
        if !self.consecutive && *hint != CounterResetHint::Gauge {
            *hint = CounterResetHint::Unknown;
        }
    }
}

impl SampleIterator for ChainIterator {
    fn next(&mut self) -> ValueType {
        if self.failed.is_some() {
            return ValueType::None;
        }
        let prev = self.curr;
        if !self.started {
            self.started = true;
            for i in 0..self.iters.len() {
                let vt = self.iters[i].next();
                if !self.enqueue(i, vt) {
                    return ValueType::None;
                }
            }
        } else if let Some(c) = prev {
            let vt = self.iters[c].next();
            // Fast path: the current iterator still holds the earliest sample (the usual case
            // when series barely overlap), so the heap need not be touched.
            if vt.is_some() {
                let t = self.iters[c].at_t();
                let earliest = self.heap.peek().is_none_or(|Reverse(top)| (t, c) < *top);
                self.types[c] = vt;
                if earliest && self.last_t.is_none_or(|last| t > last) {
                    self.consecutive = true;
                    self.last_t = Some(t);
                    return vt;
                }
                self.heap.push(Reverse((t, c)));
            } else if !self.enqueue(c, vt) {
                return ValueType::None;
            }
        } else {
            return ValueType::None;
        }
        self.pop_next(prev)
    }

    fn seek(&mut self, t: i64) -> ValueType {
        if self.failed.is_some() {
            return ValueType::None;
        }
        if let (Some(c), Some(last)) = (self.curr, self.last_t)
            && last >= t
        {
            return self.types[c];
        }
        let mut reseek = std::mem::take(&mut self.reseek);
        reseek.clear();
        if self.started {
            if self.curr.is_none() {
                self.reseek = reseek;
                return ValueType::None;
            }
            reseek.extend(self.heap.drain().map(|Reverse((_, i))| i));
            reseek.extend(self.curr);
        } else {
            self.started = true;
            reseek.extend(0..self.iters.len());
        }
        let mut ok = true;
        for &i in &reseek {
            let vt = self.iters[i].seek(t);
            if !self.enqueue(i, vt) {
                ok = false;
                break;
            }
        }
        self.reseek = reseek;
        if !ok {
            return ValueType::None;
        }
        self.pop_next(None)
    }

    fn at(&self) -> (i64, f64) {
        self.current().at()
    }

    fn at_histogram(&self, h: &mut Histogram) -> i64 {
        let t = self.current().at_histogram(h);
        self.fix_hint(&mut h.counter_reset_hint);
        t
    }

    fn at_float_histogram(&self, fh: &mut FloatHistogram) -> i64 {
        let t = self.current().at_float_histogram(fh);
        self.fix_hint(&mut fh.counter_reset_hint);
        t
    }

    fn at_t(&self) -> i64 {
        self.current().at_t()
    }

    fn at_st(&self) -> i64 {
        self.current().at_st()
    }

    fn err(&self) -> Option<&StorageError> {
        self.failed.and_then(|i| self.iters[i].err())
    }

    /// Hands each run of samples that only the current iterator holds (everything before the
    /// next queued timestamp) to that iterator's own batch read; series from consecutive
    /// blocks barely overlap, so this is nearly all of them.
    fn fill(
        &mut self,
        mint: i64,
        maxt: i64,
        floats: &mut Vec<Sample>,
        histograms: &mut Vec<HistogramSample>,
    ) -> ValueType {
        let mut vt = self.seek(mint);
        while vt.is_some() {
            let c = self.curr.expect("a move that found a sample sets it");
            let t = self.iters[c].at_t();
            if t > maxt {
                break;
            }
            let limit = self
                .heap
                .peek()
                .map_or(maxt, |Reverse((next, _))| maxt.min(next.saturating_sub(1)));
            // A histogram that follows another iterator's sample needs its hint fixed, so
            // it goes the slow way; so does a run cut short by a repeated timestamp.
            if t > limit || (vt != ValueType::Float && !self.consecutive) {
                push_current(self, vt, floats, histograms);
                vt = self.next();
                continue;
            }
            let (nf, nh) = (floats.len(), histograms.len());
            let inner = self.iters[c].fill(t, limit, floats, histograms);
            let last = floats[nf..]
                .last()
                .map(|p| p.t)
                .max(histograms[nh..].last().map(|p| p.t));
            self.last_t = last.or(self.last_t);
            if !self.enqueue(c, inner) {
                return ValueType::None;
            }
            vt = self.pop_next(Some(c));
        }
        vt
    }
}
