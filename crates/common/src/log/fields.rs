//! Field values and their spelling in slog's text and JSON handlers.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};

/// A field value, kept typed so that JSON output can write numbers and booleans bare.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Str(String),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

/// Collects an event's or span's fields; `message` is kept apart as slog's `msg`.
#[derive(Debug, Default)]
pub(super) struct Fields {
    pub(super) message: Option<String>,
    pub(super) pairs: Vec<(String, Value)>,
}

/// Keys the handler writes itself; a field by that name is renamed as promslog renames it,
/// so that JSON output never has duplicate keys.
const RESERVED: &[&str] = &["time", "level", "source"];

impl Fields {
    fn push(&mut self, field: &Field, value: Value) {
        let name = field.name();
        if name == "message"
            && let Value::Str(s) = value
        {
            self.message = Some(s);
            return;
        }
        let key = if RESERVED.contains(&name) {
            format!("logged_{name}")
        } else {
            // `r#type` fields arrive with the raw-identifier prefix.
            name.strip_prefix("r#").unwrap_or(name).to_owned()
        };
        self.pairs.push((key, value));
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, Value::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Value::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, Value::U64(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Value::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, Value::Str(value.to_owned()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push(field, Value::Str(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, Value::Str(format!("{value:?}")));
    }
}

/// Writes ` key=value` pairs as slog's text handler does.
pub(super) fn write_logfmt_pairs(out: &mut String, pairs: &[(String, Value)]) {
    for (key, value) in pairs {
        out.push(' ');
        write_logfmt_str(out, key);
        out.push('=');
        match value {
            Value::Str(s) => write_logfmt_str(out, s),
            Value::I64(v) => {
                let _ = write!(out, "{v}");
            }
            Value::U64(v) => {
                let _ = write!(out, "{v}");
            }
            Value::F64(v) => out.push_str(&go_float(*v)),
            Value::Bool(v) => {
                let _ = write!(out, "{v}");
            }
        }
    }
}

/// Writes `,"key":value` pairs as slog's JSON handler does.
pub(super) fn write_json_pairs(out: &mut String, pairs: &[(String, Value)]) {
    for (key, value) in pairs {
        out.push(',');
        write_json_str(out, key);
        out.push(':');
        match value {
            Value::Str(s) => write_json_str(out, s),
            Value::I64(v) => {
                let _ = write!(out, "{v}");
            }
            Value::U64(v) => {
                let _ = write!(out, "{v}");
            }
            Value::F64(v) if v.is_finite() => {
                let _ = write!(
                    out,
                    "{}",
                    serde_json::Number::from_f64(*v)
                        .map_or_else(|| go_float(*v), |n| json_float(n, *v))
                );
            }
            // JSON has no NaN or infinities; a string keeps the line parseable.
            Value::F64(v) => write_json_str(out, &go_float(*v)),
            Value::Bool(v) => {
                let _ = write!(out, "{v}");
            }
        }
    }
}

/// Go's `encoding/json` writes integral floats without a fraction (`3`, not `3.0`).
fn json_float(n: serde_json::Number, v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e21 {
        format!("{v}")
    } else {
        n.to_string()
    }
}

pub(super) fn write_json_str(out: &mut String, s: &str) {
    // serde_json cannot fail writing a str into a String.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

/// Quotes a string when slog's text handler would: empty, or containing a space, `=`, `"`,
/// a control or non-printing character. The quoted form uses Go's escapes.
pub(super) fn write_logfmt_str(out: &mut String, s: &str) {
    if !needs_quoting(s) {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if !c.is_ascii() && !is_printable(c) => {
                let _ = if (c as u32) < 0x10000 {
                    write!(out, "\\u{:04x}", c as u32)
                } else {
                    write!(out, "\\U{:08x}", c as u32)
                };
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn needs_quoting(s: &str) -> bool {
    s.is_empty()
        || s.chars().any(|c| {
            if c.is_ascii() {
                c == ' ' || c == '=' || c == '"' || c.is_ascii_control()
            } else {
                c.is_whitespace() || !is_printable(c)
            }
        })
}

/// An approximation of Go's `unicode.IsPrint` for non-ASCII: control, format and separator
/// characters are not printable.
fn is_printable(c: char) -> bool {
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}'))
}

/// Formats a float as Go's `strconv.FormatFloat(v, 'g', -1, 64)`, which slog's text handler
/// uses: shortest digits, exponent form below 1e-4 and from 1e6 up (`1e+06`, `1.5e-05`).
pub(super) fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        format!("{v}")
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logfmt(s: &str) -> String {
        let mut out = String::new();
        write_logfmt_str(&mut out, s);
        out
    }

    #[test]
    fn quoting_follows_slog() {
        assert_eq!(logfmt("plain"), "plain");
        assert_eq!(logfmt("[::]:9100"), "[::]:9100");
        assert_eq!(
            logfmt("C:\\dir"),
            "C:\\dir",
            "a lone backslash needs no quotes"
        );
        assert_eq!(logfmt(""), "\"\"");
        assert_eq!(logfmt("Listening on"), "\"Listening on\"");
        assert_eq!(logfmt("a=b"), "\"a=b\"");
        assert_eq!(logfmt("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(logfmt("two\nlines"), "\"two\\nlines\"");
        assert_eq!(logfmt("bell\u{7}"), "\"bell\\x07\"");
        assert_eq!(logfmt("héllo"), "héllo");
        assert_eq!(logfmt("nb\u{a0}sp"), "\"nb\\u00a0sp\"");
    }

    #[test]
    fn floats_follow_go() {
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(3.0), "3");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(123456789.0), "1.23456789e+08");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(f64::NAN), "NaN");
        assert_eq!(go_float(f64::NEG_INFINITY), "-Inf");
    }
}
