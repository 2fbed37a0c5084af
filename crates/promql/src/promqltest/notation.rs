//! The series notation of test scripts: `metric{a="b"} 1+2x10 _ stale {{schema:0 count:1}}`.
//!
//! A series line is a label set (a metric name and/or `{...}`), optionally directly followed by
//! `@st` for a start-timestamp line, then whitespace-separated value items in the "expanding
//! notation" that promtool's unit tests use as well.

use pm_common::model::{CounterResetHint, FloatHistogram, Labels, Span, stale_nan};

use super::parse_signed_duration;

/// One step of a series: a float (possibly the stale marker), a native histogram, or nothing.
#[derive(Clone, Debug, PartialEq)]
pub enum SequenceValue {
    Omitted,
    Float(f64),
    Histogram {
        histogram: FloatHistogram,
        /// Whether the notation stated `counter_reset_hint`; only then is the hint compared.
        explicit_hint: bool,
    },
}

/// A parsed series line.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesLine {
    pub labels: Labels,
    /// Values, one per step.
    pub values: Vec<SequenceValue>,
}

/// A parsed `metric{...}@st` line: per-step start-timestamp offsets (relative to each sample's
/// own timestamp), `None` where the step has none.
#[derive(Clone, Debug, PartialEq)]
pub struct StartTimestampLine {
    pub labels: Labels,
    pub offsets: Vec<Option<i64>>,
}

/// Either kind of line inside a `load` block.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadLine {
    Series(SeriesLine),
    StartTimestamps(StartTimestampLine),
}

/// Parses a `load` block line.
pub fn parse_load_line(line: &str) -> Result<LoadLine, String> {
    let (labels, rest) = parse_labels(line)?;
    match rest.strip_prefix("@st") {
        Some(items) => Ok(LoadLine::StartTimestamps(StartTimestampLine {
            labels,
            offsets: parse_start_timestamps(items)?,
        })),
        None => Ok(LoadLine::Series(SeriesLine {
            labels,
            values: parse_values(rest)?,
        })),
    }
}

/// Parses an expected-result series line (no `@st` allowed).
pub fn parse_series_line(line: &str) -> Result<SeriesLine, String> {
    let (labels, rest) = parse_labels(line)?;
    Ok(SeriesLine {
        labels,
        values: parse_values(rest)?,
    })
}

/// Parses a float as Go's `strconv.ParseFloat` accepts them in scripts (`Inf`, `-Inf`, `NaN`
/// in any case, exponents).
pub fn parse_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}

/// Splits off a leading label set: `name`, `name{...}` or `{...}`.
fn parse_labels(line: &str) -> Result<(Labels, &str), String> {
    let s = line.trim_start();
    let name_len = if s.starts_with(is_name_start) {
        s.find(|c| !is_name_char(c)).unwrap_or(s.len())
    } else {
        0
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    if name_len > 0 {
        pairs.push(("__name__".into(), s[..name_len].into()));
    }
    let mut rest = &s[name_len..];
    if let Some(inner) = rest.strip_prefix('{') {
        rest = inner;
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let (name, after) = if rest.starts_with(['"', '\'', '`']) {
                unquote_prefix(rest)?
            } else {
                let len = rest.find(|c| !is_name_char(c)).unwrap_or(rest.len());
                if len == 0 {
                    return Err(format!("unexpected character in label set: {rest:?}"));
                }
                (rest[..len].to_string(), &rest[len..])
            };
            let after = after.trim_start();
            if let Some(value) = after.strip_prefix('=') {
                let (value, after) = unquote_prefix(value.trim_start())?;
                pairs.push((name, value));
                rest = after;
            } else {
                // A quoted name alone is the metric name.
                pairs.push(("__name__".into(), name));
                rest = after;
            }
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else if !rest.starts_with('}') {
                return Err(format!("expected ',' or '}}' in label set: {rest:?}"));
            }
        }
    } else if name_len == 0 {
        return Err(format!("expected a metric name or label set: {line:?}"));
    }
    let mut names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(format!("duplicate label name in {line:?}"));
    }
    Ok((Labels::from_pairs(pairs), rest))
}

/// Reads a quoted string (Go double-quoted with escapes, single-quoted, or backtick raw) at the
/// start of `s`, returning its value and the rest.
fn unquote_prefix(s: &str) -> Result<(String, &str), String> {
    let quote = s
        .chars()
        .next()
        .ok_or_else(|| "expected a quoted string".to_string())?;
    if !matches!(quote, '"' | '\'' | '`') {
        return Err(format!("expected a quoted string: {s:?}"));
    }
    let mut out = String::new();
    let mut chars = s[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == quote => return Ok((out, &s[1 + i + 1..])),
            '\\' if quote != '`' => {
                let (_, e) = chars.next().ok_or("unterminated escape")?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    'f' => out.push('\x0c'),
                    'v' => out.push('\x0b'),
                    'x' | 'u' | 'U' => {
                        let digits = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = (0..digits)
                            .filter_map(|_| chars.next())
                            .map(|(_, c)| c)
                            .collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .map_err(|_| format!("invalid escape \\{e}{hex}"))?;
                        out.push(char::from_u32(code).ok_or("invalid code point")?);
                    }
                    other => out.push(other),
                }
            }
            c => out.push(c),
        }
    }
    Err(format!("unterminated quoted string: {s:?}"))
}

/// Splits value items at whitespace, keeping `{{...}}` histograms (which contain spaces) whole.
fn split_items(s: &str) -> Result<Vec<&str>, String> {
    let mut items = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let mut end = 0;
        let bytes = rest.as_bytes();
        while end < bytes.len() && !bytes[end].is_ascii_whitespace() {
            if rest[end..].starts_with("{{") {
                let close = rest[end..]
                    .find("}}")
                    .ok_or_else(|| format!("unterminated histogram: {rest:?}"))?;
                end += close + 2;
            } else {
                end += 1;
            }
        }
        items.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    Ok(items)
}

/// Splits `body x n` into the body and the repeat count.
fn split_times(item: &str) -> Result<(&str, Option<u64>), String> {
    match item.rfind('x') {
        Some(i)
            if !item[i + 1..].is_empty() && item[i + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            let n = item[i + 1..]
                .parse()
                .map_err(|_| format!("invalid repeat count in {item:?}"))?;
            Ok((&item[..i], Some(n)))
        }
        _ => Ok((item, None)),
    }
}

/// Splits `a+b` / `a-b` at the operator that is neither a leading sign nor an exponent sign.
fn split_increment(body: &str) -> Option<(&str, char, &str)> {
    let bytes = body.as_bytes();
    (1..bytes.len()).find_map(|i| {
        let c = bytes[i];
        let prev = bytes[i - 1];
        ((c == b'+' || c == b'-') && prev != b'e' && prev != b'E')
            .then(|| (&body[..i], c as char, &body[i + 1..]))
    })
}

fn parse_values(s: &str) -> Result<Vec<SequenceValue>, String> {
    let mut values = Vec::new();
    for item in split_items(s)? {
        if item == "stale" {
            values.push(SequenceValue::Float(stale_nan()));
            continue;
        }
        let (body, times) = split_times(item)?;
        if body == "_" {
            values.extend(std::iter::repeat_n(
                SequenceValue::Omitted,
                times.unwrap_or(1) as usize,
            ));
            continue;
        }
        let steps = times.map_or(1, |n| n + 1);
        if body.starts_with("{{") {
            expand_histograms(body, steps, &mut values)?;
        } else {
            expand_floats(body, times.is_some(), steps, &mut values)
                .ok_or_else(|| format!("invalid value {item:?}"))?;
        }
    }
    Ok(values)
}

fn expand_floats(
    body: &str,
    repeated: bool,
    steps: u64,
    out: &mut Vec<SequenceValue>,
) -> Option<()> {
    let (start, delta) = match split_increment(body) {
        Some((a, op, b)) if repeated => {
            let b = parse_float(b)?;
            (parse_float(a)?, if op == '-' { -b } else { b })
        }
        _ => (parse_float(body)?, 0.0),
    };
    let mut v = start;
    for _ in 0..steps {
        out.push(SequenceValue::Float(v));
        v += delta;
    }
    Some(())
}

fn expand_histograms(body: &str, steps: u64, out: &mut Vec<SequenceValue>) -> Result<(), String> {
    let close = body.find("}}").ok_or("unterminated histogram")? + 2;
    let (start, explicit_hint) = super::histogram_notation::parse_histogram(&body[..close])?;
    let rest = &body[close..];
    let increment = match rest.chars().next() {
        None => None,
        Some(op @ ('+' | '-')) => {
            let (h, _) = super::histogram_notation::parse_histogram(&rest[1..])?;
            Some((op, h))
        }
        Some(_) => return Err(format!("unexpected text after histogram: {rest:?}")),
    };
    let mut h = start;
    for i in 0..steps {
        if i > 0
            && let Some((op, inc)) = &increment
        {
            let res = if *op == '+' { h.add(inc) } else { h.sub(inc) };
            res.map_err(|e| e.to_string())?;
        }
        out.push(SequenceValue::Histogram {
            histogram: h.clone(),
            explicit_hint,
        });
    }
    Ok(())
}

fn parse_start_timestamps(s: &str) -> Result<Vec<Option<i64>>, String> {
    let mut out = Vec::new();
    for item in split_items(s)? {
        let (body, times) = split_times(item)?;
        if body == "_" {
            out.extend(std::iter::repeat_n(None, times.unwrap_or(1) as usize));
            continue;
        }
        let steps = times.map_or(1, |n| n + 1);
        let (start, delta) = match split_increment(body) {
            Some((a, op, b)) if times.is_some() => {
                let b = parse_signed_duration(b)?;
                (parse_signed_duration(a)?, if op == '-' { -b } else { b })
            }
            _ => (parse_signed_duration(body)?, 0),
        };
        out.extend((0..steps as i64).map(|i| Some(start + i * delta)));
    }
    Ok(out)
}

/// The notation's one span: `len` buckets from index `offset`, or no span without buckets.
pub(super) fn single_span(offset: i32, len: usize) -> Vec<Span> {
    if len == 0 {
        Vec::new()
    } else {
        vec![Span {
            offset,
            length: len as u32,
        }]
    }
}

/// Parses a counter-reset hint name of the notation.
pub(super) fn parse_hint(s: &str) -> Result<CounterResetHint, String> {
    match s {
        "unknown" => Ok(CounterResetHint::Unknown),
        "reset" => Ok(CounterResetHint::CounterReset),
        "not_reset" => Ok(CounterResetHint::NotCounterReset),
        "gauge" => Ok(CounterResetHint::Gauge),
        _ => Err(format!("invalid counter_reset_hint {s:?}")),
    }
}

#[cfg(test)]
mod tests;
