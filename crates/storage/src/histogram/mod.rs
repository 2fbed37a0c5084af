//! Validation of native histograms before they are stored, with upstream's error texts
//! (`model/histogram`'s `Validate`): the TSDB head, the remote-write receiver and the test
//! storage reject malformed histograms the same way.

use std::fmt;

use pm_common::model::{CUSTOM_BUCKETS_SCHEMA, FloatHistogram, Histogram, Span};

use crate::error::GoFloat;

/// What is wrong with a histogram; the texts are upstream's sentinel errors, so callers can
/// classify by kind as upstream does with `errors.Is`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HistogramErrorKind {
    CountNotBigEnough,
    CountMismatch,
    NegativeBucketCount,
    SpanNegativeOffset,
    SpansBucketsMismatch,
    CustomBucketsMismatch,
    CustomBucketsInvalid,
    CustomBucketsInfinite,
    CustomBucketsNaN,
    CustomBucketsZeroCount,
    CustomBucketsZeroThreshold,
    CustomBucketsNegativeSpans,
    CustomBucketsNegativeBuckets,
    ExponentialSchemaCustomBounds,
}

impl HistogramErrorKind {
    pub fn as_str(self) -> &'static str {
        use HistogramErrorKind::*;
        match self {
            CountNotBigEnough => {
                "histogram's observation count should be at least the number of observations \
                 found in the buckets"
            }
            CountMismatch => {
                "histogram's observation count should equal the number of observations found in \
                 the buckets (in absence of NaN)"
            }
            NegativeBucketCount => "histogram has a bucket whose observation count is negative",
            SpanNegativeOffset => "histogram has a span whose offset is negative",
            SpansBucketsMismatch => {
                "histogram spans specify different number of buckets than provided"
            }
            CustomBucketsMismatch => "histogram custom bounds are too few",
            CustomBucketsInvalid => "histogram custom bounds must be in strictly increasing order",
            CustomBucketsInfinite => "histogram custom bounds must be finite",
            CustomBucketsNaN => "histogram custom bounds must not be NaN",
            CustomBucketsZeroCount => "custom buckets: must have zero count of 0",
            CustomBucketsZeroThreshold => "custom buckets: must have zero threshold of 0",
            CustomBucketsNegativeSpans => "custom buckets: must not have negative spans",
            CustomBucketsNegativeBuckets => "custom buckets: must not have negative buckets",
            ExponentialSchemaCustomBounds => {
                "histogram with exponential schema must not have custom bounds"
            }
        }
    }
}

/// A rejected histogram: the kind, plus where (`positive side`, `negative side`, `custom
/// buckets`) and the offending numbers, rendered as upstream's wrapped error chain
/// (`positive side: bucket number 2 has observation count of -1: histogram has a bucket…`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistogramError {
    pub kind: HistogramErrorKind,
    context: Option<&'static str>,
    detail: Option<String>,
}

impl HistogramError {
    fn new(kind: HistogramErrorKind, detail: Option<String>) -> Self {
        HistogramError {
            kind,
            context: None,
            detail,
        }
    }

    fn within(mut self, context: &'static str) -> Self {
        self.context = Some(context);
        self
    }
}

impl fmt::Display for HistogramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = self.context {
            write!(f, "{c}: ")?;
        }
        if let Some(d) = &self.detail {
            write!(f, "{d}: ")?;
        }
        f.write_str(self.kind.as_str())
    }
}

impl std::error::Error for HistogramError {}

type Result<T> = std::result::Result<T, HistogramError>;

/// Checks an integer histogram's internal consistency: spans against buckets, no negative
/// counts, the count against the buckets (at least, when the sum is NaN, since NaN observations
/// are counted but land in no bucket), and the rules of custom-bucket histograms.
pub fn validate_histogram(h: &Histogram) -> Result<()> {
    let mut counts = 0u64;
    if h.schema == CUSTOM_BUCKETS_SCHEMA {
        check_custom(
            &h.custom_values,
            &h.positive_spans,
            h.positive_deltas.len(),
            h.zero_count != 0,
            h.zero_threshold,
            !h.negative_spans.is_empty(),
            !h.negative_deltas.is_empty(),
        )?;
    } else {
        check_spans(&h.positive_spans, h.positive_deltas.len())
            .map_err(|e| e.within("positive side"))?;
        check_spans(&h.negative_spans, h.negative_deltas.len())
            .map_err(|e| e.within("negative side"))?;
        counts += delta_bucket_total(&h.negative_deltas).map_err(|e| e.within("negative side"))?;
        if !h.custom_values.is_empty() {
            return Err(HistogramError::new(
                HistogramErrorKind::ExponentialSchemaCustomBounds,
                None,
            ));
        }
    }
    counts += delta_bucket_total(&h.positive_deltas).map_err(|e| e.within("positive side"))?;
    counts += h.zero_count;
    let kind = if h.sum.is_nan() {
        (counts > h.count).then_some(HistogramErrorKind::CountNotBigEnough)
    } else {
        (counts != h.count).then_some(HistogramErrorKind::CountMismatch)
    };
    match kind {
        Some(kind) => Err(HistogramError::new(
            kind,
            Some(format!(
                "{counts} observations found in buckets, but the Count field is {}",
                h.count
            )),
        )),
        None => Ok(()),
    }
}

/// As [`validate_histogram`] for float histograms, except that the count is not compared with
/// the buckets: float rounding would make that check fail on valid data.
pub fn validate_float_histogram(h: &FloatHistogram) -> Result<()> {
    if h.schema == CUSTOM_BUCKETS_SCHEMA {
        check_custom(
            &h.custom_values,
            &h.positive_spans,
            h.positive_buckets.len(),
            h.zero_count != 0.0,
            h.zero_threshold,
            !h.negative_spans.is_empty(),
            !h.negative_buckets.is_empty(),
        )?;
    } else {
        check_spans(&h.positive_spans, h.positive_buckets.len())
            .map_err(|e| e.within("positive side"))?;
        check_spans(&h.negative_spans, h.negative_buckets.len())
            .map_err(|e| e.within("negative side"))?;
        check_float_buckets(&h.negative_buckets).map_err(|e| e.within("negative side"))?;
        if !h.custom_values.is_empty() {
            return Err(HistogramError::new(
                HistogramErrorKind::ExponentialSchemaCustomBounds,
                None,
            ));
        }
    }
    check_float_buckets(&h.positive_buckets).map_err(|e| e.within("positive side"))
}

/// Only the first span may have a negative offset (it is absolute); the spans' lengths must add
/// up to the number of buckets.
fn check_spans(spans: &[Span], buckets: usize) -> Result<()> {
    for (n, span) in spans.iter().enumerate().skip(1) {
        if span.offset < 0 {
            return Err(negative_offset(n, span.offset));
        }
    }
    span_total(spans, buckets)
}

fn span_total(spans: &[Span], buckets: usize) -> Result<()> {
    let needed: usize = spans.iter().map(|s| s.length as usize).sum();
    if needed != buckets {
        return Err(HistogramError::new(
            HistogramErrorKind::SpansBucketsMismatch,
            Some(format!(
                "spans need {needed} buckets, have {buckets} buckets"
            )),
        ));
    }
    Ok(())
}

fn negative_offset(n: usize, offset: i32) -> HistogramError {
    HistogramError::new(
        HistogramErrorKind::SpanNegativeOffset,
        Some(format!("span number {} with offset {offset}", n + 1)),
    )
}

/// Sums delta-encoded bucket counts, rejecting a negative absolute count.
fn delta_bucket_total(deltas: &[i64]) -> Result<u64> {
    let mut current = 0i64;
    let mut total = 0u64;
    for (i, d) in deltas.iter().enumerate() {
        current = current.wrapping_add(*d);
        if current < 0 {
            return Err(negative_bucket(i, current.to_string()));
        }
        total = total.wrapping_add(current as u64);
    }
    Ok(total)
}

fn check_float_buckets(buckets: &[f64]) -> Result<()> {
    match buckets.iter().position(|&c| c < 0.0) {
        Some(i) => Err(negative_bucket(i, GoFloat(buckets[i]).to_string())),
        None => Ok(()),
    }
}

fn negative_bucket(i: usize, count: String) -> HistogramError {
    HistogramError::new(
        HistogramErrorKind::NegativeBucketCount,
        Some(format!(
            "bucket number {} has observation count of {count}",
            i + 1
        )),
    )
}

/// The rules of custom-bucket (NHCB) histograms: finite, strictly increasing bounds (the `+Inf`
/// bound is implicit), enough bounds for the spans, and no zero bucket or negative side.
fn check_custom(
    bounds: &[f64],
    spans: &[Span],
    buckets: usize,
    has_zero_count: bool,
    zero_threshold: f64,
    has_negative_spans: bool,
    has_negative_buckets: bool,
) -> Result<()> {
    check_custom_bounds(bounds, spans, buckets).map_err(|e| e.within("custom buckets"))?;
    let kind = if has_zero_count {
        HistogramErrorKind::CustomBucketsZeroCount
    } else if zero_threshold != 0.0 {
        HistogramErrorKind::CustomBucketsZeroThreshold
    } else if has_negative_spans {
        HistogramErrorKind::CustomBucketsNegativeSpans
    } else if has_negative_buckets {
        HistogramErrorKind::CustomBucketsNegativeBuckets
    } else {
        return Ok(());
    };
    Err(HistogramError::new(kind, None))
}

/// Go's `%f`: six decimals, `+Inf`/`-Inf` for infinities.
fn go_fixed(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{v:.6}")
    }
}

fn check_custom_bounds(bounds: &[f64], spans: &[Span], buckets: usize) -> Result<()> {
    let mut prev = f64::NEG_INFINITY;
    for (i, &b) in bounds.iter().enumerate() {
        if b.is_nan() {
            return Err(HistogramError::new(
                HistogramErrorKind::CustomBucketsNaN,
                None,
            ));
        }
        if i > 0 && b <= prev {
            return Err(HistogramError::new(
                HistogramErrorKind::CustomBucketsInvalid,
                Some(format!(
                    "previous bound is {} and current is {}",
                    go_fixed(prev),
                    go_fixed(b)
                )),
            ));
        }
        prev = b;
    }
    if prev == f64::INFINITY {
        return Err(HistogramError::new(
            HistogramErrorKind::CustomBucketsInfinite,
            Some("last +Inf bound must not be explicitly defined".to_owned()),
        ));
    }
    let mut covered = 0usize;
    for (n, span) in spans.iter().enumerate() {
        if span.offset < 0 {
            return Err(negative_offset(n, span.offset));
        }
        covered += span.length as usize + span.offset as usize;
    }
    span_total(spans, buckets)?;
    if bounds.len() + 1 < covered {
        return Err(HistogramError::new(
            HistogramErrorKind::CustomBucketsMismatch,
            Some(format!(
                "only {} custom bounds defined which is insufficient to cover total span length \
                 of {covered}",
                bounds.len()
            )),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
