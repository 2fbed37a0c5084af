//! Native histogram chunks (`tsdb/chunkenc/histogram.go` and `float_histogram.go` of
//! prometheus/prometheus), decoded sample by sample.
//!
//! Both encodings start like every chunk with a big-endian sample count, then one byte whose top
//! two bits are the counter-reset header, then the layout shared by all samples of the chunk
//! (zero threshold, schema, positive and negative spans, custom bounds for schema -53). The first
//! sample is stored whole; later ones as deltas (integer histograms: delta-of-delta of counts
//! and of each bucket's in-histogram delta) or XOR-encoded floats (the sum always; every count
//! and bucket of float histograms). A stale marker's sum ends its sample early.

use pm_common::model::{
    CUSTOM_BUCKETS_SCHEMA, CounterResetHint, FloatHistogram, Histogram, STALE_NAN_BITS, Span,
};

use super::ChunkError;
use super::bstream::BitReader;
use super::varbit::{read_varbit_int, read_varbit_uint};
use super::xor::{NO_XOR_WINDOW, read_xor};

/// Sample count (2 bytes) and the counter-reset header byte.
const HEADER_LEN: usize = 3;
const RESET_MASK: u8 = 0b1100_0000;
const GAUGE: u8 = 0b1100_0000;

/// What every sample of a chunk shares.
struct Layout {
    schema: i32,
    zero_threshold: f64,
    positive_spans: Vec<Span>,
    negative_spans: Vec<Span>,
    custom_values: Vec<f64>,
}

fn read_zero_threshold(r: &mut BitReader<'_>) -> Result<f64, ChunkError> {
    match r.read_byte()? {
        0 => Ok(0.0),
        255 => Ok(f64::from_bits(r.read_bits(64)?)),
        // A power of two: 0.5 * 2^(b - 243), exact in binary.
        b => Ok(0.5 * 2f64.powi(i32::from(b) - 243)),
    }
}

fn read_spans(r: &mut BitReader<'_>) -> Result<Vec<Span>, ChunkError> {
    let n = read_varbit_uint(r)?;
    // Each span takes at least two bits: a bound that a corrupt count cannot get past.
    let mut spans = Vec::with_capacity((n as usize).min(1024));
    for _ in 0..n {
        let length = read_varbit_uint(r)? as u32;
        let offset = read_varbit_int(r)? as i32;
        spans.push(Span { offset, length });
    }
    Ok(spans)
}

/// Custom bucket bounds: a varbit of the bound in thousandths plus one, or 0 then the raw float.
fn read_custom_values(r: &mut BitReader<'_>) -> Result<Vec<f64>, ChunkError> {
    let n = read_varbit_uint(r)?;
    let mut values = Vec::with_capacity((n as usize).min(1024));
    for _ in 0..n {
        let v = match read_varbit_uint(r)? {
            0 => f64::from_bits(r.read_bits(64)?),
            k => (k - 1) as f64 / 1000.0,
        };
        values.push(v);
    }
    Ok(values)
}

fn read_layout(r: &mut BitReader<'_>) -> Result<Layout, ChunkError> {
    let zero_threshold = read_zero_threshold(r)?;
    let schema = read_varbit_int(r)? as i32;
    let positive_spans = read_spans(r)?;
    let negative_spans = read_spans(r)?;
    let custom_values = if schema == CUSTOM_BUCKETS_SCHEMA {
        read_custom_values(r)?
    } else {
        Vec::new()
    };
    Ok(Layout {
        schema,
        zero_threshold,
        positive_spans,
        negative_spans,
        custom_values,
    })
}

fn bucket_count(spans: &[Span]) -> usize {
    spans.iter().map(|s| s.length as usize).sum()
}

/// Upstream's hint for the `n`th sample (1-based) under the chunk's header: gauges stay gauges;
/// after the first sample there is no reset within a chunk; the first is left to the reader.
fn hint(header: u8, n: usize) -> CounterResetHint {
    if header == GAUGE {
        CounterResetHint::Gauge
    } else if n > 1 {
        CounterResetHint::NotCounterReset
    } else {
        CounterResetHint::Unknown
    }
}

/// The sample count, header and body of a histogram chunk.
fn split(bytes: &[u8]) -> Result<(usize, u8, BitReader<'_>), ChunkError> {
    if bytes.len() < HEADER_LEN {
        return Err(ChunkError::MissingHeader);
    }
    let n = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
    Ok((
        n,
        bytes[2] & RESET_MASK,
        BitReader::new(&bytes[HEADER_LEN..]),
    ))
}

/// Every sample of an integer histogram chunk.
pub fn decode_histograms(bytes: &[u8]) -> Result<Vec<(i64, Histogram)>, ChunkError> {
    let (n, header, mut r) = split(bytes)?;
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return Ok(out);
    }
    let layout = read_layout(&mut r)?;
    let (np, nn) = (
        bucket_count(&layout.positive_spans),
        bucket_count(&layout.negative_spans),
    );
    let mut t = read_varbit_int(&mut r)?;
    let mut count = read_varbit_uint(&mut r)?;
    let mut zero_count = read_varbit_uint(&mut r)?;
    let mut sum = f64::from_bits(r.read_bits(64)?);
    // Counts come from the data: a corrupt one must run out of bits, not of memory.
    let mut pos = Vec::with_capacity(np.min(1024));
    let mut neg = Vec::with_capacity(nn.min(1024));
    for _ in 0..np {
        pos.push(read_varbit_int(&mut r)?);
    }
    for _ in 0..nn {
        neg.push(read_varbit_int(&mut r)?);
    }
    let (mut t_delta, mut count_delta, mut zero_delta) = (0i64, 0i64, 0i64);
    let mut pos_delta = vec![0i64; pos.len()];
    let mut neg_delta = vec![0i64; neg.len()];
    let (mut leading, mut trailing) = (NO_XOR_WINDOW, 0u8);
    for i in 1..=n {
        if i > 1 {
            t_delta = t_delta.wrapping_add(read_varbit_int(&mut r)?);
            t = t.wrapping_add(t_delta);
            count_delta = count_delta.wrapping_add(read_varbit_int(&mut r)?);
            count = count.wrapping_add(count_delta as u64);
            zero_delta = zero_delta.wrapping_add(read_varbit_int(&mut r)?);
            zero_count = zero_count.wrapping_add(zero_delta as u64);
            read_xor(&mut r, &mut sum, &mut leading, &mut trailing)?;
            if sum.to_bits() != STALE_NAN_BITS {
                for (b, d) in pos.iter_mut().zip(&mut pos_delta) {
                    *d = d.wrapping_add(read_varbit_int(&mut r)?);
                    *b = b.wrapping_add(*d);
                }
                for (b, d) in neg.iter_mut().zip(&mut neg_delta) {
                    *d = d.wrapping_add(read_varbit_int(&mut r)?);
                    *b = b.wrapping_add(*d);
                }
            }
        }
        let h = if sum.to_bits() == STALE_NAN_BITS {
            // A stale marker carries nothing but its sum, as upstream returns it.
            Histogram {
                sum,
                ..Histogram::default()
            }
        } else {
            Histogram {
                counter_reset_hint: hint(header, i),
                schema: layout.schema,
                zero_threshold: layout.zero_threshold,
                zero_count,
                count,
                sum,
                positive_spans: layout.positive_spans.clone(),
                negative_spans: layout.negative_spans.clone(),
                positive_deltas: pos.clone(),
                negative_deltas: neg.clone(),
                custom_values: layout.custom_values.clone(),
            }
        };
        out.push((t, h));
    }
    Ok(out)
}

/// One XOR-encoded field with its own window.
#[derive(Clone, Copy)]
struct XorField {
    value: f64,
    leading: u8,
    trailing: u8,
}

impl XorField {
    fn first(r: &mut BitReader<'_>) -> Result<Self, ChunkError> {
        Ok(XorField {
            value: f64::from_bits(r.read_bits(64)?),
            leading: NO_XOR_WINDOW,
            trailing: 0,
        })
    }

    fn next(&mut self, r: &mut BitReader<'_>) -> Result<(), ChunkError> {
        read_xor(r, &mut self.value, &mut self.leading, &mut self.trailing)
    }
}

/// Every sample of a float histogram chunk.
pub fn decode_float_histograms(bytes: &[u8]) -> Result<Vec<(i64, FloatHistogram)>, ChunkError> {
    let (n, header, mut r) = split(bytes)?;
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return Ok(out);
    }
    let layout = read_layout(&mut r)?;
    let mut t = read_varbit_int(&mut r)?;
    let mut count = XorField::first(&mut r)?;
    let mut zero_count = XorField::first(&mut r)?;
    let mut sum = XorField::first(&mut r)?;
    let mut pos = Vec::new();
    for _ in 0..bucket_count(&layout.positive_spans) {
        pos.push(XorField::first(&mut r)?);
    }
    let mut neg = Vec::new();
    for _ in 0..bucket_count(&layout.negative_spans) {
        neg.push(XorField::first(&mut r)?);
    }
    let mut t_delta = 0i64;
    for i in 1..=n {
        if i > 1 {
            t_delta = t_delta.wrapping_add(read_varbit_int(&mut r)?);
            t = t.wrapping_add(t_delta);
            count.next(&mut r)?;
            zero_count.next(&mut r)?;
            sum.next(&mut r)?;
            if sum.value.to_bits() != STALE_NAN_BITS {
                for f in pos.iter_mut().chain(neg.iter_mut()) {
                    f.next(&mut r)?;
                }
            }
        }
        let values = |fields: &[XorField]| fields.iter().map(|f| f.value).collect::<Vec<_>>();
        let fh = if sum.value.to_bits() == STALE_NAN_BITS {
            FloatHistogram {
                sum: sum.value,
                ..FloatHistogram::default()
            }
        } else {
            FloatHistogram {
                counter_reset_hint: hint(header, i),
                schema: layout.schema,
                zero_threshold: layout.zero_threshold,
                zero_count: zero_count.value,
                count: count.value,
                sum: sum.value,
                positive_spans: layout.positive_spans.clone(),
                negative_spans: layout.negative_spans.clone(),
                positive_buckets: values(&pos),
                negative_buckets: values(&neg),
                custom_values: layout.custom_values.clone(),
            }
        };
        out.push((t, fh));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests;
