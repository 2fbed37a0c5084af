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

fn finish(w: BitWriter, n: usize, hint: CounterResetHint) -> Result<Vec<u8>, ChunkError> {
    let n = u16::try_from(n).map_err(|_| ChunkError::Full(u16::MAX))?;
    let mut bytes = w.into_bytes();
    bytes[..2].copy_from_slice(&n.to_be_bytes());
    bytes[2] = header_byte(hint);
    Ok(bytes)
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

/// An integer histogram chunk of `samples`: one layout (stale markers aside, every sample must
/// have the first one's schema, zero threshold, spans and custom bounds) and nothing but stale
/// markers after a stale marker. Times are the caller's to order, as with upstream's appender.
/// The header records the first sample's counter-reset hint.
pub fn encode_histograms(samples: &[(i64, Histogram)]) -> Result<Vec<u8>, ChunkError> {
    let mut w = BitWriter::from_bytes(vec![0; HEADER_LEN]);
    let Some((_, first)) = samples.first() else {
        return finish(w, 0, CounterResetHint::Unknown);
    };
    let layout = LayoutRef {
        schema: first.schema,
        zero_threshold: first.zero_threshold,
        positive: &first.positive_spans,
        negative: &first.negative_spans,
        custom: &first.custom_values,
    };
    let stale_marker = Histogram {
        sum: f64::from_bits(STALE_NAN_BITS),
        ..Histogram::default()
    };
    let (mut t_prev, mut t_delta) = (0i64, 0i64);
    let (mut cnt, mut cnt_delta, mut zcnt, mut zcnt_delta) = (0u64, 0i64, 0u64, 0i64);
    let mut sum = 0.0;
    let (mut leading, mut trailing) = (NO_XOR_WINDOW, 0u8);
    let mut pos: Vec<i64> = Vec::new();
    let mut neg: Vec<i64> = Vec::new();
    let mut pos_delta = vec![0i64; first.positive_deltas.len()];
    let mut neg_delta = vec![0i64; first.negative_deltas.len()];
    let mut after_stale = false;
    for (i, (t, h)) in samples.iter().enumerate() {
        let stale = h.sum.to_bits() == STALE_NAN_BITS;
        check_stale(stale, &mut after_stale)?;
        // A stale marker is stored as its sum alone, as upstream does.
        let h = if stale { &stale_marker } else { h };
        if i == 0 {
            write_layout(&mut w, &layout);
            write_varbit_int(&mut w, *t);
            write_varbit_uint(&mut w, h.count);
            write_varbit_uint(&mut w, h.zero_count);
            w.write_bits(h.sum.to_bits(), 64);
            for &b in h.positive_deltas.iter().chain(&h.negative_deltas) {
                write_varbit_int(&mut w, b);
            }
            pos = h.positive_deltas.clone();
            neg = h.negative_deltas.clone();
        } else {
            let this = LayoutRef {
                schema: h.schema,
                zero_threshold: h.zero_threshold,
                positive: &h.positive_spans,
                negative: &h.negative_spans,
                custom: &h.custom_values,
            };
            if !stale && this != layout {
                return Err(ChunkError::LayoutChange);
            }
            let td = t - t_prev;
            let cd = (h.count as i64).wrapping_sub(cnt as i64);
            let zd = (h.zero_count as i64).wrapping_sub(zcnt as i64);
            let (mut c_dod, mut z_dod) = (cd.wrapping_sub(cnt_delta), zd.wrapping_sub(zcnt_delta));
            if stale {
                (c_dod, z_dod) = (0, 0);
            }
            write_varbit_int(&mut w, td - t_delta);
            write_varbit_int(&mut w, c_dod);
            write_varbit_int(&mut w, z_dod);
            write_xor(&mut w, h.sum, sum, &mut leading, &mut trailing);
            for (j, &b) in h.positive_deltas.iter().enumerate() {
                let delta = b.wrapping_sub(pos[j]);
                write_varbit_int(&mut w, delta.wrapping_sub(pos_delta[j]));
                pos_delta[j] = delta;
            }
            for (j, &b) in h.negative_deltas.iter().enumerate() {
                let delta = b.wrapping_sub(neg[j]);
                write_varbit_int(&mut w, delta.wrapping_sub(neg_delta[j]));
                neg_delta[j] = delta;
            }
            t_delta = td;
            cnt_delta = cd;
            zcnt_delta = zd;
            pos[..h.positive_deltas.len()].copy_from_slice(&h.positive_deltas);
            neg[..h.negative_deltas.len()].copy_from_slice(&h.negative_deltas);
        }
        t_prev = *t;
        cnt = h.count;
        zcnt = h.zero_count;
        sum = h.sum;
    }
    finish(w, samples.len(), first.counter_reset_hint)
}

/// A float histogram chunk of `samples`, under the same rules as [`encode_histograms`].
pub fn encode_float_histograms(samples: &[(i64, FloatHistogram)]) -> Result<Vec<u8>, ChunkError> {
    let mut w = BitWriter::from_bytes(vec![0; HEADER_LEN]);
    let Some((_, first)) = samples.first() else {
        return finish(w, 0, CounterResetHint::Unknown);
    };
    let layout = LayoutRef {
        schema: first.schema,
        zero_threshold: first.zero_threshold,
        positive: &first.positive_spans,
        negative: &first.negative_spans,
        custom: &first.custom_values,
    };
    let stale_marker = FloatHistogram {
        sum: f64::from_bits(STALE_NAN_BITS),
        ..FloatHistogram::default()
    };
    let (mut t_prev, mut t_delta) = (0i64, 0i64);
    // Value and XOR window per field: count, zero count, sum, then the buckets.
    let mut fields: Vec<(f64, u8, u8)> = Vec::new();
    let mut after_stale = false;
    for (i, (t, h)) in samples.iter().enumerate() {
        let stale = h.sum.to_bits() == STALE_NAN_BITS;
        check_stale(stale, &mut after_stale)?;
        let h = if stale { &stale_marker } else { h };
        let values = [h.count, h.zero_count, h.sum]
            .into_iter()
            .chain(h.positive_buckets.iter().copied())
            .chain(h.negative_buckets.iter().copied());
        if i == 0 {
            write_layout(&mut w, &layout);
            write_varbit_int(&mut w, *t);
            for v in values {
                w.write_bits(v.to_bits(), 64);
                fields.push((v, NO_XOR_WINDOW, 0));
            }
        } else {
            let this = LayoutRef {
                schema: h.schema,
                zero_threshold: h.zero_threshold,
                positive: &h.positive_spans,
                negative: &h.negative_spans,
                custom: &h.custom_values,
            };
            if !stale && this != layout {
                return Err(ChunkError::LayoutChange);
            }
            let td = t - t_prev;
            write_varbit_int(&mut w, td - t_delta);
            t_delta = td;
            for ((prev, leading, trailing), v) in fields.iter_mut().zip(values) {
                write_xor(&mut w, v, *prev, leading, trailing);
                *prev = v;
            }
        }
        t_prev = *t;
    }
    finish(w, samples.len(), first.counter_reset_hint)
}
