//! The evaluator: every node is evaluated over all steps of the query at once, producing a
//! matrix with one point per step where the node has a value (upstream's `evaluator`).
//!
//! Scalars are matrices with one label-less series; strings are kept apart. Nodes that combine
//! inputs (operators, aggregations, most functions) gather the inputs' samples step by step
//! ([`Evaluator::range_eval`]); selectors and range functions walk each series' samples once.

mod aggregate;
mod binary;
mod call;
mod histogram_call;
mod histogram_stats;
mod info;
mod selectors;

pub(crate) use histogram_stats::HistogramStats;

#[cfg(test)]
pub(crate) use selectors::extend_floats as selectors_extend_floats;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use pm_common::model::Labels;
use pm_storage::Queryable;

use super::annotations::Annotations;
use super::error::{ENV_EVAL, QueryError};
use super::prepare::Frame;
use super::stats::SampleCounter;
use super::value::{Matrix, Sample, Series, Vector};
use crate::parser::{Expr, UnaryOp, ValueType, VectorMatching};
use crate::value::{FPoint, HPoint};

pub(crate) type EvalResult<T> = Result<T, QueryError>;

/// What a node evaluates to.
pub(crate) enum Val {
    Matrix(Matrix),
    String(String),
}

impl Val {
    fn into_matrix(self) -> Matrix {
        match self {
            Val::Matrix(m) => m,
            Val::String(_) => Matrix::new(),
        }
    }
}

/// Settings an evaluator needs from the engine.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EvalSettings {
    pub lookback: i64,
    pub max_samples: usize,
    pub delayed_name_removal: bool,
    pub type_and_unit_labels: bool,
    /// Step of subqueries written without one (`[1h:]`), in milliseconds.
    pub default_subquery_step: i64,
    /// Whether `rate`, `irate`, `increase`, `resets` and `start_timestamp` read the samples'
    /// start timestamps.
    pub use_start_timestamps: bool,
}

pub(crate) struct Evaluator<'a> {
    pub queryable: &'a dyn Queryable,
    pub settings: EvalSettings,
    /// The whole query's start, end and step, for `start()`, `end()`, `step()`, `range()`.
    pub frame: Frame,
    pub start: i64,
    pub end: i64,
    /// Step in milliseconds; 1 for instant queries, as upstream.
    pub interval: i64,
    pub current_samples: usize,
    pub peak_samples: usize,
    /// What the selectors loaded, for the query's statistics.
    pub samples: SampleCounter,
    pub annotations: Annotations,
    pub deadline: Option<Instant>,
    pub cancel: Option<&'a AtomicBool>,
    /// Whether selectors are read as upstream's histogram-statistics iterator does.
    pub histogram_stats: HistogramStats,
}

impl Evaluator<'_> {
    pub fn steps(&self) -> usize {
        ((self.end - self.start) / self.interval) as usize + 1
    }

    fn step_times(&self) -> impl Iterator<Item = i64> + use<> {
        let (start, end, interval) = (self.start, self.end, self.interval);
        (0..)
            .map(move |i| start + i * interval)
            .take_while(move |t| *t <= end)
    }

    /// Fails once the deadline passed or the query was canceled.
    pub fn check_done(&self) -> EvalResult<()> {
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(QueryError::Canceled("expression evaluation"));
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(QueryError::Timeout("expression evaluation"));
        }
        Ok(())
    }

    pub fn add_samples(&mut self, n: usize) -> EvalResult<()> {
        self.current_samples += n;
        self.peak_samples = self.peak_samples.max(self.current_samples);
        if self.current_samples > self.settings.max_samples {
            return Err(QueryError::TooManySamples(ENV_EVAL));
        }
        Ok(())
    }

    fn update_peak(&mut self) {
        self.peak_samples = self.peak_samples.max(self.current_samples);
    }

    /// Runs `f` with the evaluator's range temporarily replaced (subqueries, step-invariant
    /// parts).
    pub fn with_range<T>(
        &mut self,
        start: i64,
        end: i64,
        interval: i64,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let saved = (self.start, self.end, self.interval);
        (self.start, self.end, self.interval) = (start, end, interval);
        let out = f(self);
        (self.start, self.end, self.interval) = saved;
        out
    }

    pub fn eval(&mut self, expr: &Expr) -> EvalResult<Val> {
        let outer = self.histogram_stats;
        self.histogram_stats = outer.below(expr);
        let result = self.eval_node(expr);
        self.histogram_stats = outer;
        result
    }

    fn eval_node(&mut self, expr: &Expr) -> EvalResult<Val> {
        self.check_done()?;
        if self.end < self.start {
            return Ok(Val::Matrix(Matrix::new()));
        }
        match expr {
            Expr::Aggregate(a) => self.eval_aggregate(a).map(Val::Matrix),
            Expr::Call(c) => self.eval_call(c).map(Val::Matrix),
            Expr::Paren(p) => self.eval(&p.expr),
            Expr::Unary(u) => {
                let mut mat = self.eval(&u.expr)?.into_matrix();
                if u.op == UnaryOp::Minus {
                    for s in &mut mat {
                        self.mark_drop_name(s);
                        for p in &mut s.floats {
                            p.f = -p.f;
                        }
                        for p in &mut s.histograms {
                            let mut h = (*p.h).clone();
                            crate::engine::histogram_format::scale(&mut h, -1.0);
                            p.h = h.into();
                        }
                    }
                    if !self.settings.delayed_name_removal {
                        mat = merge_same_labelsets(mat)?;
                    }
                }
                Ok(Val::Matrix(mat))
            }
            Expr::Binary(b) => self.eval_binary(b).map(Val::Matrix),
            Expr::NumberLiteral(n) => {
                let v = n.val;
                self.range_eval(None, &[], |_, _, _, _, out| {
                    out.push(Sample::float(Labels::empty(), 0, v));
                    Ok(())
                })
                .map(Val::Matrix)
            }
            Expr::Duration(_) => Err(QueryError::eval(
                "duration expressions are only allowed in ranges, steps and offsets",
            )),
            Expr::StringLiteral(s) => Ok(Val::String(String::from_utf8_lossy(&s.val).into())),
            Expr::VectorSelector(vs) => self.eval_vector_selector(vs).map(Val::Matrix),
            Expr::MatrixSelector(ms) => self.eval_matrix_selector(ms).map(Val::Matrix),
            Expr::Subquery(sq) => {
                let (mat, _, counted) = self.eval_subquery(sq)?;
                let last = self.steps() - 1;
                self.samples.add_total(last, counted.total);
                let grid = (self.start, self.interval, self.steps());
                self.samples.merge_read_from_subquery(&counted, grid, 0, 0);
                Ok(Val::Matrix(mat))
            }
        }
    }

    /// Drops `__name__` (and the other metadata labels) now, or marks the series for dropping
    /// at the end with delayed name removal.
    fn mark_drop_name(&self, s: &mut Series) {
        if !self.settings.delayed_name_removal {
            s.metric = drop_metadata_labels(&s.metric);
        }
        s.drop_name = true;
    }

    /// Evaluates `exprs` over all steps and calls `f` once per step with their instant vectors
    /// (and, when `matching` is given, each sample's join-signature ordinal); `f` pushes the
    /// step's output. Output samples are assembled into series by label set.
    pub fn range_eval(
        &mut self,
        matching: Option<&VectorMatching>,
        exprs: &[&Expr],
        f: impl FnMut(i64, &mut Annotations, &[Vector], &[Vec<usize>], &mut Vector) -> EvalResult<()>,
    ) -> EvalResult<Matrix> {
        let original_samples = self.current_samples;
        let mut matrixes = Vec::with_capacity(exprs.len());
        for e in exprs {
            if e.value_type() == ValueType::String {
                matrixes.push(Matrix::new());
                continue;
            }
            matrixes.push(self.eval(e)?.into_matrix());
        }
        self.range_eval_matrices(matching, &matrixes, original_samples, f)
    }

    /// [`range_eval`](Self::range_eval) over inputs already evaluated; `original_samples` is
    /// the sample count from before they were.
    pub fn range_eval_matrices(
        &mut self,
        matching: Option<&VectorMatching>,
        matrixes: &[Matrix],
        original_samples: usize,
        mut f: impl FnMut(
            i64,
            &mut Annotations,
            &[Vector],
            &[Vec<usize>],
            &mut Vector,
        ) -> EvalResult<()>,
    ) -> EvalResult<Matrix> {
        let signatures: Vec<Vec<usize>> = match matching {
            Some(m) => join_signatures(m, matrixes),
            None => Vec::new(),
        };
        let mut cursors: Vec<Vec<(usize, usize)>> =
            matrixes.iter().map(|m| vec![(0, 0); m.len()]).collect();
        let mut vectors: Vec<Vector> = matrixes
            .iter()
            .map(|m| Vec::with_capacity(m.len()))
            .collect();
        let mut step_sigs: Vec<Vec<usize>> = vec![Vec::new(); matrixes.len()];
        let mut out = Vector::new();
        let mut series: Vec<Series> = Vec::new();
        let mut index: HashMap<Labels, (usize, i64)> = HashMap::new();
        let mut temp_samples = self.current_samples;
        let instant = self.start == self.end;
        for ts in self.step_times() {
            self.check_done()?;
            self.current_samples = temp_samples;
            for (i, mat) in matrixes.iter().enumerate() {
                vectors[i].clear();
                step_sigs[i].clear();
                for (si, s) in mat.iter().enumerate() {
                    let (fi, hi) = &mut cursors[i][si];
                    let sample = if s.floats.get(*fi).is_some_and(|p| p.t == ts) {
                        *fi += 1;
                        Sample {
                            metric: s.metric.clone(),
                            t: ts,
                            f: s.floats[*fi - 1].f,
                            h: None,
                            drop_name: s.drop_name,
                        }
                    } else if s.histograms.get(*hi).is_some_and(|p| p.t == ts) {
                        *hi += 1;
                        Sample {
                            metric: s.metric.clone(),
                            t: ts,
                            f: 0.0,
                            h: Some(s.histograms[*hi - 1].h.clone()),
                            drop_name: s.drop_name,
                        }
                    } else {
                        continue;
                    };
                    vectors[i].push(sample);
                    if let Some(sigs) = signatures.get(i) {
                        step_sigs[i].push(sigs[si]);
                    }
                }
            }
            out.clear();
            f(ts, &mut self.annotations, &vectors, &step_sigs, &mut out)?;
            let n: usize = out.iter().map(sample_size).sum();
            self.add_samples(n)?;
            temp_samples += n;
            if instant {
                if !self.settings.delayed_name_removal && contains_same_labelset(&out) {
                    return Err(same_labelset_error());
                }
                let mat: Matrix = out.drain(..).map(|s| single_point_series(s, ts)).collect();
                self.current_samples =
                    original_samples + mat.iter().map(Series::sample_count).sum::<usize>();
                self.update_peak();
                return Ok(mat);
            }
            for s in out.drain(..) {
                match index.get_mut(&s.metric) {
                    Some((idx, last)) => {
                        if *last == ts {
                            return Err(same_labelset_error());
                        }
                        *last = ts;
                        push_point(&mut series[*idx], ts, s.f, s.h);
                    }
                    None => {
                        index.insert(s.metric.clone(), (series.len(), ts));
                        let mut ss = Series::new(s.metric);
                        ss.drop_name = s.drop_name;
                        push_point(&mut ss, ts, s.f, s.h);
                        series.push(ss);
                    }
                }
            }
        }
        self.current_samples =
            original_samples + series.iter().map(Series::sample_count).sum::<usize>();
        self.update_peak();
        Ok(series)
    }
}

fn push_point(
    s: &mut Series,
    t: i64,
    f: f64,
    h: Option<std::sync::Arc<pm_common::model::FloatHistogram>>,
) {
    match h {
        Some(h) => s.histograms.push(HPoint { t, h }),
        None => s.floats.push(FPoint { t, f }),
    }
}

fn single_point_series(s: Sample, ts: i64) -> Series {
    let mut ss = Series::new(s.metric);
    ss.drop_name = s.drop_name;
    push_point(&mut ss, ts, s.f, s.h);
    ss
}

pub(crate) fn sample_size(s: &Sample) -> usize {
    s.h.as_deref().map_or(1, super::value::histogram_size)
}

pub(crate) fn same_labelset_error() -> QueryError {
    QueryError::eval("vector cannot contain metrics with the same labelset")
}

pub(crate) fn contains_same_labelset(v: &[Sample]) -> bool {
    if v.len() <= 1 {
        return false;
    }
    let mut seen = std::collections::HashSet::with_capacity(v.len());
    v.iter().any(|s| !seen.insert(&s.metric))
}

/// Drops `__name__`, `__type__` and `__unit__`: an operation that changes a value's meaning
/// also changes its metric identity.
pub(crate) fn drop_metadata_labels(l: &Labels) -> Labels {
    const METADATA: [&str; 3] = ["__name__", "__type__", "__unit__"];
    if !METADATA.iter().any(|n| l.has(n)) {
        return l.clone();
    }
    l.drop_names(&METADATA)
}

/// Joins series that share a label set after their names were dropped, failing when two of
/// them have a point at the same time.
pub(crate) fn merge_same_labelsets(mat: Matrix) -> EvalResult<Matrix> {
    if mat.len() <= 1 {
        return Ok(mat);
    }
    let mut index: HashMap<Labels, usize> = HashMap::with_capacity(mat.len());
    let mut out: Matrix = Vec::with_capacity(mat.len());
    let mut merged = false;
    for s in mat {
        match index.get(&s.metric) {
            Some(&i) => {
                merged = true;
                let base = &mut out[i];
                base.floats.extend(s.floats);
                base.histograms.extend(s.histograms);
            }
            None => {
                index.insert(s.metric.clone(), out.len());
                out.push(s);
            }
        }
    }
    if merged {
        for s in &mut out {
            s.floats.sort_by_key(|p| p.t);
            s.histograms.sort_by_key(|p| p.t);
            if s.floats.windows(2).any(|w| w[0].t == w[1].t)
                || s.histograms.windows(2).any(|w| w[0].t == w[1].t)
            {
                return Err(same_labelset_error());
            }
        }
    }
    Ok(out)
}

/// Ordinals of the join signatures (`on`/`ignoring` labels) of every input series.
fn join_signatures(matching: &VectorMatching, matrixes: &[Matrix]) -> Vec<Vec<usize>> {
    let mut names = matching.matching_labels.clone();
    names.sort();
    let mut ordinals: HashMap<u64, usize> = HashMap::new();
    matrixes
        .iter()
        .map(|m| {
            m.iter()
                .map(|s| {
                    let h = signature(&s.metric, matching.on, &names);
                    let next = ordinals.len();
                    *ordinals.entry(h).or_insert(next)
                })
                .collect()
        })
        .collect()
}

/// The hash of the labels a vector match compares (`names` sorted).
pub(crate) fn signature(l: &Labels, on: bool, names: &[String]) -> u64 {
    if on {
        l.hash_for_labels(names)
    } else {
        l.hash_without_labels(names)
    }
}

/// An evaluator over `queryable` for the range `start..=end` at `interval`, with the engine's
/// default settings, for tests that call evaluation steps directly.
#[cfg(test)]
pub(crate) fn test_evaluator(
    queryable: &dyn Queryable,
    (start, end, interval): (i64, i64, i64),
    delayed_name_removal: bool,
) -> Evaluator<'_> {
    Evaluator {
        queryable,
        settings: EvalSettings {
            lookback: 300_000,
            max_samples: 50_000_000,
            delayed_name_removal,
            type_and_unit_labels: false,
            default_subquery_step: 60_000,
            use_start_timestamps: false,
        },
        frame: Frame {
            start,
            end,
            step: interval,
        },
        start,
        end,
        interval,
        current_samples: 0,
        peak_samples: 0,
        samples: SampleCounter::new(false, start, end, interval),
        annotations: Annotations::default(),
        deadline: None,
        cancel: None,
        histogram_stats: HistogramStats::Off,
    }
}
