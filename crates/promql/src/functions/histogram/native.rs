//! Quantile, fraction and statistics of one native histogram.
//!
//! Inside exponential buckets values are interpolated exponentially (linearly on a log2
//! scale), matching how the buckets are laid out; the zero bucket and custom buckets
//! interpolate linearly.

use pm_common::model::{Bucket, FloatHistogram};

use super::all_buckets;
use crate::functions::annotations::{Issue, Issues};
use crate::functions::stats::kahan_sum_inc;

pub fn histogram_count(h: &FloatHistogram) -> f64 {
    h.count
}

pub fn histogram_sum(h: &FloatHistogram) -> f64 {
    h.sum
}

pub fn histogram_avg(h: &FloatHistogram) -> f64 {
    h.sum / h.count
}

/// The fraction of `b`'s width at or below `v` (strictly inside its finite bounds).
fn fraction_below(b: &Bucket, v: f64, linear: bool) -> f64 {
    if linear {
        return (v - b.lower) / (b.upper - b.lower);
    }
    let (log_lower, log_upper, log_v) =
        (b.lower.abs().log2(), b.upper.abs().log2(), v.abs().log2());
    if v > 0.0 {
        (log_v - log_lower) / (log_upper - log_lower)
    } else {
        1.0 - (log_v - log_upper) / (log_lower - log_upper)
    }
}

/// Whether a bucket straddling zero (the zero bucket) should start or end at 0 because the
/// histogram has observations on one side only.
fn trim_zero_bucket(h: &FloatHistogram, b: &mut Bucket) {
    if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
        b.lower = 0.0;
    } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
        b.upper = 0.0;
    }
}

/// `histogram_quantile(q, h)`: ±Inf for `q` outside [0, 1], NaN for no observations or NaN
/// `q`. Ranks above 0.5 are counted from the top (unless the sum is NaN), so that NaN
/// observations, which sit in no bucket, skew results as little as possible.
pub fn histogram_quantile(q: f64, h: &FloatHistogram) -> (f64, Issues) {
    if q < 0.0 {
        return (f64::NEG_INFINITY, Issues::NONE);
    }
    if q > 1.0 {
        return (f64::INFINITY, Issues::NONE);
    }
    if h.count == 0.0 || q.is_nan() {
        return (f64::NAN, Issues::NONE);
    }
    let mut issues = Issues::NONE;
    let from_bottom = h.sum.is_nan() || q < 0.5;
    let mut buckets = all_buckets(h);
    if !from_bottom {
        buckets.reverse();
    }
    let mut rank = if from_bottom {
        q * h.count
    } else {
        (1.0 - q) * h.count
    };
    let mut count = 0.0;
    let mut pos = buckets.len();
    let mut bucket = Bucket {
        lower: 0.0,
        upper: 0.0,
        lower_inclusive: false,
        upper_inclusive: false,
        count: 0.0,
        index: 0,
    };
    for (i, b) in buckets.iter().enumerate() {
        bucket = *b;
        if b.count == 0.0 {
            continue;
        }
        count += b.count;
        if count >= rank {
            pos = i + 1;
            break;
        }
    }
    let custom = h.uses_custom_buckets();
    if !custom && bucket.lower < 0.0 && bucket.upper > 0.0 {
        trim_zero_bucket(h, &mut bucket);
    } else if custom {
        if bucket.lower == f64::NEG_INFINITY {
            if bucket.upper <= 0.0 {
                return (bucket.upper, issues);
            }
            bucket.lower = 0.0;
        } else if bucket.upper == f64::INFINITY {
            return (bucket.lower, issues);
        }
    }
    count = count.min(h.count);
    if count < rank {
        if h.sum.is_nan() {
            issues.push(Issue::NativeHistogramQuantileNaNResult);
            return (f64::NAN, issues);
        }
        return (bucket.upper, issues);
    }
    if from_bottom {
        rank -= count - bucket.count;
    } else {
        rank = count - rank;
    }
    if h.sum.is_nan() {
        count += buckets[pos..].iter().map(|b| b.count).sum::<f64>();
        if count < h.count {
            issues.push(Issue::NativeHistogramQuantileNaNSkew);
        }
    }
    let fraction = rank / bucket.count;
    if custom || (bucket.lower <= 0.0 && bucket.upper >= 0.0) {
        return (
            bucket.lower + (bucket.upper - bucket.lower) * fraction,
            issues,
        );
    }
    let (log_lower, log_upper) = (bucket.lower.abs().log2(), bucket.upper.abs().log2());
    let value = if bucket.lower > 0.0 {
        (log_lower + (log_upper - log_lower) * fraction).exp2()
    } else {
        -(log_upper + (log_lower - log_upper) * (1.0 - fraction)).exp2()
    };
    (value, issues)
}

/// `histogram_fraction(lower, upper, h)`: the estimated share of observations in
/// `[lower, upper]`. NaN for no observations or a NaN bound, 0 when `lower >= upper`.
pub fn histogram_fraction(lower: f64, upper: f64, h: &FloatHistogram) -> (f64, Issues) {
    if h.count == 0.0 || lower.is_nan() || upper.is_nan() {
        return (f64::NAN, Issues::NONE);
    }
    if lower >= upper {
        return (0.0, Issues::NONE);
    }
    let mut issues = Issues::NONE;
    let buckets = all_buckets(h);
    let custom = h.uses_custom_buckets();
    let (mut count, mut rank) = (0.0, 0.0);
    let (mut lower_rank, mut upper_rank) = (None, None);
    let mut consumed = buckets.len();
    for (i, original) in buckets.iter().enumerate() {
        let mut b = *original;
        count += b.count;
        let zero_bucket = b.lower <= 0.0 && b.upper >= 0.0;
        if zero_bucket {
            trim_zero_bucket(h, &mut b);
        }
        let interpolate = |v: f64| {
            if custom || zero_bucket {
                if b.lower == f64::NEG_INFINITY {
                    return b.count;
                }
                rank + b.count * fraction_below(&b, v, true)
            } else {
                rank + b.count * fraction_below(&b, v, false)
            }
        };
        if lower_rank.is_none() && b.lower >= lower {
            lower_rank = Some(rank);
        }
        if upper_rank.is_none() && b.lower >= upper {
            upper_rank = Some(rank);
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            consumed = i + 1;
            break;
        }
        if lower_rank.is_none() && b.lower < lower && b.upper > lower {
            lower_rank = Some(interpolate(lower));
        }
        if upper_rank.is_none() && b.lower < upper && b.upper > upper {
            upper_rank = Some(interpolate(upper));
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            consumed = i + 1;
            break;
        }
        rank += b.count;
    }
    if h.sum.is_nan() {
        count += buckets[consumed..].iter().map(|b| b.count).sum::<f64>();
        if count < h.count {
            issues.push(Issue::NativeHistogramFractionNaNs);
        }
    } else {
        count = h.count;
    }
    let clamp = |r: Option<f64>| r.filter(|r| *r <= count).unwrap_or(count);
    ((clamp(upper_rank) - clamp(lower_rank)) / h.count, issues)
}

/// Estimated population variance of the observations: each bucket's count sits at its
/// arithmetic mean (custom buckets), 0 (zero bucket) or geometric mean (exponential).
pub fn histogram_stdvar(h: &FloatHistogram) -> f64 {
    let mean = h.sum / h.count;
    let (mut variance, mut c) = (0.0, 0.0);
    for b in all_buckets(h) {
        if b.count == 0.0 {
            continue;
        }
        let value = if h.uses_custom_buckets() {
            (b.upper + b.lower) / 2.0
        } else if b.lower <= 0.0 && b.upper >= 0.0 {
            0.0
        } else {
            let v = (b.upper * b.lower).sqrt();
            if b.upper < 0.0 { -v } else { v }
        };
        let delta = value - mean;
        (variance, c) = kahan_sum_inc(b.count * delta * delta, variance, c);
    }
    (variance + c) / h.count
}

/// The square root of [`histogram_stdvar`].
pub fn histogram_stddev(h: &FloatHistogram) -> f64 {
    histogram_stdvar(h).sqrt()
}
