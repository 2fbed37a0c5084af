use pm_common::model::{CUSTOM_BUCKETS_SCHEMA, FloatHistogram, Span};

use super::*;
use crate::functions::annotations::Issue;

fn classic(pairs: &[(f64, f64)]) -> Vec<ClassicBucket> {
    pairs
        .iter()
        .map(|&(upper_bound, count)| ClassicBucket { upper_bound, count })
        .collect()
}

/// Schema 0 (bucket `i` is `(2^(i-1), 2^i]`) with positive buckets from index `first`.
fn exponential(first: i32, counts: &[f64], zero: (f64, f64), sum: f64) -> FloatHistogram {
    FloatHistogram {
        schema: 0,
        zero_threshold: zero.0,
        zero_count: zero.1,
        count: counts.iter().sum::<f64>() + zero.1,
        sum,
        positive_spans: vec![Span {
            offset: first,
            length: counts.len() as u32,
        }],
        positive_buckets: counts.to_vec(),
        ..Default::default()
    }
}

fn custom(bounds: &[f64], counts: &[f64]) -> FloatHistogram {
    FloatHistogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: counts.iter().sum(),
        sum: 1.0,
        positive_spans: vec![Span {
            offset: 0,
            length: counts.len() as u32,
        }],
        positive_buckets: counts.to_vec(),
        custom_values: bounds.to_vec(),
        ..Default::default()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 || (a.is_nan() && b.is_nan()) || a == b
}

#[test]
fn classic_quantiles() {
    let inf = f64::INFINITY;
    type Case<'a> = (f64, &'a [(f64, f64)], f64);
    let cases: &[Case] = &[
        (0.5, &[(1.0, 10.0), (2.0, 20.0), (inf, 20.0)], 1.0),
        (0.75, &[(2.0, 20.0), (1.0, 10.0), (inf, 20.0)], 1.5),
        (1.0, &[(1.0, 10.0), (2.0, 20.0), (inf, 20.0)], 2.0),
        // Rank in the +Inf bucket: the highest finite bound.
        (0.9, &[(1.0, 10.0), (inf, 20.0)], 1.0),
        // Lowest bucket with a bound ≤ 0 answers that bound.
        (0.25, &[(-1.0, 5.0), (inf, 10.0)], -1.0),
        // No +Inf bucket, a single bucket, no observations.
        (0.5, &[(1.0, 10.0)], f64::NAN),
        (0.5, &[(inf, 10.0)], f64::NAN),
        (0.5, &[(1.0, 0.0), (inf, 0.0)], f64::NAN),
        // Duplicate bounds are added up.
        (0.5, &[(1.0, 5.0), (1.0, 5.0), (inf, 20.0)], 1.0),
        (-1.0, &[(1.0, 10.0), (inf, 20.0)], f64::NEG_INFINITY),
        (2.0, &[(1.0, 10.0), (inf, 20.0)], inf),
        (f64::NAN, &[(1.0, 10.0), (inf, 20.0)], f64::NAN),
    ];
    for (q, buckets, want) in cases {
        let (got, repair) = bucket_quantile(*q, &mut classic(buckets));
        assert!(close(got, *want), "q={q} {buckets:?}: {got}");
        assert_eq!(repair, None);
    }
}

#[test]
fn classic_monotonicity_repair() {
    let mut b = classic(&[(1.0, 10.0), (2.0, 8.0), (4.0, 7.0), (f64::INFINITY, 12.0)]);
    let (q, repair) = bucket_quantile(0.5, &mut b);
    assert_eq!(q, 0.6);
    assert_eq!(
        repair,
        Some(BucketRepair {
            min_bucket: 2.0,
            max_bucket: 4.0,
            max_diff: 3.0
        })
    );
    // Float noise is no repair.
    let mut b = classic(&[(1.0, 10.0), (2.0, 10.0 - 1e-15), (f64::INFINITY, 10.0)]);
    assert_eq!(bucket_quantile(0.5, &mut b).1, None);
}

#[test]
fn classic_fractions() {
    let inf = f64::INFINITY;
    let b = [(1.0, 10.0), (2.0, 20.0), (inf, 40.0)];
    let cases = [
        (0.0, 1.0, 0.25),
        (0.0, 0.5, 0.125),
        (1.5, 2.0, 0.125),
        (0.0, inf, 1.0),
        (2.0, inf, 0.5),
        (-inf, 0.0, 0.0),
        (1.0, 1.0, 0.0),
        (f64::NAN, 1.0, f64::NAN),
    ];
    for (lower, upper, want) in cases {
        let got = bucket_fraction(lower, upper, &mut classic(&b));
        assert!(close(got, want), "[{lower}, {upper}]: {got}");
    }
    assert!(bucket_fraction(0.0, 1.0, &mut classic(&[(1.0, 1.0)])).is_nan());
}

#[test]
fn native_quantiles() {
    let h = exponential(1, &[2.0, 2.0], (0.0, 0.0), 10.0);
    let sqrt2 = std::f64::consts::SQRT_2;
    let cases = [
        (0.5, 2.0),
        (0.25, sqrt2),
        (0.0, 1.0),
        (1.0, 4.0),
        (-0.5, f64::NEG_INFINITY),
        (1.5, f64::INFINITY),
    ];
    for (q, want) in cases {
        let (got, issues) = histogram_quantile(q, &h);
        assert!(close(got, want), "q={q}: {got}");
        assert!(issues.is_empty());
    }
    // Zero bucket: linear, starting at 0 with no negative observations.
    let h = exponential(1, &[2.0], (0.001, 2.0), 3.0);
    assert!(close(histogram_quantile(0.25, &h).0, 0.0005));
    // Empty histogram.
    assert!(
        histogram_quantile(0.5, &FloatHistogram::default())
            .0
            .is_nan()
    );
}

#[test]
fn native_quantile_negative_buckets() {
    let h = FloatHistogram {
        schema: 0,
        count: 4.0,
        sum: -10.0,
        negative_spans: vec![Span {
            offset: 1,
            length: 2,
        }],
        negative_buckets: vec![2.0, 2.0],
        ..Default::default()
    };
    // Observations in [-4, -2) and [-2, -1): the median is -2.
    assert!(close(histogram_quantile(0.5, &h).0, -2.0));
    assert!(close(histogram_quantile(0.25, &h).0, -(8f64.sqrt())));
}

#[test]
fn native_quantile_custom_buckets() {
    let h = custom(&[1.0, 2.0], &[2.0, 2.0]);
    assert!(close(histogram_quantile(0.25, &h).0, 0.5));
    assert!(close(histogram_quantile(0.9, &h).0, 1.8));
    // A rank in the +Inf bucket answers its lower bound.
    let h = custom(&[1.0], &[1.0, 3.0]);
    assert!(close(histogram_quantile(0.9, &h).0, 1.0));
}

#[test]
fn native_quantile_nan_observations() {
    let mut h = exponential(1, &[2.0, 2.0], (0.0, 0.0), f64::NAN);
    h.count = 6.0;
    let (q, issues) = histogram_quantile(0.9, &h);
    assert!(q.is_nan());
    assert!(issues.contains(Issue::NativeHistogramQuantileNaNResult));
    let (q, issues) = histogram_quantile(0.5, &h);
    assert!(close(q, 2.0f64.powf(1.5)));
    assert!(issues.contains(Issue::NativeHistogramQuantileNaNSkew));
}

#[test]
fn native_fractions() {
    let h = exponential(1, &[2.0, 2.0], (0.0, 0.0), 10.0);
    let cases = [
        (0.0, 2.0, 0.5),
        (1.5, 3.0, 0.5),
        (0.0, f64::INFINITY, 1.0),
        (f64::NEG_INFINITY, 1.0, 0.0),
        (3.0, 1.0, 0.0),
    ];
    for (lower, upper, want) in cases {
        let (got, issues) = histogram_fraction(lower, upper, &h);
        assert!(close(got, want), "[{lower}, {upper}]: {got}");
        assert!(issues.is_empty());
    }
    assert!(histogram_fraction(f64::NAN, 1.0, &h).0.is_nan());
    let h = custom(&[1.0, 2.0], &[2.0, 2.0]);
    assert!(close(histogram_fraction(0.0, 0.5, &h).0, 0.25));
}

#[test]
fn native_statistics() {
    let (s2, s8) = (2f64.sqrt(), 8f64.sqrt());
    let h = exponential(1, &[2.0, 2.0], (0.0, 0.0), 2.0 * s2 + 2.0 * s8);
    assert!(close(histogram_stdvar(&h), 0.5));
    assert!(close(histogram_stddev(&h), 0.5f64.sqrt()));
    assert_eq!(histogram_count(&h), 4.0);
    assert!(close(histogram_avg(&h), (s2 + s8) / 2.0));
    assert_eq!(histogram_sum(&h), 2.0 * s2 + 2.0 * s8);
}
