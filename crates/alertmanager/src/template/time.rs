//! Go's `time.Time` and `time.Duration` as template values: notification templates format
//! `.StartsAt` with Go reference layouts (`{{ .StartsAt.Format "15:04" }}`, `date`, `tz`),
//! and print both types the way Go's `String` methods do.

use jiff::{SignedDuration, Timestamp, ZonedDateTime as Zoned, tz::TimeZone};
pub(crate) use pm_common::template::time::{duration_string, format};
use pm_gotmpl::{Object, Value};

/// An instant in a time zone, printed and formatted like Go's `time.Time`.
#[derive(Clone, Debug)]
pub struct GoTime(pub Zoned);

impl GoTime {
    pub fn utc(ts: Timestamp) -> Value {
        Value::object(GoTime(ts.to_zoned_datetime(TimeZone::UTC)))
    }

    /// The Go time behind a template value, if it is one.
    pub fn from_value(v: &Value) -> Option<Zoned> {
        let Value::Object(o) = v else { return None };
        if o.type_name() != "time.Time" {
            return None;
        }
        let Some(Ok(Value::Int(nanos))) = o.method("UnixNano", &[]) else {
            return None;
        };
        let Some(Ok(Value::String(zone))) = o.method("Location", &[]) else {
            return None;
        };
        let ts = Timestamp::from_nanosecond(i128::from(nanos)).ok()?;
        let tz = TimeZone::get(&zone).unwrap_or(TimeZone::UTC);
        Some(ts.to_zoned_datetime(tz))
    }
}

impl Object for GoTime {
    fn type_name(&self) -> &str {
        "time.Time"
    }

    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let ts = self.0.timestamp();
        Some(Ok(match name {
            "Format" => match args.first().and_then(Value::as_str) {
                Some(layout) => Value::from(format(&self.0, layout)),
                None => return Some(Err("Format needs a layout string".into())),
            },
            "Unix" => Value::Int(ts.as_second()),
            "UnixMilli" => Value::Int(ts.as_millisecond()),
            "UnixNano" => Value::Int(i64::try_from(ts.as_nanosecond()).unwrap_or(i64::MAX)),
            "UTC" => GoTime::utc(ts),
            "IsZero" => Value::Bool(ts == go_zero()),
            "Location" => Value::from(self.0.time_zone().iana_name().unwrap_or("UTC").to_owned()),
            _ => return None,
        }))
    }

    fn display(&self) -> Option<String> {
        Some(format(&self.0, "2006-01-02 15:04:05.999999999 -0700 MST"))
    }
}

/// Go's zero `time.Time`, which firing alerts carry as their end.
pub fn go_zero() -> Timestamp {
    "0001-01-01T00:00:00Z".parse().expect("valid timestamp")
}

/// A `time.Duration` (what `since` returns), printed like Go (`1h2m3.5s`).
#[derive(Clone, Copy, Debug)]
pub struct GoDuration(pub SignedDuration);

impl Object for GoDuration {
    fn type_name(&self) -> &str {
        "time.Duration"
    }

    fn method(&self, name: &str, _: &[Value]) -> Option<Result<Value, String>> {
        Some(Ok(match name {
            "Seconds" => Value::Float(self.0.as_secs_f64()),
            "Minutes" => Value::Float(self.0.as_secs_f64() / 60.0),
            "Hours" => Value::Float(self.0.as_secs_f64() / 3600.0),
            "Milliseconds" => Value::Int(i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)),
            _ => return None,
        }))
    }

    fn display(&self) -> Option<String> {
        Some(duration_string(self.0))
    }
}
