//! Encoding native histogram chunks byte for byte as upstream's appenders do
//! (`tsdb/chunkenc/histogram.go`, `float_histogram.go`); the layout is described in
//! [`super::histogram`].

use pm_common::model::{
    CUSTOM_BUCKETS_SCHEMA, CounterResetHint, FloatHistogram, Histogram, STALE_NAN_BITS, Span,
};

use super::ChunkError;
use super::bstream::BitWriter;
use super::varbit::{write_varbit_int, write_varbit_uint};
use super::xor::{NO_XOR_WINDOW, write_xor};

/// Sample count and counter-reset header, zero until the end.
const HEADER_LEN: usize = 3;

fn write_zero_threshold(w: &mut BitWriter, threshold: f64) {
    if threshold == 0.0 {
        w.write_byte(0);
        return;
    }
    // Powers of two 2^-243 ..= 2^10 fit one byte (the exponent of 0.5 × 2^e, offset by 243).
    let bits = threshold.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1022;
    let is_power_of_two = bits & ((1 << 52) - 1) == 0 && bits >> 63 == 0 && (bits >> 52) != 0;
    if !is_power_of_two || !(-242..=11).contains(&exp) {
        w.write_byte(255);
        w.write_bits(bits, 64);
        return;
    }
    w.write_byte((exp + 243) as u8);
}

fn write_spans(w: &mut BitWriter, spans: &[Span]) {
    write_varbit_uint(w, spans.len() as u64);
    for s in spans {
        write_varbit_uint(w, u64::from(s.length));
        write_varbit_int(w, i64::from(s.offset));
    }
}

/// Whether `f × 1000` is a whole number that stays so through the conversion (upstream's
/// `isWholeWhenMultiplied`).
fn whole_thousandths(f: f64) -> bool {
    let t = (f * 1000.0).round();
    t / 1000.0 == f
}

fn write_custom_values(w: &mut BitWriter, values: &[f64]) {
    write_varbit_uint(w, values.len() as u64);
    for &f in values {
        let t = f * 1000.0;
        if !(0.0..=33_554_430.0).contains(&t) || !whole_thousandths(f) {
            w.write_bit(false);
            w.write_bits(f.to_bits(), 64);
        } else {
            write_varbit_uint(w, t.round() as u64 + 1);
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
struct LayoutRef<'a> {
    schema: i32,
    zero_threshold: f64,
    positive: &'a [Span],
    negative: &'a [Span],
    custom: &'a [f64],
}

fn write_layout(w: &mut BitWriter, l: &LayoutRef<'_>) {
    write_zero_threshold(w, l.zero_threshold);
    write_varbit_int(w, i64::from(l.schema));
    write_spans(w, l.positive);
    write_spans(w, l.negative);
    if l.schema == CUSTOM_BUCKETS_SCHEMA {
        write_custom_values(w, l.custom);
    }
}

fn header_byte(hint: CounterResetHint) -> u8 {
    match hint {
        CounterResetHint::Unknown => 0,
        CounterResetHint::CounterReset => 0b1000_0000,
        CounterResetHint::NotCounterReset => 0b0100_0000,
        CounterResetHint::Gauge => 0b1100_0000,
    }
}

/// The encoders keep `n` within a 2-byte count.
fn finish(w: BitWriter, n: usize, hint: CounterResetHint) -> Vec<u8> {
    let mut bytes = w.into_bytes();
    bytes[..2].copy_from_slice(&(n as u16).to_be_bytes());
    bytes[2] = header_byte(hint);
    bytes
}

/// Upstream's appenders refuse anything but stale markers after a stale marker in one chunk
/// (the deltas after one would not decode): a new chunk must start.
fn check_stale(stale: bool, after_stale: &mut bool) -> Result<(), ChunkError> {
    if *after_stale && !stale {
        return Err(ChunkError::AfterStaleMarker);
    }
    *after_stale |= stale;
    Ok(())
}

/// Owned copy of a chunk's shared layout.
#[derive(Clone, Debug, Default)]
struct Layout {
    schema: i32,
    zero_threshold: f64,
    positive: Vec<Span>,
    negative: Vec<Span>,
    custom: Vec<f64>,
}

impl Layout {
    fn of(schema: i32, zero_threshold: f64, p: &[Span], n: &[Span], c: &[f64]) -> Self {
        Layout {
            schema,
            zero_threshold,
            positive: p.to_vec(),
            negative: n.to_vec(),
            custom: c.to_vec(),
        }
    }

    fn as_ref(&self) -> LayoutRef<'_> {
        LayoutRef {
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            positive: &self.positive,
            negative: &self.negative,
            custom: &self.custom,
        }
    }
}

/// An integer histogram chunk being written sample by sample, so the head can grow its open
/// chunk without re-encoding it. Every sample must share the first one's layout (stale markers
/// aside) and only stale markers may follow a stale marker; times are the caller's to order.
#[derive(Clone, Debug, Default)]
pub struct HistogramEncoder {
    w: BitWriter,
    n: usize,
    layout: Layout,
    t_prev: i64,
    t_delta: i64,
    cnt: u64,
    cnt_delta: i64,
    zcnt: u64,
    zcnt_delta: i64,
    sum: f64,
    leading: u8,
    trailing: u8,
    pos: Vec<i64>,
    neg: Vec<i64>,
    pos_delta: Vec<i64>,
    neg_delta: Vec<i64>,
    after_stale: bool,
}

impl HistogramEncoder {
    pub fn new() -> Self {
        HistogramEncoder {
            w: BitWriter::from_bytes(vec![0; HEADER_LEN]),
            leading: NO_XOR_WINDOW,
            ..Default::default()
        }
    }

    pub fn num_samples(&self) -> usize {
        self.n
    }

    /// Bytes written so far (what upstream's size-based chunk cutting measures).
    pub fn len_bytes(&self) -> usize {
        self.w.bytes().len()
    }

    pub fn append(&mut self, t: i64, h: &Histogram) -> Result<(), ChunkError> {
        let stale = h.sum.to_bits() == STALE_NAN_BITS;
        let mut after_stale = self.after_stale;
        check_stale(stale, &mut after_stale)?;
        if u16::try_from(self.n + 1).is_err() {
            return Err(ChunkError::Full(u16::MAX));
        }
        let stale_marker;
        // A stale marker is stored as its sum alone, as upstream does.
        let h = if stale {
            stale_marker = Histogram {
                sum: h.sum,
                ..Histogram::default()
            };
            &stale_marker
        } else {
            h
        };
        let w = &mut self.w;
        if self.n == 0 {
            self.layout = Layout::of(
                h.schema,
                h.zero_threshold,
                &h.positive_spans,
                &h.negative_spans,
                &h.custom_values,
            );
            write_layout(w, &self.layout.as_ref());
            write_varbit_int(w, t);
            write_varbit_uint(w, h.count);
            write_varbit_uint(w, h.zero_count);
            w.write_bits(h.sum.to_bits(), 64);
            for &b in h.positive_deltas.iter().chain(&h.negative_deltas) {
                write_varbit_int(w, b);
            }
            self.pos = h.positive_deltas.clone();
            self.neg = h.negative_deltas.clone();
            self.pos_delta = vec![0; self.pos.len()];
            self.neg_delta = vec![0; self.neg.len()];
        } else {
            let this = LayoutRef {
                schema: h.schema,
                zero_threshold: h.zero_threshold,
                positive: &h.positive_spans,
                negative: &h.negative_spans,
                custom: &h.custom_values,
            };
            if !stale && this != self.layout.as_ref() {
                return Err(ChunkError::LayoutChange);
            }
            let td = t - self.t_prev;
            let cd = (h.count as i64).wrapping_sub(self.cnt as i64);
            let zd = (h.zero_count as i64).wrapping_sub(self.zcnt as i64);
            let (mut c_dod, mut z_dod) = (
                cd.wrapping_sub(self.cnt_delta),
                zd.wrapping_sub(self.zcnt_delta),
            );
            if stale {
                (c_dod, z_dod) = (0, 0);
            }
            write_varbit_int(w, td - self.t_delta);
            write_varbit_int(w, c_dod);
            write_varbit_int(w, z_dod);
            write_xor(w, h.sum, self.sum, &mut self.leading, &mut self.trailing);
            for (j, &b) in h.positive_deltas.iter().enumerate() {
                let delta = b.wrapping_sub(self.pos[j]);
                write_varbit_int(w, delta.wrapping_sub(self.pos_delta[j]));
                self.pos_delta[j] = delta;
            }
            for (j, &b) in h.negative_deltas.iter().enumerate() {
                let delta = b.wrapping_sub(self.neg[j]);
                write_varbit_int(w, delta.wrapping_sub(self.neg_delta[j]));
                self.neg_delta[j] = delta;
            }
            self.t_delta = td;
            self.cnt_delta = cd;
            self.zcnt_delta = zd;
            self.pos[..h.positive_deltas.len()].copy_from_slice(&h.positive_deltas);
            self.neg[..h.negative_deltas.len()].copy_from_slice(&h.negative_deltas);
        }
        self.t_prev = t;
        self.cnt = h.count;
        self.zcnt = h.zero_count;
        self.sum = h.sum;
        self.after_stale = after_stale;
        self.n += 1;
        Ok(())
    }

    /// The chunk's bytes with `header` as its counter-reset header.
    pub fn bytes(&self, header: CounterResetHint) -> Vec<u8> {
        finish(self.w.clone(), self.n, header)
    }
}

/// A float histogram chunk being written sample by sample, under the rules of
/// [`HistogramEncoder`].
#[derive(Clone, Debug, Default)]
pub struct FloatHistogramEncoder {
    w: BitWriter,
    n: usize,
    layout: Layout,
    t_prev: i64,
    t_delta: i64,
    /// Value and XOR window per field: count, zero count, sum, then the buckets.
    fields: Vec<(f64, u8, u8)>,
    after_stale: bool,
}

impl FloatHistogramEncoder {
    pub fn new() -> Self {
        FloatHistogramEncoder {
            w: BitWriter::from_bytes(vec![0; HEADER_LEN]),
            ..Default::default()
        }
    }

    pub fn num_samples(&self) -> usize {
        self.n
    }

    pub fn len_bytes(&self) -> usize {
        self.w.bytes().len()
    }

    pub fn append(&mut self, t: i64, h: &FloatHistogram) -> Result<(), ChunkError> {
        let stale = h.sum.to_bits() == STALE_NAN_BITS;
        let mut after_stale = self.after_stale;
        check_stale(stale, &mut after_stale)?;
        if u16::try_from(self.n + 1).is_err() {
            return Err(ChunkError::Full(u16::MAX));
        }
        let stale_marker;
        let h = if stale {
            stale_marker = FloatHistogram {
                sum: h.sum,
                ..FloatHistogram::default()
            };
            &stale_marker
        } else {
            h
        };
        let values = [h.count, h.zero_count, h.sum]
            .into_iter()
            .chain(h.positive_buckets.iter().copied())
            .chain(h.negative_buckets.iter().copied());
        let w = &mut self.w;
        if self.n == 0 {
            self.layout = Layout::of(
                h.schema,
                h.zero_threshold,
                &h.positive_spans,
                &h.negative_spans,
                &h.custom_values,
            );
            write_layout(w, &self.layout.as_ref());
            write_varbit_int(w, t);
            for v in values {
                w.write_bits(v.to_bits(), 64);
                self.fields.push((v, NO_XOR_WINDOW, 0));
            }
        } else {
            let this = LayoutRef {
                schema: h.schema,
                zero_threshold: h.zero_threshold,
                positive: &h.positive_spans,
                negative: &h.negative_spans,
                custom: &h.custom_values,
            };
            if !stale && this != self.layout.as_ref() {
                return Err(ChunkError::LayoutChange);
            }
            let td = t - self.t_prev;
            write_varbit_int(w, td - self.t_delta);
            self.t_delta = td;
            for ((prev, leading, trailing), v) in self.fields.iter_mut().zip(values) {
                write_xor(w, v, *prev, leading, trailing);
                *prev = v;
            }
        }
        self.t_prev = t;
        self.after_stale = after_stale;
        self.n += 1;
        Ok(())
    }

    pub fn bytes(&self, header: CounterResetHint) -> Vec<u8> {
        finish(self.w.clone(), self.n, header)
    }
}

/// An integer histogram chunk of `samples` (see [`HistogramEncoder`] for the rules). The
/// header records the first sample's counter-reset hint.
pub fn encode_histograms(samples: &[(i64, Histogram)]) -> Result<Vec<u8>, ChunkError> {
    let mut e = HistogramEncoder::new();
    for (t, h) in samples {
        e.append(*t, h)?;
    }
    let hint = samples
        .first()
        .map_or(CounterResetHint::Unknown, |s| s.1.counter_reset_hint);
    Ok(e.bytes(hint))
}

/// A float histogram chunk of `samples`, under the same rules as [`encode_histograms`].
pub fn encode_float_histograms(samples: &[(i64, FloatHistogram)]) -> Result<Vec<u8>, ChunkError> {
    let mut e = FloatHistogramEncoder::new();
    for (t, h) in samples {
        e.append(*t, h)?;
    }
    let hint = samples
        .first()
        .map_or(CounterResetHint::Unknown, |s| s.1.counter_reset_hint);
    Ok(e.bytes(hint))
}
