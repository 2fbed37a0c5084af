//! Aggregation operators, evaluated step by step over the input matrix with groups computed
//! once per input series.

use std::collections::HashMap;
use std::sync::Arc;

use pm_common::model::{CounterResetHint, FloatHistogram, Labels};

use super::{EvalResult, Evaluator};
use crate::engine::annotations::{Annotations, Note};
use crate::engine::error::QueryError;
use crate::engine::value::{Matrix, Sample, Series};
use crate::functions::annotations::HistogramOperation;
use crate::functions::histogram::HistogramSum;
use crate::functions::stats::{kahan_sum_inc as kahan_inc, quantile};
use crate::parser::{AggregateExpr, AggregateOp, Expr};
use crate::value::{FPoint, HPoint};

/// A scalar parameter evaluated at every step.
struct Params {
    values: Vec<f64>,
}

impl Params {
    fn at(&self, step: usize) -> f64 {
        self.values.get(step).copied().unwrap_or(0.0)
    }
    /// Like Go's `math.Max`, NaN wins.
    fn max(&self) -> f64 {
        self.values.iter().copied().fold(f64::NEG_INFINITY, |a, b| {
            if a.is_nan() || b.is_nan() {
                f64::NAN
            } else {
                a.max(b)
            }
        })
    }
    fn min(&self) -> f64 {
        self.values.iter().copied().fold(f64::INFINITY, |a, b| {
            if a.is_nan() || b.is_nan() {
                f64::NAN
            } else {
                a.min(b)
            }
        })
    }
    fn has_nan(&self) -> bool {
        self.values.iter().any(|v| v.is_nan())
    }
}

#[derive(Default)]
struct Group {
    seen: bool,
    f: f64,
    mean: f64,
    kahan_c: f64,
    h: Option<HistogramSum>,
    count: f64,
    values: Vec<f64>,
    has_float: bool,
    has_histogram: bool,
    incompatible: bool,
    incremental_mean: bool,
    reset_seen: bool,
    not_reset_seen: bool,
    drop_name: bool,
}

impl Group {
    fn note_hint(&mut self, h: &FloatHistogram) {
        match h.counter_reset_hint {
            CounterResetHint::CounterReset => self.reset_seen = true,
            CounterResetHint::NotCounterReset => self.not_reset_seen = true,
            _ => {}
        }
    }
}

/// The grouping key and output labels of a series.
fn grouping_labels(metric: &Labels, grouping: &[String], without: bool) -> Labels {
    if without {
        let mut names: Vec<&str> = grouping.iter().map(String::as_str).collect();
        names.push("__name__");
        metric.drop_names(&names)
    } else if grouping.is_empty() {
        Labels::empty()
    } else {
        metric.keep(grouping)
    }
}

impl Evaluator<'_> {
    fn eval_params(&mut self, param: Option<&Expr>) -> EvalResult<Params> {
        let Some(p) = param else {
            return Ok(Params { values: Vec::new() });
        };
        let mat = self.eval(p)?.into_matrix();
        let steps = self.steps();
        let mut values = vec![0.0; steps];
        if let Some(s) = mat.first() {
            for p in &s.floats {
                values[((p.t - self.start) / self.interval) as usize] = p.f;
            }
        }
        Ok(Params { values })
    }

    pub(crate) fn eval_aggregate(&mut self, a: &AggregateExpr) -> EvalResult<Matrix> {
        let mut grouping = a.grouping.clone();
        grouping.sort();
        if a.op == AggregateOp::CountValues {
            return self.eval_count_values(a, grouping);
        }
        let original = self.current_samples;
        let params = self.eval_params(a.param.as_deref())?;
        let input = self.eval(&a.expr)?.into_matrix();
        let result = self.aggregate_matrix(a, &grouping, input, &params)?;
        self.current_samples = original + result.iter().map(Series::sample_count).sum::<usize>();
        self.peak_samples = self.peak_samples.max(self.current_samples);
        Ok(result)
    }

    fn eval_count_values(
        &mut self,
        a: &AggregateExpr,
        mut grouping: Vec<String>,
    ) -> EvalResult<Matrix> {
        let param = a.param.as_deref().map(super::call::unwrap_parens);
        let Some(param @ Expr::StringLiteral(lit)) = param else {
            return Err(QueryError::eval("count_values needs a string parameter"));
        };
        let label = match lit.as_str() {
            Ok(l) if !l.is_empty() => l.to_owned(),
            _ => return Err(QueryError::eval(format!("invalid label name {param}"))),
        };
        if !a.without {
            grouping.push(label.clone());
            grouping.sort();
        }
        let without = a.without;
        self.range_eval(None, &[&a.expr], |_, _, v, _, out| {
            let mut groups: Vec<(Labels, f64)> = Vec::new();
            let mut index: HashMap<Labels, usize> = HashMap::new();
            for s in &v[0] {
                let value = match &s.h {
                    None => pm_common::expfmt::encode::float::format_f(s.f),
                    Some(h) => h.to_string(),
                };
                let mut b = s.metric.builder();
                b.set(&label, &value);
                let key = grouping_labels(&b.labels(), &grouping, without);
                match index.get(&key) {
                    Some(&i) => groups[i].1 += 1.0,
                    None => {
                        index.insert(key.clone(), groups.len());
                        groups.push((key, 1.0));
                    }
                }
            }
            out.extend(groups.into_iter().map(|(l, c)| Sample::float(l, 0, c)));
            Ok(())
        })
    }

    fn aggregate_matrix(
        &mut self,
        a: &AggregateExpr,
        grouping: &[String],
        input: Matrix,
        params: &Params,
    ) -> EvalResult<Matrix> {
        let op = a.op;
        let mut group_index: HashMap<Labels, usize> = HashMap::new();
        let mut series_group = Vec::with_capacity(input.len());
        let mut outputs: Vec<Series> = Vec::new();
        for s in &input {
            let key = grouping_labels(&s.metric, grouping, a.without);
            let next = group_index.len();
            let gi = *group_index.entry(key.clone()).or_insert_with(|| {
                outputs.push(Series::new(key));
                next
            });
            series_group.push(gi);
        }
        let param_pos = a.param.as_ref().map(|p| p.pos_range()).unwrap_or(a.pos);
        let k_ops = matches!(
            op,
            AggregateOp::Topk
                | AggregateOp::Bottomk
                | AggregateOp::Limitk
                | AggregateOp::LimitRatio
        );
        match op {
            AggregateOp::Topk | AggregateOp::Bottomk | AggregateOp::Limitk => {
                if params.max() < 1.0 {
                    return Ok(Matrix::new());
                }
                if params.has_nan() {
                    return Err(QueryError::eval("Parameter value is NaN"));
                }
                if params.min() <= i64::MIN as f64 {
                    return Err(QueryError::eval(format!(
                        "Scalar value {} underflows int64",
                        pm_common::expfmt::encode::float::format_g(params.min())
                    )));
                }
                if params.max() >= i64::MAX as f64 {
                    return Err(QueryError::eval(format!(
                        "Scalar value {} overflows int64",
                        pm_common::expfmt::encode::float::format_g(params.max())
                    )));
                }
            }
            AggregateOp::LimitRatio => {
                if params.max() == 0.0 && params.min() == 0.0 {
                    return Ok(Matrix::new());
                }
                if params.has_nan() {
                    return Err(QueryError::eval("Ratio value is NaN"));
                }
                if params.max() > 1.0 {
                    self.annotations.note(
                        Note::InvalidRatio {
                            got: params.max(),
                            capped_to: 1.0,
                        },
                        param_pos,
                    );
                }
                if params.min() < -1.0 {
                    self.annotations.note(
                        Note::InvalidRatio {
                            got: params.min(),
                            capped_to: -1.0,
                        },
                        param_pos,
                    );
                }
            }
            AggregateOp::Quantile => {
                if params.has_nan() {
                    self.annotations
                        .note(Note::InvalidQuantile(f64::NAN), param_pos);
                }
                if params.max() > 1.0 {
                    self.annotations
                        .note(Note::InvalidQuantile(params.max()), param_pos);
                }
                if params.min() < 0.0 {
                    self.annotations
                        .note(Note::InvalidQuantile(params.min()), param_pos);
                }
            }
            _ => {}
        }
        let mut cursors = vec![(0usize, 0usize); input.len()];
        let mut k_series: Vec<Series> = Vec::new();
        let mut k_index: HashMap<Labels, usize> = HashMap::new();
        let instant = self.start == self.end;
        let steps: Vec<i64> = self.step_times().collect();
        let expr_pos = a.expr.pos_range();
        // Kept across steps so that a step allocates nothing.
        let mut samples: Vec<StepSample> = Vec::with_capacity(input.len());
        let mut groups: Vec<Group> = Vec::with_capacity(outputs.len());
        for (step, &ts) in steps.iter().enumerate() {
            self.check_done()?;
            samples.clear();
            for (si, s) in input.iter().enumerate() {
                let (fi, hi) = &mut cursors[si];
                if let Some(p) = s.floats.get(*fi).filter(|p| p.t == ts) {
                    *fi += 1;
                    samples.push(StepSample {
                        si,
                        f: p.f,
                        h: None,
                    });
                } else if let Some(p) = s.histograms.get(*hi).filter(|p| p.t == ts) {
                    *hi += 1;
                    let h = Some(p.h.clone());
                    samples.push(StepSample { si, f: 0.0, h });
                }
            }
            let param = params.at(step);
            if k_ops {
                let selected = aggregate_k(
                    op,
                    param,
                    (ts, &input),
                    &samples,
                    &series_group,
                    outputs.len(),
                    &mut self.annotations,
                    a.pos,
                );
                if instant {
                    return Ok(selected
                        .into_iter()
                        .map(|s| {
                            let mut ss = Series::new(s.metric);
                            ss.drop_name = s.drop_name;
                            push(&mut ss, ts, s.f, s.h);
                            ss
                        })
                        .collect());
                }
                for s in selected {
                    let idx = *k_index.entry(s.metric.clone()).or_insert_with(|| {
                        let mut ss = Series::new(s.metric.clone());
                        ss.drop_name = s.drop_name;
                        k_series.push(ss);
                        k_series.len() - 1
                    });
                    push(&mut k_series[idx], ts, s.f, s.h);
                }
                continue;
            }
            aggregate_step(
                op,
                (&samples, &input),
                &series_group,
                (&mut groups, outputs.len()),
                &mut self.annotations,
                expr_pos,
            );
            for (gi, g) in groups.drain(..).enumerate() {
                if !g.seen {
                    continue;
                }
                let drop_name = g.drop_name;
                let Some((f, h)) = finish(op, g, param, &mut self.annotations, expr_pos) else {
                    continue;
                };
                let out = &mut outputs[gi];
                out.drop_name = drop_name;
                push(out, ts, f, h);
            }
        }
        if k_ops {
            return Ok(k_series);
        }
        outputs.retain(|s| !s.floats.is_empty() || !s.histograms.is_empty());
        Ok(outputs)
    }
}

/// One input series' sample at the step being aggregated: the series' index and the value.
struct StepSample {
    si: usize,
    f: f64,
    h: Option<Arc<FloatHistogram>>,
}

fn sample_of(s: &Series, t: i64, f: f64, h: Option<Arc<FloatHistogram>>) -> Sample {
    Sample {
        metric: s.metric.clone(),
        t,
        f,
        h,
        drop_name: s.drop_name,
    }
}

fn push(s: &mut Series, t: i64, f: f64, h: Option<Arc<FloatHistogram>>) {
    match h {
        Some(h) => s.histograms.push(HPoint { t, h }),
        None => s.floats.push(FPoint { t, f }),
    }
}

fn ignored(op: AggregateOp, annos: &mut Annotations, pos: crate::parser::PosRange) {
    annos.note(Note::HistogramIgnoredInAggregation(op.as_str().into()), pos);
}

/// Accumulates one step's samples (of the `input` series) into `groups`, which it resets to
/// `n_groups` fresh groups first.
fn aggregate_step(
    op: AggregateOp,
    (samples, input): (&[StepSample], &Matrix),
    series_group: &[usize],
    (groups, n_groups): (&mut Vec<Group>, usize),
    annos: &mut Annotations,
    pos: crate::parser::PosRange,
) {
    groups.clear();
    groups.resize_with(n_groups, Group::default);
    for s in samples {
        let g = &mut groups[series_group[s.si]];
        let series = &input[s.si];
        let f = s.f;
        let h = s.h.as_deref();
        if !g.seen {
            *g = Group {
                seen: true,
                f,
                mean: f,
                count: 1.0,
                drop_name: series.drop_name,
                ..Group::default()
            };
            match op {
                AggregateOp::Sum | AggregateOp::Avg => match h {
                    None => g.has_float = true,
                    Some(h) => {
                        g.h = Some(HistogramSum::new(h));
                        g.has_histogram = true;
                        g.note_hint(h);
                    }
                },
                AggregateOp::Stddev | AggregateOp::Stdvar => {
                    if h.is_some() {
                        g.seen = false;
                        ignored(op, annos, pos);
                    } else if f.is_nan() || f.is_infinite() {
                        g.f = f64::NAN;
                    } else {
                        g.f = 0.0;
                    }
                }
                AggregateOp::Quantile => {
                    if h.is_some() {
                        g.seen = false;
                        ignored(op, annos, pos);
                    }
                    g.values = vec![f];
                }
                AggregateOp::Group => g.f = 1.0,
                AggregateOp::Min | AggregateOp::Max if h.is_some() => {
                    g.seen = false;
                    ignored(op, annos, pos);
                }
                _ => {}
            }
            continue;
        }
        if g.incompatible {
            continue;
        }
        if series.drop_name {
            g.drop_name = true;
        }
        match op {
            AggregateOp::Sum | AggregateOp::Avg => {
                if op == AggregateOp::Avg {
                    g.count += 1.0;
                }
                match h {
                    Some(h) => {
                        g.has_histogram = true;
                        if let Some(acc) = &mut g.h {
                            g.reset_seen |= h.counter_reset_hint == CounterResetHint::CounterReset;
                            g.not_reset_seen |=
                                h.counter_reset_hint == CounterResetHint::NotCounterReset;
                            let added = if op == AggregateOp::Avg {
                                acc.add_to_mean(h)
                            } else {
                                acc.add(h)
                            };
                            if acc.reconciled() {
                                annos.note(
                                    Note::MismatchedCustomBuckets(HistogramOperation::Aggregation),
                                    pos,
                                );
                            }
                            if added.is_err() {
                                annos.note(
                                    Note::MixedExponentialCustomHistograms(
                                        series.metric.get_or_empty("__name__").into(),
                                    ),
                                    pos,
                                );
                                g.incompatible = true;
                            }
                        }
                    }
                    None => {
                        g.has_float = true;
                        if op == AggregateOp::Sum {
                            (g.f, g.kahan_c) = kahan_inc(f, g.f, g.kahan_c);
                        } else {
                            if !g.incremental_mean {
                                let (nv, nc) = kahan_inc(f, g.f, g.kahan_c);
                                if !nv.is_infinite() {
                                    (g.f, g.kahan_c) = (nv, nc);
                                    continue;
                                }
                                g.incremental_mean = true;
                                g.mean = g.f / (g.count - 1.0);
                                g.kahan_c /= g.count - 1.0;
                            }
                            let q = (g.count - 1.0) / g.count;
                            (g.mean, g.kahan_c) = kahan_inc(f / g.count, q * g.mean, q * g.kahan_c);
                        }
                    }
                }
            }
            AggregateOp::Group => {}
            AggregateOp::Max => {
                if h.is_some() {
                    ignored(op, annos, pos);
                    continue;
                }
                if g.f < f || g.f.is_nan() {
                    g.f = f;
                }
            }
            AggregateOp::Min => {
                if h.is_some() {
                    ignored(op, annos, pos);
                    continue;
                }
                if g.f > f || g.f.is_nan() {
                    g.f = f;
                }
            }
            AggregateOp::Count => g.count += 1.0,
            AggregateOp::Stddev | AggregateOp::Stdvar => {
                if h.is_some() {
                    ignored(op, annos, pos);
                    continue;
                }
                g.count += 1.0;
                let delta = f - g.mean;
                g.mean += delta / g.count;
                g.f += delta * (f - g.mean);
            }
            AggregateOp::Quantile => {
                if h.is_some() {
                    ignored(op, annos, pos);
                    continue;
                }
                g.values.push(f);
            }
            _ => {}
        }
    }
}

/// A group's value at the end of a step; `None` when it has none.
fn finish(
    op: AggregateOp,
    mut g: Group,
    param: f64,
    annos: &mut Annotations,
    pos: crate::parser::PosRange,
) -> Option<(f64, Option<Arc<FloatHistogram>>)> {
    let mut h_out = None;
    match op {
        AggregateOp::Avg | AggregateOp::Sum => {
            if g.has_float && g.has_histogram {
                annos.note(Note::MixedFloatsHistogramsAggregation, pos);
                return None;
            }
            if g.incompatible {
                return None;
            }
            if g.has_histogram {
                let acc = g.h.take().expect("histogram group has a histogram");
                let h = if op == AggregateOp::Avg {
                    acc.mean()
                } else {
                    acc.sum()
                };
                h_out = Some(Arc::new(h.ok()?.compacted()));
            } else if op == AggregateOp::Avg {
                g.f = if g.incremental_mean {
                    g.mean + g.kahan_c
                } else {
                    g.f / g.count + g.kahan_c / g.count
                };
            } else {
                g.f += g.kahan_c;
            }
        }
        AggregateOp::Count => g.f = g.count,
        AggregateOp::Stdvar => g.f /= g.count,
        AggregateOp::Stddev => g.f = (g.f / g.count).sqrt(),
        AggregateOp::Quantile => g.f = quantile(param, &mut g.values),
        _ => {}
    }
    if g.reset_seen && g.not_reset_seen {
        annos.note(
            Note::HistogramCounterResetCollision(HistogramOperation::Aggregation),
            pos,
        );
    }
    Some((g.f, h_out))
}

/// Go's `container/heap` over samples, ordered by `less`.
struct Heap<F: Fn(f64, f64) -> bool> {
    items: Vec<Sample>,
    less: F,
}

impl<F: Fn(f64, f64) -> bool> Heap<F> {
    fn lt(&self, i: usize, j: usize) -> bool {
        (self.less)(self.items[i].f, self.items[j].f)
    }
    fn push(&mut self, s: Sample) {
        self.items.push(s);
        let mut j = self.items.len() - 1;
        while j > 0 {
            let i = (j - 1) / 2;
            if i == j || !self.lt(j, i) {
                break;
            }
            self.items.swap(i, j);
            j = i;
        }
    }
    fn fix_top(&mut self) {
        let n = self.items.len();
        let mut i = 0;
        loop {
            let j1 = 2 * i + 1;
            if j1 >= n {
                break;
            }
            let mut j = j1;
            if j1 + 1 < n && self.lt(j1 + 1, j1) {
                j = j1 + 1;
            }
            if !self.lt(j, i) {
                break;
            }
            self.items.swap(i, j);
            i = j;
        }
    }
}

type Less = fn(f64, f64) -> bool;

fn by_value(a: f64, b: f64) -> bool {
    a < b || (a.is_nan() && !b.is_nan())
}

fn by_reverse_value(a: f64, b: f64) -> bool {
    a > b || (a.is_nan() && !b.is_nan())
}

/// Whether limit_ratio keeps a series: its label hash, scaled to [0, 1], against the ratio.
fn ratio_keeps(ratio: f64, metric: &Labels) -> bool {
    let offset = metric.hash_value() as f64 / u64::MAX as f64;
    (ratio >= 0.0 && offset < ratio) || (ratio < 0.0 && offset >= 1.0 + ratio)
}

/// topk, bottomk, limitk and limit_ratio at one step; the selected samples in output order.
#[allow(clippy::too_many_arguments)]
fn aggregate_k(
    op: AggregateOp,
    param: f64,
    (ts, input): (i64, &Matrix),
    samples: &[StepSample],
    series_group: &[usize],
    n_groups: usize,
    annos: &mut Annotations,
    pos: crate::parser::PosRange,
) -> Vec<Sample> {
    let k = (param as i64).min(input.len() as i64);
    let ratio = param.clamp(-1.0, 1.0);
    match op {
        AggregateOp::LimitRatio if param == 0.0 => return Vec::new(),
        AggregateOp::Topk | AggregateOp::Bottomk | AggregateOp::Limitk if k < 1 => {
            return Vec::new();
        }
        _ => {}
    }
    let k = k.max(0) as usize;
    let less = if op == AggregateOp::Bottomk {
        by_reverse_value
    } else {
        by_value
    };
    let mut heaps: Vec<Option<Heap<Less>>> = (0..n_groups).map(|_| None).collect();
    for s in samples {
        let heap = heaps[series_group[s.si]].get_or_insert_with(|| Heap {
            items: Vec::new(),
            less,
        });
        let series = &input[s.si];
        let sample = || sample_of(series, ts, s.f, s.h.clone());
        match op {
            AggregateOp::Topk | AggregateOp::Bottomk => {
                if s.h.is_some() {
                    annos.note(Note::HistogramIgnoredInAggregation(op.as_str().into()), pos);
                    continue;
                }
                if heap.items.len() < k {
                    heap.push(sample());
                } else {
                    let top = heap.items[0].f;
                    let replace = if op == AggregateOp::Topk {
                        top < s.f || (top.is_nan() && !s.f.is_nan())
                    } else {
                        top > s.f || (top.is_nan() && !s.f.is_nan())
                    };
                    if replace {
                        heap.items[0] = sample();
                        if k > 1 {
                            heap.fix_top();
                        }
                    }
                }
            }
            AggregateOp::Limitk => {
                if heap.items.len() < k {
                    heap.push(sample());
                }
            }
            _ => {
                if ratio_keeps(ratio, &series.metric) {
                    heap.push(sample());
                }
            }
        }
    }
    let mut out = Vec::new();
    for heap in heaps.into_iter().flatten() {
        let mut items = heap.items;
        match op {
            AggregateOp::Topk => {
                items.sort_by(|a, b| cmp_desc(by_value, a.f, b.f));
            }
            AggregateOp::Bottomk => {
                items.sort_by(|a, b| cmp_desc(by_reverse_value, a.f, b.f));
            }
            _ => {}
        }
        out.extend(items);
    }
    out
}

/// Order for `sort.Reverse(heap)`: `b` before `a` when `less(a, b)`.
fn cmp_desc(less: fn(f64, f64) -> bool, a: f64, b: f64) -> std::cmp::Ordering {
    if less(b, a) {
        std::cmp::Ordering::Less
    } else if less(a, b) {
        std::cmp::Ordering::Greater
    } else {
        std::cmp::Ordering::Equal
    }
}
