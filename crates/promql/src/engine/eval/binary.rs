//! Binary operators: scalar/scalar, vector/scalar and vector/vector with matching, set
//! operators, comparisons with and without `bool`, and histogram arithmetic.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use pm_common::model::{CounterResetHint, FloatHistogram, HistogramError, Labels};

use super::{EvalResult, Evaluator, drop_metadata_labels, merge_same_labelsets};
use crate::engine::annotations::{Annotation, Annotations, Note};
use crate::engine::error::QueryError;
use crate::engine::histogram_format::{divide, scale};
use crate::engine::histogram_trim::trim_buckets;
use crate::engine::value::{Matrix, Sample, Series, Vector};
use crate::functions::annotations::HistogramOperation;
use crate::parser::{BinaryExpr, BinaryOp, Cardinality, PosRange, ValueType, VectorMatching};
use crate::value::FPoint;

/// The outcome of an operator on two elements.
struct ElemResult {
    f: f64,
    h: Option<Arc<FloatHistogram>>,
    keep: bool,
    /// Histogram addition or subtraction had to reconcile mismatched custom buckets.
    reconciled: bool,
}

/// Why an element operation produced nothing (or only partially).
enum ElemIssue {
    Annotation(Annotation),
    Histogram(HistogramError),
}

fn scalar_binop(op: BinaryOp, l: f64, r: f64) -> f64 {
    let b = |x: bool| if x { 1.0 } else { 0.0 };
    match op {
        BinaryOp::Add => l + r,
        BinaryOp::Sub => l - r,
        BinaryOp::Mul => l * r,
        BinaryOp::Div => l / r,
        BinaryOp::Pow => l.powf(r),
        BinaryOp::Mod => l % r,
        BinaryOp::Eql => b(l == r),
        BinaryOp::Neq => b(l != r),
        BinaryOp::Gtr => b(l > r),
        BinaryOp::Lss => b(l < r),
        BinaryOp::Gte => b(l >= r),
        BinaryOp::Lte => b(l <= r),
        BinaryOp::Atan2 => l.atan2(r),
        // The parser allows only arithmetic and comparisons between scalars.
        _ => f64::NAN,
    }
}

/// Whether the operator changes what the value means, so the metric name must go.
fn changes_metric_schema(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Pow
            | BinaryOp::Mod
            | BinaryOp::Atan2
    )
}

fn elem_binop(
    op: BinaryOp,
    l: f64,
    r: f64,
    hl: Option<&Arc<FloatHistogram>>,
    hr: Option<&Arc<FloatHistogram>>,
    pos: PosRange,
) -> Result<ElemResult, ElemIssue> {
    let float = |f: f64, keep: bool| {
        Ok(ElemResult {
            f,
            h: None,
            keep,
            reconciled: false,
        })
    };
    let hist = |h: FloatHistogram, reconciled: bool| {
        Ok(ElemResult {
            f: 0.0,
            h: Some(Arc::new(h.compacted())),
            keep: true,
            reconciled,
        })
    };
    let incompatible = |lt: &str, rt: &str| {
        Err(ElemIssue::Annotation(Annotation::new(
            Note::IncompatibleTypesInBinOp {
                lhs: lt.into(),
                operator: op.as_str().into(),
                rhs: rt.into(),
            },
            pos,
        )))
    };
    match (hl, hr) {
        (None, None) => match op {
            BinaryOp::Eql => float(l, l == r),
            BinaryOp::Neq => float(l, l != r),
            BinaryOp::Gtr => float(l, l > r),
            BinaryOp::Lss => float(l, l < r),
            BinaryOp::Gte => float(l, l >= r),
            BinaryOp::Lte => float(l, l <= r),
            BinaryOp::TrimUpper | BinaryOp::TrimLower => incompatible("float", "float"),
            _ => float(scalar_binop(op, l, r), true),
        },
        (None, Some(hr)) => match op {
            BinaryOp::Mul => {
                let mut h = (**hr).clone();
                scale(&mut h, l);
                hist(h, false)
            }
            _ => incompatible("float", "histogram"),
        },
        (Some(hl), None) => match op {
            BinaryOp::Mul => {
                let mut h = (**hl).clone();
                scale(&mut h, r);
                hist(h, false)
            }
            BinaryOp::Div => {
                let mut h = (**hl).clone();
                divide(&mut h, r);
                hist(h, false)
            }
            BinaryOp::TrimUpper | BinaryOp::TrimLower => {
                let mut h = (**hl).clone();
                trim_buckets(&mut h, r, op == BinaryOp::TrimUpper);
                hist(h, false)
            }
            _ => incompatible("histogram", "float"),
        },
        (Some(hl), Some(hr)) => match op {
            BinaryOp::Add | BinaryOp::Sub => {
                let mut h = (**hl).clone();
                let res = if op == BinaryOp::Add {
                    h.add(hr)
                } else {
                    h.sub(hr)
                };
                let combined = res.map_err(ElemIssue::Histogram)?;
                if op == BinaryOp::Sub {
                    h.counter_reset_hint = CounterResetHint::Gauge;
                }
                hist(h, combined.custom_bounds_reconciled)
            }
            BinaryOp::Eql => Ok(ElemResult {
                f: 0.0,
                h: Some(hl.clone()),
                keep: hl.equals(hr),
                reconciled: false,
            }),
            BinaryOp::Neq => Ok(ElemResult {
                f: 0.0,
                h: Some(hl.clone()),
                keep: !hl.equals(hr),
                reconciled: false,
            }),
            _ => incompatible("histogram", "histogram"),
        },
    }
}

fn report(issue: ElemIssue, op: BinaryOp, pos: PosRange, annos: &mut Annotations) {
    match issue {
        ElemIssue::Annotation(a) => annos.add(a),
        ElemIssue::Histogram(HistogramError::IncompatibleSchema) => annos.note(
            Note::IncompatibleBucketLayoutInBinOp(op.as_str().into()),
            pos,
        ),
        ElemIssue::Histogram(_) => {}
    }
}

impl Evaluator<'_> {
    pub(crate) fn eval_binary(&mut self, b: &BinaryExpr) -> EvalResult<Matrix> {
        let (lt, rt) = (b.lhs.value_type(), b.rhs.value_type());
        let op = b.op;
        let pos = PosRange::new(b.lhs.pos_range().start, b.rhs.pos_range().end);
        let delayed = self.settings.delayed_name_removal;
        let return_bool = b.return_bool;
        match (lt, rt) {
            (ValueType::Scalar, ValueType::Scalar) => {
                self.range_eval(None, &[&b.lhs, &b.rhs], |_, _, v, _, out| {
                    let val = scalar_binop(op, v[0][0].f, v[1][0].f);
                    out.push(Sample::float(Labels::empty(), 0, val));
                    Ok(())
                })
            }
            (ValueType::Vector, ValueType::Vector) => {
                let matching = b.matching.clone().unwrap_or(VectorMatching {
                    card: if op.is_set_operator() {
                        Cardinality::ManyToMany
                    } else {
                        Cardinality::OneToOne
                    },
                    matching_labels: Vec::new(),
                    on: false,
                    include: Vec::new(),
                    fill_lhs: None,
                    fill_rhs: None,
                });
                let m = &matching;
                let mut scratch = JoinScratch::default();
                self.range_eval(Some(m), &[&b.lhs, &b.rhs], |_, annos, v, sigs, out| {
                    match op {
                        BinaryOp::And => vector_and(&v[0], &v[1], &sigs[0], &sigs[1], out),
                        BinaryOp::Or => vector_or(&v[0], &v[1], &sigs[0], &sigs[1], out),
                        BinaryOp::Unless => vector_unless(&v[0], &sigs[0], &sigs[1], out),
                        _ => {
                            return vector_binop(
                                &VectorBinop {
                                    op,
                                    matching: m,
                                    return_bool,
                                    delayed,
                                    pos,
                                },
                                &v[0],
                                &v[1],
                                &sigs[0],
                                &sigs[1],
                                &mut scratch,
                                annos,
                                out,
                            );
                        }
                    }
                    Ok(())
                })
            }
            (ValueType::Vector, ValueType::Scalar) | (ValueType::Scalar, ValueType::Vector) => {
                let vs = VectorScalar {
                    op,
                    swap: lt == ValueType::Scalar,
                    return_bool,
                    delayed,
                    pos,
                };
                let original = self.current_samples;
                let inputs = [
                    self.eval(&b.lhs)?.into_matrix(),
                    self.eval(&b.rhs)?.into_matrix(),
                ];
                match self.vector_scalar_by_series(&vs, &inputs, original)? {
                    Some(out) => Ok(out),
                    None => self.vector_scalar_by_step(&vs, &inputs, original),
                }
            }
            _ => Err(QueryError::eval(format!(
                "operator {op} not allowed between {lt} and {rt}"
            ))),
        }
    }
}

/// An operator between an instant vector and a scalar (`swap`: the scalar is on the left).
struct VectorScalar {
    op: BinaryOp,
    swap: bool,
    return_bool: bool,
    delayed: bool,
    pos: PosRange,
}

impl VectorScalar {
    /// The result for one vector element, `None` when the element is dropped (filtered out
    /// by a comparison, or an operation that fails, which is noted).
    fn apply(
        &self,
        f: f64,
        h: Option<&Arc<FloatHistogram>>,
        scalar: f64,
        annos: &mut Annotations,
    ) -> Option<(f64, Option<Arc<FloatHistogram>>)> {
        let (op, pos) = (self.op, self.pos);
        let (mut l, mut r) = (f, scalar);
        let (mut hl, mut hr) = (h, None);
        if self.swap {
            std::mem::swap(&mut l, &mut r);
            std::mem::swap(&mut hl, &mut hr);
        }
        let mut res = match elem_binop(op, l, r, hl, hr, pos) {
            Ok(res) => res,
            Err(issue) => {
                report(issue, op, pos, annos);
                return None;
            }
        };
        if op.is_comparison() && self.swap {
            res.f = r;
            res.h = hr.cloned();
        }
        if self.return_bool {
            res.f = if res.keep { 1.0 } else { 0.0 };
            res.h = None;
            res.keep = true;
        }
        res.keep.then_some((res.f, res.h))
    }

    /// Whether results lose `__name__` (and the other metadata labels).
    fn drops_name(&self) -> bool {
        changes_metric_schema(self.op) || self.return_bool
    }
}

impl Evaluator<'_> {
    /// The general evaluation: step by step over instant vectors.
    fn vector_scalar_by_step(
        &mut self,
        vs: &VectorScalar,
        inputs: &[Matrix; 2],
        original: usize,
    ) -> EvalResult<Matrix> {
        self.range_eval_matrices(None, inputs, original, |_, annos, v, _, out| {
            let (vec, scalar) = if vs.swap {
                (&v[1], v[0][0].f)
            } else {
                (&v[0], v[1][0].f)
            };
            for s in vec {
                let Some((f, h)) = vs.apply(s.f, s.h.as_ref(), scalar, annos) else {
                    continue;
                };
                let mut sample = s.clone();
                sample.f = f;
                sample.h = h;
                if vs.drops_name() {
                    if !vs.delayed {
                        sample.metric = drop_metadata_labels(&sample.metric);
                    }
                    sample.drop_name = true;
                }
                out.push(sample);
            }
            Ok(())
        })
    }

    /// The same result as [`vector_scalar_by_step`](Self::vector_scalar_by_step), computed
    /// series by series, without instant vectors or a label lookup per point: for range
    /// queries over float series (`None` otherwise, and the caller takes the general path).
    /// Series that end up with the same labels are joined as the step-wise assembly joins
    /// them, failing where two have a point at the same step.
    fn vector_scalar_by_series(
        &mut self,
        vs: &VectorScalar,
        inputs: &[Matrix; 2],
        original: usize,
    ) -> EvalResult<Option<Matrix>> {
        let (vector, scalar) = if vs.swap {
            (&inputs[1], &inputs[0])
        } else {
            (&inputs[0], &inputs[1])
        };
        let steps = self.steps();
        let scalar_complete = scalar.len() == 1
            && scalar[0].floats.len() == steps
            && scalar[0]
                .floats
                .iter()
                .enumerate()
                .all(|(i, p)| p.t == self.start + i as i64 * self.interval);
        if self.start == self.end
            || !scalar_complete
            || vector.iter().any(|s| !s.histograms.is_empty())
        {
            return Ok(None);
        }
        let scalars = &scalar[0].floats;
        let mut out = Matrix::with_capacity(vector.len());
        let mut produced = 0;
        for s in vector {
            self.check_done()?;
            let mut ss = Series::new(if vs.drops_name() && !vs.delayed {
                drop_metadata_labels(&s.metric)
            } else {
                s.metric.clone()
            });
            ss.drop_name = s.drop_name || vs.drops_name();
            ss.floats.reserve(s.floats.len());
            for p in &s.floats {
                let scalar = scalars[((p.t - self.start) / self.interval) as usize].f;
                if let Some((f, _)) = vs.apply(p.f, None, scalar, &mut self.annotations) {
                    ss.floats.push(FPoint { t: p.t, f });
                }
            }
            produced += ss.floats.len();
            self.add_samples(ss.floats.len())?;
            if !ss.floats.is_empty() {
                out.push(ss);
            }
        }
        let out = merge_same_labelsets(out)?;
        self.current_samples = original + produced;
        self.update_peak();
        Ok(Some(out))
    }
}

fn present(sigs: &[usize]) -> HashSet<usize> {
    sigs.iter().copied().collect()
}

fn vector_and(l: &[Sample], r: &[Sample], ls: &[usize], rs: &[usize], out: &mut Vector) {
    if l.is_empty() || r.is_empty() {
        return;
    }
    let right = present(rs);
    out.extend(
        l.iter()
            .zip(ls)
            .filter(|(_, sig)| right.contains(sig))
            .map(|(s, _)| s.clone()),
    );
}

fn vector_or(l: &[Sample], r: &[Sample], ls: &[usize], rs: &[usize], out: &mut Vector) {
    out.extend(l.iter().cloned());
    let left = present(ls);
    out.extend(
        r.iter()
            .zip(rs)
            .filter(|(_, sig)| !left.contains(sig))
            .map(|(s, _)| s.clone()),
    );
}

fn vector_unless(l: &[Sample], ls: &[usize], rs: &[usize], out: &mut Vector) {
    let right = present(rs);
    out.extend(
        l.iter()
            .zip(ls)
            .filter(|(_, sig)| !right.contains(sig))
            .map(|(s, _)| s.clone()),
    );
}

struct VectorBinop<'a> {
    op: BinaryOp,
    matching: &'a VectorMatching,
    return_bool: bool,
    delayed: bool,
    pos: PosRange,
}

/// The labels `on`/`ignoring` compare, as a label set (for messages and fill values).
fn match_labels(l: &Labels, matching: &VectorMatching) -> Labels {
    if matching.on {
        l.keep(&matching.matching_labels)
    } else {
        let mut names = matching.matching_labels.clone();
        names.push("__name__".into());
        l.drop_names(&names)
    }
}

fn result_metric(l: &Labels, r: &Labels, b: &VectorBinop<'_>) -> Labels {
    let drop_name = !b.delayed && b.return_bool;
    let mut builder = l.builder();
    if drop_name || changes_metric_schema(b.op) {
        builder.del("__name__").del("__type__").del("__unit__");
    }
    if b.matching.card == Cardinality::OneToOne {
        if b.matching.on {
            builder.keep(&b.matching.matching_labels);
        } else {
            for n in &b.matching.matching_labels {
                builder.del(n);
            }
        }
    }
    for n in &b.matching.include {
        match r.get(n) {
            Some(v) if !v.is_empty() => {
                builder.set(n, v);
            }
            _ => {
                builder.del(n);
            }
        }
    }
    builder.labels()
}

/// What a vector/vector operation keeps from step to step: the result label sets already
/// built (the same series pairs meet at every step, and building labels is the costly part),
/// and the per-step lookup tables, indexed by join-signature ordinal, so that their memory is
/// reused.
#[derive(Default)]
struct JoinScratch {
    result_metrics: HashMap<(Labels, Labels), Labels>,
    /// Position in the "one" side's vector per signature ordinal.
    one_side: Vec<Option<usize>>,
    /// Signature ordinals matched at this step.
    matched: Vec<bool>,
    /// (signature ordinal, output labels hash) pairs seen at this step under group_left/right.
    matched_many: HashSet<(usize, u64)>,
}

impl JoinScratch {
    /// Clears the per-step tables, sized for signature ordinals below `sigs`.
    fn reset(&mut self, sigs: usize) {
        self.one_side.clear();
        self.one_side.resize(sigs, None);
        self.matched.clear();
        self.matched.resize(sigs, false);
        self.matched_many.clear();
    }

    fn result_metric(&mut self, l: &Labels, r: &Labels, b: &VectorBinop<'_>) -> Labels {
        if let Some(m) = self.result_metrics.get(&(l.clone(), r.clone())) {
            return m.clone();
        }
        let m = result_metric(l, r, b);
        self.result_metrics
            .insert((l.clone(), r.clone()), m.clone());
        m
    }
}

#[allow(clippy::too_many_arguments)]
fn vector_binop(
    b: &VectorBinop<'_>,
    lhs: &[Sample],
    rhs: &[Sample],
    lsigs: &[usize],
    rsigs: &[usize],
    scratch: &mut JoinScratch,
    annos: &mut Annotations,
    out: &mut Vector,
) -> EvalResult<()> {
    let m = b.matching;
    if (lhs.is_empty() && rhs.is_empty())
        || ((lhs.is_empty() || rhs.is_empty()) && m.fill_lhs.is_none() && m.fill_rhs.is_none())
    {
        return Ok(());
    }
    let one_to_many = m.card == Cardinality::OneToMany;
    let (lhs, rhs, lsigs, rsigs) = if one_to_many {
        (rhs, lhs, rsigs, lsigs)
    } else {
        (lhs, rhs, lsigs, rsigs)
    };
    // As upstream, the fill values keep their sides even when group_right swaps the inputs.
    let (fill_many, fill_one) = (m.fill_lhs, m.fill_rhs);
    let sigs = lsigs.iter().chain(rsigs).max().map_or(0, |&m| m + 1);
    scratch.reset(sigs);
    for (i, (s, &sig)) in rhs.iter().zip(rsigs).enumerate() {
        if let Some(dup) = scratch.one_side[sig].map(|j| &rhs[j]) {
            let side = if one_to_many { "left" } else { "right" };
            let (mut a, mut c) = (s.metric.to_string(), dup.metric.to_string());
            if a > c {
                std::mem::swap(&mut a, &mut c);
            }
            return Err(QueryError::eval(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{a}, {c}];many-to-many matching not allowed: matching labels must be unique on one side",
                match_labels(&s.metric, m)
            )));
        }
        scratch.one_side[sig] = Some(i);
    }
    let mut state = JoinState {
        one_to_many,
        scratch,
        last_issue: None,
        reconciled: false,
    };
    for (ls, sig) in lhs.iter().zip(lsigs) {
        match state.scratch.one_side[*sig] {
            Some(j) => state.apply(b, ls, &rhs[j], *sig, out)?,
            None => {
                let Some(fill) = fill_one else { continue };
                let rs = Sample::float(match_labels(&ls.metric, m), 0, fill);
                state.apply(b, ls, &rs, *sig, out)?;
            }
        }
    }
    if let Some(fill) = fill_many {
        for (rs, sig) in rhs.iter().zip(rsigs) {
            if state.scratch.matched[*sig] {
                continue;
            }
            let ls = Sample::float(match_labels(&rs.metric, m), 0, fill);
            state.apply(b, &ls, rs, *sig, out)?;
        }
    }
    if let Some(issue) = state.last_issue {
        report(issue, b.op, b.pos, annos);
    }
    if state.reconciled {
        let operation = if b.op == BinaryOp::Add {
            HistogramOperation::Addition
        } else {
            HistogramOperation::Subtraction
        };
        annos.note(Note::MismatchedCustomBuckets(operation), b.pos);
    }
    Ok(())
}

/// What a vector/vector operation has matched so far at one step.
struct JoinState<'s> {
    one_to_many: bool,
    scratch: &'s mut JoinScratch,
    last_issue: Option<ElemIssue>,
    reconciled: bool,
}

impl JoinState<'_> {
    fn apply(
        &mut self,
        b: &VectorBinop<'_>,
        ls: &Sample,
        rs: &Sample,
        sig: usize,
        out: &mut Vector,
    ) -> EvalResult<()> {
        let (mut fl, mut fr) = (ls.f, rs.f);
        let (mut hl, mut hr) = (ls.h.as_ref(), rs.h.as_ref());
        if self.one_to_many {
            std::mem::swap(&mut fl, &mut fr);
            std::mem::swap(&mut hl, &mut hr);
        }
        let mut res = match elem_binop(b.op, fl, fr, hl, hr, b.pos) {
            Ok(r) => r,
            Err(issue) => {
                self.last_issue = Some(issue);
                return Ok(());
            }
        };
        self.reconciled |= res.reconciled;
        if b.return_bool {
            res.h = None;
            res.f = if res.keep { 1.0 } else { 0.0 };
        }
        let metric = self.scratch.result_metric(&ls.metric, &rs.metric, b);
        let seen = std::mem::replace(&mut self.scratch.matched[sig], true);
        if b.matching.card == Cardinality::OneToOne {
            if seen {
                return Err(QueryError::eval(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
        } else if !self.scratch.matched_many.insert((sig, metric.hash_value())) {
            return Err(QueryError::eval(
                "multiple matches for labels: grouping labels must ensure unique matches",
            ));
        }
        if !res.keep && !b.return_bool {
            return Ok(());
        }
        out.push(Sample {
            metric,
            t: 0,
            f: res.f,
            h: res.h,
            drop_name: b.return_bool,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use pm_common::model::Labels;
    use pm_storage::MemStorage;

    use super::*;
    use crate::engine::eval::test_evaluator;

    /// Series `name{x=…}` with a point at the steps `t / 10` for which `f(step)` is `Some`.
    fn series(name: &str, x: &str, f: impl Fn(i64) -> Option<f64>) -> Series {
        let mut s = Series::new(Labels::from_pairs([("__name__", name), ("x", x)]));
        s.floats = (0..10)
            .filter_map(|i| f(i).map(|v| FPoint { t: i * 10, f: v }))
            .collect();
        s
    }

    fn run(
        by_series: bool,
        vs: &VectorScalar,
        inputs: &[Matrix; 2],
        delayed: bool,
    ) -> (Result<Matrix, String>, Vec<String>, usize, usize) {
        let storage = MemStorage::new();
        let mut ev = test_evaluator(&storage, (0, 90, 10), delayed);
        ev.current_samples = 7;
        let out = if by_series {
            ev.vector_scalar_by_series(vs, inputs, 7)
                .map(|m| m.expect("a range over floats takes the per-series path"))
        } else {
            ev.vector_scalar_by_step(vs, inputs, 7)
        };
        let out = out.map_err(|e| e.to_string()).map(|mut m| {
            m.sort_by(|a, b| a.metric.cmp(&b.metric));
            m
        });
        // A failed evaluation ends the query: what it counted or noted on the way is moot.
        if out.is_err() {
            return (out, Vec::new(), 0, 0);
        }
        let annos = ev.annotations.iter().map(|a| a.render("")).collect();
        (out, annos, ev.current_samples, ev.peak_samples)
    }

    /// The per-series evaluation of vector/scalar operators gives what the step-wise one
    /// gives: values, NaN handling, filtering, `bool`, name dropping (with and without
    /// delayed removal), series joined after losing their names, and the collision error.
    #[test]
    fn vector_scalar_by_series_matches_by_step() {
        use BinaryOp::*;
        let vector = vec![
            series("a", "1", |i| Some(i as f64 - 3.0)),
            series("a", "2", |i| (i % 3 != 0).then_some(f64::NAN)),
            series("a", "3", |i| (i > 2).then_some(i as f64 * 0.5)),
            // Same labels as a{x="3"} once names are dropped: joined where the steps do
            // not overlap, colliding where they do.
            series("b", "3", |i| (i <= 2).then_some(-(i as f64))),
        ];
        let colliding = vec![
            series("a", "1", |i| Some(i as f64)),
            series("b", "1", |i| (i == 4).then_some(1.0)),
        ];
        let scalar = vec![series("", "", |i| {
            Some(if i == 5 { f64::NAN } else { 2.0 })
        })];
        let mut checked = 0;
        for op in [
            Add, Sub, Mul, Div, Mod, Pow, Atan2, Eql, Neq, Lss, Lte, Gtr, Gte,
        ] {
            for (swap, return_bool, delayed) in (0..8).map(|b| (b & 1 != 0, b & 2 != 0, b & 4 != 0))
            {
                if return_bool && !op.is_comparison() {
                    continue;
                }
                for v in [&vector, &colliding] {
                    let vs = VectorScalar {
                        op,
                        swap,
                        return_bool,
                        delayed,
                        pos: PosRange::new(0, 1),
                    };
                    let inputs = if swap {
                        [scalar.clone(), v.clone()]
                    } else {
                        [v.clone(), scalar.clone()]
                    };
                    let by_step = run(false, &vs, &inputs, delayed);
                    let by_series = run(true, &vs, &inputs, delayed);
                    assert_eq!(
                        format!("{by_series:?}"),
                        format!("{by_step:?}"),
                        "{op:?} swap={swap} bool={return_bool} delayed={delayed}"
                    );
                    checked += by_step.0.as_ref().map_or(1, |m| m.len());
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }
}
