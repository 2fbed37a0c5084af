//! Least-squares regression (`deriv`, `predict_linear`) and Holt's double exponential
//! smoothing, over the float points of a window (histograms are ignored with a note).

use super::Window;
use crate::functions::annotations::{Issue, Issues};
use crate::functions::stats::kahan_sum_inc;
use crate::value::FPoint;

/// Slope (per second) and intercept at `intercept_time` (ms) of the least-squares line
/// through `points` (at least one). A constant series has slope 0 — or NaN for a constant
/// infinity, where the regression is undefined.
pub fn linear_regression(points: &[FPoint], intercept_time: i64) -> (f64, f64) {
    let first = points[0].f;
    let constant = points.iter().all(|p| p.f == first);
    let mut n = 0.0;
    let (mut sum_x, mut c_x) = (0.0, 0.0);
    let (mut sum_y, mut c_y) = (0.0, 0.0);
    let (mut sum_xy, mut c_xy) = (0.0, 0.0);
    let (mut sum_x2, mut c_x2) = (0.0, 0.0);
    for p in points {
        n += 1.0;
        let x = (p.t - intercept_time) as f64 / 1e3;
        (sum_x, c_x) = kahan_sum_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_sum_inc(p.f, sum_y, c_y);
        (sum_xy, c_xy) = kahan_sum_inc(x * p.f, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_sum_inc(x * x, sum_x2, c_x2);
    }
    if constant {
        if first.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, first);
    }
    let (sum_x, sum_y, sum_xy, sum_x2) = (sum_x + c_x, sum_y + c_y, sum_xy + c_xy, sum_x2 + c_x2);
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// The note for float-only functions given a window that also holds histograms.
fn ignored_histograms(w: &Window) -> Issues {
    if w.histograms.is_empty() {
        Issues::NONE
    } else {
        Issues::one(Issue::HistogramIgnoredInMixedRange)
    }
}

/// Whether the window has too few floats for a trend (with the note upstream gives when
/// a lone float sits among histograms).
fn too_few_floats(w: &Window) -> Option<Issues> {
    match w.floats.len() {
        0 => Some(Issues::NONE),
        1 => Some(ignored_histograms(w)),
        _ => None,
    }
}

/// `deriv`: per-second slope; needs two floats. The regression is centred on the first
/// point's time to keep the x values small.
pub fn deriv(w: &Window) -> (Option<f64>, Issues) {
    if let Some(issues) = too_few_floats(w) {
        return (None, issues);
    }
    let (slope, _) = linear_regression(w.floats, w.floats[0].t);
    (Some(slope), ignored_histograms(w))
}

/// `predict_linear(v, seconds)`: the regression line's value `seconds` after the evaluation
/// time `eval_ts` (ms); needs two floats.
pub fn predict_linear(w: &Window, seconds: f64, eval_ts: i64) -> (Option<f64>, Issues) {
    if let Some(issues) = too_few_floats(w) {
        return (None, issues);
    }
    let (slope, intercept) = linear_regression(w.floats, eval_ts);
    (Some(slope * seconds + intercept), ignored_histograms(w))
}

/// An out-of-range factor of `double_exponential_smoothing`; it aborts the query.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SmoothingError {
    #[error("invalid smoothing factor. Expected: 0 < sf < 1, got: {}", go_f(*.0))]
    SmoothingFactor(f64),
    #[error("invalid trend factor. Expected: 0 < tf < 1, got: {}", go_f(*.0))]
    TrendFactor(f64),
}

/// Go's `%f`: six decimals, `+Inf`/`-Inf`/`NaN` spelled as Go does.
fn go_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{v:.6}")
    }
}

/// `double_exponential_smoothing(v, sf, tf)` (Holt's linear method): the smoothed value at
/// the last float. Factors must lie strictly inside (0, 1) (a NaN factor passes, as upstream,
/// and yields NaN); needs two floats.
pub fn double_exponential_smoothing(
    w: &Window,
    sf: f64,
    tf: f64,
) -> Result<(Option<f64>, Issues), SmoothingError> {
    if sf <= 0.0 || sf >= 1.0 {
        return Err(SmoothingError::SmoothingFactor(sf));
    }
    if tf <= 0.0 || tf >= 1.0 {
        return Err(SmoothingError::TrendFactor(tf));
    }
    if let Some(issues) = too_few_floats(w) {
        return Ok((None, issues));
    }
    let f = w.floats;
    let (mut s0, mut s1) = (0.0, f[0].f);
    let mut trend = f[1].f - f[0].f;
    for (i, p) in f.iter().enumerate().skip(1) {
        let x = sf * p.f;
        if i > 1 {
            trend = tf * (s1 - s0) + (1.0 - tf) * trend;
        }
        let y = (1.0 - sf) * (s1 + trend);
        (s0, s1) = (s1, x + y);
    }
    Ok((Some(s1), ignored_histograms(w)))
}
