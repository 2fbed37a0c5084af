//! Native histogram records: upstream's `EncodeHistogram`/`EncodeFloatHistogram` layouts.

use pm_common::model::{CounterResetHint, FloatHistogram, Histogram, Span};

use super::{Decbuf, Encbuf, HeadSeriesRef, RecordError, RecordType};

/// Schema of histograms with custom bucket bounds (NHCB); only they carry bounds in records.
const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

#[derive(Clone, Debug, PartialEq)]
pub struct RefHistogramSample {
    pub r: HeadSeriesRef,
    pub t: i64,
    pub h: Histogram,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RefFloatHistogramSample {
    pub r: HeadSeriesRef,
    pub t: i64,
    pub fh: FloatHistogram,
}

fn hint_byte(h: CounterResetHint) -> u8 {
    match h {
        CounterResetHint::Unknown => 0,
        CounterResetHint::CounterReset => 1,
        CounterResetHint::NotCounterReset => 2,
        CounterResetHint::Gauge => 3,
    }
}

fn hint_from_byte(b: u8) -> CounterResetHint {
    match b {
        1 => CounterResetHint::CounterReset,
        2 => CounterResetHint::NotCounterReset,
        3 => CounterResetHint::Gauge,
        _ => CounterResetHint::Unknown,
    }
}

/// Appends an integer histogram record to `buf`. Upstream writes histograms with custom bucket
/// bounds in records of their own type so older readers skip them; the caller passes them
/// separately, all custom or none.
pub fn encode_histograms(samples: &[RefHistogramSample], buf: &mut Vec<u8>) {
    let custom = samples
        .first()
        .is_some_and(|s| s.h.schema == CUSTOM_BUCKETS_SCHEMA);
    let typ = if custom {
        RecordType::CustomBucketsHistogramSamples
    } else {
        RecordType::HistogramSamples
    };
    let mut e = Encbuf::new(buf);
    e.byte(typ as u8);
    let Some(first) = samples.first() else { return };
    e.be64(first.r);
    e.be64(first.t as u64);
    for s in samples {
        e.varint(s.r.wrapping_sub(first.r) as i64);
        e.varint(s.t.wrapping_sub(first.t));
        let h = &s.h;
        e.byte(hint_byte(h.counter_reset_hint));
        e.varint(i64::from(h.schema));
        e.be64(h.zero_threshold.to_bits());
        e.uvarint(h.zero_count);
        e.uvarint(h.count);
        e.be64(h.sum.to_bits());
        encode_spans(&mut e, &h.positive_spans);
        encode_spans(&mut e, &h.negative_spans);
        for deltas in [&h.positive_deltas, &h.negative_deltas] {
            e.uvarint(deltas.len() as u64);
            deltas.iter().for_each(|&d| e.varint(d));
        }
        encode_custom_values(&mut e, h.schema, &h.custom_values);
    }
}

/// Appends a float histogram record to `buf`; see [`encode_histograms`] on custom buckets.
pub fn encode_float_histograms(samples: &[RefFloatHistogramSample], buf: &mut Vec<u8>) {
    let custom = samples
        .first()
        .is_some_and(|s| s.fh.schema == CUSTOM_BUCKETS_SCHEMA);
    let typ = if custom {
        RecordType::CustomBucketsFloatHistogramSamples
    } else {
        RecordType::FloatHistogramSamples
    };
    let mut e = Encbuf::new(buf);
    e.byte(typ as u8);
    let Some(first) = samples.first() else { return };
    e.be64(first.r);
    e.be64(first.t as u64);
    for s in samples {
        e.varint(s.r.wrapping_sub(first.r) as i64);
        e.varint(s.t.wrapping_sub(first.t));
        let h = &s.fh;
        e.byte(hint_byte(h.counter_reset_hint));
        e.varint(i64::from(h.schema));
        for v in [h.zero_threshold, h.zero_count, h.count, h.sum] {
            e.be64(v.to_bits());
        }
        encode_spans(&mut e, &h.positive_spans);
        encode_spans(&mut e, &h.negative_spans);
        for buckets in [&h.positive_buckets, &h.negative_buckets] {
            e.uvarint(buckets.len() as u64);
            buckets.iter().for_each(|v| e.be64(v.to_bits()));
        }
        encode_custom_values(&mut e, h.schema, &h.custom_values);
    }
}

fn encode_spans(e: &mut Encbuf<'_>, spans: &[Span]) {
    e.uvarint(spans.len() as u64);
    for s in spans {
        e.varint(i64::from(s.offset));
        e.uvarint(u64::from(s.length));
    }
}

fn encode_custom_values(e: &mut Encbuf<'_>, schema: i32, values: &[f64]) {
    if schema == CUSTOM_BUCKETS_SCHEMA {
        e.uvarint(values.len() as u64);
        values.iter().for_each(|v| e.be64(v.to_bits()));
    }
}

fn decode_spans(d: &mut Decbuf<'_>) -> Result<Vec<Span>, RecordError> {
    let n = d.uvarint()?;
    let mut spans = Vec::with_capacity((n as usize).min(d.len() / 2));
    for _ in 0..n {
        spans.push(Span {
            offset: d.varint()? as i32,
            length: d.uvarint()? as u32,
        });
    }
    Ok(spans)
}

fn decode_list<'a, T>(
    d: &mut Decbuf<'a>,
    mut one: impl FnMut(&mut Decbuf<'a>) -> Result<T, RecordError>,
) -> Result<Vec<T>, RecordError> {
    let n = d.uvarint()?;
    let mut out = Vec::with_capacity((n as usize).min(d.len()));
    for _ in 0..n {
        out.push(one(d)?);
    }
    Ok(out)
}

pub(super) fn decode_histogram(d: &mut Decbuf<'_>) -> Result<Histogram, RecordError> {
    let counter_reset_hint = hint_from_byte(d.byte()?);
    let schema = d.varint()? as i32;
    let mut h = Histogram {
        counter_reset_hint,
        schema,
        zero_threshold: d.be64_f64()?,
        zero_count: d.uvarint()?,
        count: d.uvarint()?,
        sum: d.be64_f64()?,
        positive_spans: decode_spans(d)?,
        negative_spans: decode_spans(d)?,
        positive_deltas: decode_list(d, Decbuf::varint)?,
        negative_deltas: decode_list(d, Decbuf::varint)?,
        custom_values: Vec::new(),
    };
    if schema == CUSTOM_BUCKETS_SCHEMA {
        h.custom_values = decode_list(d, Decbuf::be64_f64)?;
    }
    Ok(h)
}

pub(super) fn decode_float_histogram(d: &mut Decbuf<'_>) -> Result<FloatHistogram, RecordError> {
    let counter_reset_hint = hint_from_byte(d.byte()?);
    let schema = d.varint()? as i32;
    let mut h = FloatHistogram {
        counter_reset_hint,
        schema,
        zero_threshold: d.be64_f64()?,
        zero_count: d.be64_f64()?,
        count: d.be64_f64()?,
        sum: d.be64_f64()?,
        positive_spans: decode_spans(d)?,
        negative_spans: decode_spans(d)?,
        positive_buckets: decode_list(d, Decbuf::be64_f64)?,
        negative_buckets: decode_list(d, Decbuf::be64_f64)?,
        custom_values: Vec::new(),
    };
    if schema == CUSTOM_BUCKETS_SCHEMA {
        h.custom_values = decode_list(d, Decbuf::be64_f64)?;
    }
    Ok(h)
}
