//! `native_histogram_bucket_limit` and `native_histogram_min_bucket_factor`: scraped native
//! histograms lose resolution (neighbouring buckets merged by lowering the schema) until they
//! fit, as upstream's bucket-limit and max-schema appenders do. A histogram that cannot fit
//! fails the scrape with `histogram bucket limit exceeded`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use pm_common::model::{
    FloatHistogram, Histogram, MAX_EXPONENTIAL_SCHEMA, MIN_EXPONENTIAL_SCHEMA, Span,
};

use super::proto::NativeHistogram;

/// Schemas upstream reserves for exponential buckets (only some are in use yet): a schema
/// above the cap in this range is reduced.
const RESERVED_SCHEMAS: std::ops::RangeInclusive<i32> = -9..=52;

/// The scrape failed because a histogram has more buckets than the limit allows even at the
/// coarsest schema (or has custom buckets, which cannot be merged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("histogram bucket limit exceeded")]
pub struct BucketLimitExceeded;

/// A job's histogram limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct HistogramLimits {
    /// Most buckets (positive and negative together); 0 means no limit.
    pub bucket_limit: usize,
    /// The finest schema kept, from the minimum bucket growth factor.
    pub max_schema: i32,
}

impl Default for HistogramLimits {
    fn default() -> Self {
        HistogramLimits {
            bucket_limit: 0,
            max_schema: MAX_EXPONENTIAL_SCHEMA,
        }
    }
}

impl HistogramLimits {
    pub fn new(bucket_limit: u64, min_bucket_factor: f64) -> Self {
        HistogramLimits {
            bucket_limit: usize::try_from(bucket_limit).unwrap_or(usize::MAX),
            max_schema: pick_schema(min_bucket_factor),
        }
    }

    /// `h` within the limits: borrowed when it already is, reduced otherwise.
    pub fn fit<'a>(
        &self,
        h: &'a NativeHistogram,
    ) -> Result<Cow<'a, NativeHistogram>, BucketLimitExceeded> {
        let (schema, buckets) = match h {
            NativeHistogram::Int(h) => {
                (h.schema, h.positive_deltas.len() + h.negative_deltas.len())
            }
            NativeHistogram::Float(h) => (
                h.schema,
                h.positive_buckets.len() + h.negative_buckets.len(),
            ),
        };
        let over_schema = RESERVED_SCHEMAS.contains(&schema) && schema > self.max_schema;
        let over_limit = self.bucket_limit > 0 && buckets > self.bucket_limit;
        if !over_schema && !over_limit {
            return Ok(Cow::Borrowed(h));
        }
        let mut h = h.clone();
        match &mut h {
            NativeHistogram::Int(h) => self.fit_int(h)?,
            NativeHistogram::Float(h) => self.fit_float(h)?,
        }
        Ok(Cow::Owned(h))
    }

    fn fit_int(&self, h: &mut Histogram) -> Result<(), BucketLimitExceeded> {
        if RESERVED_SCHEMAS.contains(&h.schema) && h.schema > self.max_schema {
            reduce_int(h, self.max_schema);
        }
        let buckets = |h: &Histogram| h.positive_deltas.len() + h.negative_deltas.len();
        self.shrink(h.schema, buckets(h), |target| {
            reduce_int(h, target);
            buckets(h)
        })
    }

    fn fit_float(&self, h: &mut FloatHistogram) -> Result<(), BucketLimitExceeded> {
        if RESERVED_SCHEMAS.contains(&h.schema) && h.schema > self.max_schema {
            h.reduce_resolution(self.max_schema);
        }
        let buckets = |h: &FloatHistogram| h.positive_buckets.len() + h.negative_buckets.len();
        self.shrink(h.schema, buckets(h), |target| {
            h.reduce_resolution(target);
            buckets(h)
        })
    }

    /// Lowers the schema one step at a time (`reduce` returns the new bucket count) until the
    /// bucket count is within the limit.
    fn shrink(
        &self,
        mut schema: i32,
        mut buckets: usize,
        mut reduce: impl FnMut(i32) -> usize,
    ) -> Result<(), BucketLimitExceeded> {
        if self.bucket_limit == 0 {
            return Ok(());
        }
        let exponential = (MIN_EXPONENTIAL_SCHEMA..=MAX_EXPONENTIAL_SCHEMA).contains(&schema);
        if buckets > self.bucket_limit && !exponential {
            return Err(BucketLimitExceeded);
        }
        while buckets > self.bucket_limit {
            if schema <= MIN_EXPONENTIAL_SCHEMA {
                return Err(BucketLimitExceeded);
            }
            schema -= 1;
            buckets = reduce(schema);
        }
        Ok(())
    }
}

/// The finest schema whose bucket growth factor is at least `factor` (upstream's
/// `pickSchema`; factors up to 1 mean the finest schema).
pub(crate) fn pick_schema(factor: f64) -> i32 {
    let factor = if factor <= 1.0 { 1.00271 } else { factor };
    let floor = (-factor.log2().log2()).floor();
    if floor >= f64::from(MAX_EXPONENTIAL_SCHEMA) {
        MAX_EXPONENTIAL_SCHEMA
    } else if floor <= f64::from(MIN_EXPONENTIAL_SCHEMA) {
        MIN_EXPONENTIAL_SCHEMA
    } else {
        floor as i32
    }
}

/// Merges an integer histogram's buckets down to the coarser `target` schema, keeping empty
/// buckets as upstream does.
fn reduce_int(h: &mut Histogram, target: i32) {
    if target >= h.schema {
        return;
    }
    let shift = h.schema - target;
    (h.positive_spans, h.positive_deltas) =
        reduce_side(&h.positive_spans, &h.positive_deltas, shift);
    (h.negative_spans, h.negative_deltas) =
        reduce_side(&h.negative_spans, &h.negative_deltas, shift);
    h.schema = target;
}

fn reduce_side(spans: &[Span], deltas: &[i64], shift: i32) -> (Vec<Span>, Vec<i64>) {
    let mut merged: BTreeMap<i32, i64> = BTreeMap::new();
    let mut deltas = deltas.iter();
    let (mut index, mut count) = (0i32, 0i64);
    for span in spans {
        index += span.offset;
        for _ in 0..span.length {
            let Some(d) = deltas.next() else { break };
            count += d;
            *merged.entry(((index - 1) >> shift) + 1).or_insert(0) += count;
            index += 1;
        }
    }
    let mut out_spans: Vec<Span> = Vec::new();
    let mut out_deltas = Vec::with_capacity(merged.len());
    let (mut next, mut previous) = (None::<i32>, 0i64);
    for (i, c) in merged {
        match (next, out_spans.last_mut()) {
            (Some(n), Some(last)) if n == i => last.length += 1,
            _ => out_spans.push(Span {
                offset: i - next.unwrap_or(0),
                length: 1,
            }),
        }
        out_deltas.push(c - previous);
        previous = c;
        next = Some(i + 1);
    }
    (out_spans, out_deltas)
}

#[cfg(test)]
#[path = "histogram_limit_tests.rs"]
mod tests;
