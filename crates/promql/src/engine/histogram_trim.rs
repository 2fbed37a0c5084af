//! The trim operators `h </ x` (keep observations below `x`) and `h >/ x` (keep those above),
//! with upstream's estimates of how much of a bucket the trim point splits off: linear within
//! custom and zero buckets, logarithmic within exponential buckets, and conservative for
//! buckets with an infinite bound.

use pm_common::model::{Bucket, FloatHistogram};

/// The share of `b` at or below `v` (strictly inside finite bounds).
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

/// The representative value of the surviving part `[lower, upper]` of a bucket.
fn midpoint(lower: f64, upper: f64, positive: bool, linear: bool) -> f64 {
    if lower.is_infinite() {
        if upper.is_infinite() {
            return 0.0;
        }
        return if upper > 0.0 { upper / 2.0 } else { upper };
    }
    if upper.is_infinite() {
        return lower;
    }
    if linear {
        return (lower + upper) / 2.0;
    }
    let geo = (lower * upper).abs().sqrt();
    if positive { geo } else { -geo }
}

/// Kept count and midpoint of a bucket with an infinite bound: its distribution is unknown, so
/// it is kept or dropped whole unless the other bound is finite and positive (NHCB only).
fn infinite_bucket(upper_trim: bool, b: &Bucket, rhs: f64) -> (f64, f64) {
    let zero_if_inf = |x: f64| if x.is_infinite() { 0.0 } else { x };
    if b.lower == f64::NEG_INFINITY {
        if upper_trim {
            if rhs >= b.upper {
                return (b.count, 0.0);
            }
            if rhs > 0.0 && b.upper > 0.0 && b.upper.is_finite() {
                return (b.count * rhs / b.upper, rhs / 2.0);
            }
            if b.upper <= 0.0 {
                return (b.count, rhs);
            }
            return (0.0, zero_if_inf(b.upper));
        }
        if rhs >= 0.0 && b.upper > rhs && b.upper.is_finite() {
            return (b.count * (1.0 - rhs / b.upper), (rhs + b.upper) / 2.0);
        }
        return (0.0, zero_if_inf(b.upper));
    }
    if upper_trim {
        return (0.0, zero_if_inf(b.lower));
    }
    if rhs >= b.lower {
        return (b.count, rhs);
    }
    (0.0, zero_if_inf(b.lower))
}

fn bucket_trim(b: &Bucket, rhs: f64, upper_trim: bool, positive: bool, linear: bool) -> (f64, f64) {
    if b.lower == f64::NEG_INFINITY || b.upper == f64::INFINITY {
        return infinite_bucket(upper_trim, b, rhs);
    }
    let under = if rhs <= b.lower {
        0.0
    } else if rhs >= b.upper {
        b.count
    } else {
        b.count * fraction_below(b, rhs, linear)
    };
    if upper_trim {
        (under, midpoint(b.lower, rhs, positive, linear))
    } else {
        (b.count - under, midpoint(rhs, b.upper, positive, linear))
    }
}

fn zero_bucket_trim(
    h: &FloatHistogram,
    rhs: f64,
    has_neg: bool,
    has_pos: bool,
    upper_trim: bool,
) -> (f64, f64) {
    let (mut lower, mut upper) = (-h.zero_threshold, h.zero_threshold);
    if has_neg && !has_pos {
        upper = 0.0;
    }
    if has_pos && !has_neg {
        lower = 0.0;
    }
    let (fraction, mid) = if upper_trim {
        if rhs <= lower {
            return (0.0, 0.0);
        }
        if rhs >= upper {
            return (h.zero_count, (lower + upper) / 2.0);
        }
        ((rhs - lower) / (upper - lower), (lower + rhs) / 2.0)
    } else {
        if rhs <= lower {
            return (h.zero_count, (lower + upper) / 2.0);
        }
        if rhs >= upper {
            return (0.0, 0.0);
        }
        ((upper - rhs) / (upper - lower), (rhs + upper) / 2.0)
    };
    (h.zero_count * fraction, mid)
}

/// Trims `h` at `rhs`: `upper_trim` keeps observations below it (`</`), otherwise those above
/// (`>/`). Count and sum are re-estimated from the kept buckets when anything was cut.
pub(crate) fn trim_buckets(h: &mut FloatHistogram, rhs: f64, upper_trim: bool) {
    let linear = h.uses_custom_buckets();
    let (mut count, mut sum) = (0.0, 0.0);
    let mut trimmed = false;
    let mut has = [false, false];
    let sides: [(bool, Vec<Bucket>); 2] = [
        (true, h.positive_buckets_iter().collect()),
        (false, h.negative_buckets_iter().collect()),
    ];
    for (positive, buckets) in sides {
        for (i, b) in buckets.iter().enumerate() {
            if b.count == 0.0 {
                continue;
            }
            has[usize::from(!positive)] = true;
            let counts = if positive {
                &mut h.positive_buckets
            } else {
                &mut h.negative_buckets
            };
            let (keep_all, split) = if upper_trim {
                (b.upper <= rhs, b.lower < rhs)
            } else {
                (b.lower >= rhs, b.upper > rhs)
            };
            if keep_all {
                count += b.count;
                sum += midpoint(b.lower, b.upper, positive, linear) * b.count;
            } else if split {
                let (keep, mid) = bucket_trim(b, rhs, upper_trim, positive, linear);
                count += keep;
                sum += mid * keep;
                if counts[i] != keep {
                    counts[i] = keep;
                    trimmed = true;
                }
            } else {
                counts[i] = 0.0;
                trimmed = true;
            }
        }
    }
    if h.zero_count > 0.0 {
        let (keep, mid) = zero_bucket_trim(h, rhs, has[1], has[0], upper_trim);
        if h.zero_count != keep {
            h.zero_count = keep;
            trimmed = true;
        }
        sum += mid * keep;
        count += keep;
    }
    if trimmed {
        h.count = count;
        h.sum = sum;
        h.compact();
    }
}
