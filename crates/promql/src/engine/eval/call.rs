//! Function calls: the engine-side functions (those that need the evaluator: `time`,
//! `timestamp`, `absent*`, `scalar`, `vector`, `sort*`, the query-context functions) and the
//! walk that hands each series' window of samples to a range-vector function kernel.

use pm_common::model::{Labels, MatchType};

use super::selectors::{SelectorOutput, WindowCursor, Windowed};
use super::{EvalResult, Evaluator, drop_metadata_labels};
use crate::engine::annotations::Note;
use crate::engine::error::QueryError;
use crate::engine::value::{Matrix, Sample, Series, histogram_size};
use crate::functions::annotations::{Issues, possible_non_counter};
use crate::functions::date::DateFunction;
use crate::functions::histogram as native;
use crate::functions::labels::{LabelJoin, LabelReplace};
use crate::functions::math::{self, MathFunction};
use crate::functions::range::{self, Output, RangeBounds, RateKind, Window};
use crate::functions::sort;
use crate::parser::{Call, Expr, ValueType};
use crate::value::{FPoint, HPoint};

/// Functions that accept `anchored` range selectors, in upstream's (sorted) order.
const ANCHORED_SAFE: [&str; 5] = ["changes", "delta", "increase", "rate", "resets"];

/// Functions that accept `smoothed` range selectors.
const SMOOTHED_SAFE: [&str; 3] = ["delta", "increase", "rate"];

/// The labels `absent`/`absent_over_time` give their result: the equality matchers of the
/// selector argument, except a label matched more than once.
fn absent_labels(arg: &Expr) -> Labels {
    let matchers = match unwrap_parens(arg) {
        Expr::VectorSelector(vs) => &vs.matchers,
        Expr::MatrixSelector(ms) => &ms.vector_selector.matchers,
        _ => return Labels::empty(),
    };
    let mut b = Labels::empty().builder();
    let mut has = std::collections::HashSet::new();
    for m in matchers {
        if m.name() == "__name__" {
            continue;
        }
        if m.match_type() == MatchType::Equal && has.insert(m.name()) {
            b.set(m.name(), m.value());
        } else {
            b.del(m.name());
        }
    }
    b.labels()
}

pub(crate) fn unwrap_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unwrap_parens(&p.expr),
        other => other,
    }
}

impl Evaluator<'_> {
    pub(crate) fn eval_call(&mut self, c: &Call) -> EvalResult<Matrix> {
        let name = c.func.name;
        let delayed = self.settings.delayed_name_removal;
        match name {
            "time" => {
                return self.range_eval(None, &[], |ts, _, _, _, out| {
                    out.push(Sample::float(Labels::empty(), ts, ts as f64 / 1000.0));
                    Ok(())
                });
            }
            "pi" => return self.constant(std::f64::consts::PI),
            "start" => return self.constant(self.frame.start as f64 / 1000.0),
            "end" => return self.constant(self.frame.end as f64 / 1000.0),
            "step" => return self.constant(self.frame.step as f64 / 1000.0),
            "range" => return self.constant((self.frame.end - self.frame.start) as f64 / 1000.0),
            "timestamp" => {
                if let Expr::VectorSelector(vs) = unwrap_parens(&c.args[0]) {
                    let mut mat = self.vector_selector_points(vs, SelectorOutput::SampleTimes)?;
                    for s in &mut mat {
                        self.mark_drop_name(s);
                    }
                    return Ok(mat);
                }
                return self.range_eval(None, &[&c.args[0]], |_, _, v, _, out| {
                    for s in &v[0] {
                        let mut metric = s.metric.clone();
                        if !delayed {
                            metric = drop_metadata_labels(&metric);
                        }
                        out.push(Sample {
                            metric,
                            t: s.t,
                            f: s.t as f64 / 1000.0,
                            h: None,
                            drop_name: true,
                        });
                    }
                    Ok(())
                });
            }
            "start_timestamp" => return self.eval_start_timestamp(c),
            "vector" => {
                return self.range_eval(None, &[&c.args[0]], |_, _, v, _, out| {
                    out.push(Sample::float(Labels::empty(), 0, v[0][0].f));
                    Ok(())
                });
            }
            "scalar" => {
                return self.range_eval(None, &[&c.args[0]], |_, _, v, _, out| {
                    let mut floats = v[0].iter().filter(|s| s.h.is_none());
                    let value = match (floats.next(), floats.next()) {
                        (Some(s), None) => s.f,
                        _ => f64::NAN,
                    };
                    out.push(Sample::float(Labels::empty(), 0, value));
                    Ok(())
                });
            }
            "absent" => {
                let labels = absent_labels(&c.args[0]);
                return self.range_eval(None, &[&c.args[0]], |_, _, v, _, out| {
                    if v[0].is_empty() {
                        out.push(Sample::float(labels.clone(), 0, 1.0));
                    }
                    Ok(())
                });
            }
            "info" => return self.eval_info(c),
            "label_replace" | "label_join" => return self.eval_label_function(c),
            "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
            | "histogram_stdvar" => {
                let f = match name {
                    "histogram_count" => native::histogram_count,
                    "histogram_sum" => native::histogram_sum,
                    "histogram_avg" => native::histogram_avg,
                    "histogram_stddev" => native::histogram_stddev,
                    _ => native::histogram_stdvar,
                };
                return self.range_eval(None, &[&c.args[0]], |_, _, v, _, out| {
                    for s in &v[0] {
                        let Some(h) = &s.h else { continue };
                        out.push(Sample {
                            metric: if delayed {
                                s.metric.clone()
                            } else {
                                drop_metadata_labels(&s.metric)
                            },
                            t: s.t,
                            f: f(h),
                            h: None,
                            drop_name: true,
                        });
                    }
                    Ok(())
                });
            }
            "histogram_quantile" | "histogram_fraction" => {
                return self.eval_histogram_estimate(c);
            }
            "histogram_quantiles" => return self.eval_histogram_quantiles(c),
            "min_of" | "max_of" => {
                let f = if name == "min_of" {
                    math::go_min
                } else {
                    math::go_max
                };
                return self.range_eval(None, &[&c.args[0], &c.args[1]], |_, _, v, _, out| {
                    out.push(Sample::float(Labels::empty(), 0, f(v[0][0].f, v[1][0].f)));
                    Ok(())
                });
            }
            "sort_by_label" | "sort_by_label_desc" => {
                if self.start != self.end {
                    self.annotations.note(Note::SortInRangeQuery, c.pos);
                }
                let names: Vec<String> = c.args[1..]
                    .iter()
                    .filter_map(|a| match unwrap_parens(a) {
                        Expr::StringLiteral(s) => Some(String::from_utf8_lossy(&s.val).into()),
                        _ => None,
                    })
                    .collect();
                let cmp = if name == "sort_by_label" {
                    sort::cmp_by_labels
                } else {
                    sort::cmp_by_labels_desc
                };
                return self.range_eval(None, &[&c.args[0]], |_, _, v, _, out| {
                    out.extend(v[0].iter().cloned());
                    out.sort_by(|a, b| cmp(&a.metric, &b.metric, &names));
                    Ok(())
                });
            }
            "sort" | "sort_desc" => {
                if self.start != self.end {
                    self.annotations.note(Note::SortInRangeQuery, c.pos);
                }
                let desc = name == "sort_desc";
                return self.range_eval(None, &[&c.args[0]], |_, _, v, _, out| {
                    out.extend(v[0].iter().filter(|s| s.h.is_none()).cloned());
                    let cmp = if desc {
                        sort::cmp_value_desc
                    } else {
                        sort::cmp_value_asc
                    };
                    out.sort_by(|a, b| cmp(a.f, b.f));
                    Ok(())
                });
            }
            _ => {}
        }
        if matches!(name, "round" | "clamp" | "clamp_min" | "clamp_max") {
            return self.with_scalar_args(c, name);
        }
        if let Some(f) = MathFunction::from_name(name) {
            return self.element_wise(c, move |v| f.apply(v));
        }
        if let Some(f) = DateFunction::from_name(name) {
            if c.args.is_empty() {
                return self.range_eval(None, &[], |ts, _, _, _, out| {
                    out.push(Sample::float(Labels::empty(), ts, f.at_millis(ts)));
                    Ok(())
                });
            }
            return self.element_wise(c, move |v| f.apply(v));
        }
        let matrix_arg = c
            .args
            .iter()
            .position(|a| a.value_type() == ValueType::Matrix);
        match matrix_arg {
            Some(i) => self.eval_range_function(c, i),
            None => Err(QueryError::eval(format!(
                "function {name:?} is not available in this build"
            ))),
        }
    }

    /// `label_replace`/`label_join`: relabel every series of the argument; the destination
    /// `__name__` is kept even when the input was to lose its name.
    fn eval_label_function(&mut self, c: &Call) -> EvalResult<Matrix> {
        let mut strings: Vec<String> = Vec::with_capacity(c.args.len());
        for a in &c.args[1..] {
            if let Expr::StringLiteral(s) = unwrap_parens(a) {
                // Label names and values must be valid UTF-8.
                let text = s.as_str().map_err(|_| {
                    QueryError::eval(format!(
                        "invalid label name {} in {}()",
                        Expr::StringLiteral(s.clone()),
                        c.func.name
                    ))
                })?;
                strings.push(text.to_owned());
            }
        }
        let relabel: Box<Relabel> = if c.func.name == "label_replace" {
            let r = LabelReplace::new(&strings[0], &strings[1], &strings[2], &strings[3])
                .map_err(|e| QueryError::eval(e.to_string()))?;
            Box::new(move |l| r.apply(l))
        } else {
            let srcs: Vec<&str> = strings[2..].iter().map(String::as_str).collect();
            let j = LabelJoin::new(&strings[0], &strings[1], &srcs)
                .map_err(|e| QueryError::eval(e.to_string()))?;
            Box::new(move |l| Some(j.apply(l)))
        };
        let dst_is_name = strings[0] == "__name__";
        let mut mat = self.eval(&c.args[0])?.into_matrix();
        for s in &mut mat {
            if let Some(l) = relabel(&s.metric) {
                s.metric = l;
                if dst_is_name {
                    s.drop_name = false;
                }
            }
        }
        super::merge_same_labelsets(mat)
    }

    /// `round`, `clamp`, `clamp_min`, `clamp_max`: float functions with scalar parameters.
    fn with_scalar_args(&mut self, c: &Call, name: &'static str) -> EvalResult<Matrix> {
        let delayed = self.settings.delayed_name_removal;
        let exprs: Vec<&Expr> = c.args.iter().collect();
        self.range_eval(None, &exprs, |_, _, v, _, out| {
            let arg = |i: usize| v.get(i).and_then(|s| s.first()).map(|s| s.f);
            for s in v[0].iter().filter(|s| s.h.is_none()) {
                let value = match name {
                    "round" => Some(math::round(s.f, arg(1).unwrap_or(1.0))),
                    "clamp" => {
                        math::clamp(s.f, arg(1).unwrap_or(f64::NAN), arg(2).unwrap_or(f64::NAN))
                    }
                    "clamp_min" => Some(math::go_max(arg(1).unwrap_or(f64::NAN), s.f)),
                    _ => Some(math::go_min(arg(1).unwrap_or(f64::NAN), s.f)),
                };
                let Some(value) = value else { continue };
                out.push(Sample {
                    metric: if delayed {
                        s.metric.clone()
                    } else {
                        drop_metadata_labels(&s.metric)
                    },
                    t: s.t,
                    f: value,
                    h: None,
                    drop_name: true,
                });
            }
            Ok(())
        })
    }

    /// A function applied to every float sample of its vector argument; histograms are
    /// skipped and the metric name goes, as upstream's simple float functions.
    fn element_wise(&mut self, c: &Call, f: impl Fn(f64) -> f64) -> EvalResult<Matrix> {
        let delayed = self.settings.delayed_name_removal;
        self.range_eval(None, &[&c.args[0]], |_, _, v, _, out| {
            for s in v[0].iter().filter(|s| s.h.is_none()) {
                out.push(Sample {
                    metric: if delayed {
                        s.metric.clone()
                    } else {
                        drop_metadata_labels(&s.metric)
                    },
                    t: s.t,
                    f: f(s.f),
                    h: None,
                    drop_name: true,
                });
            }
            Ok(())
        })
    }

    fn constant(&mut self, v: f64) -> EvalResult<Matrix> {
        self.range_eval(None, &[], |_, _, _, _, out| {
            out.push(Sample::float(Labels::empty(), 0, v));
            Ok(())
        })
    }

    /// Per-step scalar arguments of a call, by argument index.
    fn scalar_args(&mut self, c: &Call, skip: usize) -> EvalResult<Vec<Vec<f64>>> {
        let steps = self.steps();
        let mut out = Vec::with_capacity(c.args.len());
        for (i, a) in c.args.iter().enumerate() {
            if i == skip || a.value_type() != ValueType::Scalar {
                out.push(Vec::new());
                continue;
            }
            let mat = self.eval(a)?.into_matrix();
            let mut values = vec![f64::NAN; steps];
            if let Some(s) = mat.first() {
                for p in &s.floats {
                    values[((p.t - self.start) / self.interval) as usize] = p.f;
                }
            }
            out.push(values);
        }
        Ok(out)
    }

    /// A function over a range vector: each series' window at each step goes to the kernel.
    fn eval_range_function(&mut self, c: &Call, matrix_idx: usize) -> EvalResult<Matrix> {
        let name = c.func.name;
        let scalars = self.scalar_args(c, matrix_idx)?;
        let windowed: Windowed = match unwrap_parens(&c.args[matrix_idx]) {
            Expr::MatrixSelector(ms) => {
                let vs = &ms.vector_selector;
                if vs.anchored && !ANCHORED_SAFE.contains(&name) {
                    return Err(QueryError::eval(format!(
                        "anchored modifier can only be used with: {} - not with {name}",
                        ANCHORED_SAFE.join(", ")
                    )));
                }
                if vs.smoothed && !SMOOTHED_SAFE.contains(&name) {
                    return Err(QueryError::eval(format!(
                        "smoothed modifier can only be used with: {} - not with {name}",
                        SMOOTHED_SAFE.join(", ")
                    )));
                }
                let reads_sts = self.settings.use_start_timestamps
                    && matches!(name, "rate" | "irate" | "increase" | "resets");
                self.windowed_selector(ms, reads_sts)?
            }
            Expr::Subquery(sq) => {
                let (_, windowed, counted) = self.eval_subquery(sq)?;
                let grid = (self.start, self.interval, self.steps());
                self.samples.merge_read_from_subquery(
                    &counted,
                    grid,
                    windowed.offset,
                    windowed.range,
                );
                windowed
            }
            other => {
                return Err(QueryError::eval(format!(
                    "unexpected range-vector argument {other}"
                )));
            }
        };
        let (anchored, smoothed, from_selector) = match unwrap_parens(&c.args[matrix_idx]) {
            Expr::MatrixSelector(ms) => (
                ms.vector_selector.anchored,
                ms.vector_selector.smoothed,
                true,
            ),
            _ => (false, false, false),
        };
        let pos = c.args[matrix_idx].pos_range();
        let Some(kernel) = RangeKernel::of(name) else {
            return Err(QueryError::eval(format!(
                "function {name:?} is not available in this build"
            )));
        };
        let keeps_name = matches!(name, "last_over_time" | "first_over_time");
        let steps: Vec<i64> = self.step_times().collect();
        let mut out = Matrix::new();
        for (si, s) in windowed.series.iter().enumerate() {
            self.check_done()?;
            let drop_name = !keeps_name || s.drop_name;
            let mut ss = Series::new(if !self.settings.delayed_name_removal && drop_name {
                drop_metadata_labels(&s.metric)
            } else {
                s.metric.clone()
            });
            ss.drop_name = drop_name;
            if s.histograms.is_empty() && !s.floats.is_empty() {
                // Most float series have a point at nearly every step: one allocation instead
                // of a doubling series of them.
                ss.floats.reserve(steps.len());
            }
            // The window being read counts against the limit, as upstream holds it in memory.
            let base = self.current_samples;
            let mut held = 0;
            let metric_name = s.metric.get_or_empty("__name__");
            let never_decrease = matches!(name, "rate" | "increase")
                && s.floats.windows(2).all(|w| w[0].f <= w[1].f);
            let mut cursor = WindowCursor::default();
            for (step, &ts) in steps.iter().enumerate() {
                let mut window = windowed.window(si, ts, &mut cursor);
                window.floats_never_decrease = never_decrease;
                if window.is_empty() {
                    held = 0;
                    continue;
                }
                let size = self.count_window(&window, &windowed, step, ts, from_selector);
                // With `@` upstream evaluates once and repeats the result: no window is held
                // per step.
                held = if windowed.at.is_some() { 0 } else { size };
                self.current_samples = base + held;
                self.add_samples(0)?;
                let args: Vec<f64> = scalars
                    .iter()
                    .filter(|v| !v.is_empty())
                    .map(|v| v[step])
                    .collect();
                if matches!(kernel, RangeKernel::Quantile) && !window.floats.is_empty() {
                    let q = args[0];
                    if q.is_nan() || !(0.0..=1.0).contains(&q) {
                        self.annotations
                            .note(Note::InvalidQuantile(q), c.args[0].pos_range());
                    }
                }
                let reference = windowed.ref_time(ts);
                let call = RangeCall {
                    window,
                    bounds: RangeBounds {
                        start: reference - windowed.range,
                        end: reference,
                    },
                    args: &args,
                    ts,
                    anchored,
                    smoothed,
                };
                let (value, issues) = kernel.run(&call)?;
                for issue in issues.iter() {
                    self.annotations.note(issue.annotate(metric_name), pos);
                }
                match value {
                    Some(Output::Float(f)) => ss.floats.push(FPoint { t: ts, f }),
                    Some(Output::Histogram(h)) => ss.histograms.push(HPoint {
                        t: ts,
                        h: std::sync::Arc::new(h),
                    }),
                    None => {}
                }
            }
            let n = ss.sample_count();
            self.current_samples = base + held;
            self.add_samples(n)?;
            self.current_samples -= held;
            if n > 0 {
                if matches!(name, "rate" | "increase") {
                    self.check_counter_name(&s.metric, c);
                }
                out.push(ss);
            }
        }
        if name == "absent_over_time" {
            return Ok(self.absent_over_time(out, c));
        }
        if !self.settings.delayed_name_removal {
            let all: Vec<Sample> = out
                .iter()
                .map(|s| Sample::float(s.metric.clone(), 0, 0.0))
                .collect();
            if super::contains_same_labelset(&all) {
                return Err(super::same_labelset_error());
            }
        }
        Ok(out)
    }

    /// Counts a range function's window for the statistics: all of it as queryable at every
    /// step; as read only when it came from storage (a subquery's reads were merged already),
    /// wholly at the first step and then only the points past the previous step's window end.
    /// With `@`, the window is the same at every step and read once. Returns the window's
    /// size in samples.
    fn count_window(
        &mut self,
        window: &Window<'_>,
        windowed: &Windowed,
        step: usize,
        ts: i64,
        from_selector: bool,
    ) -> usize {
        let size = |h: &[HPoint]| -> u64 { h.iter().map(|p| histogram_size(&p.h) as u64).sum() };
        let full = window.floats.len() as u64 + size(window.histograms);
        self.samples.add_total(step, full);
        if !from_selector || (step > 0 && windowed.at.is_some()) {
            return full as usize;
        }
        let read = if step == 0 {
            full
        } else {
            let cutoff = windowed.ref_time(ts) + windowed.extend_right - self.interval;
            let f = (window.floats.len() - window.floats.partition_point(|p| p.t <= cutoff)) as u64;
            let first_new = window.histograms.partition_point(|p| p.t <= cutoff);
            f + size(&window.histograms[first_new..])
        };
        self.samples.add_read(step, read);
        full as usize
    }

    /// `start_timestamp(selector)`: each step's sample's start timestamp in seconds, when the
    /// engine reads start timestamps. They do not survive any other expression, so then the
    /// result is empty (the argument is still evaluated, for its errors).
    fn eval_start_timestamp(&mut self, c: &Call) -> EvalResult<Matrix> {
        if self.settings.use_start_timestamps
            && let Expr::VectorSelector(vs) = unwrap_parens(&c.args[0])
        {
            let mut mat = self.vector_selector_points(vs, SelectorOutput::StartTimes)?;
            for s in &mut mat {
                self.mark_drop_name(s);
            }
            return Ok(mat);
        }
        self.eval(&c.args[0])?;
        Ok(Matrix::new())
    }

    /// `rate`/`increase` of a metric whose name (or `__type__` label) does not look like a
    /// counter earns an info.
    fn check_counter_name(&mut self, metric: &Labels, c: &Call) {
        let type_label = self
            .settings
            .type_and_unit_labels
            .then(|| metric.get_or_empty("__type__"));
        let name = metric.get_or_empty("__name__");
        if let Some(note) = possible_non_counter(name, type_label) {
            self.annotations.note(note, c.args[0].pos_range());
        }
    }

    /// One series with 1 at every step where no input series had a value.
    fn absent_over_time(&self, present: Matrix, c: &Call) -> Matrix {
        let steps = self.steps();
        let mut found = std::collections::HashSet::new();
        for s in &present {
            if s.floats.len() + s.histograms.len() == steps {
                return Matrix::new();
            }
            found.extend(s.floats.iter().map(|p| p.t));
            found.extend(s.histograms.iter().map(|p| p.t));
        }
        if found.len() == steps {
            return Matrix::new();
        }
        let mut s = Series::new(absent_labels(&c.args[0]));
        s.drop_name = true;
        s.floats = self
            .step_times()
            .filter(|t| !found.contains(t))
            .map(|t| FPoint { t, f: 1.0 })
            .collect();
        vec![s]
    }
}

/// A label function applied to one series' labels; `None` leaves them unchanged.
type Relabel = dyn Fn(&Labels) -> Option<Labels>;

/// What a range-vector function sees at one step.
struct RangeCall<'a> {
    window: Window<'a>,
    bounds: RangeBounds,
    /// The scalar arguments, in order.
    args: &'a [f64],
    ts: i64,
    anchored: bool,
    smoothed: bool,
}

type KernelResult = Result<(Option<Output>, Issues), QueryError>;

fn float(v: Option<f64>) -> KernelResult {
    Ok((v.map(Output::Float), Issues::NONE))
}

fn float_issues((v, issues): (Option<f64>, Issues)) -> KernelResult {
    Ok((v.map(Output::Float), issues))
}

/// The kernel of a range-vector function, looked up by name once per call rather than at
/// every step of every series.
#[derive(Clone, Copy, Debug)]
enum RangeKernel {
    /// absent_over_time marks steps with samples; the engine inverts the result.
    Absent,
    Present,
    Count,
    Sum,
    Avg,
    Last,
    First,
    TsOfLast,
    TsOfFirst,
    Quantile,
    Mad,
    Rate(RateKind),
    /// `irate` (true) or `idelta`.
    Instant(bool),
    Changes,
    Resets,
    Deriv,
    PredictLinear,
    DoubleExponentialSmoothing,
    Over(range::OverTime),
}

impl RangeKernel {
    /// The kernel of range-vector function `name`; `None` when there is none.
    fn of(name: &str) -> Option<Self> {
        Some(match name {
            "absent_over_time" => Self::Absent,
            "present_over_time" => Self::Present,
            "count_over_time" => Self::Count,
            "sum_over_time" => Self::Sum,
            "avg_over_time" => Self::Avg,
            "last_over_time" => Self::Last,
            "first_over_time" => Self::First,
            "ts_of_last_over_time" => Self::TsOfLast,
            "ts_of_first_over_time" => Self::TsOfFirst,
            "quantile_over_time" => Self::Quantile,
            "mad_over_time" => Self::Mad,
            "rate" => Self::Rate(RateKind::Rate),
            "increase" => Self::Rate(RateKind::Increase),
            "delta" => Self::Rate(RateKind::Delta),
            "irate" => Self::Instant(true),
            "idelta" => Self::Instant(false),
            "changes" => Self::Changes,
            "resets" => Self::Resets,
            "deriv" => Self::Deriv,
            "predict_linear" => Self::PredictLinear,
            "double_exponential_smoothing" => Self::DoubleExponentialSmoothing,
            other => Self::Over(range::OverTime::from_name(other)?),
        })
    }

    fn run(self, c: &RangeCall<'_>) -> KernelResult {
        let w = &c.window;
        let anchor = c.anchored.then_some(c.bounds.start);
        match self {
            Self::Absent => float(Some(1.0)),
            Self::Present => float(range::present_over_time(w)),
            Self::Count => float(range::count_over_time(w)),
            Self::Sum => Ok(range::sum_over_time(w)),
            Self::Avg => Ok(range::avg_over_time(w)),
            Self::Last => Ok((range::last_over_time(w), Issues::NONE)),
            Self::First => Ok((range::first_over_time(w), Issues::NONE)),
            Self::TsOfLast => float(range::ts_of_last_over_time(w)),
            Self::TsOfFirst => float(range::ts_of_first_over_time(w)),
            Self::Quantile => float_issues(range::quantile_over_time(c.args[0], w)),
            Self::Mad => float_issues(range::mad_over_time(w)),
            Self::Rate(kind) => Ok(if c.anchored || c.smoothed {
                range::extended_rate(kind, w, c.bounds, c.smoothed)
            } else {
                range::extrapolated_rate(kind, w, c.bounds)
            }),
            Self::Instant(is_rate) => Ok(range::instant_rate(w, is_rate)),
            Self::Changes => float(range::changes(w, anchor)),
            Self::Resets => float(range::resets(w, anchor)),
            Self::Deriv => float_issues(range::deriv(w)),
            Self::PredictLinear => float_issues(range::predict_linear(w, c.args[0], c.ts)),
            Self::DoubleExponentialSmoothing => {
                range::double_exponential_smoothing(w, c.args[0], c.args[1])
                    .map_err(|e| QueryError::eval(e.to_string()))
                    .and_then(float_issues)
            }
            Self::Over(kind) => float_issues(kind.apply(w)),
        }
    }
}
