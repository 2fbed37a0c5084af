//! Arithmetic on native float histograms with the semantics of upstream
//! `model/histogram/float_histogram.go`: PromQL adds, subtracts, scales and compares histograms
//! through these operations, so bucket layouts, counter-reset hints and zero buckets must come out
//! exactly as upstream's for query results to match.
//!
//! Internally every operation works on a sorted list of `(bucket index, count)` pairs and rebuilds
//! spans from it; that keeps span bookkeeping in one place ([`collapse`]).

use std::collections::BTreeMap;

use super::value::{CUSTOM_BUCKETS_SCHEMA, CounterResetHint, FloatHistogram, Histogram, Span};

/// Lowest and highest exponential schema.
pub const MIN_EXPONENTIAL_SCHEMA: i32 = -4;
pub const MAX_EXPONENTIAL_SCHEMA: i32 = 8;

/// Why a histogram is invalid or two histograms cannot be combined; texts are upstream's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HistogramError {
    #[error(
        "{side} side: spans need {need} buckets, have {have} buckets: histogram spans specify different number of buckets than provided"
    )]
    SpansBucketsMismatch {
        side: &'static str,
        need: usize,
        have: usize,
    },
    #[error(
        "{side} side: span number {span} with offset {offset}: histogram has a span whose offset is negative"
    )]
    NegativeSpanOffset {
        side: &'static str,
        span: usize,
        offset: i32,
    },
    #[error(
        "{side} side: bucket number {bucket} has observation count of {count}: histogram has a bucket whose observation count is negative"
    )]
    NegativeBucketCount {
        side: &'static str,
        bucket: usize,
        count: f64,
    },
    #[error(
        "{count} observations found in buckets, but the Count field is {field}: histogram's observation count should be at least the number of observations found in the buckets"
    )]
    CountNotBigEnough { count: f64, field: f64 },
    #[error(
        "histogram has an invalid schema, which must be between {MIN_EXPONENTIAL_SCHEMA} and {MAX_EXPONENTIAL_SCHEMA} for exponential buckets, or {CUSTOM_BUCKETS_SCHEMA} for custom buckets, got schema {0}"
    )]
    InvalidSchema(i32),
    #[error("histogram with exponential schema must not have custom bounds")]
    ExponentialSchemaCustomBounds,
    #[error("custom buckets: must have zero count of 0")]
    CustomBucketsZeroCount,
    #[error("custom buckets: must have zero threshold of 0")]
    CustomBucketsZeroThreshold,
    #[error("custom buckets: must not have negative buckets")]
    CustomBucketsNegativeBuckets,
    #[error(
        "custom buckets: only {bounds} bounds defined which is insufficient to cover total span length of {spans}: histogram custom bounds are too few"
    )]
    CustomBucketsMismatch { bounds: usize, spans: usize },
    #[error(
        "custom buckets: previous bound is {prev} and current is {cur}: histogram custom bounds must be in strictly increasing order"
    )]
    CustomBucketsInvalid { prev: f64, cur: f64 },
    #[error(
        "custom buckets: last +Inf bound must not be explicitly defined: histogram custom bounds must be finite"
    )]
    CustomBucketsInfinite,
    #[error(
        "cannot apply this operation on histograms with a mix of exponential and custom bucket schemas"
    )]
    IncompatibleSchema,
}

/// One bucket with its bounds, as iterated by [`FloatHistogram::positive_buckets_iter`] and
/// [`FloatHistogram::negative_buckets_iter`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    pub lower: f64,
    pub upper: f64,
    pub lower_inclusive: bool,
    pub upper_inclusive: bool,
    pub count: f64,
    /// The bucket's index in its schema (the position in the custom bounds for NHCB).
    pub index: i32,
}

/// The upper bound of the exponential bucket `index` at `schema` (its lower bound is the upper
/// bound of `index - 1`). Bucket `i` covers `(2^((i-1)/2^schema), 2^(i/2^schema)]`.
pub fn exponential_bucket_bound(index: i32, schema: i32) -> f64 {
    if schema <= 0 {
        let exp = i64::from(index) << (-schema);
        return ldexp(1.0, exp);
    }
    let per_octave = 1i32 << schema;
    let frac_index = index & (per_octave - 1);
    let exp = i64::from(index >> schema) + 1;
    let frac = (f64::from(frac_index) / f64::from(per_octave) - 1.0).exp2();
    ldexp(frac, exp)
}

/// `frac · 2^exp`, saturating to the largest float past the top as upstream does for the last
/// bucket (so that bucket still has a finite upper bound).
fn ldexp(frac: f64, exp: i64) -> f64 {
    if exp >= 1024 && frac >= 1.0 || exp > 1024 {
        return f64::MAX;
    }
    let exp = exp.max(-1100) as i32;
    // Split the power so that neither factor overflows or underflows on its own.
    let half = exp / 2;
    frac * 2f64.powi(half) * 2f64.powi(exp - half)
}

/// Absolute bucket indices with their counts, in ascending index order.
fn expand(spans: &[Span], buckets: &[f64]) -> Vec<(i32, f64)> {
    let mut out = Vec::with_capacity(buckets.len());
    let mut counts = buckets.iter();
    let mut index = 0i32;
    // The first offset is absolute; later ones count from the end of the previous span.
    for span in spans {
        index += span.offset;
        for _ in 0..span.length {
            if let Some(&c) = counts.next() {
                out.push((index, c));
            }
            index += 1;
        }
    }
    out
}

/// Rebuilds spans and buckets from ascending `(index, count)` pairs; consecutive indices share a
/// span. With `drop_empty`, zero counts are left out (upstream `Compact(0)`).
fn collapse(
    items: impl IntoIterator<Item = (i32, f64)>,
    drop_empty: bool,
) -> (Vec<Span>, Vec<f64>) {
    let mut spans: Vec<Span> = Vec::new();
    let mut buckets = Vec::new();
    let mut next_index: Option<i32> = None;
    for (index, count) in items {
        if drop_empty && count == 0.0 {
            continue;
        }
        match (next_index, spans.last_mut()) {
            (Some(n), Some(last)) if n == index => last.length += 1,
            _ => spans.push(Span {
                offset: index - next_index.unwrap_or(0),
                length: 1,
            }),
        }
        buckets.push(count);
        next_index = Some(index + 1);
    }
    (spans, buckets)
}

/// The index at `target` schema of the bucket `index` at the finer `schema`.
fn reduced_index(index: i32, schema: i32, target: i32) -> i32 {
    ((index - 1) >> (schema - target)) + 1
}

/// What an addition or subtraction had to reconcile (upstream's extra return values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Combined {
    /// The custom bucket bounds differed: the result has only the bounds both shared.
    pub custom_bounds_reconciled: bool,
}

/// The bounds present in both ascending lists.
fn shared_bounds(a: &[f64], b: &[f64]) -> Vec<f64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(a[i]);
            i += 1;
            j += 1;
        } else if a[i] < b[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// One step of Kahan–Neumaier summation: adds `inc` to `sum` with compensation `c`, returning
/// the new sum and compensation. An infinite sum resets the compensation to 0 (it would be
/// NaN otherwise). The final value is `sum + c`.
#[inline]
pub fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    // Inlining is safe for upstream's rounding: Rust never contracts a multiply and an add
    // into a fused multiply-add on its own (only `mul_add` does), so callers computing `inc`
    // as a product keep both roundings.
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// Adds `items` (scaled by `factor`) into `acc` with compensation kept in `c`.
fn kahan_merge(
    acc: &mut BTreeMap<i32, f64>,
    c: &mut BTreeMap<i32, f64>,
    items: Vec<(i32, f64)>,
    factor: f64,
) {
    for (i, v) in items {
        let sum = acc.entry(i).or_insert(0.0);
        let comp = c.entry(i).or_insert(0.0);
        (*sum, *comp) = kahan_inc(v * factor, *sum, *comp);
    }
}

fn merge_into(acc: &mut BTreeMap<i32, f64>, items: Vec<(i32, f64)>, factor: f64) {
    for (i, c) in items {
        *acc.entry(i).or_insert(0.0) += c * factor;
    }
}

impl FloatHistogram {
    /// Whether the buckets are custom bounds (NHCB, schema -53).
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }

    fn positive(&self) -> Vec<(i32, f64)> {
        expand(&self.positive_spans, &self.positive_buckets)
    }

    fn negative(&self) -> Vec<(i32, f64)> {
        expand(&self.negative_spans, &self.negative_buckets)
    }

    fn set_positive(&mut self, items: impl IntoIterator<Item = (i32, f64)>, drop_empty: bool) {
        (self.positive_spans, self.positive_buckets) = collapse(items, drop_empty);
    }

    fn set_negative(&mut self, items: impl IntoIterator<Item = (i32, f64)>, drop_empty: bool) {
        (self.negative_spans, self.negative_buckets) = collapse(items, drop_empty);
    }

    /// Removes every empty bucket and merges adjacent spans (upstream `Compact(0)`), the
    /// canonical form histograms are compared in.
    pub fn compact(&mut self) {
        let (pos, neg) = (self.positive(), self.negative());
        self.set_positive(pos, true);
        self.set_negative(neg, true);
    }

    /// A compacted copy.
    pub fn compacted(&self) -> FloatHistogram {
        let mut h = self.clone();
        h.compact();
        h
    }

    /// Merges buckets down to the coarser `target` schema; a no-op when `target` is not lower
    /// than the current schema or the buckets are custom.
    pub fn reduce_resolution(&mut self, target: i32) {
        if self.uses_custom_buckets() || target >= self.schema {
            return;
        }
        let schema = self.schema;
        let reduce = |items: Vec<(i32, f64)>| {
            let mut acc = BTreeMap::new();
            for (i, c) in items {
                *acc.entry(reduced_index(i, schema, target)).or_insert(0.0) += c;
            }
            acc
        };
        let (pos, neg) = (reduce(self.positive()), reduce(self.negative()));
        self.set_positive(pos, false);
        self.set_negative(neg, false);
        self.schema = target;
    }

    /// The zero count and threshold after widening the zero bucket to at least `threshold`:
    /// buckets entirely inside it are absorbed, and a bucket straddling it widens the threshold
    /// to that bucket's upper bound.
    fn zero_count_for_threshold(&self, threshold: f64) -> (f64, f64) {
        if threshold <= self.zero_threshold || self.uses_custom_buckets() {
            return (self.zero_count, self.zero_threshold.max(threshold));
        }
        let mut threshold = threshold;
        loop {
            let mut count = self.zero_count;
            let mut widened = false;
            for (i, c) in self.positive().into_iter().chain(self.negative()) {
                let upper = exponential_bucket_bound(i, self.schema);
                let lower = exponential_bucket_bound(i - 1, self.schema);
                if upper <= threshold {
                    count += c;
                } else if lower < threshold {
                    threshold = upper;
                    widened = true;
                    break;
                }
            }
            if !widened {
                return (count, threshold);
            }
        }
    }

    /// Widens the zero bucket to `threshold` (see [`Self::zero_count_for_threshold`]).
    fn widen_zero_bucket(&mut self, threshold: f64) {
        let (count, threshold) = self.zero_count_for_threshold(threshold);
        if threshold == self.zero_threshold {
            return;
        }
        let schema = self.schema;
        let keep = |&(i, _): &(i32, f64)| exponential_bucket_bound(i, schema) > threshold;
        let pos: Vec<_> = self.positive().into_iter().filter(keep).collect();
        let neg: Vec<_> = self.negative().into_iter().filter(keep).collect();
        self.set_positive(pos, false);
        self.set_negative(neg, false);
        self.zero_count = count;
        self.zero_threshold = threshold;
    }

    /// Adds `other` into `self`, at the lower of both schemas and the wider zero bucket.
    /// Custom-bucket histograms with different bounds are reconciled to the bounds both
    /// share (see [`Combined`]).
    pub fn add(&mut self, other: &FloatHistogram) -> Result<Combined, HistogramError> {
        self.combine(other, 1.0, None)
    }

    /// Subtracts `other` from `self` (buckets may become negative, as upstream).
    pub fn sub(&mut self, other: &FloatHistogram) -> Result<Combined, HistogramError> {
        self.combine(other, -1.0, None)
    }

    /// Like [`Self::add`], with Kahan summation (upstream `KahanAdd`): the rounding error of
    /// every count is carried in the compensation histogram `c` (created on first use), so
    /// that long sums of values of very different magnitude stay exact. The sum is
    /// `self + c`: add the compensation once at the end.
    pub fn kahan_add(
        &mut self,
        other: &FloatHistogram,
        c: &mut Option<FloatHistogram>,
    ) -> Result<Combined, HistogramError> {
        self.combine(other, 1.0, Some(c))
    }

    fn combine(
        &mut self,
        other: &FloatHistogram,
        factor: f64,
        compensation: Option<&mut Option<FloatHistogram>>,
    ) -> Result<Combined, HistogramError> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(HistogramError::IncompatibleSchema);
        }
        self.counter_reset_hint = combined_hint(self.counter_reset_hint, other.counter_reset_hint);
        let mut c = compensation.map(|c| c.get_or_insert_with(|| self.zeroed()));
        let mut other = other.clone();
        let mut combined = Combined::default();
        if self.uses_custom_buckets() {
            if !bounds_match(&self.custom_values, &other.custom_values) {
                let shared = shared_bounds(&self.custom_values, &other.custom_values);
                self.map_to_bounds(&shared);
                other.map_to_bounds(&shared);
                if let Some(c) = c.as_deref_mut() {
                    c.map_to_bounds(&shared);
                }
                combined.custom_bounds_reconciled = true;
            }
        } else {
            let schema = self.schema.min(other.schema);
            self.reduce_resolution(schema);
            other.reduce_resolution(schema);
            // Widening one side can widen it past the other's threshold again; repeat until
            // equal.
            while self.zero_threshold != other.zero_threshold {
                let threshold = self.zero_threshold.max(other.zero_threshold);
                self.widen_zero_bucket(threshold);
                other.widen_zero_bucket(threshold);
            }
            if let Some(c) = c.as_deref_mut() {
                c.reduce_resolution(schema);
                c.widen_zero_bucket(self.zero_threshold);
                c.zero_threshold = self.zero_threshold;
            }
        }
        let mut pos: BTreeMap<i32, f64> = self.positive().into_iter().collect();
        let mut neg: BTreeMap<i32, f64> = self.negative().into_iter().collect();
        match c {
            None => {
                merge_into(&mut pos, other.positive(), factor);
                merge_into(&mut neg, other.negative(), factor);
                self.zero_count += factor * other.zero_count;
                self.count += factor * other.count;
                self.sum += factor * other.sum;
            }
            Some(c) => {
                let mut c_pos: BTreeMap<i32, f64> = c.positive().into_iter().collect();
                let mut c_neg: BTreeMap<i32, f64> = c.negative().into_iter().collect();
                kahan_merge(&mut pos, &mut c_pos, other.positive(), factor);
                kahan_merge(&mut neg, &mut c_neg, other.negative(), factor);
                (self.zero_count, c.zero_count) =
                    kahan_inc(factor * other.zero_count, self.zero_count, c.zero_count);
                (self.count, c.count) = kahan_inc(factor * other.count, self.count, c.count);
                (self.sum, c.sum) = kahan_inc(factor * other.sum, self.sum, c.sum);
                c.set_positive(c_pos, false);
                c.set_negative(c_neg, false);
            }
        }
        // Reconciled custom buckets keep only the buckets holding something, as upstream.
        let drop_empty = combined.custom_bounds_reconciled;
        self.set_positive(pos, drop_empty);
        self.set_negative(neg, drop_empty);
        Ok(combined)
    }

    /// An empty histogram with the layout parameters of `self`: the start of a compensation.
    fn zeroed(&self) -> FloatHistogram {
        FloatHistogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            custom_values: self.custom_values.clone(),
            ..FloatHistogram::default()
        }
    }

    /// Moves every custom bucket into the bucket of `shared` (a subset of the bounds) that
    /// covers it: the first shared bound at or above its own, else the `+Inf` bucket.
    fn map_to_bounds(&mut self, shared: &[f64]) {
        let mut acc = BTreeMap::new();
        for (i, count) in self.positive() {
            let target = match usize::try_from(i)
                .ok()
                .and_then(|i| self.custom_values.get(i))
            {
                Some(&bound) => shared.partition_point(|&s| s < bound),
                None => shared.len(),
            };
            *acc.entry(target as i32).or_insert(0.0) += count;
        }
        self.custom_values = shared.to_vec();
        self.set_positive(acc, false);
    }

    /// Whether any count, the sum or a custom bound is infinite (a sum overflowed).
    pub fn has_overflow(&self) -> bool {
        [self.zero_count, self.count, self.sum]
            .iter()
            .chain(&self.positive_buckets)
            .chain(&self.negative_buckets)
            .chain(&self.custom_values)
            .any(|v| v.is_infinite())
    }

    /// Scales every count and the sum by `factor`.
    pub fn mul(&mut self, factor: f64) {
        self.scale(|c| c * factor);
    }

    /// Divides every count and the sum by `divisor` (IEEE semantics: by zero gives ±Inf or NaN).
    pub fn div(&mut self, divisor: f64) {
        self.scale(|c| c / divisor);
    }

    fn scale(&mut self, f: impl Fn(f64) -> f64) {
        self.zero_count = f(self.zero_count);
        self.count = f(self.count);
        self.sum = f(self.sum);
        for c in self
            .positive_buckets
            .iter_mut()
            .chain(&mut self.negative_buckets)
        {
            *c = f(*c);
        }
    }

    /// Whether `self` follows `previous` only after a counter reset (upstream `DetectReset`):
    /// a `reset`/`not_reset` hint decides; otherwise (gauges too, since PromQL lets counter
    /// functions run on them) any decrease of the count, the zero bucket or any bucket, an
    /// increase of resolution, a narrowing zero bucket or a switch between exponential and
    /// custom buckets. Custom buckets with changed bounds are compared on the bounds both
    /// share: a reset when any such bucket lost observations.
    pub fn detect_reset(&self, previous: &FloatHistogram) -> bool {
        match self.counter_reset_hint {
            CounterResetHint::CounterReset => return true,
            CounterResetHint::NotCounterReset => return false,
            CounterResetHint::Unknown | CounterResetHint::Gauge => {}
        }
        if self.count < previous.count
            || self.uses_custom_buckets() != previous.uses_custom_buckets()
        {
            return true;
        }
        if self.uses_custom_buckets() && !bounds_match(&self.custom_values, &previous.custom_values)
        {
            let shared = shared_bounds(&self.custom_values, &previous.custom_values);
            let (mut cur, mut prev) = (self.clone(), previous.clone());
            cur.map_to_bounds(&shared);
            prev.map_to_bounds(&shared);
            return bucket_decreased(&cur.positive(), &prev.positive());
        }
        if self.schema > previous.schema || self.zero_threshold < previous.zero_threshold {
            return true;
        }
        let mut prev = previous.clone();
        prev.reduce_resolution(self.schema);
        let (prev_zero, threshold) = prev.zero_count_for_threshold(self.zero_threshold);
        if threshold != self.zero_threshold || self.zero_count < prev_zero {
            return true;
        }
        prev.widen_zero_bucket(threshold);
        bucket_decreased(&self.positive(), &prev.positive())
            || bucket_decreased(&self.negative(), &prev.negative())
    }

    /// Data equality of the compacted forms, as upstream `Equals`: counts and sum compared
    /// bit for bit (so NaN sums match), the counter-reset hint ignored.
    pub fn equals(&self, other: &FloatHistogram) -> bool {
        let (a, b) = (self.compacted(), other.compacted());
        let same = |x: f64, y: f64| x.to_bits() == y.to_bits();
        let all_same =
            |x: &[f64], y: &[f64]| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(*p, *q));
        a.schema == b.schema
            && a.zero_threshold == b.zero_threshold
            && same(a.zero_count, b.zero_count)
            && same(a.count, b.count)
            && same(a.sum, b.sum)
            && a.positive_spans == b.positive_spans
            && a.negative_spans == b.negative_spans
            && all_same(&a.positive_buckets, &b.positive_buckets)
            && all_same(&a.negative_buckets, &b.negative_buckets)
            && (!a.uses_custom_buckets() || bounds_match(&a.custom_values, &b.custom_values))
    }

    /// Checks the structural invariants upstream enforces before storing or returning one.
    pub fn validate(&self) -> Result<(), HistogramError> {
        check_spans(
            "negative",
            &self.negative_spans,
            self.negative_buckets.len(),
        )?;
        check_spans(
            "positive",
            &self.positive_spans,
            self.positive_buckets.len(),
        )?;
        check_counts("negative", &self.negative_buckets)?;
        check_counts("positive", &self.positive_buckets)?;
        if self.uses_custom_buckets() {
            if self.zero_count != 0.0 {
                return Err(HistogramError::CustomBucketsZeroCount);
            }
            if self.zero_threshold != 0.0 {
                return Err(HistogramError::CustomBucketsZeroThreshold);
            }
            if !self.negative_spans.is_empty() || !self.negative_buckets.is_empty() {
                return Err(HistogramError::CustomBucketsNegativeBuckets);
            }
            check_custom_bounds(&self.custom_values, &self.positive_spans)?;
        } else {
            if !(MIN_EXPONENTIAL_SCHEMA..=MAX_EXPONENTIAL_SCHEMA).contains(&self.schema) {
                return Err(HistogramError::InvalidSchema(self.schema));
            }
            if !self.custom_values.is_empty() {
                return Err(HistogramError::ExponentialSchemaCustomBounds);
            }
        }
        let observed = self.zero_count
            + self.positive_buckets.iter().sum::<f64>()
            + self.negative_buckets.iter().sum::<f64>();
        if observed > self.count {
            return Err(HistogramError::CountNotBigEnough {
                count: observed,
                field: self.count,
            });
        }
        Ok(())
    }

    /// The positive buckets in ascending order of their bounds. Exponential buckets include
    /// their upper bound; custom buckets span from the previous bound (-Inf for the first) to
    /// their own (+Inf past the last bound).
    pub fn positive_buckets_iter(&self) -> impl Iterator<Item = Bucket> + '_ {
        self.positive().into_iter().map(move |(index, count)| {
            if self.uses_custom_buckets() {
                let bound = |i: i32| {
                    usize::try_from(i)
                        .ok()
                        .and_then(|i| self.custom_values.get(i))
                };
                Bucket {
                    lower: bound(index - 1).copied().unwrap_or(f64::NEG_INFINITY),
                    upper: bound(index).copied().unwrap_or(f64::INFINITY),
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count,
                    index,
                }
            } else {
                Bucket {
                    lower: exponential_bucket_bound(index - 1, self.schema),
                    upper: exponential_bucket_bound(index, self.schema),
                    lower_inclusive: false,
                    upper_inclusive: true,
                    count,
                    index,
                }
            }
        })
    }

    /// The negative buckets from the one nearest zero outwards; bounds are negative and the
    /// lower bound is inclusive (mirror image of the positive side).
    pub fn negative_buckets_iter(&self) -> impl Iterator<Item = Bucket> + '_ {
        self.negative()
            .into_iter()
            .map(move |(index, count)| Bucket {
                lower: -exponential_bucket_bound(index, self.schema),
                upper: -exponential_bucket_bound(index - 1, self.schema),
                lower_inclusive: true,
                upper_inclusive: false,
                count,
                index,
            })
    }

    /// The integer form, when every count is a non-negative whole number (else `None`).
    pub fn to_int(&self) -> Option<Histogram> {
        fn whole(c: f64) -> Option<u64> {
            (c >= 0.0 && c.fract() == 0.0 && c < u64::MAX as f64).then_some(c as u64)
        }
        fn deltas(buckets: &[f64]) -> Option<Vec<i64>> {
            let mut prev = 0i64;
            buckets
                .iter()
                .map(|&c| {
                    let c = whole(c)? as i64;
                    let d = c - prev;
                    prev = c;
                    Some(d)
                })
                .collect()
        }
        Some(Histogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            zero_count: whole(self.zero_count)?,
            count: whole(self.count)?,
            sum: self.sum,
            positive_spans: self.positive_spans.clone(),
            negative_spans: self.negative_spans.clone(),
            positive_deltas: deltas(&self.positive_buckets)?,
            negative_deltas: deltas(&self.negative_buckets)?,
            custom_values: self.custom_values.clone(),
        })
    }
}

/// Custom bounds compared bit for bit, as upstream's `FloatBucketsMatch`.
fn bounds_match(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// The hint of a sum: equal hints stay, a gauge makes a gauge, anything else is unknown.
fn combined_hint(a: CounterResetHint, b: CounterResetHint) -> CounterResetHint {
    match (a, b) {
        _ if a == b => a,
        (CounterResetHint::Gauge, _) | (_, CounterResetHint::Gauge) => CounterResetHint::Gauge,
        _ => CounterResetHint::Unknown,
    }
}

/// Whether any bucket of `prev` has a larger count in `cur` (missing buckets count as 0).
fn bucket_decreased(cur: &[(i32, f64)], prev: &[(i32, f64)]) -> bool {
    let cur: BTreeMap<i32, f64> = cur.iter().copied().collect();
    prev.iter()
        .any(|&(i, p)| p > 0.0 && cur.get(&i).copied().unwrap_or(0.0) < p)
}

fn check_spans(side: &'static str, spans: &[Span], have: usize) -> Result<(), HistogramError> {
    for (span, s) in spans.iter().enumerate().skip(1) {
        if s.offset < 0 {
            return Err(HistogramError::NegativeSpanOffset {
                side,
                span,
                offset: s.offset,
            });
        }
    }
    let need = spans.iter().map(|s| s.length as usize).sum();
    if need != have {
        return Err(HistogramError::SpansBucketsMismatch { side, need, have });
    }
    Ok(())
}

fn check_counts(side: &'static str, buckets: &[f64]) -> Result<(), HistogramError> {
    match buckets.iter().position(|&c| c < 0.0) {
        Some(bucket) => Err(HistogramError::NegativeBucketCount {
            side,
            bucket,
            count: buckets[bucket],
        }),
        None => Ok(()),
    }
}

fn check_custom_bounds(bounds: &[f64], spans: &[Span]) -> Result<(), HistogramError> {
    let mut prev = f64::NEG_INFINITY;
    for &b in bounds {
        if b <= prev {
            return Err(HistogramError::CustomBucketsInvalid { prev, cur: b });
        }
        prev = b;
    }
    if prev == f64::INFINITY {
        return Err(HistogramError::CustomBucketsInfinite);
    }
    // The last bucket, past the last bound, is the implicit +Inf one.
    let spans_len = spans
        .iter()
        .map(|s| i64::from(s.offset) + i64::from(s.length))
        .sum::<i64>();
    if spans_len > bounds.len() as i64 + 1 {
        return Err(HistogramError::CustomBucketsMismatch {
            bounds: bounds.len(),
            spans: spans_len as usize,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
