//! `time.Time` as a host object, and Alertmanager's `date` and `humanizeDuration` functions
//! (UTC only: enough to show host types with Go's `Stringer` printing).

use pm_gotmpl::fmt::sprintf;
use pm_gotmpl::{FuncError, Object, Template, Value, arg_str};

/// A UTC instant with second precision.
pub struct Time(pub i64);

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Time {
    /// Formats with a Go layout (the reference-time tokens used by notification templates).
    fn format(&self, layout: &str) -> String {
        let (y, mo, d) = civil(self.0.div_euclid(86_400));
        let secs = self.0.rem_euclid(86_400);
        let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let month = usize::try_from(mo - 1).unwrap_or(0);
        let tokens: [(&str, String); 10] = [
            ("2006", format!("{y:04}")),
            ("Z07:00", "Z".to_owned()),
            ("-0700", "+0000".to_owned()),
            ("MST", "UTC".to_owned()),
            ("Jan", MONTHS[month].to_owned()),
            ("01", format!("{mo:02}")),
            ("02", format!("{d:02}")),
            ("15", format!("{h:02}")),
            ("04", format!("{mi:02}")),
            ("05", format!("{s:02}")),
        ];
        let mut out = String::new();
        let mut rest = layout;
        'outer: while !rest.is_empty() {
            for (token, value) in &tokens {
                if let Some(after) = rest.strip_prefix(token) {
                    out.push_str(value);
                    rest = after;
                    continue 'outer;
                }
            }
            let c = rest.chars().next().unwrap_or_default();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }
}

impl Object for Time {
    fn type_name(&self) -> &str {
        "time.Time"
    }
    fn method(&self, name: &str, _: &[Value]) -> Option<Result<Value, String>> {
        match name {
            "Unix" => Some(Ok(Value::Int(self.0))),
            _ => None,
        }
    }
    fn display(&self) -> Option<String> {
        Some(self.format("2006-01-02 15:04:05 -0700 MST"))
    }
}

/// Prometheus' `HumanizeDuration`, which Alertmanager re-exports.
fn humanize_duration(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return sprintf("%.4g", &[v.into()]);
    }
    if v == 0.0 {
        return sprintf("%.4gs", &[v.into()]);
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let v = v.abs();
        let total = v as i64;
        let (days, hours, minutes, seconds) = (
            total / 86_400,
            total / 3600 % 24,
            total / 60 % 60,
            total % 60,
        );
        return if days != 0 {
            format!("{sign}{days}d {hours}h {minutes}m {seconds}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {minutes}m {seconds}s")
        } else if minutes != 0 {
            format!("{sign}{minutes}m {seconds}s")
        } else {
            format!("{sign}{}s", sprintf("%.4g", &[v.into()]))
        };
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", sprintf("%.4g", &[v.into()]))
}

pub fn register(t: &mut Template) {
    t.func("date", |a| {
        FuncError::check_arity(a, 2)?;
        let layout = arg_str(a, 0)?;
        match &a[1] {
            Value::Object(o) if o.type_name() == "time.Time" => {
                let Some(Value::Int(unix)) = o.method("Unix", &[]).and_then(Result::ok) else {
                    return Err("bad time".into());
                };
                Ok(Time(unix).format(layout).into())
            }
            other => Err(FuncError::arg_type("time.Time", other)),
        }
    });
    t.func("humanizeDuration", |a| {
        FuncError::check_arity(a, 1)?;
        match &a[0] {
            Value::Int(i) => Ok(humanize_duration(*i as f64).into()),
            Value::Float(x) => Ok(humanize_duration(*x).into()),
            other => Err(FuncError::arg_type("float64", other)),
        }
    });
}
