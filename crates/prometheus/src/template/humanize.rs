//! The number and time functions: `humanize*`, `toTime`, `toDuration`, `parseDuration` and
//! `now`, formatting exactly as upstream (Go's `%.4g`, SI and binary prefixes).

use pm_common::config::Duration;
use pm_common::template::{format_g4, small_prefix, to_float};
use pm_gotmpl::fmt::to_v;
use pm_gotmpl::{FuncError, FuncMap, FuncResult, Function, Value, arg_str};

use super::time::{GoDuration, GoTime};

/// Registers the functions that do not depend on the evaluation.
pub(super) fn register_static(map: &mut FuncMap) {
    map.insert("humanize", number_fn(humanize));
    map.insert("humanize1024", number_fn(humanize_1024));
    map.insert(
        "humanizePercentage",
        number_fn(|v| Ok(Value::from(format!("{}%", format_g4(v * 100.0))))),
    );
    map.insert("humanizeTimestamp", number_fn(humanize_timestamp));
    map.insert(
        "toTime",
        number_fn(|v| {
            let nanos = float_to_time(v)?;
            Ok(Value::object(GoTime {
                nanos,
                pointer: true,
            }))
        }),
    );
    map.insert(
        "toDuration",
        number_fn(|v| {
            // Go converts with truncation toward zero.
            let nanos = (v * 1e9) as i64;
            Ok(Value::object(GoDuration {
                nanos,
                pointer: true,
            }))
        }),
    );
    map.insert("parseDuration", Function::new(parse_duration));
}

/// Registers `now`, the evaluation time in seconds.
pub(super) fn register_now(map: &mut FuncMap, timestamp_ms: i64) {
    map.insert(
        "now",
        Function::new(move |args| {
            FuncError::check_arity(args, 0)?;
            Ok(Value::Float(timestamp_ms as f64 / 1000.0))
        }),
    );
}

/// A one-argument function of a number given as a number or a string.
fn number_fn(f: impl Fn(f64) -> FuncResult + Send + Sync + 'static) -> Function {
    Function::new(move |args| {
        FuncError::check_arity(args, 1)?;
        f(to_float(&args[0])?)
    })
}

fn humanize(v: f64) -> FuncResult {
    if v == 0.0 || !v.is_finite() {
        return Ok(Value::from(format_g4(v)));
    }
    if v.abs() >= 1.0 {
        let mut v = v;
        let mut prefix = "";
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
        return Ok(Value::from(format!("{}{prefix}", format_g4(v))));
    }
    let (v, prefix) = small_prefix(v);
    Ok(Value::from(format!("{}{prefix}", format_g4(v))))
}

fn humanize_1024(v: f64) -> FuncResult {
    if v.abs() <= 1.0 || !v.is_finite() {
        return Ok(Value::from(format_g4(v)));
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    Ok(Value::from(format!("{}{prefix}", format_g4(v))))
}

fn humanize_timestamp(v: f64) -> FuncResult {
    if !v.is_finite() {
        return Ok(Value::from(format_g4(v)));
    }
    let nanos = float_to_time(v)?;
    Ok(Value::from(
        GoTime {
            nanos,
            pointer: true,
        }
        .string(),
    ))
}

/// Upstream's `floatToTime`: seconds to an instant with millisecond precision (it goes
/// through `model.Time`), refusing what does not fit in nanoseconds.
fn float_to_time(v: f64) -> Result<i64, FuncError> {
    if !v.is_finite() {
        return Err("value is NaN or Inf".into());
    }
    let nanos = v * 1e9;
    // Go compares against MaxInt64 converted to float, i.e. 2^63.
    if nanos > i64::MAX as f64 || nanos < i64::MIN as f64 {
        return Err(FuncError::Failed(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            to_v(&Value::Float(v))
        )));
    }
    let millis = (nanos as i64) / 1_000_000;
    Ok(millis * 1_000_000)
}

/// `parseDuration`: Prometheus duration syntax, optionally negative, to float seconds.
fn parse_duration(args: &[Value]) -> FuncResult {
    FuncError::check_arity(args, 1)?;
    let s = arg_str(args, 0)?;
    let (negative, body) = match s.strip_prefix('-') {
        Some(body) => (true, body),
        None => (false, s),
    };
    let d = Duration::parse(body).map_err(|e| FuncError::Failed(e.to_string()))?;
    let nanos = i64::try_from(d.as_std().as_nanos()).unwrap_or(i64::MAX);
    let seconds = nanos as f64 / 1e9;
    Ok(Value::Float(if negative { -seconds } else { seconds }))
}
