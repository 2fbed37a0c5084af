//! Driving an [`Engine`] through a script: loads, clears and evals, with upstream's extra
//! range-mode run of instant evals.

use pm_storage::MemStorage;

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

fn run_eval(storage: &MemStorage, eval: &EvalCmd, engine: &dyn Engine) -> Result<(), String> {
    match eval.kind {
        EvalKind::Range { start, end, step } => {
            check_result(eval, &engine.range(storage, &eval.expr, start, end, step))
        }
        EvalKind::Instant { at } => {
            check_result(eval, &engine.instant(storage, &eval.expr, at))?;
            if !reruns_as_range(eval) {
                return Ok(());
            }
            // Upstream also runs an instant eval as a range query around its time and
            // expects the middle step to give the same value.
            const MINUTE: i64 = 60_000;
            let ranged = engine.range(storage, &eval.expr, at - MINUTE, at + MINUTE, MINUTE);
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
    }
}

/// Whether upstream re-runs this instant eval in range mode: not for failures, ordered
/// results, strings, range vectors, or queries whose value depends on the query range.
fn reruns_as_range(eval: &EvalCmd) -> bool {
    const RANGE_DEPENDENT: [&str; 4] = ["start()", "end()", "range()", "step()"];
    eval.fail.is_none()
        && !eval.ordered
        && !matches!(
            eval.expected,
            ExpectedResult::String(_) | ExpectedResult::RangeVector { .. }
        )
        && !RANGE_DEPENDENT.iter().any(|f| eval.expr.contains(f))
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
    use pm_storage::{Queryable, ValueType};

    use super::*;

    /// An engine that only answers `metric` selectors by reading the newest sample at or before
    /// the evaluation time: enough to exercise loading, instant and range runs.
    struct LastSample;

    impl LastSample {
        fn at(storage: &MemStorage, t: i64) -> Vec<VectorSample> {
            let q = storage.querier(0, t).unwrap();
            let mut set = q.select(true, None, &[]);
            let mut out = Vec::new();
            while let Some(series) = set.next() {
                let mut it = series.iter();
                let mut last = None;
                while it.next() == ValueType::Float {
                    let (st, v) = it.at();
                    if st <= t {
                        last = Some(v);
                    }
                }
                if let Some(v) = last {
                    out.push(VectorSample {
                        labels: series.labels().clone(),
                        t,
                        value: SampleValue::Float(v),
                    });
                }
            }
            out
        }
    }

    impl Engine for LastSample {
        fn instant(&self, storage: &MemStorage, _query: &str, t: i64) -> QueryResult {
            QueryResult {
                value: Ok(QueryValue::Vector(Self::at(storage, t))),
                warnings: Vec::new(),
                infos: Vec::new(),
            }
        }

        fn range(
            &self,
            storage: &MemStorage,
            _query: &str,
            start: i64,
            end: i64,
            step: i64,
        ) -> QueryResult {
            let mut series: Vec<RangeSeries> = Vec::new();
            let mut t = start;
            while t <= end {
                for s in Self::at(storage, t) {
                    let SampleValue::Float(v) = s.value else {
                        continue;
                    };
                    match series.iter_mut().find(|r| r.labels == s.labels) {
                        Some(r) => r.floats.push((t, v)),
                        None => series.push(RangeSeries {
                            labels: s.labels,
                            floats: vec![(t, v)],
                            histograms: Vec::new(),
                        }),
                    }
                }
                t += step;
            }
            QueryResult {
                value: Ok(QueryValue::Matrix(series)),
                warnings: Vec::new(),
                infos: Vec::new(),
            }
        }
    }

    #[test]
    fn runs_loads_evals_and_range_mode() {
        let script = "load 1m\n  m 1+1x3\n\neval instant at 2m m\n  m 3\n\neval range from 0 to 3m step 1m m\n  m 1+1x3\n";
        assert_eq!(run_script(script, &LastSample), Ok(()));
        let wrong = "load 1m\n  m 1+1x3\n\neval instant at 2m m\n  m 4\n";
        let err = run_script(wrong, &LastSample).unwrap_err();
        assert_eq!(err.line, 4);
        // `clear` drops the data: an empty result is expected, in both modes.
        let cleared = "load 1m\n  m 1\n\nclear\n\neval instant at 0 m\n";
        assert_eq!(run_script(cleared, &LastSample), Ok(()));
    }
}
