//! Histogram scaling with upstream's side effects, beyond pm-common's arithmetic.

use pm_common::model::{CounterResetHint, FloatHistogram};

/// Multiplies by `factor`; a negative factor turns the histogram into a gauge, as upstream.
pub(crate) fn scale(h: &mut FloatHistogram, factor: f64) {
    h.mul(factor);
    if factor < 0.0 {
        h.counter_reset_hint = CounterResetHint::Gauge;
    }
}

/// Divides by `divisor`; dividing by zero removes all buckets and a negative divisor turns the
/// histogram into a gauge, as upstream.
pub(crate) fn divide(h: &mut FloatHistogram, divisor: f64) {
    h.div(divisor);
    if divisor == 0.0 {
        h.positive_buckets.clear();
        h.negative_buckets.clear();
        h.positive_spans.clear();
        h.negative_spans.clear();
    } else if divisor < 0.0 {
        h.counter_reset_hint = CounterResetHint::Gauge;
    }
}
