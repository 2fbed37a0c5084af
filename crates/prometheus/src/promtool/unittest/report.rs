//! Failure texts worded and laid out as upstream's, since users compare them with what they
//! wrote in the test file.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pm_common::model::Labels;
use pm_promql::engine::Series;

use crate::promtool::go_quoted;

/// Prefixes every line but the first with `indent`.
pub(super) fn indent_lines(text: &str, indent: &str) -> String {
    text.split('\n')
        .enumerate()
        .fold(String::with_capacity(text.len()), |mut out, (i, line)| {
            if i > 0 {
                out.push('\n');
                out.push_str(indent);
            }
            out.push_str(line);
            out
        })
}

/// Label or annotation pairs by name. Unlike [`Labels`], empty values are kept: upstream
/// compares and prints them (`ext=""`), so a test must list an annotation that expanded to
/// nothing. Ordered as upstream's `labels.Compare` orders label sets.
pub(super) type Pairs = BTreeMap<String, String>;

/// One firing alert as the tests compare it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct LabelsAndAnnotations {
    pub labels: Pairs,
    pub annotations: Pairs,
}

/// Pairs as upstream's `Labels.String`: `{a="1", b=""}`.
pub(super) fn pairs_string(pairs: &Pairs) -> String {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", go_quoted(v)))
        .collect();
    format!("{{{}}}", body.join(", "))
}

/// A list of alerts as upstream prints it: `[]`, or numbered entries of `Labels:` and
/// `Annotations:` lines.
pub(super) fn alerts_string(alerts: &[LabelsAndAnnotations]) -> String {
    if alerts.is_empty() {
        return "[]".into();
    }
    let mut s = String::from("[\n");
    for (i, a) in alerts.iter().enumerate() {
        if i > 0 {
            s.push_str(",\n");
        }
        let entry = format!(
            "\nLabels:{}\nAnnotations:{}",
            pairs_string(&a.labels),
            pairs_string(&a.annotations)
        );
        let _ = write!(s, "{i}:{}", indent_lines(&entry, "  "));
    }
    s.push_str("\n]");
    s
}

/// A sample of a `promql_expr_test`.
#[derive(Clone, Debug)]
pub(super) struct ParsedSample {
    pub labels: Labels,
    pub value: f64,
}

/// Samples as upstream prints them: `nil`, or `labels value` joined by `, `.
pub(super) fn samples_string(samples: &[ParsedSample]) -> String {
    if samples.is_empty() {
        return "nil".into();
    }
    samples
        .iter()
        .map(|s| format!("{} {}", s.labels, format_e(s.value)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Go's `strconv.FormatFloat(v, 'E', -1, 64)`: the shortest exact digits in exponent form
/// with a signed, at least two-digit exponent (`1E+00`, `-2.5E-07`).
pub(super) fn format_e(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let rust = format!("{v:E}");
    let (mantissa, exp) = rust.split_once('E').unwrap_or((&rust, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mantissa}E{sign}{digits:0>2}")
}

/// A matrix as the engine's `Matrix.String` prints it in upstream: per series its labels,
/// ` =>`, then one `value @[timestamp]` line per float sample.
pub(super) fn matrix_string(matrix: &[Series]) -> String {
    matrix
        .iter()
        .map(|s| {
            let mut text = format!("{} =>", s.metric);
            for p in &s.floats {
                let _ = write!(
                    text,
                    "\n{} @[{}]",
                    pm_common::expfmt::encode::float::format_f(p.f),
                    p.t
                );
            }
            text
        })
        .collect::<Vec<_>>()
        .join("\n")
}
