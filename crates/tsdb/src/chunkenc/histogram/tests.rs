//! Chunks written by upstream's encoder (prometheus v2.42.0 `tsdb/chunkenc`, hex below) decode
//! to the histograms that were appended.

use super::*;

pub(crate) fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn span(offset: i32, length: u32) -> Span {
    Span { offset, length }
}

/// Five samples with a layout of two positive spans and one negative span; counts, sum and
/// one bucket change between samples.
pub(crate) const INT: &str = "000500ff3f50624dd2f1a9fc8ca49463178fa319240326666666666668c6e97c1d4ce263b45f84646c1668891a77fdaaaaaaaaaaaa88910b8000000000004400";

/// Seven samples whose timestamps, counts, buckets and sums jump by amounts that need every
/// varbit width up to the full 64 bits.
const INT_WIDE: &str = "00070000b46357df8307191803c000000000001c64f1f6980fc01ef767e6587dfc6fc8791000eb3e17e44a73e57ddd0070000000000003dd9ffaeb34a1f81b528ed7ad83c47b800b6a7e44a73f800040002255103f7c3e809183c47b800b6a7f5d66943fbfffc000000000fda4e9472ee4401cd3ffc0002000112a8800";

pub(crate) const FLOAT: &str = "000500ff3f50624dd2f1a9fc4a578ce31979f4100a4000000000001000000000000000100c9999999999998ffe000000000000100000000000000010070000000000000ff80000000000003e1d4c3687db349ffffffffffff350df9ac6fda76fe5555555555548b22db34bbfffffffffff214856bd708aaaaaaaaaaa4e00";

fn hint_of(i: usize) -> CounterResetHint {
    if i == 0 {
        CounterResetHint::Unknown
    } else {
        CounterResetHint::NotCounterReset
    }
}

#[test]
fn upstream_integer_histogram_chunk() {
    let mut h = Histogram {
        schema: 1,
        zero_threshold: 0.001,
        zero_count: 2,
        count: 12,
        sum: 18.4,
        positive_spans: vec![span(0, 2), span(1, 2)],
        negative_spans: vec![span(0, 1)],
        positive_deltas: vec![1, 1, -1, 0],
        negative_deltas: vec![2],
        ..Histogram::default()
    };
    let mut want = Vec::new();
    for i in 0..5i64 {
        want.push((
            1000 + i * 15000 + i * i,
            Histogram {
                counter_reset_hint: hint_of(i as usize),
                ..h.clone()
            },
        ));
        h.count += 9;
        h.zero_count += 1;
        h.sum += 3.25 * (i + 1) as f64;
        h.positive_deltas[1] += i;
        h.negative_deltas[0] += 1;
    }
    assert_eq!(decode_histograms(&hex(INT)).unwrap(), want);
}

#[test]
fn upstream_integer_histogram_chunk_with_wide_deltas() {
    let steps: [i64; 7] = [0, 5, -300, 70000, -9_000_000, 1 << 40, 3];
    let mut h = Histogram {
        schema: -2,
        count: 100,
        sum: -7.5,
        positive_spans: vec![span(-3, 1)],
        positive_deltas: vec![100],
        ..Histogram::default()
    };
    let mut ts = -5000i64;
    let mut want = Vec::new();
    for (i, s) in steps.into_iter().enumerate() {
        ts += 1000 + s;
        want.push((
            ts,
            Histogram {
                counter_reset_hint: hint_of(i),
                ..h.clone()
            },
        ));
        h.count = h.count.wrapping_add((s.wrapping_mul(s) % 1_000_003) as u64);
        h.positive_deltas[0] += s;
        h.sum = i as f64 * 1e300;
    }
    assert_eq!(decode_histograms(&hex(INT_WIDE)).unwrap(), want);
}

#[test]
fn upstream_float_histogram_chunk() {
    let mut fh = FloatHistogram {
        schema: 0,
        zero_threshold: 0.001,
        zero_count: 2.0,
        count: 12.5,
        sum: 18.4,
        positive_spans: vec![span(-1, 2), span(3, 1)],
        negative_spans: vec![span(2, 1)],
        positive_buckets: vec![1.5, 2.0, 7.0],
        negative_buckets: vec![0.5],
        ..FloatHistogram::default()
    };
    let mut want = Vec::new();
    for i in 0..5i64 {
        want.push((
            2000 + i * 30000,
            FloatHistogram {
                counter_reset_hint: hint_of(i as usize),
                ..fh.clone()
            },
        ));
        fh.count += 2.5;
        fh.sum *= 1.5;
        fh.positive_buckets[2] += 2.5;
    }
    assert_eq!(decode_float_histograms(&hex(FLOAT)).unwrap(), want);
}

#[test]
fn damaged_chunks_are_errors_not_panics() {
    type Decode = fn(&[u8]) -> bool;
    let int: Decode = |b| decode_histograms(b).is_ok();
    let float: Decode = |b| decode_float_histograms(b).is_ok();
    for (golden, own, other) in [
        (INT, int, float),
        (INT_WIDE, int, float),
        (FLOAT, float, int),
    ] {
        let bytes = hex(golden);
        for cut in 0..bytes.len() {
            // Up to half the chunk cannot hold all its samples; the tail may be padding.
            if cut <= bytes.len() / 2 {
                assert!(!own(&bytes[..cut]), "{golden} cut at {cut}");
            }
            // The wrong decoder reads garbage, which must not panic either.
            other(&bytes[..cut]);
        }
        let mut flipped = bytes.clone();
        for i in 3..flipped.len() {
            flipped[i] ^= 0x5a;
            own(&flipped);
            flipped[i] ^= 0x5a;
        }
    }
    assert_eq!(decode_histograms(&[0, 0, 0]).unwrap(), []);
}

#[test]
fn encoding_reproduces_upstream_chunks_byte_for_byte() {
    use crate::chunkenc::{encode_float_histograms, encode_histograms};
    for golden in [INT, INT_WIDE] {
        let samples = decode_histograms(&hex(golden)).unwrap();
        assert_eq!(encode_histograms(&samples).unwrap(), hex(golden));
    }
    let samples = decode_float_histograms(&hex(FLOAT)).unwrap();
    assert_eq!(encode_float_histograms(&samples).unwrap(), hex(FLOAT));
}

#[test]
fn stale_markers_custom_bounds_and_gauges_round_trip() {
    use crate::chunkenc::{encode_float_histograms, encode_histograms};
    use pm_common::model::stale_nan;
    let h = Histogram {
        counter_reset_hint: CounterResetHint::Gauge,
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: 9,
        sum: 4.5,
        positive_spans: vec![span(0, 3)],
        positive_deltas: vec![2, 1, -3],
        custom_values: vec![0.25, 1.0, 123_456.789_1],
        ..Histogram::default()
    };
    let stale = Histogram {
        sum: stale_nan(),
        ..Histogram::default()
    };
    let later = Histogram {
        count: 12,
        positive_deltas: vec![3, 1, -3],
        ..h.clone()
    };
    let samples = vec![
        (10, h.clone()),
        (20, later.clone()),
        (30, stale.clone()),
        (40, stale.clone()),
    ];
    let bytes = encode_histograms(&samples).unwrap();
    assert_eq!(bytes[2], 0b1100_0000);
    let back = decode_histograms(&bytes).unwrap();
    assert_eq!(back[0], (10, h.clone()));
    let later_hinted = Histogram {
        counter_reset_hint: CounterResetHint::Gauge,
        ..later.clone()
    };
    assert_eq!(back[1], (20, later_hinted));
    for (i, t) in [(2, 30), (3, 40)] {
        assert_eq!(back[i].0, t);
        assert_eq!(back[i].1.sum.to_bits(), stale.sum.to_bits());
        assert_eq!(back[i].1.count, 0);
    }
    assert_eq!(
        encode_histograms(&[(1, h.clone()), (2, stale.clone()), (3, later)]),
        Err(ChunkError::AfterStaleMarker)
    );

    let fh = h.to_float();
    let fstale = FloatHistogram {
        sum: stale_nan(),
        ..FloatHistogram::default()
    };
    let samples = vec![(1, fh.clone()), (2, fstale.clone()), (3, fstale)];
    let back = decode_float_histograms(&encode_float_histograms(&samples).unwrap()).unwrap();
    assert_eq!(back[0], (1, fh.clone()));
    assert!(back[1].1.sum.is_nan() && back[2].1.sum.is_nan());
    assert_eq!(
        encode_float_histograms(&[(1, fh.clone()), (2, back[1].1.clone()), (3, fh)]),
        Err(ChunkError::AfterStaleMarker)
    );

    let mut other = h.clone();
    other.schema = 3;
    assert_eq!(
        encode_histograms(&[(1, h.clone()), (2, other)]),
        Err(ChunkError::LayoutChange)
    );
}
