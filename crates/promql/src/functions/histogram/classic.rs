//! Quantiles and fractions of classic (`le`-bucketed) histograms.

use crate::functions::annotations::MonotonicityFix;
use crate::functions::stats::almost_equal;

/// Relative difference below which two cumulative counts are considered equal, so that
/// float noise from aggregation does not count as non-monotonicity.
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// One `le` bucket: its upper bound and cumulative count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassicBucket {
    pub upper_bound: f64,
    pub count: f64,
}

/// The repair `histogram_quantile` made to non-monotonic cumulative counts; the engine
/// reports it with [`BucketRepair::at`] as the forced-monotonicity info.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BucketRepair {
    /// Lowest and highest `le` whose count was raised.
    pub min_bucket: f64,
    pub max_bucket: f64,
    /// Largest amount a count was raised by.
    pub max_diff: f64,
}

impl BucketRepair {
    /// The annotation data for this repair at evaluation time `ts` (ms).
    pub fn at(&self, ts: i64) -> MonotonicityFix {
        MonotonicityFix {
            min_ts: ts,
            max_ts: ts,
            min_bucket: self.min_bucket,
            max_bucket: self.max_bucket,
            max_diff: self.max_diff,
            merged: 0,
        }
    }
}

/// Sorts by upper bound; upstream's sort is not stable either, but equal bounds are merged
/// right after, so their order does not matter.
fn sort_buckets(buckets: &mut [ClassicBucket]) {
    buckets.sort_by(|a, b| {
        a.upper_bound
            .partial_cmp(&b.upper_bound)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

/// Merges buckets with the same bound (e.g. `le="1"` and `le="1.0"`) by adding their counts.
fn coalesce(buckets: &mut Vec<ClassicBucket>) {
    buckets.dedup_by(|b, kept| {
        if b.upper_bound == kept.upper_bound {
            kept.count += b.count;
            true
        } else {
            false
        }
    });
}

/// Makes counts non-decreasing: counts within the tolerance of the previous are set equal
/// to it, smaller ones are raised to it (a repair worth reporting).
fn ensure_monotonic(buckets: &mut [ClassicBucket]) -> Option<BucketRepair> {
    let mut repair: Option<BucketRepair> = None;
    let mut prev = buckets[0].count;
    for b in &mut buckets[1..] {
        let curr = b.count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, SMALL_DELTA_TOLERANCE) {
            b.count = prev;
            continue;
        }
        if curr < prev {
            b.count = prev;
            let r = repair.get_or_insert(BucketRepair {
                min_bucket: f64::INFINITY,
                max_bucket: f64::NEG_INFINITY,
                max_diff: 0.0,
            });
            r.min_bucket = r.min_bucket.min(b.upper_bound);
            r.max_bucket = r.max_bucket.max(b.upper_bound);
            r.max_diff = r.max_diff.max(prev - curr);
            continue;
        }
        prev = curr;
    }
    repair
}

/// `histogram_quantile(q, …)` over the buckets of one classic histogram (non-empty). NaN
/// without a `+Inf` bucket, with fewer than two buckets or no observations; ±Inf for `q`
/// outside [0, 1]. The quantile is interpolated linearly inside its bucket; the lowest
/// bucket starts at 0 unless its bound is ≤ 0 (then that bound is the answer), and a rank in
/// the `+Inf` bucket answers the second-highest bound.
pub fn bucket_quantile(q: f64, buckets: &mut Vec<ClassicBucket>) -> (f64, Option<BucketRepair>) {
    if q.is_nan() {
        return (f64::NAN, None);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, None);
    }
    if q > 1.0 {
        return (f64::INFINITY, None);
    }
    if buckets.is_empty() {
        return (f64::NAN, None);
    }
    sort_buckets(buckets);
    if buckets[buckets.len() - 1].upper_bound != f64::INFINITY {
        return (f64::NAN, None);
    }
    coalesce(buckets);
    let repair = ensure_monotonic(buckets);
    let n = buckets.len();
    if n < 2 {
        return (f64::NAN, repair);
    }
    let observations = buckets[n - 1].count;
    if observations == 0.0 {
        return (f64::NAN, repair);
    }
    let mut rank = q * observations;
    let b = buckets[..n - 1].partition_point(|b| b.count < rank);
    let value = if b == n - 1 {
        buckets[n - 2].upper_bound
    } else if b == 0 && buckets[0].upper_bound <= 0.0 {
        buckets[0].upper_bound
    } else {
        let end = buckets[b].upper_bound;
        let mut count = buckets[b].count;
        let mut start = 0.0;
        if b > 0 {
            start = buckets[b - 1].upper_bound;
            count -= buckets[b - 1].count;
            rank -= buckets[b - 1].count;
        }
        start + (end - start) * (rank / count)
    };
    (value, repair)
}

/// `histogram_fraction(lower, upper, …)` over the buckets of one classic histogram
/// (non-empty): the estimated share of observations in `[lower, upper]`, interpolating
/// linearly inside buckets (the lowest bucket starts at 0 unless its bound is ≤ 0).
pub fn bucket_fraction(lower: f64, upper: f64, buckets: &mut Vec<ClassicBucket>) -> f64 {
    if buckets.is_empty() {
        return f64::NAN;
    }
    sort_buckets(buckets);
    if buckets[buckets.len() - 1].upper_bound != f64::INFINITY {
        return f64::NAN;
    }
    coalesce(buckets);
    let count = buckets[buckets.len() - 1].count;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, None, None);
    let mut lower_bound = if buckets[0].upper_bound <= 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for (i, b) in buckets.iter().enumerate() {
        if i > 0 {
            lower_bound = buckets[i - 1].upper_bound;
        }
        let upper_bound = b.upper_bound;
        let interpolate = |v: f64| {
            if lower_bound == f64::NEG_INFINITY {
                b.count
            } else {
                rank + (b.count - rank) * (v - lower_bound) / (upper_bound - lower_bound)
            }
        };
        if lower_rank.is_none() && lower_bound >= lower {
            lower_rank = Some(rank);
        }
        if upper_rank.is_none() && lower_bound >= upper {
            upper_rank = Some(rank);
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            break;
        }
        if lower_rank.is_none() && lower_bound < lower && upper_bound > lower {
            lower_rank = Some(interpolate(lower));
        }
        if upper_rank.is_none() && lower_bound < upper && upper_bound > upper {
            upper_rank = Some(interpolate(upper));
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            break;
        }
        rank = b.count;
    }
    let clamp = |r: Option<f64>| r.filter(|r| *r <= count).unwrap_or(count);
    (clamp(upper_rank) - clamp(lower_rank)) / count
}
