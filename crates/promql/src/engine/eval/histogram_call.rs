//! `histogram_quantile`, `histogram_quantiles` and `histogram_fraction`: the functions that
//! read classic histograms (the `le` series of one label set, grouped at every step) beside
//! native ones.

use std::collections::HashMap;
use std::sync::Arc;

use pm_common::model::{FloatHistogram, Labels};

use super::{EvalResult, Evaluator, drop_metadata_labels};
use crate::engine::annotations::{Annotations, Note};
use crate::engine::value::{Matrix, Sample};
use crate::functions::annotations::Issues;
use crate::functions::histogram::{self as kernels, BucketRepair, ClassicBucket};
use crate::parser::{Call, Expr, PosRange};

/// What a histogram function computes from one classic or native histogram.
#[derive(Clone, Copy)]
enum Estimate {
    Quantile(f64),
    Fraction { lower: f64, upper: f64 },
}

impl Estimate {
    fn native(self, h: &FloatHistogram) -> (f64, Issues) {
        match self {
            Estimate::Quantile(q) => kernels::histogram_quantile(q, h),
            Estimate::Fraction { lower, upper } => kernels::histogram_fraction(lower, upper, h),
        }
    }

    fn classic(self, buckets: &mut Vec<ClassicBucket>) -> (f64, Option<BucketRepair>) {
        match self {
            Estimate::Quantile(q) => kernels::bucket_quantile(q, buckets),
            Estimate::Fraction { lower, upper } => {
                (kernels::bucket_fraction(lower, upper, buckets), None)
            }
        }
    }
}

/// One step's input split into native histograms and classic bucket groups.
struct Histograms {
    native: Vec<(Labels, Arc<FloatHistogram>)>,
    /// Keyed by the labels without `le`, in order of first appearance.
    classic: Vec<(Labels, Vec<ClassicBucket>)>,
}

impl Histograms {
    /// Groups float samples by their labels without `le` (a missing or malformed `le` earns a
    /// warning) and keeps native histograms apart; a native histogram with exactly the
    /// labels of a classic group conflicts with it and both are left out, as upstream.
    fn split(v: &[Sample], delayed: bool, annos: &mut Annotations, pos: PosRange) -> Self {
        let mut native = Vec::new();
        let mut classic: Vec<(Labels, Vec<ClassicBucket>)> = Vec::new();
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let shown_name = |l: &Labels| {
            if delayed {
                l.get_or_empty("__name__").to_owned()
            } else {
                String::new()
            }
        };
        for s in v {
            if let Some(h) = &s.h {
                native.push((s.metric.clone(), h.clone()));
                continue;
            }
            let le = s.metric.get_or_empty("le");
            let Ok(upper_bound) = le.parse::<f64>() else {
                annos.note(
                    Note::BadBucketLabel {
                        metric_name: shown_name(&s.metric),
                        le: le.to_owned(),
                    },
                    pos,
                );
                continue;
            };
            let key = s.metric.drop_names(&["le"]);
            let i = *index.entry(key.clone()).or_insert_with(|| {
                classic.push((key, Vec::new()));
                classic.len() - 1
            });
            classic[i].1.push(ClassicBucket {
                upper_bound,
                count: s.f,
            });
        }
        let mut conflicts = std::collections::HashSet::new();
        native.retain(|(l, _)| match index.get(l) {
            Some(&i) => {
                annos.note(Note::MixedClassicNativeHistograms(shown_name(l)), pos);
                conflicts.insert(i);
                false
            }
            None => true,
        });
        let classic = classic
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !conflicts.contains(i))
            .map(|(_, g)| g)
            .collect();
        Histograms { native, classic }
    }

    /// Appends `estimate` of every histogram to `out`, its labels extended by `extra` (the
    /// quantile label of `histogram_quantiles`). Kernel issues and bucket repairs are noted at
    /// `pos`, named as upstream: by the metric name left after name removal.
    fn estimate(
        &mut self,
        estimate: Estimate,
        ctx: &StepContext,
        extra: Option<(&str, &str)>,
        annos: &mut Annotations,
        out: &mut Vec<Sample>,
    ) {
        let finish = |l: &Labels| {
            let l = if ctx.delayed {
                l.clone()
            } else {
                drop_metadata_labels(l)
            };
            match extra {
                Some((name, value)) => l.builder().set(name, value).labels(),
                None => l,
            }
        };
        for (l, h) in &self.native {
            let metric = finish(l);
            let (f, issues) = estimate.native(h);
            for issue in issues.iter() {
                annos.note(issue.annotate(metric.get_or_empty("__name__")), ctx.pos);
            }
            out.push(output(metric, ctx.ts, f));
        }
        for (l, buckets) in &mut self.classic {
            let (f, repair) = estimate.classic(buckets);
            if let Some(repair) = repair {
                let metric_name = if ctx.delayed {
                    l.get_or_empty("__name__").to_owned()
                } else {
                    String::new()
                };
                annos.note(
                    Note::HistogramQuantileForcedMonotonicity {
                        metric_name,
                        fix: repair.at(ctx.ts),
                    },
                    ctx.pos,
                );
            }
            out.push(output(finish(l), ctx.ts, f));
        }
    }
}

/// Where and when a histogram function is evaluated.
struct StepContext {
    ts: i64,
    delayed: bool,
    /// Position of the histogram argument, which annotations point at.
    pos: PosRange,
}

fn output(metric: Labels, t: i64, f: f64) -> Sample {
    Sample {
        metric,
        t,
        f,
        h: None,
        drop_name: true,
    }
}

/// Notes a quantile outside [0, 1] (or NaN) at `pos`.
fn check_quantile(q: f64, annos: &mut Annotations, pos: PosRange) {
    if q.is_nan() || !(0.0..=1.0).contains(&q) {
        annos.note(Note::InvalidQuantile(q), pos);
    }
}

/// A quantile as the value of `histogram_quantiles`' label: Go's shortest form with `.0`
/// added to integers, `+Inf`/`-Inf`/`NaN` spelled out (upstream's OpenMetrics float).
fn quantile_label_value(q: f64) -> String {
    if q.is_nan() {
        return "NaN".to_owned();
    }
    if q.is_infinite() {
        return if q > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let mut s = pm_common::expfmt::encode::float::format_g(q);
    if !s.contains(['e', '.']) {
        s.push_str(".0");
    }
    s
}

impl Evaluator<'_> {
    /// `histogram_quantile(q, v)` and `histogram_fraction(lower, upper, v)`.
    pub(super) fn eval_histogram_estimate(&mut self, c: &Call) -> EvalResult<Matrix> {
        let quantile = c.func.name == "histogram_quantile";
        let hist_idx = c.args.len() - 1;
        let ctx_pos = c.args[hist_idx].pos_range();
        let q_pos = c.args[0].pos_range();
        let delayed = self.settings.delayed_name_removal;
        let exprs: Vec<&Expr> = c.args.iter().collect();
        self.range_eval(None, &exprs, |ts, annos, v, _, out| {
            let (Some(first), Some(last)) = (v[0].first(), v[hist_idx - 1].first()) else {
                return Ok(());
            };
            let estimate = if quantile {
                check_quantile(first.f, annos, q_pos);
                Estimate::Quantile(first.f)
            } else {
                Estimate::Fraction {
                    lower: first.f,
                    upper: last.f,
                }
            };
            let ctx = StepContext {
                ts,
                delayed,
                pos: ctx_pos,
            };
            Histograms::split(&v[hist_idx], delayed, annos, ctx_pos)
                .estimate(estimate, &ctx, None, annos, out);
            Ok(())
        })
    }

    /// `histogram_quantiles(v, "label", q0, q1, …)`: one output series per input histogram
    /// and quantile, told apart by the label.
    pub(super) fn eval_histogram_quantiles(&mut self, c: &Call) -> EvalResult<Matrix> {
        let label = match super::call::unwrap_parens(&c.args[1]) {
            Expr::StringLiteral(s) => String::from_utf8_lossy(&s.val).into_owned(),
            _ => String::new(),
        };
        let pos = c.args[0].pos_range();
        let q_pos: Vec<PosRange> = c.args[2..].iter().map(Expr::pos_range).collect();
        let delayed = self.settings.delayed_name_removal;
        let exprs: Vec<&Expr> = c.args.iter().collect();
        self.range_eval(None, &exprs, |ts, annos, v, _, out| {
            let mut qs = Vec::with_capacity(q_pos.len());
            for (q, &p) in v[2..].iter().zip(&q_pos) {
                let Some(q) = q.first() else { return Ok(()) };
                check_quantile(q.f, annos, p);
                qs.push(q.f);
            }
            let mut histograms = Histograms::split(&v[0], delayed, annos, pos);
            let ctx = StepContext { ts, delayed, pos };
            for q in qs {
                let value = quantile_label_value(q);
                histograms.estimate(
                    Estimate::Quantile(q),
                    &ctx,
                    Some((&label, &value)),
                    annos,
                    out,
                );
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_label_values_follow_openmetrics() {
        for (q, want) in [
            (0.5, "0.5"),
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-1.0, "-1.0"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
            (1e-7, "1e-07"),
        ] {
            assert_eq!(quantile_label_value(q), want);
        }
    }

    #[test]
    fn conflicting_native_and_classic_are_both_dropped() {
        let classic = |le: &str, f: f64| Sample {
            metric: Labels::from_pairs([("__name__", "m"), ("le", le)]),
            t: 0,
            f,
            h: None,
            drop_name: false,
        };
        let native = Sample {
            metric: Labels::from_pairs([("__name__", "m")]),
            t: 0,
            f: 0.0,
            h: Some(Arc::new(FloatHistogram::default())),
            drop_name: false,
        };
        let other = Sample {
            metric: Labels::from_pairs([("__name__", "n"), ("le", "+Inf")]),
            ..classic("+Inf", 3.0)
        };
        let mut annos = Annotations::default();
        let v = [classic("1", 1.0), native, classic("+Inf", 2.0), other];
        let h = Histograms::split(&v, false, &mut annos, PosRange::new(0, 1));
        assert!(h.native.is_empty());
        assert_eq!(h.classic.len(), 1);
        assert_eq!(h.classic[0].0, Labels::from_pairs([("__name__", "n")]));
        let (warnings, _) = annos.render("x");
        assert_eq!(
            warnings,
            ["PromQL warning: vector contains a mix of classic and native histograms (1:1)"]
        );
    }
}
