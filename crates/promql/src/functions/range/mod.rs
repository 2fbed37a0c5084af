//! Functions over the points of one series in one range window (`rate(x[5m])`,
//! `avg_over_time(x[1h])`, …).
//!
//! The engine passes the window's float and histogram points separately, each in time order,
//! as upstream's `Series` holds them; a series may switch between floats and histograms
//! within a window, which several functions must notice.

mod counts;
mod extended;
mod over_time;
mod rate;
mod trend;

pub use counts::{changes, resets};
pub use extended::{extended_rate, interpolate_histograms};
pub use over_time::{
    OverTime, avg_over_time, count_over_time, first_over_time, last_over_time, mad_over_time,
    present_over_time, quantile_over_time, sum_over_time, ts_of_first_over_time,
    ts_of_last_over_time,
};
pub use rate::{RateKind, extrapolated_rate, instant_rate};
pub use trend::{
    SmoothingError, deriv, double_exponential_smoothing, linear_regression, predict_linear,
};

use pm_common::model::FloatHistogram;

use crate::value::{FPoint, HPoint};

/// The points of one series inside one window, with their start timestamps (created
/// timestamps, ms) when the engine tracks them (`use-start-timestamps`); empty otherwise.
#[derive(Clone, Copy, Debug, Default)]
pub struct Window<'a> {
    pub floats: &'a [FPoint],
    pub histograms: &'a [HPoint],
    /// Parallel to `floats` (may be shorter or empty: missing means unknown).
    pub float_start_timestamps: &'a [i64],
    /// Parallel to `histograms`.
    pub histogram_start_timestamps: &'a [i64],
    /// Set when the caller knows no float is below the one before it, so counter functions
    /// need not look for resets: a long window is then read at its two ends only.
    pub floats_never_decrease: bool,
}

impl<'a> Window<'a> {
    pub fn new(floats: &'a [FPoint], histograms: &'a [HPoint]) -> Window<'a> {
        Window {
            floats,
            histograms,
            ..Window::default()
        }
    }

    pub fn floats(floats: &'a [FPoint]) -> Window<'a> {
        Window::new(floats, &[])
    }

    pub fn histograms(histograms: &'a [HPoint]) -> Window<'a> {
        Window::new(&[], histograms)
    }

    pub fn with_start_timestamps(mut self, floats: &'a [i64], histograms: &'a [i64]) -> Self {
        self.float_start_timestamps = floats;
        self.histogram_start_timestamps = histograms;
        self
    }

    pub fn is_empty(&self) -> bool {
        self.floats.is_empty() && self.histograms.is_empty()
    }

    fn is_mixed(&self) -> bool {
        !self.floats.is_empty() && !self.histograms.is_empty()
    }
}

/// The selected range: `(start, end]` in ms, i.e. `eval_time - offset - range` (exclusive)
/// to `eval_time - offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeBounds {
    pub start: i64,
    pub end: i64,
}

impl RangeBounds {
    /// The selector's range in seconds (what `rate` divides by).
    pub fn seconds(&self) -> f64 {
        (self.end - self.start) as f64 / 1000.0
    }
}

/// One output sample of a range function.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    Float(f64),
    Histogram(FloatHistogram),
}

impl Output {
    /// The float, if this is one.
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Output::Float(f) => Some(*f),
            Output::Histogram(_) => None,
        }
    }

    /// The histogram, if this is one.
    pub fn as_histogram(&self) -> Option<&FloatHistogram> {
        match self {
            Output::Float(_) => None,
            Output::Histogram(h) => Some(h),
        }
    }
}

/// Whether the start timestamp of the current sample reveals a counter reset since the
/// previous one (OTel semantics: an unknown start equals the timestamp or is 0; a start
/// equal to the previous timestamp is a reset only for delta-like series whose previous
/// start was known).
fn start_timestamp_reset(prev_st: i64, prev_t: i64, cur_st: i64, cur_t: i64) -> bool {
    if cur_st == 0 || cur_st >= cur_t || cur_st < prev_t {
        return false;
    }
    if cur_st > prev_t {
        return true;
    }
    if prev_st > prev_t {
        return false;
    }
    prev_st != 0 && prev_st != prev_t
}

/// Whether a start timestamp overlaps the previous sample without continuing its series.
fn start_time_overlap(prev_st: i64, prev_t: i64, cur_st: i64) -> bool {
    cur_st != 0 && cur_st < prev_t && cur_st != prev_st
}

#[cfg(test)]
mod tests;
