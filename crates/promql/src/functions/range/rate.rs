//! `rate`, `increase`, `delta` (extrapolated to the range boundaries) and `irate`/`idelta`
//! (the last two points).

use pm_common::model::{CounterResetHint, FloatHistogram, HistogramError};

use super::{Output, RangeBounds, Window, start_time_overlap, start_timestamp_reset};
use crate::functions::annotations::{HistogramOperation, Issue, Issues};
use crate::value::HPoint;

/// Which of the extrapolating functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateKind {
    /// Per-second increase of a counter.
    Rate,
    /// Increase of a counter over the range.
    Increase,
    /// Difference of a gauge over the range.
    Delta,
}

impl RateKind {
    fn is_counter(self) -> bool {
        self != RateKind::Delta
    }

    fn is_rate(self) -> bool {
        self == RateKind::Rate
    }
}

fn is_gauge(h: &FloatHistogram) -> bool {
    h.counter_reset_hint == CounterResetHint::Gauge
}

/// The issue for a failed histogram combination: only mixed schemas are reported.
fn combine_failed(err: &HistogramError) -> Issues {
    match err {
        HistogramError::IncompatibleSchema => Issues::one(Issue::MixedExponentialCustomHistograms),
        _ => Issues::NONE,
    }
}

/// `rate`/`increase`/`delta` of one window. The difference between the first and last point
/// (plus, for counters, every value before a reset) is extrapolated towards each range
/// boundary — all the way when the gap is below 1.1 average intervals, else by half an
/// interval — and for counters never below the point where the counter would be zero. With
/// fewer than two points there is no result (unless a start timestamp inside the range
/// supplies the zero point). Windows mixing floats and histograms give no result.
pub fn extrapolated_rate(
    kind: RateKind,
    w: &Window,
    range: RangeBounds,
) -> (Option<Output>, Issues) {
    let mut issues = Issues::NONE;
    if w.is_mixed() {
        return (None, Issues::one(Issue::MixedFloatsHistograms));
    }
    let is_counter = kind.is_counter();
    let mut result_float = 0.0;
    let mut result_histogram: Option<FloatHistogram> = None;
    let (first_t, last_t, samples_minus_one, sts);
    if !w.histograms.is_empty() {
        let h = w.histograms;
        samples_minus_one = h.len() - 1;
        (first_t, last_t) = (h[0].t, h[samples_minus_one].t);
        sts = w.histogram_start_timestamps;
        if h.len() > 1 {
            let (rate, rate_issues) = histogram_rate(h, sts, is_counter);
            issues.extend(rate_issues);
            match rate {
                Some(r) => result_histogram = Some(r),
                None => return (None, issues),
            }
        }
    } else if !w.floats.is_empty() {
        let f = w.floats;
        samples_minus_one = f.len() - 1;
        (first_t, last_t) = (f[0].t, f[samples_minus_one].t);
        sts = w.float_start_timestamps;
        result_float = f[samples_minus_one].f - f[0].f;
        if is_counter && !(w.floats_never_decrease && sts.is_empty()) {
            let mut overlap_seen = false;
            for (i, pair) in f.windows(2).enumerate() {
                let (prev, cur) = (pair[0], pair[1]);
                let st_known = i + 1 < sts.len();
                if !overlap_seen && st_known && start_time_overlap(sts[i], prev.t, sts[i + 1]) {
                    issues.push(Issue::StartTimeOverlap);
                    overlap_seen = true;
                }
                if cur.f < prev.f
                    || (st_known && start_timestamp_reset(sts[i], prev.t, sts[i + 1], cur.t))
                {
                    result_float += prev.f;
                }
            }
        }
    } else {
        return (None, issues);
    }

    let mut duration_to_start = (first_t - range.start) as f64 / 1000.0;
    let mut duration_to_end = (range.end - last_t) as f64 / 1000.0;
    let mut sampled_interval = (last_t - first_t) as f64 / 1000.0;
    let average_interval = if samples_minus_one > 0 {
        sampled_interval / samples_minus_one as f64
    } else {
        0.0
    };
    let threshold = average_interval * 1.1;

    if is_counter
        && sts
            .first()
            .is_some_and(|&st| st != 0 && st > range.start && st < first_t)
    {
        // The first sample's start timestamp lies inside the range: the counter was zero
        // there, so measure from it instead of extrapolating to the left.
        duration_to_start = 0.0;
        sampled_interval = (last_t - sts[0]) as f64 / 1000.0;
        if let Some(first) = w.floats.first() {
            result_float += first.f;
        } else if let Some(first) = w.histograms.first() {
            match result_histogram.as_mut() {
                None => result_histogram = Some((*first.h).clone()),
                Some(r) => {
                    if let Err(e) = r.add(&first.h) {
                        issues.extend(combine_failed(&e));
                        return (None, issues);
                    }
                }
            }
        }
    } else if samples_minus_one == 0 {
        return (None, issues);
    } else {
        if duration_to_start >= threshold {
            duration_to_start = average_interval / 2.0;
        }
        if is_counter {
            // A counter cannot go below zero: do not extrapolate past the point where the
            // observed slope would reach it.
            let mut duration_to_zero = duration_to_start;
            if let Some(first) = w.floats.first()
                && result_float > 0.0
                && first.f >= 0.0
            {
                duration_to_zero = sampled_interval * (first.f / result_float);
            } else if let (Some(r), Some(first)) = (&result_histogram, w.histograms.first())
                && r.count > 0.0
                && first.h.count >= 0.0
            {
                duration_to_zero = sampled_interval * (first.h.count / r.count);
            }
            duration_to_start = duration_to_start.min(duration_to_zero);
        }
    }
    if duration_to_end >= threshold {
        duration_to_end = average_interval / 2.0;
    }

    let mut factor = 1.0;
    if sampled_interval != 0.0 {
        factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    }
    if kind.is_rate() {
        factor /= range.seconds();
    }
    let output = match result_histogram {
        Some(mut h) => {
            h.mul(factor);
            Output::Histogram(h)
        }
        None => Output::Float(result_float * factor),
    };
    (Some(output), issues)
}

/// The increase between the first and last of at least two histograms, adding back the
/// pre-reset histogram at every counter reset (for counters), at the lowest schema seen.
/// `None` when the histograms cannot be combined.
fn histogram_rate(
    points: &[HPoint],
    sts: &[i64],
    is_counter: bool,
) -> (Option<FloatHistogram>, Issues) {
    let mut issues = Issues::NONE;
    let last = &*points[points.len() - 1].h;
    let mut prev: &FloatHistogram = &points[0].h;
    let empty;
    if is_counter && (is_gauge(prev) || is_gauge(last)) {
        issues.push(Issue::NativeHistogramNotCounter);
    }
    let mut custom = prev.uses_custom_buckets();
    if is_counter {
        // A reset right after the first point makes the first point irrelevant, including
        // any bucket layout it might not share with the others.
        let second = &*points[1].h;
        let st_reset =
            sts.len() > 1 && start_timestamp_reset(sts[0], points[0].t, sts[1], points[1].t);
        if st_reset || second.detect_reset(prev) {
            empty = FloatHistogram {
                schema: second.schema,
                custom_values: second.custom_values.clone(),
                ..FloatHistogram::default()
            };
            prev = &empty;
            custom = second.uses_custom_buckets();
        }
    }
    let mixed = || (None, Issues::one(Issue::MixedExponentialCustomHistograms));
    if last.uses_custom_buckets() != custom {
        issues.push(Issue::MixedExponentialCustomHistograms);
        return (None, issues);
    }
    let mut min_schema = last.schema.min(prev.schema);
    for p in &points[1..points.len() - 1] {
        if !is_counter {
            continue;
        }
        if is_gauge(&p.h) {
            issues.push(Issue::NativeHistogramNotCounter);
        }
        min_schema = min_schema.min(p.h.schema);
        if p.h.uses_custom_buckets() != custom {
            return mixed();
        }
    }
    let mut h = last.clone();
    h.reduce_resolution(min_schema);
    match h.sub(prev) {
        Ok(done) if done.custom_bounds_reconciled => {
            issues.push(Issue::MismatchedCustomBuckets(
                HistogramOperation::Subtraction,
            ));
        }
        Ok(_) => {}
        Err(e) => return (None, issues_or(combine_failed(&e), issues)),
    }
    if is_counter {
        let mut overlap_seen = false;
        for (i, cur) in points.iter().enumerate().skip(1) {
            let st_known = i < sts.len();
            if !overlap_seen && st_known && start_time_overlap(sts[i - 1], points[i - 1].t, sts[i])
            {
                issues.push(Issue::StartTimeOverlap);
                overlap_seen = true;
            }
            let st_reset =
                st_known && start_timestamp_reset(sts[i - 1], points[i - 1].t, sts[i], cur.t);
            if (st_reset || cur.h.detect_reset(prev))
                && let Err(e) = h.add(prev)
            {
                return (None, issues_or(combine_failed(&e), issues));
            }
            prev = &*cur.h;
        }
    } else if !is_gauge(&points[0].h) || !is_gauge(last) {
        issues.push(Issue::NativeHistogramNotGauge);
    }
    h.counter_reset_hint = CounterResetHint::Gauge;
    h.compact();
    (Some(h), issues)
}

/// Upstream replaces the collected notes by the mixed-schema warning when that is the
/// failure, and keeps them otherwise.
fn issues_or(failure: Issues, collected: Issues) -> Issues {
    if failure.is_empty() {
        collected
    } else {
        failure
    }
}

/// One of the last two samples of a window for `irate`/`idelta`.
#[derive(Clone, Copy)]
struct Tail<'a> {
    t: i64,
    st: i64,
    value: TailValue<'a>,
}

#[derive(Clone, Copy)]
enum TailValue<'a> {
    Float(f64),
    Histogram(&'a FloatHistogram),
}

/// The last two samples of the window in time order, floats and histograms interleaved
/// as upstream picks them (on equal timestamps the histogram wins the older slot).
fn last_two<'a>(w: &Window<'a>) -> Vec<Tail<'a>> {
    let mut ss: Vec<Tail<'a>> = Vec::with_capacity(2);
    for i in w.floats.len().saturating_sub(2)..w.floats.len() {
        ss.push(Tail {
            t: w.floats[i].t,
            st: w.float_start_timestamps.get(i).copied().unwrap_or(0),
            value: TailValue::Float(w.floats[i].f),
        });
    }
    for i in w.histograms.len().saturating_sub(2)..w.histograms.len() {
        let s = Tail {
            t: w.histograms[i].t,
            st: w.histogram_start_timestamps.get(i).copied().unwrap_or(0),
            value: TailValue::Histogram(&w.histograms[i].h),
        };
        match ss.len() {
            0 => ss.push(s),
            1 if s.t < ss[0].t => ss.insert(0, s),
            1 => ss.push(s),
            _ if s.t < ss[0].t => {}
            _ if s.t > ss[1].t => {
                ss[0] = ss[1];
                ss[1] = s;
            }
            _ => ss[0] = s,
        }
    }
    ss
}

/// `irate` (`is_rate`, per second, counter resets respected) or `idelta` (difference) of
/// the last two samples of the window. No result for fewer than two samples, equal
/// timestamps, or a float next to a histogram.
pub fn instant_rate(w: &Window, is_rate: bool) -> (Option<Output>, Issues) {
    if w.floats.len() + w.histograms.len() < 2 {
        return (None, Issues::NONE);
    }
    let ss = last_two(w);
    let (older, newer) = (ss[0], ss[1]);
    let interval = newer.t - older.t;
    if interval == 0 {
        return (None, Issues::NONE);
    }
    let reset_by_st = start_timestamp_reset(older.st, older.t, newer.st, newer.t);
    let seconds = interval as f64 / 1000.0;
    match (older.value, newer.value) {
        (TailValue::Float(a), TailValue::Float(b)) => {
            let mut result = b;
            if !is_rate || !(b < a || reset_by_st) {
                result = b - a;
            }
            if is_rate {
                result /= seconds;
            }
            (Some(Output::Float(result)), Issues::NONE)
        }
        (TailValue::Histogram(a), TailValue::Histogram(b)) => {
            let mut issues = Issues::NONE;
            if is_rate && (is_gauge(a) || is_gauge(b)) {
                issues.push(Issue::NativeHistogramNotCounter);
            }
            if !is_rate && (!is_gauge(a) || !is_gauge(b)) {
                issues.push(Issue::NativeHistogramNotGauge);
            }
            let mut result = b.clone();
            if !is_rate || (!reset_by_st && !b.detect_reset(a)) {
                match result.sub(a) {
                    Ok(done) if done.custom_bounds_reconciled => issues.push(
                        Issue::MismatchedCustomBuckets(HistogramOperation::Subtraction),
                    ),
                    Ok(_) => {}
                    Err(e) => {
                        issues.extend(combine_failed(&e));
                        return (None, issues);
                    }
                }
            }
            result.counter_reset_hint = CounterResetHint::Gauge;
            result.compact();
            if is_rate {
                result.div(seconds);
            }
            (Some(Output::Histogram(result)), issues)
        }
        _ => (None, Issues::one(Issue::MixedFloatsHistograms)),
    }
}
