//! `changes` and `resets`: counts over the samples of a window in time order, floats and
//! histograms interleaved.

use super::{Window, start_timestamp_reset};
use pm_common::model::FloatHistogram;

#[derive(Clone, Copy)]
enum Value<'a> {
    Float(f64),
    Histogram(&'a FloatHistogram),
}

/// A sample of the merged sequence: time, start timestamp (0 = unknown) and value.
type Merged<'a> = (i64, i64, Value<'a>);

/// The index of the first float and histogram to consider. With an anchored selector
/// (`anchor` = the range start), the newest sample at or before the anchor is the baseline
/// and older ones are skipped; `None` when no sample lies after the anchor.
fn first_indices(w: &Window, anchor: Option<i64>) -> Option<(usize, usize)> {
    let Some(start) = anchor else {
        return Some((0, 0));
    };
    let after_f = w.floats.partition_point(|p| p.t <= start);
    let after_h = w.histograms.partition_point(|p| p.t <= start);
    if after_f >= w.floats.len() && after_h >= w.histograms.len() {
        return None;
    }
    Some(match (after_f.checked_sub(1), after_h.checked_sub(1)) {
        (None, None) => (0, 0),
        (Some(f), None) => (f, after_h),
        (Some(f), Some(h)) if w.floats[f].t >= w.histograms[h].t => (f, after_h),
        (_, Some(h)) => (after_f, h),
    })
}

/// The samples from the first indices on, in time order. On equal timestamps upstream's
/// merge would stall; this takes the float first, which only matters for invalid input.
fn merged<'a>(w: &Window<'a>, (mut i, mut j): (usize, usize)) -> Vec<Merged<'a>> {
    let mut out = Vec::with_capacity(w.floats.len() + w.histograms.len() - i - j);
    while i < w.floats.len() || j < w.histograms.len() {
        let take_float =
            j >= w.histograms.len() || (i < w.floats.len() && w.floats[i].t <= w.histograms[j].t);
        if take_float {
            let st = w.float_start_timestamps.get(i).copied().unwrap_or(0);
            out.push((w.floats[i].t, st, Value::Float(w.floats[i].f)));
            i += 1;
        } else {
            let st = w.histogram_start_timestamps.get(j).copied().unwrap_or(0);
            out.push((w.histograms[j].t, st, Value::Histogram(&w.histograms[j].h)));
            j += 1;
        }
    }
    out
}

/// `changes`: how often the value changed (NaN to NaN is no change; a switch between float
/// and histogram is one). `anchor` is the range start for anchored selectors.
pub fn changes(w: &Window, anchor: Option<i64>) -> Option<f64> {
    if w.is_empty() {
        return None;
    }
    let samples = merged(w, first_indices(w, anchor)?);
    let n = samples
        .windows(2)
        .filter(|pair| match (pair[0].2, pair[1].2) {
            (Value::Float(a), Value::Float(b)) => a != b && !(a.is_nan() && b.is_nan()),
            (Value::Histogram(a), Value::Histogram(b)) => !b.equals(a),
            _ => true,
        })
        .count();
    Some(n as f64)
}

/// `resets`: how often a counter reset (a float decreased, a histogram's reset detection,
/// a start timestamp after the previous sample, or a switch between float and histogram).
pub fn resets(w: &Window, anchor: Option<i64>) -> Option<f64> {
    if w.is_empty() {
        return None;
    }
    let samples = merged(w, first_indices(w, anchor)?);
    let n = samples
        .windows(2)
        .filter(|pair| {
            let ((pt, pst, prev), (ct, cst, cur)) = (pair[0], pair[1]);
            match (prev, cur) {
                (Value::Float(a), Value::Float(b)) => {
                    b < a || start_timestamp_reset(pst, pt, cst, ct)
                }
                (Value::Histogram(a), Value::Histogram(b)) => {
                    start_timestamp_reset(pst, pt, cst, ct) || b.detect_reset(a)
                }
                _ => true,
            }
        })
        .count();
    Some(n as f64)
}
