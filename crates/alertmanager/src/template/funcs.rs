//! The template functions only Alertmanager defines (those it shares with the Prometheus
//! server come from `pm_common::template`).

use jiff::{Timestamp, tz::TimeZone};
use pm_gotmpl::{FuncError, FuncMap, Function, Object, Value, arg_str};

use super::model::struct_fields;
use super::time::{GoDuration, GoTime};

fn strings(v: &Value) -> Result<Vec<String>, FuncError> {
    match v.resolved() {
        Value::List(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| FuncError::arg_type("string", i))
            })
            .collect(),
        other => Err(FuncError::arg_type("[]string", &other)),
    }
}

fn time_arg(args: &[Value], i: usize) -> Result<jiff::ZonedDateTime, FuncError> {
    GoTime::from_value(&args[i]).ok_or_else(|| FuncError::arg_type("time.Time", &args[i]))
}

/// Adds Alertmanager's own functions to `map`.
pub fn register(map: &mut FuncMap) {
    let mut add = |name: &str, f: fn(&[Value]) -> pm_gotmpl::FuncResult| {
        map.insert(name, Function::new(f));
    };
    add("trimSpace", |a| {
        FuncError::check_arity(a, 1)?;
        Ok(arg_str(a, 0)?.trim().into())
    });
    // The separator comes first so that a list can be piped in.
    add("join", |a| {
        FuncError::check_arity(a, 2)?;
        Ok(strings(&a[1])?.join(arg_str(a, 0)?).into())
    });
    add("stringSlice", |a| {
        let items: Result<Vec<Value>, FuncError> =
            (0..a.len()).map(|i| Ok(arg_str(a, i)?.into())).collect();
        Ok(Value::list(items?))
    });
    // Go's html/template would trust the URL in an attribute; here it is printed as given.
    add("safeUrl", |a| {
        FuncError::check_arity(a, 1)?;
        Ok(arg_str(a, 0)?.into())
    });
    add("urlUnescape", |a| {
        FuncError::check_arity(a, 1)?;
        query_unescape(arg_str(a, 0)?).map(Value::from)
    });
    add("date", |a| {
        FuncError::check_arity(a, 2)?;
        Ok(super::time::format(&time_arg(a, 1)?, arg_str(a, 0)?).into())
    });
    add("tz", |a| {
        FuncError::check_arity(a, 2)?;
        let name = arg_str(a, 0)?;
        let zone = if name.is_empty() || name == "UTC" {
            TimeZone::UTC
        } else {
            TimeZone::get(name)
                .map_err(|_| FuncError::Failed(format!("unknown time zone {name}")))?
        };
        let t = time_arg(a, 1)?;
        Ok(Value::object(GoTime(t.timestamp().to_zoned_datetime(zone))))
    });
    add("since", |a| {
        FuncError::check_arity(a, 1)?;
        let t = time_arg(a, 0)?;
        let elapsed = Timestamp::now().duration_since(t.timestamp());
        Ok(Value::object(GoDuration(elapsed)))
    });
    add("toJson", |a| {
        FuncError::check_arity(a, 1)?;
        let mut out = String::new();
        write_json(&a[0], &mut out);
        Ok(go_html_safe(&out).into())
    });
}

/// Go's `url.QueryUnescape`.
fn query_unescape(s: &str) -> Result<String, FuncError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()));
                let Some(hex) = hex else {
                    let bad: String = s[i..].chars().take(3).collect();
                    return Err(FuncError::Failed(format!("invalid URL escape {bad:?}")));
                };
                out.push(u8::from_str_radix(hex, 16).expect("hex digits"));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// JSON as Go's `encoding/json` writes the template types: structs in field order under their
/// JSON names, label sets as objects, times in RFC 3339 with nanoseconds.
fn write_json(v: &Value, out: &mut String) {
    let string = |s: &str, out: &mut String| {
        out.push_str(&serde_json::to_string(s).expect("strings serialize"));
    };
    match v {
        Value::Nil | Value::Func(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(x) => out.push_str(&serde_json::Value::from(*x).to_string()),
        Value::String(s) | Value::Html(s) => string(s, out),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(k, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
        Value::Object(o) => write_object(&**o, v, out),
    }
}

fn write_object(o: &dyn Object, v: &Value, out: &mut String) {
    if let Some(t) = GoTime::from_value(v) {
        let text = super::time::format(&t, "2006-01-02T15:04:05.999999999Z07:00");
        out.push_str(&serde_json::to_string(&text).expect("strings serialize"));
    } else if let Some(fields) = struct_fields(o) {
        out.push('{');
        for (i, (key, item)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&format!("{key:?}:"));
            write_json(item, out);
        }
        out.push('}');
    } else if let Some(base) = o.base() {
        write_json(&base, out);
    } else {
        out.push_str("{}");
    }
}

/// Go's JSON encoder escapes these so the output is safe inside HTML; applied to whole
/// documents, as they can only occur inside strings.
pub fn go_html_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_unescape_like_go() {
        assert_eq!(query_unescape("a%20b+c%2Fd").unwrap(), "a b c/d");
        let err = query_unescape("bad%zz").unwrap_err().to_string();
        assert!(err.contains(r#"invalid URL escape "%zz""#), "{err}");
    }

    #[test]
    fn json_escapes_html_like_go() {
        let mut out = String::new();
        write_json(&Value::from("<a&b>"), &mut out);
        assert_eq!(go_html_safe(&out), r#""\u003ca\u0026b\u003e""#);
    }
}
