//! Driving an [`Engine`] through a script: loads, clears and evals, with upstream's extra
//! range-mode run of instant evals.

use pm_storage::MemStorage;

use crate::parser::{AtModifier, Expr, ParserOptions, parse_expr};

use super::ScriptError;
use super::compare::{
    Engine, QueryResult, QueryValue, RangeSeries, SampleValue, VectorSample, check_result,
};
use super::load::apply_load;
use super::script::{Command, EvalCmd, EvalKind, ExpectedResult, parse_script};

/// Parses and runs a whole script (see [`run_commands`]).
pub fn run_script(text: &str, engine: &dyn Engine) -> Result<(), ScriptError> {
    run_commands(&parse_script(text)?, engine)
}

/// Runs parsed commands against `engine`: loads accumulate in a fresh storage, `clear` starts
/// another, each eval's result is checked. Stops at the first failure.
pub fn run_commands(commands: &[Command], engine: &dyn Engine) -> Result<(), ScriptError> {
    let mut storage = MemStorage::new();
    for command in commands {
        match command {
            Command::Clear { .. } => storage = MemStorage::new(),
            Command::Load(load) => apply_load(&storage, load)?,
            Command::Eval(eval) => run_eval(&storage, eval, engine)
                .map_err(|m| ScriptError::new(eval.line, format!("query {:?}: {m}", eval.expr)))?,
        }
    }
    Ok(())
}

/// The outcome of one eval command.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalOutcome {
    pub line: usize,
    pub expr: String,
    /// Why the eval failed, if it did.
    pub result: Result<(), String>,
}

/// Runs every command and reports each eval's outcome instead of stopping at the first
/// failure. A failed load is an error of the script itself. An eval that panics counts as
/// failed, with the panic message as the reason.
pub fn run_each(
    commands: &[Command],
    engine: &dyn Engine,
) -> Result<Vec<EvalOutcome>, ScriptError> {
    let mut storage = MemStorage::new();
    let mut outcomes = Vec::new();
    for command in commands {
        match command {
            Command::Clear { .. } => storage = MemStorage::new(),
            Command::Load(load) => apply_load(&storage, load)?,
            Command::Eval(eval) => {
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_eval(&storage, eval, engine)
                }));
                let result = run.unwrap_or_else(|panic| {
                    let msg = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    Err(format!("panicked: {msg}"))
                });
                outcomes.push(EvalOutcome {
                    line: eval.line,
                    expr: eval.expr.clone(),
                    result,
                });
            }
        }
    }
    Ok(outcomes)
}

fn run_eval(storage: &MemStorage, eval: &EvalCmd, engine: &dyn Engine) -> Result<(), String> {
    match eval.kind {
        EvalKind::Range { start, end, step } => {
            check_result(eval, &engine.range(storage, &eval.expr, start, end, step))
        }
        EvalKind::Instant { at } => {
            run_instant(storage, eval, engine, &eval.expr, at)?;
            for (expr, t) in at_modifier_variants(&eval.expr, at) {
                run_instant(storage, eval, engine, &expr, t)
                    .map_err(|m| format!("with @ modifiers as {expr:?} at {t}: {m}"))?;
            }
            Ok(())
        }
    }
}

/// One instant run of `expr` at `at`, checked against `eval`'s expectations, and its
/// range-mode twin: upstream also runs an instant eval as a range query around its time and
/// expects the middle step to give the same value.
fn run_instant(
    storage: &MemStorage,
    eval: &EvalCmd,
    engine: &dyn Engine,
    expr: &str,
    at: i64,
) -> Result<(), String> {
    check_result(eval, &engine.instant(storage, expr, at))?;
    if !reruns_as_range(eval, expr) {
        return Ok(());
    }
    const MINUTE: i64 = 60_000;
    let ranged = engine.range(storage, expr, at - MINUTE, at + MINUTE, MINUTE);
    let value = match ranged.value {
        Ok(QueryValue::Matrix(series)) => middle_step(series, at, &eval.expected),
        Ok(other) => return Err(format!("range mode returned {other:?}, not a matrix")),
        Err(e) => return Err(format!("error in range mode: {e}")),
    };
    // Annotations were checked on the instant run; only the value is compared here.
    let mut value_only = eval.clone();
    value_only.warn.clear();
    value_only.info.clear();
    value_only.no_warn = false;
    value_only.no_info = false;
    check_result(
        &value_only,
        &QueryResult {
            value: Ok(value),
            warnings: Vec::new(),
            infos: Vec::new(),
        },
    )
    .map_err(|m| format!("in range mode: {m}"))
}

/// Functions whose result depends on the evaluation time even when every selector is pinned
/// with `@`.
const AT_MODIFIER_UNSAFE: [&str; 15] = [
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "end",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "range",
    "start",
    "step",
    "time",
    "timestamp",
];

/// Upstream's extra runs of an instant eval: every selector and subquery outside a subquery
/// pinned to the eval time with `@`, evaluated at other times, must give the same result.
fn at_modifier_variants(query: &str, t: i64) -> Vec<(String, i64)> {
    let Ok(mut expr) = parse_expr(query, &ParserOptions::all()) else {
        return Vec::new();
    };
    let mut unsafe_call = false;
    pin_selectors(&mut expr, t, &mut unsafe_call);
    if unsafe_call {
        return Vec::new();
    }
    let text = expr.to_string();
    let times = if t == 0 {
        vec![-1000, 0, 1000]
    } else {
        vec![-10 * t, 0, t / 5, t, 10 * t]
    };
    times.into_iter().map(|at| (text.clone(), at)).collect()
}

fn pin_selectors(expr: &mut Expr, t: i64, unsafe_call: &mut bool) {
    let pin = |at: &mut AtModifier| {
        if *at == AtModifier::None {
            *at = AtModifier::Timestamp(t);
        }
    };
    match expr {
        Expr::VectorSelector(vs) => pin(&mut vs.at),
        Expr::MatrixSelector(ms) => pin(&mut ms.vector_selector.at),
        Expr::Subquery(sq) => {
            // Selectors inside a pinned subquery keep their own times.
            pin(&mut sq.at);
            return;
        }
        Expr::Call(c) if AT_MODIFIER_UNSAFE.contains(&c.func.name) => *unsafe_call = true,
        _ => {}
    }
    for child in expr.children_mut() {
        pin_selectors(child, t, unsafe_call);
    }
}

/// Whether upstream re-runs this instant eval in range mode: not for failures, ordered
/// results, strings, range vectors, or queries whose value depends on the query range.
fn reruns_as_range(eval: &EvalCmd, expr: &str) -> bool {
    const RANGE_DEPENDENT: [&str; 4] = ["start()", "end()", "range()", "step()"];
    eval.fail.is_none()
        && !eval.ordered
        && !matches!(
            eval.expected,
            ExpectedResult::String(_) | ExpectedResult::RangeVector { .. }
        )
        && !RANGE_DEPENDENT.iter().any(|f| expr.contains(f))
}

/// The samples of a range result at time `t`, as an instant result (a scalar when one is
/// expected).
fn middle_step(series: Vec<RangeSeries>, t: i64, expected: &ExpectedResult) -> QueryValue {
    let mut samples = Vec::new();
    for s in series {
        let float = s
            .floats
            .iter()
            .find(|(ft, _)| *ft == t)
            .map(|&(_, v)| SampleValue::Float(v));
        let hist = s
            .histograms
            .iter()
            .find(|(ht, _)| *ht == t)
            .map(|(_, h)| SampleValue::Histogram(h.clone()));
        if let Some(value) = float.or(hist) {
            samples.push(VectorSample {
                labels: s.labels,
                t,
                value,
            });
        }
    }
    match (expected, samples.as_slice()) {
        (
            ExpectedResult::Scalar(_),
            [
                VectorSample {
                    value: SampleValue::Float(v),
                    ..
                },
            ],
        ) => QueryValue::Scalar { t, v: *v },
        _ => QueryValue::Vector(samples),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promqltest::test_engine;

    #[test]
    fn runs_loads_evals_and_range_mode() {
        let engine = test_engine();
        let script = "load 1m\n  m 1+1x3\n\neval instant at 2m m\n  m 3\n\neval range from 0 to 3m step 1m m\n  m 1+1x3\n";
        assert_eq!(run_script(script, &engine), Ok(()));
        let wrong = "load 1m\n  m 1+1x3\n\neval instant at 2m m\n  m 4\n";
        let err = run_script(wrong, &engine).unwrap_err();
        assert_eq!(err.line, 4);
        // `clear` drops the data: an empty result is expected, in both modes.
        let cleared = "load 1m\n  m 1\n\nclear\n\neval instant at 0 m\n";
        assert_eq!(run_script(cleared, &engine), Ok(()));
    }

    #[test]
    fn pins_selectors_outside_subqueries_with_at() {
        let variants = at_modifier_variants("sum(rate(m[5m])) + max_over_time(n[5m:1m])", 60_000);
        let times: Vec<i64> = variants.iter().map(|(_, t)| *t).collect();
        assert_eq!(times, [-600_000, 0, 12_000, 60_000, 600_000]);
        assert_eq!(
            variants[0].0,
            "sum(rate(m[5m] @ 60.000)) + max_over_time(n[5m:1m] @ 60.000)"
        );
        assert!(at_modifier_variants("time() + m", 60_000).is_empty());
    }

    #[test]
    fn each_eval_gets_an_outcome() {
        let engine = test_engine();
        let script = parse_script(
            "load 1m\n  m 1\n\neval instant at 0 m\n  m 1\n\neval instant at 0 m\n  m 2\n",
        )
        .unwrap();
        let outcomes = run_each(&script, &engine).unwrap();
        assert_eq!(outcomes.len(), 2);
        assert!(outcomes[0].result.is_ok());
        assert!(outcomes[1].result.is_err());
    }
}
