//! `check metrics`: the naming lints of client_golang's `promlint` over a text exposition, and
//! the optional cardinality table (`--extended`).

use std::io::{self, Read};

use pm_common::expfmt::dto::{self, MetricType};
use pm_common::expfmt::textparse::decode_text_families;

use super::{FAILURE, LINT_PROBLEMS, Output, SUCCESS, go_quoted};

/// One finding about one metric family, printed as `<metric> <text>`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub metric: String,
    pub text: String,
}

/// Units whose name may appear in a metric name, and the base unit to use instead.
const UNITS: &[(&str, &str)] = &[
    ("amperes", "amperes"),
    ("bytes", "bytes"),
    ("celsius", "celsius"),
    ("grams", "grams"),
    ("joules", "joules"),
    ("kelvin", "kelvin"),
    ("meters", "meters"),
    ("metres", "metres"),
    ("seconds", "seconds"),
    ("volts", "volts"),
    ("minutes", "seconds"),
    ("hours", "seconds"),
    ("days", "seconds"),
    ("weeks", "seconds"),
    ("kelvins", "kelvin"),
    ("fahrenheit", "celsius"),
    ("rankine", "celsius"),
    ("inches", "meters"),
    ("yards", "meters"),
    ("miles", "meters"),
    ("bits", "bytes"),
    ("calories", "joules"),
    ("pounds", "grams"),
    ("ounces", "grams"),
];

const UNIT_PREFIXES: &[&str] = &[
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega",
    "mibi", "giga", "gibi", "tera", "tebi", "peta", "pebi",
];

const UNIT_ABBREVIATIONS: &[&str] = &[
    "s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d",
];

/// The type names a metric name should not carry (every type but untyped).
const TYPE_NAMES: &[&str] = &[
    "counter",
    "gauge",
    "summary",
    "histogram",
    "gauge_histogram",
];

/// Lints every family of a text exposition; problems sorted by metric, then text.
pub fn lint_text(input: &[u8]) -> Result<Vec<Problem>, String> {
    let families = decode_text_families(input).map_err(|err| err.to_string())?;
    let mut problems: Vec<Problem> = families.iter().flat_map(lint_family).collect();
    problems.sort();
    Ok(problems)
}

/// The findings about one family, in no particular order.
pub fn lint_family(mf: &dto::MetricFamily) -> Vec<Problem> {
    let name = mf.name();
    let lower = name.to_lowercase();
    let kind = mf.r#type();
    let labels = || {
        mf.metric
            .iter()
            .flat_map(|m| m.label.iter().map(|l| l.name()))
    };
    let mut texts: Vec<String> = Vec::new();

    if mf.help.is_none() {
        texts.push("no help text".into());
    }
    if let Some((unit, base)) = metric_unit(name)
        && unit != base
    {
        texts.push(format!(
            "use base unit {} instead of {}",
            go_quoted(base),
            go_quoted(unit)
        ));
    }
    let has_total = name.ends_with("_total");
    match kind {
        MetricType::Counter if !has_total => {
            texts.push(r#"counter metrics should have "_total" suffix"#.into())
        }
        MetricType::Counter | MetricType::Untyped => {}
        _ if has_total => {
            texts.push(r#"non-counter metrics should not have "_total" suffix"#.into())
        }
        _ => {}
    }
    if kind != MetricType::Untyped {
        let histogram = kind == MetricType::Histogram;
        let summary = kind == MetricType::Summary;
        if !histogram && name.ends_with("_bucket") {
            texts.push(r#"non-histogram metrics should not have "_bucket" suffix"#.into());
        }
        if !histogram && !summary {
            for suffix in ["_count", "_sum"] {
                if name.ends_with(suffix) {
                    texts.push(format!(
                        r#"non-histogram and non-summary metrics should not have "{suffix}" suffix"#
                    ));
                }
            }
        }
        for label in labels() {
            if !histogram && label == "le" {
                texts.push(r#"non-histogram metrics should not have "le" label"#.into());
            }
            if !summary && label == "quantile" {
                texts.push(r#"non-summary metrics should not have "quantile" label"#.into());
            }
        }
    }
    for type_name in TYPE_NAMES {
        if has_word(&lower, type_name) {
            texts.push(format!("metric name should not include type '{type_name}'"));
        }
    }
    if name.contains(':') {
        texts.push("metric names should not contain ':'".into());
    }
    if is_camel_case(name) {
        texts.push("metric names should be written in 'snake_case' not 'camelCase'".into());
    }
    for label in labels() {
        if is_camel_case(label) {
            texts.push("label names should be written in 'snake_case' not 'camelCase'".into());
        }
    }
    for abbreviation in UNIT_ABBREVIATIONS {
        if has_word(&lower, abbreviation) {
            texts.push("metric names should not contain abbreviated units".into());
        }
    }
    texts
        .into_iter()
        .map(|text| Problem {
            metric: name.to_owned(),
            text,
        })
        .collect()
}

/// `_word_` inside the name, or `_word` at its end.
fn has_word(name: &str, word: &str) -> bool {
    name.ends_with(&format!("_{word}")) || name.contains(&format!("_{word}_"))
}

/// A lowercase letter followed by an uppercase one.
fn is_camel_case(name: &str) -> bool {
    name.as_bytes()
        .windows(2)
        .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
}

/// The first `_`-separated word that is a known unit, possibly with an SI/IEC prefix, and
/// the unit's base.
fn metric_unit(name: &str) -> Option<(&str, &'static str)> {
    let base_of = |unit: &str| UNITS.iter().find(|(u, _)| *u == unit).map(|(_, b)| *b);
    name.split('_').find_map(|word| {
        base_of(word)
            .or_else(|| {
                UNIT_PREFIXES
                    .iter()
                    .find_map(|p| word.strip_prefix(p).and_then(base_of))
            })
            .map(|base| (word, base))
    })
}

/// One row of the `--extended` table.
#[derive(Clone, Debug, PartialEq)]
pub struct Cardinality {
    pub name: String,
    pub series: usize,
}

/// Series per family (histograms and summaries count their buckets or quantiles plus `_sum`
/// and `_count`), largest first; ties keep name order.
pub fn cardinalities(input: &[u8]) -> Result<Vec<Cardinality>, String> {
    let families = decode_text_families(input)
        .map_err(|err| format!("error while parsing text to metric families: {err}"))?;
    let mut rows: Vec<Cardinality> = families
        .iter()
        .map(|mf| {
            let first = mf.metric.first();
            let per_metric = match mf.r#type() {
                MetricType::Histogram => {
                    2 + first.map_or(0, |m| m.histogram.as_ref().map_or(0, |h| h.bucket.len()))
                }
                MetricType::Summary => {
                    2 + first.map_or(0, |m| m.summary.as_ref().map_or(0, |s| s.quantile.len()))
                }
                _ => 1,
            };
            Cardinality {
                name: mf.name().to_owned(),
                series: mf.metric.len() * per_metric,
            }
        })
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.series));
    Ok(rows)
}

/// `promtool check metrics`, reading standard input.
pub fn check_metrics(o: &mut Output<'_>, extended: bool, lint: &str) -> io::Result<u8> {
    let mut input = Vec::new();
    io::stdin().read_to_end(&mut input)?;
    check_metrics_input(o, &input, extended, lint)
}

/// `check metrics` over `input`.
pub fn check_metrics_input(
    o: &mut Output<'_>,
    input: &[u8],
    extended: bool,
    lint: &str,
) -> io::Result<u8> {
    let linting = lint != "none";
    if !extended && !linting {
        writeln!(
            o.err,
            "error: at least one of --extended or linting must be enabled"
        )?;
        writeln!(
            o.err,
            "Use --extended for cardinality analysis, or remove --lint=none to enable linting"
        )?;
        return Ok(FAILURE);
    }
    let mut problems = Vec::new();
    if linting {
        match lint_text(input) {
            Ok(found) => problems = found,
            Err(err) => {
                writeln!(o.err, "error while linting: {err}")?;
                return Ok(FAILURE);
            }
        }
        for p in &problems {
            writeln!(o.err, "{} {}", p.metric, p.text)?;
        }
    }
    if extended {
        let rows = match cardinalities(input) {
            Ok(rows) => rows,
            Err(err) => {
                writeln!(o.err, "{err}")?;
                return Ok(FAILURE);
            }
        };
        let total: usize = rows.iter().map(|r| r.series).sum();
        let mut table = vec![[
            "Metric".to_owned(),
            "Cardinality".to_owned(),
            "Percentage".to_owned(),
        ]];
        for row in &rows {
            let share = row.series as f64 / total as f64 * 100.0;
            table.push([
                row.name.clone(),
                row.series.to_string(),
                format!("{share:.2}%"),
            ]);
        }
        table.push(["Total".to_owned(), total.to_string(), "100%".to_owned()]);
        write_table(o.out, &table)?;
    }
    Ok(if problems.is_empty() {
        SUCCESS
    } else {
        LINT_PROBLEMS
    })
}

/// Go's `tabwriter` with minwidth 4, tabwidth 4, padding 4, spaces, and a cell terminator
/// after every column (so the last column is padded too).
pub(crate) fn write_table<const N: usize>(
    out: &mut dyn io::Write,
    rows: &[[String; N]],
) -> io::Result<()> {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count() + 4).max(4);
        }
    }
    for row in rows {
        let mut line = String::new();
        for (w, cell) in widths.iter().zip(row) {
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
