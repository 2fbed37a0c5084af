//! Query results printed as client_golang's `model` types print (`String()`) and encode
//! (`json.Encoder`) themselves.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io::{self, Write};

use pm_common::expfmt::encode::float::{format_f, format_g};
use serde_json::Value;

use crate::promtool::write_go_json;

/// `--format`: Go's `String()` forms, or JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Promql,
    Json,
}

type Metric = BTreeMap<String, String>;

fn metric(v: &Value) -> Metric {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// `model.Metric.String()`: the name, then the other labels sorted, `%q`-quoted.
fn metric_string(m: &Metric) -> String {
    let name = m.get("__name__").map(String::as_str).unwrap_or("");
    let labels: Vec<String> = m
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={}", super::go_quoted(v)))
        .collect();
    match (labels.is_empty(), m.contains_key("__name__")) {
        (true, true) => name.to_owned(),
        (true, false) => "{}".to_owned(),
        _ => format!("{name}{{{}}}", labels.join(", ")),
    }
}

/// `model.LabelSet.String()`: every label sorted, name included.
fn label_set_string(m: &Metric) -> String {
    let labels: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{k}={}", super::go_quoted(v)))
        .collect();
    format!("{{{}}}", labels.join(", "))
}

/// `LabelSet.Before`: fewer labels first, then by the first differing name or value.
fn before(a: &Metric, b: &Metric) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| {
        let mut names: Vec<&String> = a.keys().chain(b.keys()).collect();
        names.sort();
        for name in names {
            match (a.get(name), b.get(name)) {
                (None, _) => return Ordering::Less,
                (_, None) => return Ordering::Greater,
                (Some(x), Some(y)) if x != y => return x.cmp(y),
                _ => {}
            }
        }
        Ordering::Equal
    })
}

/// A JSON timestamp (float seconds) as `model.Time` prints: milliseconds as seconds.
fn time_string(v: &Value) -> String {
    let ms = (v.as_f64().unwrap_or(0.0) * 1000.0).round() as i64;
    format_f(ms as f64 / 1000.0)
}

fn float(v: &Value) -> f64 {
    match v.as_str() {
        Some("+Inf" | "Inf") => f64::INFINITY,
        Some("-Inf") => f64::NEG_INFINITY,
        Some(s) => s.parse().unwrap_or(f64::NAN),
        None => v.as_f64().unwrap_or(f64::NAN),
    }
}

/// Go's `%f`: six decimals, `+Inf`/`-Inf`/`NaN` spelled out.
fn go_percent_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v:.6}")
    }
}

/// `[ts, "value"]` as `SamplePair.String()`.
fn pair_string(pair: &Value) -> String {
    format!("{} @[{}]", format_f(float(&pair[1])), time_string(&pair[0]))
}

/// `[ts, {count, sum, buckets}]` as `SampleHistogramPair.String()`.
fn histogram_pair_string(pair: &Value) -> String {
    let h = &pair[1];
    let buckets: Vec<String> = h["buckets"]
        .as_array()
        .map(|bs| bs.iter().map(bucket_string).collect())
        .unwrap_or_default();
    format!(
        "Count: {}, Sum: {}, Buckets: [{}] @[{}]",
        go_percent_f(float(&h["count"])),
        go_percent_f(float(&h["sum"])),
        buckets.join(" "),
        time_string(&pair[0])
    )
}

fn bucket_string(b: &Value) -> String {
    let boundaries = b[0].as_i64().unwrap_or(0);
    let open = if matches!(boundaries, 1 | 3) {
        '['
    } else {
        '('
    };
    let close = if matches!(boundaries, 0 | 3) {
        ']'
    } else {
        ')'
    };
    format!(
        "{open}{},{}{close}:{}",
        format_g(float(&b[1])),
        format_g(float(&b[2])),
        format_f(float(&b[3]))
    )
}

/// An instant sample: `metric => value @[ts]`.
fn sample_string(s: &Value) -> String {
    let value = if s.get("histogram").is_some() {
        histogram_pair_string(&s["histogram"])
    } else {
        pair_string(&s["value"])
    };
    format!("{} => {value}", metric_string(&metric(&s["metric"])))
}

/// A series over time: `metric =>` then one line per point, floats before histograms.
fn stream_string(s: &Value) -> String {
    let mut lines = vec![format!("{} =>", metric_string(&metric(&s["metric"])))];
    let points = |key: &str| {
        s.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    lines.extend(points("values").iter().map(pair_string));
    lines.extend(points("histograms").iter().map(histogram_pair_string));
    lines.join("\n")
}

/// Prints a query result's `data` (`resultType` and `result`).
pub fn print_value(out: &mut dyn Write, data: &Value, format: Format) -> io::Result<()> {
    let result = &data["result"];
    if format == Format::Json {
        return write_go_json(out, &json_text(data["resultType"].as_str(), result));
    }
    let text = match data["resultType"].as_str() {
        Some("vector") => result
            .as_array()
            .map(|v| v.iter().map(sample_string).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default(),
        Some("matrix") => {
            let mut streams: Vec<&Value> = result
                .as_array()
                .map(|v| v.iter().collect())
                .unwrap_or_default();
            streams.sort_by(|a, b| before(&metric(&a["metric"]), &metric(&b["metric"])));
            streams
                .iter()
                .map(|s| stream_string(s))
                .collect::<Vec<_>>()
                .join("\n")
        }
        Some("scalar") => format!(
            "scalar: {} @[{}]",
            format_f(float(&result[1])),
            time_string(&result[0])
        ),
        Some("string") => result[1].as_str().unwrap_or_default().to_owned(),
        _ => String::new(),
    };
    writeln!(out, "{text}")
}

/// The result encoded as client_golang encodes its model values: `metric` first with sorted
/// keys, then the points, timestamps as numbers of seconds.
fn json_text(kind: Option<&str>, result: &Value) -> String {
    let items = || result.as_array().cloned().unwrap_or_default();
    let field = |key: &str, v: &Value| format!("\"{key}\":{v}");
    let object = |s: &Value, keys: &[&str]| {
        let metric = serde_json::to_string(&metric(&s["metric"])).unwrap_or_default();
        let mut parts = vec![format!("\"metric\":{metric}")];
        parts.extend(keys.iter().filter_map(|k| s.get(*k).map(|v| field(k, v))));
        format!("{{{}}}", parts.join(","))
    };
    let array = |keys: &[&str]| {
        let objects: Vec<String> = items().iter().map(|s| object(s, keys)).collect();
        format!("[{}]", objects.join(","))
    };
    match kind {
        Some("vector") => array(&["value", "histogram"]),
        Some("matrix") => array(&["values", "histograms"]),
        _ => result.to_string(),
    }
}

/// Prints `/series` results: one label set per line.
pub fn print_series(out: &mut dyn Write, data: &Value, format: Format) -> io::Result<()> {
    let sets: Vec<Metric> = data
        .as_array()
        .map(|a| a.iter().map(metric).collect())
        .unwrap_or_default();
    if format == Format::Json {
        return write_go_json(
            out,
            &serde_json::to_string(&sets).map_err(io::Error::other)?,
        );
    }
    for set in &sets {
        writeln!(out, "{}", label_set_string(set))?;
    }
    Ok(())
}

/// Prints label values: one per line.
pub fn print_label_values(out: &mut dyn Write, data: &Value, format: Format) -> io::Result<()> {
    if format == Format::Json {
        return write_go_json(out, &data.to_string());
    }
    for value in data.as_array().into_iter().flatten() {
        writeln!(out, "{}", value.as_str().unwrap_or_default())?;
    }
    Ok(())
}
