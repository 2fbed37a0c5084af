//! Selectors and subqueries. Each series is read once over the whole span the query needs
//! (`[first step − offset − range/lookback, last step − offset]`), then the steps walk its
//! samples; a range query never re-selects per step.

use std::ops::Range;
use std::sync::Arc;

use pm_common::model::{CounterResetHint, FloatHistogram, Sample as RawSample, is_stale_nan};
use pm_storage::{HistogramSample, SelectHints};

use super::histogram_stats::{HistogramStats, detect_resets};
use super::{EvalResult, Evaluator};
use crate::engine::annotations::Note;
use crate::engine::error::QueryError;
use crate::engine::stats::SampleCounter;
use crate::engine::value::{Matrix, Series, histogram_size};
use crate::functions::range::{Window, interpolate_histograms};
use crate::parser::{AtModifier, MatrixSelector, SubqueryExpr, VectorSelector};
use crate::value::{FPoint, HPoint};

/// Series and their samples prepared for windowed access by a range-vector function: a range
/// selector's raw samples or a subquery's points.
pub(crate) struct Windowed {
    pub series: Matrix,
    /// Window length in milliseconds; a window is `(ref − range, ref]`.
    pub range: i64,
    pub offset: i64,
    pub at: Option<i64>,
    /// How far `anchored`/`smoothed` windows reach beyond `(ref − range, ref]`: the
    /// lookback delta to the left (both) and to the right (`smoothed`).
    pub extend_left: i64,
    pub extend_right: i64,
    /// Per series, when the function reads start timestamps; empty otherwise.
    pub start_timestamps: Vec<StartTimestamps>,
}

/// The start timestamps of one selected series' samples (`0` = unknown), parallel to its
/// floats and histograms (upstream's `StartTimestamps`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StartTimestamps {
    pub floats: Vec<i64>,
    pub histograms: Vec<i64>,
}

impl Windowed {
    /// The reference time of the window evaluated at step `ts`.
    pub fn ref_time(&self, ts: i64) -> i64 {
        self.at.unwrap_or(ts) - self.offset
    }

    /// The points of series `s` the window at step `ts` covers.
    pub fn points<'a>(&self, s: &'a Series, ts: i64) -> (&'a [FPoint], &'a [HPoint]) {
        let (f, h) = self.ranges(s, ts);
        (&s.floats[f], &s.histograms[h])
    }

    /// The window of series number `i` at step `ts`, with start timestamps when tracked.
    /// `cursor` carries the previous window of the same series: steps must come in ascending
    /// order, so each bound only moves forward and a step costs the points that enter and
    /// leave the window instead of binary searches over the whole series.
    pub fn window(&self, i: usize, ts: i64, cursor: &mut WindowCursor) -> Window<'_> {
        let s = &self.series[i];
        let reference = self.ref_time(ts);
        let (mint, maxt) = (
            reference - self.range - self.extend_left,
            reference + self.extend_right,
        );
        advance(&s.floats, &mut cursor.floats, mint, maxt, |p| p.t);
        advance(&s.histograms, &mut cursor.histograms, mint, maxt, |p| p.t);
        let (f, h) = (cursor.floats.clone(), cursor.histograms.clone());
        let w = Window::new(&s.floats[f.clone()], &s.histograms[h.clone()]);
        match self.start_timestamps.get(i) {
            Some(sts) => w.with_start_timestamps(&sts.floats[f], &sts.histograms[h]),
            None => w,
        }
    }

    fn ranges(&self, s: &Series, ts: i64) -> (Range<usize>, Range<usize>) {
        let reference = self.ref_time(ts);
        window_ranges(
            s,
            reference - self.range - self.extend_left,
            reference + self.extend_right,
        )
    }
}

/// Where one series' previous window was: see [`Windowed::window`].
#[derive(Clone, Debug, Default)]
pub(crate) struct WindowCursor {
    floats: Range<usize>,
    histograms: Range<usize>,
}

/// Moves `r` forward to the points of `points` within `(mint, maxt]`; neither bound may be
/// below the previous call's.
fn advance<T>(points: &[T], r: &mut Range<usize>, mint: i64, maxt: i64, t: impl Fn(&T) -> i64) {
    while r.start < points.len() && t(&points[r.start]) <= mint {
        r.start += 1;
    }
    r.end = r.end.max(r.start);
    while r.end < points.len() && t(&points[r.end]) <= maxt {
        r.end += 1;
    }
}

/// What the points of an instant-vector selector hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SelectorOutput {
    /// The sample values.
    Values,
    /// The samples' timestamps in seconds (`timestamp()`).
    SampleTimes,
    /// The samples' start timestamps in seconds (`start_timestamp()`).
    StartTimes,
    /// The samples' timestamps, for info metrics, which must be floats.
    InfoSampleTimes,
}

/// The points of one series within `(mint, maxt]`.
pub(crate) fn window(s: &Series, mint: i64, maxt: i64) -> (&[FPoint], &[HPoint]) {
    let (f, h) = window_ranges(s, mint, maxt);
    (&s.floats[f], &s.histograms[h])
}

/// The indexes of the float and histogram points of one series within `(mint, maxt]`.
fn window_ranges(s: &Series, mint: i64, maxt: i64) -> (Range<usize>, Range<usize>) {
    let f_lo = s.floats.partition_point(|p| p.t <= mint);
    let f_hi = s.floats.partition_point(|p| p.t <= maxt);
    let h_lo = s.histograms.partition_point(|p| p.t <= mint);
    let h_hi = s.histograms.partition_point(|p| p.t <= maxt);
    (f_lo..f_hi.max(f_lo), h_lo..h_hi.max(h_lo))
}

/// The start timestamps of the samples `keep` retains.
fn kept<T>(samples: &[T], sts: &[i64], keep: impl Fn(&T) -> bool) -> Vec<i64> {
    samples
        .iter()
        .zip(sts)
        .filter(|(p, _)| keep(p))
        .map(|(_, &st)| st)
        .collect()
}

fn at_time(at: AtModifier) -> Option<i64> {
    match at {
        AtModifier::Timestamp(t) => Some(t),
        // `start()`/`end()` were resolved before evaluation.
        AtModifier::None | AtModifier::Start | AtModifier::End => None,
    }
}

pub(crate) fn nanos_to_millis(ns: i64) -> i64 {
    ns / 1_000_000
}

impl Evaluator<'_> {
    /// The earliest and latest reference times of the steps for a selector with `offset` and
    /// `at`.
    fn ref_span(&self, offset: i64, at: Option<i64>) -> (i64, i64) {
        match at {
            Some(t) => (t - offset, t - offset),
            None => (self.start - offset, self.end - offset),
        }
    }

    /// Reads every series matching `vs` with its samples in `[mint, maxt]`, sorted by labels;
    /// with `start_timestamps`, also each series' start timestamps.
    pub(crate) fn select(
        &mut self,
        vs: &VectorSelector,
        (mint, maxt): (i64, i64),
        range: i64,
        keep_stale: bool,
        mut start_timestamps: Option<&mut Vec<StartTimestamps>>,
    ) -> EvalResult<Matrix> {
        let querier = self
            .queryable
            .querier(mint, maxt)
            .map_err(|e| QueryError::Storage(e.to_string()))?;
        let hints = SelectHints {
            start: mint,
            end: maxt,
            step: self.interval,
            range,
            ..SelectHints::default()
        };
        let mut set = querier.select(true, Some(&hints), &vs.matchers);
        let mut out = Matrix::new();
        let mut floats: Vec<RawSample> = Vec::new();
        let mut hists: Vec<HistogramSample> = Vec::new();
        let (mut float_sts, mut hist_sts) = (Vec::new(), Vec::new());
        while let Some(series) = set.next() {
            self.check_done()?;
            floats.clear();
            hists.clear();
            match start_timestamps.as_deref_mut() {
                Some(out_sts) => {
                    let mut it = series.iter();
                    float_sts.clear();
                    hist_sts.clear();
                    it.fill_with_start_timestamps(
                        mint,
                        maxt,
                        &mut floats,
                        &mut hists,
                        &mut float_sts,
                        &mut hist_sts,
                    );
                    out_sts.push(StartTimestamps {
                        floats: kept(&floats, &float_sts, |p| keep_stale || !is_stale_nan(p.v)),
                        histograms: kept(&hists, &hist_sts, |p| {
                            keep_stale || !is_stale_nan(p.h.sum)
                        }),
                    });
                    if let Some(e) = it.err() {
                        return Err(QueryError::Storage(e.to_string()));
                    }
                }
                None => series
                    .fill_range(mint, maxt, &mut floats, &mut hists)
                    .map_err(|e| QueryError::Storage(e.to_string()))?,
            }
            let mut s = Series::new(series.labels().clone());
            // Sized up front: the filter would otherwise hide the length and grow the vector
            // by doubling.
            s.floats = Vec::with_capacity(floats.len());
            s.floats.extend(
                floats
                    .iter()
                    .filter(|p| keep_stale || !is_stale_nan(p.v))
                    .map(|p| FPoint { t: p.t, f: p.v }),
            );
            s.histograms = hists
                .drain(..)
                .filter(|p| keep_stale || !is_stale_nan(p.h.sum))
                .map(|p| HPoint {
                    t: p.t,
                    h: Arc::new(p.h),
                })
                .collect();
            if self.histogram_stats == HistogramStats::On {
                detect_resets(&mut s.histograms, is_stale_nan);
            }
            out.push(s);
        }
        if let Some(e) = set.err() {
            return Err(QueryError::Storage(e.to_string()));
        }
        let warnings = set.warnings();
        if !warnings.is_empty() {
            self.annotations.storage(&warnings);
        }
        Ok(out)
    }

    /// An instant-vector selector over all steps: at each step the newest sample in
    /// `(ref − lookback, ref]`, unless it is a staleness marker. `output` says what the points
    /// hold.
    pub(crate) fn vector_selector_points(
        &mut self,
        vs: &VectorSelector,
        output: SelectorOutput,
    ) -> EvalResult<Matrix> {
        let sample_time = output != SelectorOutput::Values;
        let offset = nanos_to_millis(vs.original_offset);
        let at = at_time(vs.at);
        let (first_ref, last_ref) = self.ref_span(offset, at);
        let lookback = self.settings.lookback;
        let mut sts = Vec::new();
        let want_sts = (output == SelectorOutput::StartTimes).then_some(&mut sts);
        let raw = self.select(vs, (first_ref - lookback + 1, last_ref), 0, true, want_sts)?;
        let mut out = Matrix::with_capacity(raw.len());
        let steps: Vec<i64> = self.step_times().collect();
        for (si, s) in raw.into_iter().enumerate() {
            // What a point reports: its value, or a time in seconds.
            let time_of = |is_float: bool, i: usize, t: i64| -> f64 {
                let ms = match sts.get(si) {
                    Some(sts) if is_float => sts.floats[i],
                    Some(sts) => sts.histograms[i],
                    None => t,
                };
                ms as f64 / 1000.0
            };
            let mut ss = Series::new(s.metric.clone());
            // Usually a point at every step: reserving them spares the growth by doubling.
            if !s.floats.is_empty() {
                ss.floats.reserve(steps.len());
            }
            let (mut fi, mut hi) = (0usize, 0usize);
            for (step, &ts) in steps.iter().enumerate() {
                let reference = at.unwrap_or(ts) - offset;
                while fi < s.floats.len() && s.floats[fi].t <= reference {
                    fi += 1;
                }
                while hi < s.histograms.len() && s.histograms[hi].t <= reference {
                    hi += 1;
                }
                let f = fi.checked_sub(1).map(|i| s.floats[i]);
                let h = hi.checked_sub(1).map(|i| &s.histograms[i]);
                let newest_is_float = match (f, h) {
                    (Some(f), Some(h)) => f.t > h.t,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => continue,
                };
                if newest_is_float {
                    let p = f.expect("checked above");
                    if p.t <= reference - lookback || is_stale_nan(p.f) {
                        continue;
                    }
                    self.samples.add_loaded(step, 1);
                    self.add_samples(1)?;
                    let v = if sample_time {
                        time_of(true, fi - 1, p.t)
                    } else {
                        p.f
                    };
                    ss.floats.push(FPoint { t: ts, f: v });
                } else {
                    let p = h.expect("checked above");
                    if p.t <= reference - lookback || is_stale_nan(p.h.sum) {
                        continue;
                    }
                    if output == SelectorOutput::InfoSampleTimes {
                        return Err(QueryError::eval(format!(
                            "this should be an info metric, with float samples: {}",
                            s.metric
                        )));
                    }
                    if sample_time {
                        self.samples.add_loaded(step, 1);
                        self.add_samples(1)?;
                        ss.floats.push(FPoint {
                            t: ts,
                            f: time_of(false, hi - 1, p.t),
                        });
                    } else {
                        let size = histogram_size(&p.h);
                        self.samples.add_loaded(step, size as u64);
                        self.add_samples(size)?;
                        ss.histograms.push(HPoint {
                            t: ts,
                            h: p.h.clone(),
                        });
                    }
                }
            }
            if !ss.floats.is_empty() || !ss.histograms.is_empty() {
                out.push(ss);
            }
        }
        Ok(out)
    }

    pub(crate) fn eval_vector_selector(&mut self, vs: &VectorSelector) -> EvalResult<Matrix> {
        if vs.smoothed {
            return self.smoothed_vector_selector(vs);
        }
        self.vector_selector_points(vs, SelectorOutput::Values)
    }

    /// A `smoothed` instant-vector selector: at each step the value interpolated linearly
    /// between the samples around the reference time (within a lookback delta either side),
    /// the exact sample when there is one, or the last one when nothing follows it.
    fn smoothed_vector_selector(&mut self, vs: &VectorSelector) -> EvalResult<Matrix> {
        let offset = nanos_to_millis(vs.original_offset);
        let at = at_time(vs.at);
        let (first_ref, last_ref) = self.ref_span(offset, at);
        let lookback = self.settings.lookback;
        let span = (first_ref - lookback + 1, last_ref + lookback);
        let raw = self.select(vs, span, 0, false, None)?;
        let steps: Vec<i64> = self.step_times().collect();
        let mut out = Matrix::new();
        for s in raw {
            let mut ss = Series::new(s.metric.clone());
            let name = s.metric.get_or_empty("__name__").to_owned();
            for (step, &ts) in steps.iter().enumerate() {
                let reference = at.unwrap_or(ts) - offset;
                let (floats, hists) = window(&s, reference - lookback, reference + lookback);
                if floats.is_empty() && hists.is_empty() {
                    continue;
                }
                if !floats.is_empty() && !hists.is_empty() {
                    self.annotations
                        .note(Note::MixedFloatsHistograms(name.clone()), vs.pos);
                    continue;
                }
                if hists.is_empty() {
                    let i = floats.partition_point(|p| p.t < reference);
                    let value = match (floats.get(i), i.checked_sub(1).map(|j| floats[j])) {
                        (Some(next), _) if next.t == reference => next.f,
                        (Some(next), Some(prev)) => interpolate(prev, *next, reference),
                        (None, Some(prev)) => prev.f,
                        _ => continue,
                    };
                    self.samples.add_loaded(step, 1);
                    self.add_samples(1)?;
                    ss.floats.push(FPoint { t: ts, f: value });
                } else {
                    let i = hists.partition_point(|p| p.t < reference);
                    let h = match (hists.get(i), i.checked_sub(1).map(|j| &hists[j])) {
                        (Some(next), _) if next.t == reference => next.h.clone(),
                        (None, Some(prev)) => {
                            let mut h = (*prev.h).clone();
                            h.counter_reset_hint = CounterResetHint::Unknown;
                            Arc::new(h)
                        }
                        (Some(next), Some(prev)) => {
                            if prev.h.uses_custom_buckets() != next.h.uses_custom_buckets() {
                                self.annotations.note(
                                    Note::MixedExponentialCustomHistograms(name.clone()),
                                    vs.pos,
                                );
                                continue;
                            }
                            // A counter unless both samples say gauge.
                            let gauge = CounterResetHint::Gauge;
                            let is_counter = prev.h.counter_reset_hint != gauge
                                || next.h.counter_reset_hint != gauge;
                            let Ok(h) = interpolate_histograms(
                                (prev.t, &prev.h),
                                (next.t, &next.h),
                                reference,
                                is_counter,
                            ) else {
                                continue;
                            };
                            Arc::new(h)
                        }
                        _ => continue,
                    };
                    let size = histogram_size(&h);
                    self.samples.add_loaded(step, size as u64);
                    self.add_samples(size)?;
                    ss.histograms.push(HPoint { t: ts, h });
                }
            }
            if !ss.floats.is_empty() || !ss.histograms.is_empty() {
                out.push(ss);
            }
        }
        Ok(out)
    }

    /// The raw samples of a range selector for every step's window, with their start
    /// timestamps when `with_start_timestamps`.
    pub(crate) fn windowed_selector(
        &mut self,
        ms: &MatrixSelector,
        with_start_timestamps: bool,
    ) -> EvalResult<Windowed> {
        let vs = &ms.vector_selector;
        let offset = nanos_to_millis(vs.original_offset);
        let range = nanos_to_millis(ms.range);
        let at = at_time(vs.at);
        let (first_ref, last_ref) = self.ref_span(offset, at);
        let lookback = self.settings.lookback;
        let extend_left = if vs.anchored || vs.smoothed {
            lookback
        } else {
            0
        };
        let extend_right = if vs.smoothed { lookback } else { 0 };
        let mut start_timestamps = Vec::new();
        let series = self.select(
            vs,
            (first_ref - range - extend_left + 1, last_ref + extend_right),
            range,
            false,
            with_start_timestamps.then_some(&mut start_timestamps),
        )?;
        Ok(Windowed {
            series,
            range,
            offset,
            at,
            extend_left,
            extend_right,
            start_timestamps,
        })
    }

    /// A range selector as a query result (instant queries only): the raw samples of each
    /// series in the window.
    pub(crate) fn eval_matrix_selector(&mut self, ms: &MatrixSelector) -> EvalResult<Matrix> {
        let w = self.windowed_selector(ms, false)?;
        let vs = &ms.vector_selector;
        let reference = w.ref_time(self.start);
        let mut out = Matrix::new();
        for s in &w.series {
            let (f, h) = w.points(s, self.start);
            if (vs.anchored || vs.smoothed) && !h.is_empty() {
                let which = if vs.anchored { "anchored" } else { "smoothed" };
                return Err(QueryError::eval(format!(
                    "{which} modifier is not supported with histograms"
                )));
            }
            let floats = if (vs.anchored || vs.smoothed) && !f.is_empty() {
                extend_floats(f, reference - w.range, reference, vs.smoothed)
            } else {
                f.to_vec()
            };
            if floats.is_empty() && h.is_empty() {
                continue;
            }
            let mut ss = Series::new(s.metric.clone());
            ss.floats = floats;
            ss.histograms = h.to_vec();
            let n = ss.sample_count();
            self.samples.add_loaded(0, n as u64);
            self.add_samples(n)?;
            out.push(ss);
        }
        Ok(out)
    }

    /// Evaluates a subquery's inner expression over its own aligned steps; the result is the
    /// subquery's matrix, plus its window parameters for range-vector functions and what it
    /// counted (per step of its own grid), which the caller merges as upstream does.
    pub(crate) fn eval_subquery(
        &mut self,
        sq: &SubqueryExpr,
    ) -> EvalResult<(Matrix, Windowed, SampleCounter)> {
        let outer = self.histogram_stats;
        self.histogram_stats = HistogramStats::Never;
        let result = self.eval_subquery_windows(sq);
        self.histogram_stats = outer;
        result
    }

    fn eval_subquery_windows(
        &mut self,
        sq: &SubqueryExpr,
    ) -> EvalResult<(Matrix, Windowed, SampleCounter)> {
        let offset = nanos_to_millis(sq.original_offset);
        let range = nanos_to_millis(sq.range);
        let at = at_time(sq.at);
        let interval = if sq.step != 0 {
            nanos_to_millis(sq.step)
        } else {
            self.settings.default_subquery_step
        };
        let (outer_start, outer_end) = match at {
            Some(t) => (t, t),
            None => (
                self.start,
                self.start + (self.end - self.start) / self.interval * self.interval,
            ),
        };
        let first = outer_start - offset - range;
        let mut start = interval * (first / interval);
        if start <= first {
            start += interval;
        }
        let end = outer_end - offset;
        let parent = std::mem::replace(
            &mut self.samples,
            SampleCounter::new(true, start, end, interval),
        );
        let mat = self.with_range(start, end, interval, |ev| {
            ev.eval(&sq.expr).map(super::Val::into_matrix)
        });
        let counted = std::mem::replace(&mut self.samples, parent);
        let mat = mat?;
        let windowed = Windowed {
            series: mat.iter().map(without_counter_reset_hints).collect(),
            range,
            offset,
            at,
            extend_left: 0,
            extend_right: 0,
            start_timestamps: Vec::new(),
        };
        Ok((mat, windowed, counted))
    }
}

/// A subquery's points may repeat or skip raw samples, so explicit counter-reset hints would
/// mislead; they become "unknown", as upstream.
fn without_counter_reset_hints(s: &Series) -> Series {
    let mut out = s.clone();
    for p in &mut out.histograms {
        if matches!(
            p.h.counter_reset_hint,
            CounterResetHint::CounterReset | CounterResetHint::NotCounterReset
        ) {
            let mut h: FloatHistogram = (*p.h).clone();
            h.counter_reset_hint = CounterResetHint::Unknown;
            p.h = Arc::new(h);
        }
    }
    out
}

/// Linear interpolation between two float samples at `t`.
fn interpolate(p1: FPoint, p2: FPoint, t: i64) -> f64 {
    p1.f + (p2.f - p1.f) * (t - p1.t) as f64 / (p2.t - p1.t) as f64
}

/// The points of an `anchored` or `smoothed` window over `(mint, maxt]`, pinned to both
/// boundaries: the left edge takes the last sample at or before `mint` (interpolated towards
/// the next one when smoothed), the right edge the last sample (interpolated across `maxt`
/// when smoothed). Empty when no sample is after `mint`.
pub(crate) fn extend_floats(
    floats: &[FPoint],
    mint: i64,
    maxt: i64,
    smoothed: bool,
) -> Vec<FPoint> {
    let mut last = floats.len() - 1;
    let mut first = floats[..last]
        .partition_point(|p| p.t <= mint)
        .saturating_sub(1);
    if smoothed {
        last = floats[..last].partition_point(|p| p.t < maxt);
    }
    if floats[last].t <= mint {
        return Vec::new();
    }
    let left = if smoothed && floats[first].t < mint {
        interpolate(floats[first], floats[first + 1], mint)
    } else {
        floats[first].f
    };
    let right = if smoothed && last > 0 && floats[last].t > maxt {
        interpolate(floats[last - 1], floats[last], maxt)
    } else {
        floats[last].f
    };
    if floats[first].t <= mint {
        first += 1;
    }
    let mut end = last + 1;
    if floats[last].t >= maxt {
        end -= 1;
    }
    let mut out = Vec::with_capacity(end.saturating_sub(first) + 2);
    out.push(FPoint { t: mint, f: left });
    if first < end {
        out.extend_from_slice(&floats[first..end]);
    }
    out.push(FPoint { t: maxt, f: right });
    out
}
