//! How a native histogram continues a chunk, as upstream's histogram appenders decide
//! (`appendable`, `appendableGauge` and recoding in `tsdb/chunkenc/histogram.go`): in the same
//! chunk, in the same chunk after new buckets were added to every sample (recoding), or in a new
//! chunk whose counter-reset header says why it was cut.
//!
//! The bucket bookkeeping works on the sets of bucket indices the spans cover: a chunk's samples
//! share one layout, so a histogram fits when, bucket by bucket, nothing decreased (counters) and
//! the chunk and the histogram can both be widened to the union of their buckets.

use pm_common::model::{CounterResetHint, FloatHistogram, Histogram, STALE_NAN_BITS, Span};

use super::histogram_write::{FloatHistogramEncoder, HistogramEncoder};
use super::{ChunkError, decode_float_histograms, decode_histograms};

/// What the chunk encoders need from either histogram type.
pub(crate) trait ChunkHistogram: Clone {
    type Encoder: Clone;

    fn new_encoder() -> Self::Encoder;
    fn encoder_append(e: &mut Self::Encoder, t: i64, h: &Self) -> Result<(), ChunkError>;
    fn encoder_len(e: &Self::Encoder) -> usize;
    fn encoder_samples(e: &Self::Encoder) -> usize;
    fn encoder_bytes(e: &Self::Encoder, header: CounterResetHint) -> Vec<u8>;
    fn decode(bytes: &[u8]) -> Result<Vec<(i64, Self)>, ChunkError>;

    fn hint(&self) -> CounterResetHint;
    fn sum(&self) -> f64;
    fn schema(&self) -> i32;
    fn zero_threshold(&self) -> f64;
    fn custom_values(&self) -> &[f64];
    fn count(&self) -> f64;
    fn zero_count(&self) -> f64;
    fn spans(&self, positive: bool) -> &[Span];
    /// Absolute bucket counts of one side, in span order.
    fn buckets(&self, positive: bool) -> Vec<f64>;
    /// The same histogram over wider spans (covering every bucket it has), new buckets empty.
    fn widened(&self, positive: &[Span], negative: &[Span]) -> Self;
}

fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// The bucket indices `spans` cover, ascending.
fn indices(spans: &[Span]) -> Vec<i32> {
    let mut out = Vec::new();
    let mut idx = 0i32;
    for s in spans {
        idx += s.offset;
        for _ in 0..s.length {
            out.push(idx);
            idx += 1;
        }
    }
    out
}

/// The shortest spans covering exactly `idx` (ascending, unique).
fn spans_of(idx: &[i32]) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut prev = 0i32;
    for (i, &x) in idx.iter().enumerate() {
        match out.last_mut() {
            Some(last) if x == prev + 1 => last.length += 1,
            _ => out.push(Span {
                offset: if i == 0 { x } else { x - prev - 1 },
                length: 1,
            }),
        }
        prev = x;
    }
    out
}

/// Values of `from` (over `from_spans`) placed on `to_spans`, a superset; zeros elsewhere.
fn widen<T: Copy + Default>(from_spans: &[Span], from: &[T], to_spans: &[Span]) -> Vec<T> {
    let src: Vec<(i32, T)> = indices(from_spans)
        .into_iter()
        .zip(from.iter().copied())
        .collect();
    let mut j = 0;
    indices(to_spans)
        .into_iter()
        .map(|i| {
            while j < src.len() && src[j].0 < i {
                j += 1;
            }
            match src.get(j) {
                Some(&(k, v)) if k == i => v,
                _ => T::default(),
            }
        })
        .collect()
}

/// One side's common layout: `None` when the chunk's spans already cover the histogram's
/// buckets and vice versa; `Err` when a counter bucket lost observations (a counter reset).
fn side_layout(
    chunk_spans: &[Span],
    chunk_last: &[f64],
    h_spans: &[Span],
    h_buckets: &[f64],
    counter: bool,
) -> Result<Vec<Span>, ()> {
    let (ci, hi) = (indices(chunk_spans), indices(h_spans));
    if counter {
        let mut j = 0;
        for (&i, &last) in ci.iter().zip(chunk_last) {
            while j < hi.len() && hi[j] < i {
                j += 1;
            }
            let now = if hi.get(j) == Some(&i) {
                h_buckets[j]
            } else {
                0.0
            };
            if now < last {
                return Err(());
            }
        }
    }
    let mut union = ci.clone();
    union.extend_from_slice(&hi);
    union.sort_unstable();
    union.dedup();
    Ok(if union == ci {
        chunk_spans.to_vec()
    } else if union == hi {
        h_spans.to_vec()
    } else {
        spans_of(&union)
    })
}

/// Where a histogram goes relative to a chunk.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Verdict {
    /// Into the chunk, after both were widened to these positive and negative spans.
    Append(Vec<Span>, Vec<Span>),
    /// Into a new chunk with this counter-reset header.
    NewChunk(CounterResetHint),
}

/// A histogram chunk being appended to, with the last sample it holds.
#[derive(Clone)]
pub(crate) struct OpenHistogramChunk<H: ChunkHistogram> {
    enc: H::Encoder,
    last: H,
    header: CounterResetHint,
}

impl<H: ChunkHistogram> OpenHistogramChunk<H> {
    /// A chunk starting with `h`; `prev` is the chunk it follows, which decides the header
    /// when `h` carries no hint of its own.
    pub(crate) fn start(t: i64, h: &H, prev: Option<&Self>) -> Result<Self, ChunkError> {
        let header = match h.hint() {
            CounterResetHint::Gauge => CounterResetHint::Gauge,
            CounterResetHint::CounterReset => CounterResetHint::CounterReset,
            _ => match prev.map(|p| p.verdict(h)) {
                None => CounterResetHint::Unknown,
                Some(Verdict::Append(..)) => CounterResetHint::NotCounterReset,
                Some(Verdict::NewChunk(hint)) => hint,
            },
        };
        Self::with_header(t, h, header)
    }

    fn with_header(t: i64, h: &H, header: CounterResetHint) -> Result<Self, ChunkError> {
        let mut enc = H::new_encoder();
        H::encoder_append(&mut enc, t, h)?;
        Ok(OpenHistogramChunk {
            enc,
            last: h.clone(),
            header,
        })
    }

    pub(crate) fn num_samples(&self) -> usize {
        H::encoder_samples(&self.enc)
    }

    pub(crate) fn len_bytes(&self) -> usize {
        H::encoder_len(&self.enc)
    }

    pub(crate) fn bytes(&self) -> Vec<u8> {
        H::encoder_bytes(&self.enc, self.header)
    }

    /// Upstream's `appendable` (counters) and `appendableGauge` (gauges).
    pub(crate) fn verdict(&self, h: &H) -> Verdict {
        use CounterResetHint::*;
        let last = &self.last;
        let gauge = h.hint() == Gauge;
        let same_layout = |l: &H| Verdict::Append(l.spans(true).to_vec(), l.spans(false).to_vec());
        if gauge != (self.header == Gauge) {
            return Verdict::NewChunk(if gauge { Gauge } else { NotCounterReset });
        }
        let new = |hint| Verdict::NewChunk(if gauge { Gauge } else { hint });
        if !gauge && h.hint() == CounterReset {
            return Verdict::NewChunk(CounterReset);
        }
        if is_stale(h.sum()) {
            return same_layout(last);
        }
        if is_stale(last.sum()) {
            return new(Unknown);
        }
        if !gauge && h.count() < last.count() {
            return Verdict::NewChunk(CounterReset);
        }
        if h.schema() != last.schema() || h.zero_threshold() != last.zero_threshold() {
            return new(Unknown);
        }
        let bounds_match = h.custom_values().len() == last.custom_values().len()
            && h.custom_values()
                .iter()
                .zip(last.custom_values())
                .all(|(a, b)| a.to_bits() == b.to_bits());
        if h.schema() == pm_common::model::CUSTOM_BUCKETS_SCHEMA && !bounds_match {
            return new(CounterReset);
        }
        if !gauge && h.zero_count() < last.zero_count() {
            return Verdict::NewChunk(CounterReset);
        }
        let side = |positive: bool| {
            side_layout(
                last.spans(positive),
                &last.buckets(positive),
                h.spans(positive),
                &h.buckets(positive),
                !gauge,
            )
        };
        match (side(true), side(false)) {
            (Ok(p), Ok(n)) => Verdict::Append(p, n),
            _ => Verdict::NewChunk(CounterReset),
        }
    }

    /// Appends `h` under `Verdict::Append(positive, negative)`, widening `h` and, when new
    /// buckets appear, re-encoding the chunk's samples (upstream's recode). Returns whether the
    /// chunk was re-encoded.
    pub(crate) fn append(
        &mut self,
        t: i64,
        h: &H,
        positive: &[Span],
        negative: &[Span],
    ) -> Result<bool, ChunkError> {
        let stale = is_stale(h.sum());
        let recode = !stale
            && (self.last.spans(true) != positive || self.last.spans(false) != negative)
            && !is_stale(self.last.sum());
        if recode {
            let samples = H::decode(&self.bytes())?;
            let mut enc = H::new_encoder();
            for (st, s) in &samples {
                let s = if is_stale(s.sum()) {
                    s.clone()
                } else {
                    s.widened(positive, negative)
                };
                H::encoder_append(&mut enc, *st, &s)?;
            }
            self.enc = enc;
        }
        let h = if stale || (h.spans(true) == positive && h.spans(false) == negative) {
            h.clone()
        } else {
            h.widened(positive, negative)
        };
        H::encoder_append(&mut self.enc, t, &h)?;
        self.last = h;
        Ok(recode)
    }

    /// Appends `h` where it fits, or returns the chunk it starts (and the chunk stays as it
    /// was). The error is the encoder's (a full chunk).
    pub(crate) fn push(&mut self, t: i64, h: &H) -> Result<Option<Self>, ChunkError> {
        match self.verdict(h) {
            Verdict::Append(p, n) => self.append(t, h, &p, &n).map(|_| None),
            Verdict::NewChunk(header) => Self::with_header(t, h, header).map(Some),
        }
    }
}

impl ChunkHistogram for Histogram {
    type Encoder = HistogramEncoder;

    fn new_encoder() -> HistogramEncoder {
        HistogramEncoder::new()
    }
    fn encoder_append(e: &mut HistogramEncoder, t: i64, h: &Self) -> Result<(), ChunkError> {
        e.append(t, h)
    }
    fn encoder_len(e: &HistogramEncoder) -> usize {
        e.len_bytes()
    }
    fn encoder_samples(e: &HistogramEncoder) -> usize {
        e.num_samples()
    }
    fn encoder_bytes(e: &HistogramEncoder, header: CounterResetHint) -> Vec<u8> {
        e.bytes(header)
    }
    fn decode(bytes: &[u8]) -> Result<Vec<(i64, Self)>, ChunkError> {
        decode_histograms(bytes)
    }
    fn hint(&self) -> CounterResetHint {
        self.counter_reset_hint
    }
    fn sum(&self) -> f64 {
        self.sum
    }
    fn schema(&self) -> i32 {
        self.schema
    }
    fn zero_threshold(&self) -> f64 {
        self.zero_threshold
    }
    fn custom_values(&self) -> &[f64] {
        &self.custom_values
    }
    fn count(&self) -> f64 {
        self.count as f64
    }
    fn zero_count(&self) -> f64 {
        self.zero_count as f64
    }
    fn spans(&self, positive: bool) -> &[Span] {
        if positive {
            &self.positive_spans
        } else {
            &self.negative_spans
        }
    }
    fn buckets(&self, positive: bool) -> Vec<f64> {
        absolute(if positive {
            &self.positive_deltas
        } else {
            &self.negative_deltas
        })
        .into_iter()
        .map(|c| c as f64)
        .collect()
    }
    fn widened(&self, positive: &[Span], negative: &[Span]) -> Self {
        let side = |from_spans: &[Span], deltas: &[i64], to: &[Span]| {
            relative(&widen(from_spans, &absolute(deltas), to))
        };
        Histogram {
            positive_deltas: side(&self.positive_spans, &self.positive_deltas, positive),
            negative_deltas: side(&self.negative_spans, &self.negative_deltas, negative),
            positive_spans: positive.to_vec(),
            negative_spans: negative.to_vec(),
            ..self.clone()
        }
    }
}

fn absolute(deltas: &[i64]) -> Vec<i64> {
    let mut c = 0i64;
    deltas
        .iter()
        .map(|d| {
            c = c.wrapping_add(*d);
            c
        })
        .collect()
}

fn relative(abs: &[i64]) -> Vec<i64> {
    let mut prev = 0i64;
    abs.iter()
        .map(|&c| {
            let d = c.wrapping_sub(prev);
            prev = c;
            d
        })
        .collect()
}

impl ChunkHistogram for FloatHistogram {
    type Encoder = FloatHistogramEncoder;

    fn new_encoder() -> FloatHistogramEncoder {
        FloatHistogramEncoder::new()
    }
    fn encoder_append(e: &mut FloatHistogramEncoder, t: i64, h: &Self) -> Result<(), ChunkError> {
        e.append(t, h)
    }
    fn encoder_len(e: &FloatHistogramEncoder) -> usize {
        e.len_bytes()
    }
    fn encoder_samples(e: &FloatHistogramEncoder) -> usize {
        e.num_samples()
    }
    fn encoder_bytes(e: &FloatHistogramEncoder, header: CounterResetHint) -> Vec<u8> {
        e.bytes(header)
    }
    fn decode(bytes: &[u8]) -> Result<Vec<(i64, Self)>, ChunkError> {
        decode_float_histograms(bytes)
    }
    fn hint(&self) -> CounterResetHint {
        self.counter_reset_hint
    }
    fn sum(&self) -> f64 {
        self.sum
    }
    fn schema(&self) -> i32 {
        self.schema
    }
    fn zero_threshold(&self) -> f64 {
        self.zero_threshold
    }
    fn custom_values(&self) -> &[f64] {
        &self.custom_values
    }
    fn count(&self) -> f64 {
        self.count
    }
    fn zero_count(&self) -> f64 {
        self.zero_count
    }
    fn spans(&self, positive: bool) -> &[Span] {
        if positive {
            &self.positive_spans
        } else {
            &self.negative_spans
        }
    }
    fn buckets(&self, positive: bool) -> Vec<f64> {
        if positive {
            self.positive_buckets.clone()
        } else {
            self.negative_buckets.clone()
        }
    }
    fn widened(&self, positive: &[Span], negative: &[Span]) -> Self {
        FloatHistogram {
            positive_buckets: widen(&self.positive_spans, &self.positive_buckets, positive),
            negative_buckets: widen(&self.negative_spans, &self.negative_buckets, negative),
            positive_spans: positive.to_vec(),
            negative_spans: negative.to_vec(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests;
