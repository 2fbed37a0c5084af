//! What an engine returns for a script's eval, and how it is checked against the expectation.

use std::collections::HashMap;

use pm_common::model::{FloatHistogram, Labels, is_stale_nan};

use super::notation::{SequenceValue, SeriesLine};
use super::script::{EvalCmd, EvalKind, ExpectedResult, MessageMatch};

/// One sample of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorSample {
    pub labels: Labels,
    pub t: i64,
    pub value: SampleValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SampleValue {
    Float(f64),
    Histogram(FloatHistogram),
}

/// One series of a matrix: floats and histograms, each in time order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RangeSeries {
    pub labels: Labels,
    pub floats: Vec<(i64, f64)>,
    pub histograms: Vec<(i64, FloatHistogram)>,
}

/// A query's value, as the engine must produce it.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryValue {
    Vector(Vec<VectorSample>),
    Matrix(Vec<RangeSeries>),
    Scalar { t: i64, v: f64 },
    String { t: i64, s: String },
}

/// A query's outcome: its value or error text, and its annotations (texts ending in the
/// expression position, e.g. `(1:15)`).
#[derive(Clone, Debug, PartialEq)]
pub struct QueryResult {
    pub value: Result<QueryValue, String>,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

/// The engine the script runner drives; times and steps in milliseconds.
pub trait Engine {
    fn instant(&self, storage: &pm_storage::MemStorage, query: &str, t: i64) -> QueryResult;
    fn range(
        &self,
        storage: &pm_storage::MemStorage,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> QueryResult;
}

/// Float equality of the scripts: relative tolerance 1e-6, NaN equals NaN, and the stale
/// marker equals only itself.
pub fn almost_equal(a: f64, b: f64) -> bool {
    const EPSILON: f64 = 1e-6;
    if is_stale_nan(a) || is_stale_nan(b) {
        return a.to_bits() == b.to_bits();
    }
    if a.is_nan() && b.is_nan() || a == b {
        return true;
    }
    let diff = (a - b).abs();
    let abs_sum = a.abs() + b.abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < EPSILON * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < EPSILON
}

/// Histogram equality of the scripts: both compacted, counts and sum with float tolerance, the
/// counter-reset hint only when the expectation states one.
pub fn histograms_match(
    expected: &FloatHistogram,
    actual: &FloatHistogram,
    check_hint: bool,
) -> bool {
    let (e, a) = (expected.compacted(), actual.compacted());
    let all_close = |x: &[f64], y: &[f64]| {
        x.len() == y.len() && x.iter().zip(y).all(|(p, q)| almost_equal(*p, *q))
    };
    e.schema == a.schema
        && almost_equal(e.count, a.count)
        && almost_equal(e.sum, a.sum)
        && (!e.uses_custom_buckets() || e.custom_values == a.custom_values)
        && e.zero_threshold == a.zero_threshold
        && almost_equal(e.zero_count, a.zero_count)
        && e.positive_spans == a.positive_spans
        && e.negative_spans == a.negative_spans
        && all_close(&e.positive_buckets, &a.positive_buckets)
        && all_close(&e.negative_buckets, &a.negative_buckets)
        && (!check_hint || e.counter_reset_hint == a.counter_reset_hint)
}

fn message_matches(m: &MessageMatch, text: &str) -> Result<bool, String> {
    Ok(match m {
        MessageMatch::Any => true,
        MessageMatch::Exact(s) => s == text,
        MessageMatch::Regex(re) => regex::Regex::new(re)
            .map_err(|e| format!("invalid regex {re:?}: {e}"))?
            .is_match(text),
    })
}

/// Checks `result` against `cmd`'s expectations; the error says what differs.
pub fn check_result(cmd: &EvalCmd, result: &QueryResult) -> Result<(), String> {
    let value = match (&result.value, &cmd.fail) {
        (Err(e), Some(m)) => {
            return if message_matches(m, e)? {
                Ok(())
            } else {
                Err(format!("expected error matching {m:?}, got: {e}"))
            };
        }
        (Err(e), None) => return Err(format!("unexpected error: {e}")),
        (Ok(_), Some(_)) => return Err("expected the query to fail".into()),
        (Ok(v), None) => v,
    };
    check_annotations("warn", &cmd.warn, cmd.no_warn, &result.warnings)?;
    check_annotations("info", &cmd.info, cmd.no_info, &result.infos)?;
    match (value, &cmd.expected) {
        (QueryValue::String { s, .. }, ExpectedResult::String(want)) if s == want => Ok(()),
        (QueryValue::Scalar { v, .. }, ExpectedResult::Scalar(want)) if almost_equal(*want, *v) => {
            Ok(())
        }
        (QueryValue::Vector(samples), ExpectedResult::Series(_) | ExpectedResult::Empty) => {
            check_vector(cmd, samples)
        }
        (
            QueryValue::Matrix(series),
            ExpectedResult::RangeVector {
                start,
                end,
                step,
                series: want,
            },
        ) => check_matrix(series, want, *start, *end, *step),
        (QueryValue::Matrix(series), ExpectedResult::Series(_) | ExpectedResult::Empty) => {
            match cmd.kind {
                EvalKind::Range { start, end, step } => {
                    let want = match &cmd.expected {
                        ExpectedResult::Series(s) => s.as_slice(),
                        _ => &[],
                    };
                    check_matrix(series, want, start, end, step)
                }
                EvalKind::Instant { .. } => Err("unexpected range vector result".into()),
            }
        }
        (got, want) => Err(format!("expected {want:?}, got {got:?}")),
    }
}

fn check_annotations(
    kind: &str,
    expected: &[MessageMatch],
    none: bool,
    actual: &[String],
) -> Result<(), String> {
    if none && !actual.is_empty() {
        return Err(format!("unexpected {kind} annotations: {actual:?}"));
    }
    if expected.is_empty() {
        return Ok(());
    }
    if actual.is_empty() {
        return Err(format!("expected {kind} annotations but none were found"));
    }
    for e in expected {
        if !actual
            .iter()
            .any(|a| message_matches(e, a).unwrap_or(false))
        {
            return Err(format!(
                "expected {kind} annotation matching {e:?}, found {actual:?}"
            ));
        }
    }
    for a in actual {
        if !expected
            .iter()
            .any(|e| message_matches(e, a).unwrap_or(false))
        {
            return Err(format!("unexpected {kind} annotation {a:?}"));
        }
    }
    Ok(())
}

fn value_matches(want: &SequenceValue, got: &SampleValue) -> bool {
    match (want, got) {
        (SequenceValue::Float(w), SampleValue::Float(g)) => almost_equal(*w, *g),
        (
            SequenceValue::Histogram {
                histogram,
                explicit_hint,
            },
            SampleValue::Histogram(g),
        ) => histograms_match(histogram, g, *explicit_hint),
        _ => false,
    }
}

fn check_vector(cmd: &EvalCmd, samples: &[VectorSample]) -> Result<(), String> {
    let want: &[SeriesLine] = match &cmd.expected {
        ExpectedResult::Series(s) => s,
        _ => &[],
    };
    let by_labels: HashMap<&Labels, (usize, &SeriesLine)> = want
        .iter()
        .enumerate()
        .map(|(i, s)| (&s.labels, (i, s)))
        .collect();
    for (pos, sample) in samples.iter().enumerate() {
        let Some((want_pos, line)) = by_labels.get(&sample.labels) else {
            return Err(format!("unexpected metric {:?} in result", sample.labels));
        };
        if cmd.ordered && *want_pos != pos {
            return Err(format!(
                "expected metric {:?} at position {} but was at {}",
                sample.labels,
                want_pos + 1,
                pos + 1
            ));
        }
        let first = line
            .values
            .first()
            .ok_or_else(|| format!("no expected value for {:?}", line.labels))?;
        if !value_matches(first, &sample.value) {
            return Err(format!(
                "expected {first:?} for {:?} but got {:?}",
                sample.labels, sample.value
            ));
        }
    }
    if samples.len() != by_labels.len() {
        let missing: Vec<_> = want
            .iter()
            .filter(|w| !samples.iter().any(|s| s.labels == w.labels))
            .map(|w| &w.labels)
            .collect();
        return Err(format!("expected metrics not found: {missing:?}"));
    }
    Ok(())
}

fn check_matrix(
    series: &[RangeSeries],
    want: &[SeriesLine],
    start: i64,
    end: i64,
    step: i64,
) -> Result<(), String> {
    if series.windows(2).any(|w| w[0].labels > w[1].labels) {
        return Err("matrix result is not sorted by labels".into());
    }
    for s in series {
        let line = want
            .iter()
            .find(|w| w.labels == s.labels)
            .ok_or_else(|| format!("unexpected metric {:?} in result", s.labels))?;
        let mut floats = Vec::new();
        let mut histograms = Vec::new();
        for (i, v) in line.values.iter().enumerate() {
            let t = start + i as i64 * step;
            if t > end {
                return Err(format!(
                    "expected {} points for {:?}, more than the range has",
                    line.values.len(),
                    s.labels
                ));
            }
            match v {
                SequenceValue::Omitted => {}
                SequenceValue::Float(f) => floats.push((t, *f)),
                SequenceValue::Histogram {
                    histogram,
                    explicit_hint,
                } => histograms.push((t, histogram, *explicit_hint)),
            }
        }
        let floats_ok = floats.len() == s.floats.len()
            && floats
                .iter()
                .zip(&s.floats)
                .all(|((wt, wv), (gt, gv))| wt == gt && almost_equal(*wv, *gv));
        let hists_ok = histograms.len() == s.histograms.len()
            && histograms
                .iter()
                .zip(&s.histograms)
                .all(|((wt, wh, hint), (gt, gh))| wt == gt && histograms_match(wh, gh, *hint));
        if !floats_ok || !hists_ok {
            return Err(format!(
                "values of {:?} differ: expected {:?}, got {s:?}",
                s.labels, line.values
            ));
        }
    }
    if let Some(missing) = want
        .iter()
        .find(|w| !series.iter().any(|s| s.labels == w.labels))
    {
        return Err(format!("expected metric {:?} not found", missing.labels));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
