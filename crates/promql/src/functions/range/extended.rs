//! `rate`/`increase`/`delta` over anchored and smoothed selectors (experimental 3.x
//! modifiers). Instead of extrapolating, the result is the difference between the values at
//! the range boundaries: an anchored selector takes the last sample at or before the range
//! start; a smoothed one interpolates linearly between the samples around each boundary.

use pm_common::model::{CounterResetHint, FloatHistogram, HistogramError};

use super::{Output, RangeBounds, Window};
use crate::functions::annotations::{Issue, Issues};
use crate::value::{FPoint, HPoint};

use super::rate::RateKind;

/// `rate`/`increase`/`delta` of a window selected with `anchored` (`smoothed == false`) or
/// `smoothed`. The window holds the samples the modifier selects, including those just
/// outside the range. Windows mixing floats and histograms give no result.
pub fn extended_rate(
    kind: RateKind,
    w: &Window,
    range: RangeBounds,
    smoothed: bool,
) -> (Option<Output>, Issues) {
    if w.is_mixed() {
        return (None, Issues::one(Issue::MixedFloatsHistograms));
    }
    if !w.histograms.is_empty() {
        return histogram_extended_rate(kind, w.histograms, range, smoothed);
    }
    if w.floats.is_empty() {
        return (None, Issues::NONE);
    }
    (
        float_extended_rate(kind, w.floats, range, smoothed).map(Output::Float),
        Issues::NONE,
    )
}

/// The first and last sample indices that bound the range: the last sample at or before the
/// start (or the first sample), and for smoothed windows the first sample at or after the
/// end (or the last one). `None` when no sample lies inside the range.
fn boundary_indices(times: &[i64], range: RangeBounds, smoothed: bool) -> Option<(usize, usize)> {
    let mut last = times.len() - 1;
    let first = times[..last]
        .partition_point(|&t| t <= range.start)
        .saturating_sub(1);
    if smoothed {
        last = times[..last].partition_point(|&t| t < range.end);
    }
    if times[last] <= range.start || (smoothed && times[first] > range.end) {
        return None;
    }
    Some((first, last))
}

fn interpolate(p1: FPoint, p2: FPoint, t: i64, is_counter: bool) -> f64 {
    // After a counter reset, the counter is modelled as restarting from zero.
    let y1 = if is_counter && p2.f < p1.f { 0.0 } else { p1.f };
    y1 + (p2.f - y1) * (t - p1.t) as f64 / (p2.t - p1.t) as f64
}

fn float_extended_rate(
    kind: RateKind,
    f: &[FPoint],
    range: RangeBounds,
    smoothed: bool,
) -> Option<f64> {
    let is_counter = kind != RateKind::Delta;
    let times: Vec<i64> = f.iter().map(|p| p.t).collect();
    let (mut first, mut last) = boundary_indices(&times, range, smoothed)?;
    let left = if smoothed && f[first].t < range.start {
        interpolate(f[first], f[first + 1], range.start, is_counter)
    } else {
        f[first].f
    };
    let right = if smoothed && last > 0 && f[last].t > range.end {
        interpolate(f[last - 1], f[last], range.end, is_counter)
    } else {
        f[last].f
    };
    let mut result = right - left;
    if is_counter {
        // Resets at the boundaries are already part of the interpolation; only samples
        // strictly inside the range count.
        if f[first].t <= range.start {
            first += 1;
        }
        if f[last].t >= range.end {
            last = last.wrapping_sub(1);
        }
        let inner = f.get(first..last.wrapping_add(1)).unwrap_or(&[]);
        let mut prev = left;
        for p in inner {
            if p.f < prev {
                result += prev;
            }
            prev = p.f;
        }
        if right < prev {
            result += prev;
        }
    }
    if kind == RateKind::Rate {
        result /= range.seconds();
    }
    Some(result)
}

fn failure(err: &HistogramError) -> Issues {
    match err {
        HistogramError::IncompatibleSchema => Issues::one(Issue::MixedExponentialCustomHistograms),
        _ => Issues::NONE,
    }
}

/// The histogram at `t` between `(t1, h1)` and `(t2, h2)`; after a counter reset the counter
/// restarts from zero, i.e. the result is `h2` scaled by the fraction.
pub fn interpolate_histograms(
    (t1, h1): (i64, &FloatHistogram),
    (t2, h2): (i64, &FloatHistogram),
    t: i64,
    is_counter: bool,
) -> Result<FloatHistogram, HistogramError> {
    if t == t1 {
        return Ok(h1.clone());
    }
    if t == t2 {
        return Ok(h2.clone());
    }
    let fraction = (t - t1) as f64 / (t2 - t1) as f64;
    let mut result = h2.clone();
    if is_counter && h2.detect_reset(h1) {
        result.mul(fraction);
        return Ok(result);
    }
    result.sub(h1)?;
    result.mul(fraction);
    result.add(h1)?;
    Ok(result)
}

fn histogram_extended_rate(
    kind: RateKind,
    h: &[HPoint],
    range: RangeBounds,
    smoothed: bool,
) -> (Option<Output>, Issues) {
    let is_counter = kind != RateKind::Delta;
    let mut issues = Issues::NONE;
    let times: Vec<i64> = h.iter().map(|p| p.t).collect();
    let Some((first, last)) = boundary_indices(&times, range, smoothed) else {
        return (None, issues);
    };
    let custom = h[first].h.uses_custom_buckets();
    for p in &h[first..=last] {
        if p.h.uses_custom_buckets() != custom {
            issues.push(Issue::MixedExponentialCustomHistograms);
            return (None, issues);
        }
        if is_counter && p.h.counter_reset_hint == CounterResetHint::Gauge {
            issues.push(Issue::NativeHistogramNotCounter);
        }
    }
    let point = |i: usize| (h[i].t, &*h[i].h);
    let left = if smoothed && h[first].t < range.start {
        interpolate_histograms(point(first), point(first + 1), range.start, is_counter)
    } else {
        Ok((*h[first].h).clone())
    };
    let right = if smoothed && last > 0 && h[last].t > range.end {
        interpolate_histograms(point(last - 1), point(last), range.end, is_counter)
    } else {
        Ok((*h[last].h).clone())
    };
    let (left, right) = match (left, right) {
        (Ok(l), Ok(r)) => (l, r),
        (Err(e), _) | (_, Err(e)) => {
            issues.extend(failure(&e));
            return (None, issues);
        }
    };
    let gauge = |x: &FloatHistogram| x.counter_reset_hint == CounterResetHint::Gauge;
    if !is_counter && (!gauge(&left) || !gauge(&right)) {
        issues.push(Issue::NativeHistogramNotGauge);
    }
    let mut result = right.clone();
    if let Err(e) = result.sub(&left) {
        issues.extend(failure(&e));
        return (None, issues);
    }
    if is_counter {
        match reset_correction(h, (first, last), &left, &right, range.start, smoothed) {
            Ok(Some(correction)) => {
                if let Err(e) = result.add(&correction) {
                    issues.extend(failure(&e));
                    return (None, issues);
                }
            }
            Ok(None) => {}
            Err(e) => {
                issues.extend(failure(&e));
                return (None, issues);
            }
        }
    }
    if kind == RateKind::Rate {
        result.div(range.seconds());
    }
    result.counter_reset_hint = CounterResetHint::Gauge;
    result.compact();
    (Some(Output::Histogram(result)), issues)
}

/// The sum of the pre-reset histograms at every counter reset strictly between the
/// boundary samples (the boundary values `left` and `right` stand for them).
fn reset_correction(
    h: &[HPoint],
    (first, last): (usize, usize),
    left: &FloatHistogram,
    right: &FloatHistogram,
    range_start: i64,
    smoothed: bool,
) -> Result<Option<FloatHistogram>, HistogramError> {
    let mut start = first + 1;
    let mut prev = left;
    if smoothed && h[first].t < range_start && h[first + 1].h.detect_reset(&h[first].h) {
        // The left interpolation already spans this reset.
        prev = &*h[first + 1].h;
        start += 1;
    }
    // The last sample is `right` itself (or what it was interpolated towards).
    if start > last {
        return Ok(None);
    }
    fn add(c: &mut Option<FloatHistogram>, x: &FloatHistogram) -> Result<(), HistogramError> {
        match c {
            None => {
                *c = Some(x.clone());
                Ok(())
            }
            Some(sum) => sum.add(x).map(drop),
        }
    }
    let mut correction: Option<FloatHistogram> = None;
    for p in &h[start..last] {
        if p.h.detect_reset(prev) {
            add(&mut correction, prev)?;
        }
        prev = &*p.h;
    }
    if right.detect_reset(prev) {
        add(&mut correction, prev)?;
    }
    Ok(correction)
}
