//! Upstream reads the selectors below `histogram_count`, `histogram_sum` and `histogram_avg`
//! through a statistics-only iterator that also works out counter resets as it goes: a
//! histogram without a reset hint gets `reset` or `not_reset` from a comparison with the
//! histogram read before it. Those hints are visible downstream (`sum` and
//! `sum_over_time` warn when they conflict), so the engine reproduces them.

use std::sync::Arc;

use pm_common::model::CounterResetHint;

use crate::parser::{BinaryOp, Expr};
use crate::value::HPoint;

/// Whether selectors are read as histogram statistics at the current point of evaluation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum HistogramStats {
    /// No statistics function above.
    #[default]
    Off,
    /// Under `histogram_count`/`histogram_sum`/`histogram_avg` only.
    On,
    /// Under a subquery, a function that needs whole histograms or a trim operator: the
    /// buckets are needed, whatever is further up or down.
    Never,
}

impl HistogramStats {
    /// The state below `expr`.
    pub(crate) fn below(self, expr: &Expr) -> HistogramStats {
        if self == HistogramStats::Never {
            return self;
        }
        match expr {
            Expr::Call(c) => match c.func.name {
                "histogram_count" | "histogram_sum" | "histogram_avg" => HistogramStats::On,
                "histogram_quantile" | "histogram_quantiles" | "histogram_fraction" => {
                    HistogramStats::Never
                }
                _ => self,
            },
            Expr::Binary(b) if matches!(b.op, BinaryOp::TrimUpper | BinaryOp::TrimLower) => {
                HistogramStats::Never
            }
            Expr::Subquery(_) => HistogramStats::Never,
            _ => self,
        }
    }
}

/// Gives every histogram without a hint (or a gauge hint) the hint upstream's statistics
/// iterator derives: `reset` when it follows the previous histogram of the series only after
/// a counter reset, else `not_reset`. The first histogram keeps its hint; staleness markers
/// are passed over.
pub(crate) fn detect_resets(points: &mut [HPoint], is_stale: impl Fn(f64) -> bool) {
    let mut last: Option<usize> = None;
    for i in 0..points.len() {
        if is_stale(points[i].h.sum) {
            continue;
        }
        if points[i].h.counter_reset_hint == CounterResetHint::Unknown
            && let Some(prev) = last
        {
            let hint = if points[i].h.detect_reset(&points[prev].h) {
                CounterResetHint::CounterReset
            } else {
                CounterResetHint::NotCounterReset
            };
            Arc::make_mut(&mut points[i].h).counter_reset_hint = hint;
        }
        last = Some(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm_common::model::FloatHistogram;

    fn point(t: i64, count: f64, hint: CounterResetHint) -> HPoint {
        HPoint {
            t,
            h: Arc::new(FloatHistogram {
                count,
                counter_reset_hint: hint,
                ..FloatHistogram::default()
            }),
        }
    }

    #[test]
    fn unknown_hints_are_worked_out_from_the_previous_histogram() {
        use CounterResetHint::*;
        let mut points = vec![
            point(0, 5.0, Unknown),
            point(1, 6.0, Unknown),
            point(2, 2.0, Unknown),
            point(3, 1.0, Gauge),
        ];
        detect_resets(&mut points, |_| false);
        let hints: Vec<_> = points.iter().map(|p| p.h.counter_reset_hint).collect();
        assert_eq!(hints, [Unknown, NotCounterReset, CounterReset, Gauge]);
    }

    #[test]
    fn blocking_nodes_win_over_statistics_functions() {
        let parse = |q: &str| crate::parser::parse_expr(q, &Default::default()).unwrap();
        let count = parse("histogram_count(x)");
        let quantile = parse("histogram_quantile(0.5, x)");
        assert_eq!(HistogramStats::Off.below(&count), HistogramStats::On);
        assert_eq!(HistogramStats::On.below(&quantile), HistogramStats::Never);
        assert_eq!(HistogramStats::Never.below(&count), HistogramStats::Never);
        assert_eq!(
            HistogramStats::On.below(&parse("x[5m:1m]")),
            HistogramStats::Never
        );
    }
}
