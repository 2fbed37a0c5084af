//! Histogram helpers the engine needs beyond pm-common's arithmetic: upstream's text form
//! (used as a label value by `count_values`) and scaling with upstream's side effects.

use std::fmt::Write;

use pm_common::expfmt::encode::float::format_g;
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

/// Upstream's `FloatHistogram.String()`: count, sum, then the populated buckets from the most
/// negative to the most positive, e.g. `{count:5, sum:2.5, [-1,-0.5):1, [-0.001,0.001]:2}`.
pub(crate) fn histogram_string(h: &FloatHistogram) -> String {
    let mut out = format!("{{count:{}, sum:{}", format_g(h.count), format_g(h.sum));
    let bucket = |out: &mut String, lower: f64, upper: f64, li: bool, ui: bool, count: f64| {
        let _ = write!(
            out,
            ", {}{},{}{}:{}",
            if li { '[' } else { '(' },
            format_g(lower),
            format_g(upper),
            if ui { ']' } else { ')' },
            format_g(count)
        );
    };
    let negative: Vec<_> = h
        .negative_buckets_iter()
        .filter(|b| b.count != 0.0)
        .collect();
    for b in negative.iter().rev() {
        bucket(
            &mut out,
            b.lower,
            b.upper,
            b.lower_inclusive,
            b.upper_inclusive,
            b.count,
        );
    }
    if h.zero_count != 0.0 {
        bucket(
            &mut out,
            -h.zero_threshold,
            h.zero_threshold,
            true,
            true,
            h.zero_count,
        );
    }
    for b in h.positive_buckets_iter().filter(|b| b.count != 0.0) {
        bucket(
            &mut out,
            b.lower,
            b.upper,
            b.lower_inclusive,
            b.upper_inclusive,
            b.count,
        );
    }
    out.push('}');
    out
}
