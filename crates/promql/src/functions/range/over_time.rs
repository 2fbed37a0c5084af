//! The `*_over_time` aggregations of one window.
//!
//! `avg`, `sum`, `count`, `first`, `last` and `present` accept histograms; the others look
//! at floats only and note the histograms they skipped.

use pm_common::model::{CounterResetHint, FloatHistogram, HistogramError};

use super::{Output, Window};
use crate::functions::annotations::{HistogramOperation, Issue, Issues};
use crate::functions::histogram::HistogramSum;
use crate::functions::stats::{
    KahanSum, MeanAccumulator, median_absolute_deviation, quantile, variance_over_time,
};

/// The float-only `*_over_time` functions that need nothing but the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverTime {
    Min,
    Max,
    /// Timestamp (seconds) of the last minimum / maximum.
    TsOfMin,
    TsOfMax,
    Stddev,
    Stdvar,
}

impl OverTime {
    /// The function called `name` in PromQL.
    pub fn from_name(name: &str) -> Option<OverTime> {
        Some(match name {
            "min_over_time" => OverTime::Min,
            "max_over_time" => OverTime::Max,
            "ts_of_min_over_time" => OverTime::TsOfMin,
            "ts_of_max_over_time" => OverTime::TsOfMax,
            "stddev_over_time" => OverTime::Stddev,
            "stdvar_over_time" => OverTime::Stdvar,
            _ => return None,
        })
    }

    /// The function over the window's floats; `None` when it has none.
    pub fn apply(self, w: &Window) -> (Option<f64>, Issues) {
        let Some(first) = w.floats.first() else {
            return (None, Issues::NONE);
        };
        let issues = skipped_histograms(w);
        // A NaN running extreme is replaced by any later value; ties keep the latest.
        let extreme = |better: fn(f64, f64) -> bool| {
            let (mut value, mut t) = (first.f, first.t);
            for p in w.floats {
                if better(p.f, value) || value.is_nan() {
                    (value, t) = (p.f, p.t);
                }
            }
            (value, t as f64 / 1000.0)
        };
        let value = match self {
            OverTime::Max => extreme(|cur, max| cur > max).0,
            OverTime::Min => extreme(|cur, min| cur < min).0,
            OverTime::TsOfMax => extreme(|cur, max| cur >= max).1,
            OverTime::TsOfMin => extreme(|cur, min| cur <= min).1,
            OverTime::Stdvar => variance(w),
            OverTime::Stddev => variance(w).sqrt(),
        };
        (Some(value), issues)
    }
}

fn variance(w: &Window) -> f64 {
    variance_over_time(w.floats.iter().map(|p| p.f)).unwrap_or(f64::NAN)
}

fn skipped_histograms(w: &Window) -> Issues {
    if w.histograms.is_empty() {
        Issues::NONE
    } else {
        Issues::one(Issue::HistogramIgnoredInMixedRange)
    }
}

/// Tracks the counter-reset hints of summed histograms: both `CounterReset` and
/// `NotCounterReset` in one sum is a conflict worth a warning.
#[derive(Default)]
struct HintTracker {
    reset: bool,
    not_reset: bool,
}

impl HintTracker {
    fn see(&mut self, h: &FloatHistogram) {
        match h.counter_reset_hint {
            CounterResetHint::CounterReset => self.reset = true,
            CounterResetHint::NotCounterReset => self.not_reset = true,
            _ => {}
        }
    }

    fn issues(&self) -> Issues {
        if self.reset && self.not_reset {
            Issues::one(Issue::HistogramCounterResetCollision(
                HistogramOperation::Aggregation,
            ))
        } else {
            Issues::NONE
        }
    }
}

fn failed(err: &HistogramError) -> Issues {
    match err {
        HistogramError::IncompatibleSchema => Issues::one(Issue::MixedExponentialCustomHistograms),
        _ => Issues::NONE,
    }
}

/// The sum (or, with `mean`, the mean) of the window's histograms (at least one).
fn histogram_sum(w: &Window, mean: bool) -> Result<(FloatHistogram, Issues), Issues> {
    let mut hints = HintTracker::default();
    let first = &w.histograms[0].h;
    hints.see(first);
    let mut acc = HistogramSum::new(first);
    for p in &w.histograms[1..] {
        hints.see(&p.h);
        let added = if mean {
            acc.add_to_mean(&p.h)
        } else {
            acc.add(&p.h)
        };
        added.map_err(|e| failed(&e))?;
    }
    let mut issues = hints.issues();
    if acc.reconciled() {
        issues.push(Issue::MismatchedCustomBuckets(
            HistogramOperation::Aggregation,
        ));
    }
    let result = if mean { acc.mean() } else { acc.sum() };
    Ok((result.map_err(|e| failed(&e))?, issues))
}

/// `sum_over_time`: compensated float sum, or histogram sum; mixed windows give nothing.
pub fn sum_over_time(w: &Window) -> (Option<Output>, Issues) {
    if w.is_mixed() {
        return (None, Issues::one(Issue::MixedFloatsHistograms));
    }
    if w.floats.is_empty() {
        if w.histograms.is_empty() {
            return (None, Issues::NONE);
        }
        return match histogram_sum(w, false) {
            Ok((sum, issues)) => (Some(Output::Histogram(sum)), issues),
            Err(issues) => (None, issues),
        };
    }
    let mut sum = KahanSum::new();
    for p in w.floats {
        sum.add(p.f);
    }
    (Some(Output::Float(sum.value())), Issues::NONE)
}

/// `avg_over_time`: a compensated mean that survives overflowing sums, or the histogram
/// mean; mixed windows give nothing.
pub fn avg_over_time(w: &Window) -> (Option<Output>, Issues) {
    if w.is_mixed() {
        return (None, Issues::one(Issue::MixedFloatsHistograms));
    }
    if w.floats.is_empty() {
        if w.histograms.is_empty() {
            return (None, Issues::NONE);
        }
        return match histogram_sum(w, true) {
            Ok((mean, issues)) => (Some(Output::Histogram(mean)), issues),
            Err(issues) => (None, issues),
        };
    }
    let mut mean = MeanAccumulator::new(w.floats[0].f);
    for p in &w.floats[1..] {
        mean.add(p.f);
    }
    (Some(Output::Float(mean.mean())), Issues::NONE)
}

/// `count_over_time`: floats and histograms alike.
pub fn count_over_time(w: &Window) -> Option<f64> {
    (!w.is_empty()).then(|| (w.floats.len() + w.histograms.len()) as f64)
}

/// `present_over_time`: 1 for any sample.
pub fn present_over_time(w: &Window) -> Option<f64> {
    (!w.is_empty()).then_some(1.0)
}

/// `last_over_time`: the newest sample (a float wins a tie with a histogram).
pub fn last_over_time(w: &Window) -> Option<Output> {
    match (w.floats.last(), w.histograms.last()) {
        (Some(f), Some(h)) if h.t < f.t => Some(Output::Float(f.f)),
        (_, Some(h)) => Some(Output::Histogram((*h.h).clone())),
        (Some(f), None) => Some(Output::Float(f.f)),
        (None, None) => None,
    }
}

/// `first_over_time`: the oldest sample (a histogram wins a tie with a float).
pub fn first_over_time(w: &Window) -> Option<Output> {
    match (w.floats.first(), w.histograms.first()) {
        (Some(f), Some(h)) if f.t < h.t => Some(Output::Float(f.f)),
        (_, Some(h)) => Some(Output::Histogram((*h.h).clone())),
        (Some(f), None) => Some(Output::Float(f.f)),
        (None, None) => None,
    }
}

/// `ts_of_first_over_time`: the oldest sample's timestamp in seconds.
pub fn ts_of_first_over_time(w: &Window) -> Option<f64> {
    let t = [
        w.floats.first().map(|p| p.t),
        w.histograms.first().map(|p| p.t),
    ]
    .into_iter()
    .flatten()
    .min()?;
    Some(t as f64 / 1000.0)
}

/// `ts_of_last_over_time`: the newest sample's timestamp in seconds.
pub fn ts_of_last_over_time(w: &Window) -> Option<f64> {
    let t = [
        w.floats.last().map(|p| p.t),
        w.histograms.last().map(|p| p.t),
    ]
    .into_iter()
    .flatten()
    .max()?;
    Some(t as f64 / 1000.0)
}

/// `quantile_over_time(q, …)` of the floats. The engine reports a `q` outside [0, 1] (the
/// result is then ±Inf) as the invalid-quantile warning.
pub fn quantile_over_time(q: f64, w: &Window) -> (Option<f64>, Issues) {
    if w.floats.is_empty() {
        return (None, Issues::NONE);
    }
    let mut values: Vec<f64> = w.floats.iter().map(|p| p.f).collect();
    (Some(quantile(q, &mut values)), skipped_histograms(w))
}

/// `mad_over_time`: median absolute deviation of the floats (NaN if any is NaN).
pub fn mad_over_time(w: &Window) -> (Option<f64>, Issues) {
    if w.floats.is_empty() {
        return (None, Issues::NONE);
    }
    let mut values: Vec<f64> = w.floats.iter().map(|p| p.f).collect();
    (
        median_absolute_deviation(&mut values),
        skipped_histograms(w),
    )
}
