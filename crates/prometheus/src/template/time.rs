//! Go's `time.Time` (always UTC here) and `time.Duration` as template objects, for `toTime`,
//! `toDuration` and `humanizeTimestamp`: templates call their methods (`.Format "2006"`,
//! `.Add`, `.UnixMilli`, `.String`) and print them as Go does.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ZonedDateTime as Zoned};
use pm_common::template::time;
use pm_gotmpl::{Object, Value};

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// An instant in nanoseconds since the Unix epoch, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoTime {
    pub nanos: i64,
    /// Whether templates see a `*time.Time` (what `toTime` returns) or a `time.Time`.
    pub pointer: bool,
}

/// A `time.Duration` in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoDuration {
    pub nanos: i64,
    /// Whether templates see a `*time.Duration` (what `toDuration` returns).
    pub pointer: bool,
}

impl GoTime {
    fn secs(&self) -> i64 {
        self.nanos.div_euclid(NANOS_PER_SEC)
    }

    fn subsec(&self) -> i64 {
        self.nanos.rem_euclid(NANOS_PER_SEC)
    }

    /// Go's `Time.String`.
    pub fn string(&self) -> String {
        self.format("2006-01-02 15:04:05.999999999 -0700 MST")
    }

    /// Go's `Time.Format` for a UTC time.
    pub fn format(&self, layout: &str) -> String {
        time::format(&self.zoned(), layout)
    }

    fn zoned(&self) -> Zoned {
        Timestamp::from_nanosecond(i128::from(self.nanos))
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned_datetime(TimeZone::UTC)
    }

    fn with_nanos(&self, nanos: i64) -> Value {
        Value::object(GoTime {
            nanos,
            pointer: false,
        })
    }
}

impl Object for GoTime {
    fn type_name(&self) -> &str {
        if self.pointer {
            "*time.Time"
        } else {
            "time.Time"
        }
    }

    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let t = self.zoned();
        let no_args = |v: Value| {
            Some(if args.is_empty() {
                Ok(v)
            } else {
                Err(format!(
                    "wrong number of args for {name}: want 0 got {}",
                    args.len()
                ))
            })
        };
        match name {
            "String" => no_args(Value::from(self.string())),
            "Unix" => no_args(Value::Int(self.secs())),
            "UnixMilli" => no_args(Value::Int(self.nanos.div_euclid(1_000_000))),
            "UnixMicro" => no_args(Value::Int(self.nanos.div_euclid(1_000))),
            "UnixNano" => no_args(Value::Int(self.nanos)),
            "Year" => no_args(Value::Int(i64::from(t.year()))),
            "Month" => no_args(Value::from(
                time::MONTHS[usize::from(t.month().unsigned_abs()) - 1],
            )),
            "Day" => no_args(Value::Int(i64::from(t.day()))),
            "YearDay" => no_args(Value::Int(i64::from(t.day_of_year()))),
            "Weekday" => no_args(Value::from(
                time::DAYS[usize::from(t.weekday().to_sunday_zero_offset().unsigned_abs())],
            )),
            "Hour" => no_args(Value::Int(i64::from(t.hour()))),
            "Minute" => no_args(Value::Int(i64::from(t.minute()))),
            "Second" => no_args(Value::Int(i64::from(t.second()))),
            "Nanosecond" => no_args(Value::Int(self.subsec())),
            "UTC" | "Local" => no_args(self.with_nanos(self.nanos)),
            "IsZero" => no_args(Value::Bool(false)),
            "Format" => Some(match args {
                [layout] => layout
                    .as_str()
                    .map(|l| Value::from(self.format(l)))
                    .ok_or_else(|| arg_type_error("string", layout)),
                _ => Err(arity_error(name, 1, args.len())),
            }),
            "Add" => Some(match args {
                [d] => duration_arg(d).map(|d| self.with_nanos(self.nanos.saturating_add(d))),
                _ => Err(arity_error(name, 1, args.len())),
            }),
            _ => None,
        }
    }

    fn display(&self) -> Option<String> {
        Some(self.string())
    }
}

impl GoDuration {
    /// Go's `Duration.String`: `1h2m3.5s`, `1.5ms`, `0s`.
    pub fn string(&self) -> String {
        time::duration_string(SignedDuration::from_nanos(self.nanos))
    }
}

impl Object for GoDuration {
    fn type_name(&self) -> &str {
        if self.pointer {
            "*time.Duration"
        } else {
            "time.Duration"
        }
    }

    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let n = self.nanos;
        let v = match name {
            "String" => Value::from(self.string()),
            "Seconds" => Value::Float(
                (n / NANOS_PER_SEC) as f64 + (n % NANOS_PER_SEC) as f64 / NANOS_PER_SEC as f64,
            ),
            "Minutes" => {
                Value::Float((n / 60_000_000_000) as f64 + (n % 60_000_000_000) as f64 / 60e9)
            }
            "Hours" => Value::Float(
                (n / 3_600_000_000_000) as f64 + (n % 3_600_000_000_000) as f64 / 3600e9,
            ),
            "Milliseconds" => Value::Int(n / 1_000_000),
            "Microseconds" => Value::Int(n / 1_000),
            "Nanoseconds" => Value::Int(n),
            _ => return None,
        };
        Some(if args.is_empty() {
            Ok(v)
        } else {
            Err(arity_error(name, 0, args.len()))
        })
    }

    fn display(&self) -> Option<String> {
        Some(self.string())
    }
}

/// A `time.Duration` argument: a duration object or an integer number of nanoseconds.
fn duration_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(n) => Ok(*n),
        Value::Object(o) if matches!(o.type_name(), "time.Duration" | "*time.Duration") => {
            match o.method("Nanoseconds", &[]) {
                Some(Ok(Value::Int(n))) => Ok(n),
                _ => Err(arg_type_error("time.Duration", v)),
            }
        }
        _ => Err(arg_type_error("time.Duration", v)),
    }
}

fn arg_type_error(expected: &str, got: &Value) -> String {
    format!(
        "wrong type for value; expected {expected}; got {}",
        got.type_name()
    )
}

fn arity_error(name: &str, want: usize, got: usize) -> String {
    format!("wrong number of args for {name}: want {want} got {got}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(nanos: i64) -> GoTime {
        GoTime {
            nanos,
            pointer: true,
        }
    }

    #[test]
    fn strings_as_go_prints_them() {
        assert_eq!(at(0).string(), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            at(1_435_065_584_128_000_000).string(),
            "2015-06-23 13:19:44.128 +0000 UTC"
        );
        assert_eq!(at(-1_000_000_000).string(), "1969-12-31 23:59:59 +0000 UTC");
        assert_eq!(
            at(9_223_372_036_000_000_000).string(),
            "2262-04-11 23:47:16 +0000 UTC"
        );
    }

    #[test]
    fn layouts() {
        let t = at(1_353_755_652_000_000_000);
        for (layout, want) in [
            ("Mon Jan 2 15:04:05 2006", "Sat Nov 24 11:14:12 2012"),
            ("2006-01-02T15:04:05Z07:00", "2012-11-24T11:14:12Z"),
            (
                "Monday, 02-Jan-06 15:04:05 MST",
                "Saturday, 24-Nov-12 11:14:12 UTC",
            ),
            ("3:04PM", "11:14AM"),
            ("January _2 002 __2", "November 24 329 329"),
            ("15:04:05.000 -0700", "11:14:12.000 +0000"),
            ("05.999|05,00|_2006", "12|12,00|_2012"),
        ] {
            assert_eq!(t.format(layout), want, "{layout}");
        }
        assert_eq!(at(1_500_000).format("05.000000"), "00.001500");
    }

    #[test]
    fn durations_as_go_prints_them() {
        for (nanos, want) in [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (100_000_000, "100ms"),
            (1_500_000_000, "1.5s"),
            (1_800_000_000_000, "30m0s"),
            (3_600_000_000_000, "1h0m0s"),
            (-(3_723_500_000_000), "-1h2m3.5s"),
        ] {
            let d = GoDuration {
                nanos,
                pointer: true,
            };
            assert_eq!(d.string(), want, "{nanos}");
        }
    }
}
