//! Go's `time.Time` (always UTC here) and `time.Duration` as template objects, for `toTime`,
//! `toDuration` and `humanizeTimestamp`: templates call their methods (`.Format "2006"`,
//! `.Add`, `.UnixMilli`, `.String`) and print them as Go does.

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
        let fields = Fields::new(self);
        let mut out = String::with_capacity(layout.len() + 8);
        let mut rest = layout;
        while !rest.is_empty() {
            match next_token(rest) {
                Some((token, len)) => {
                    fields.write(&mut out, token);
                    rest = &rest[len..];
                }
                None => {
                    let c = rest.chars().next().unwrap_or_default();
                    out.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        out
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
        let fields = Fields::new(self);
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
            "Year" => no_args(Value::Int(fields.year)),
            "Month" => no_args(Value::from(MONTHS[fields.month_index()])),
            "Day" => no_args(Value::Int(fields.day)),
            "YearDay" => no_args(Value::Int(fields.yday)),
            "Weekday" => no_args(Value::from(WEEKDAYS[fields.weekday])),
            "Hour" => no_args(Value::Int(fields.hour)),
            "Minute" => no_args(Value::Int(fields.minute)),
            "Second" => no_args(Value::Int(fields.second)),
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
        let negative = self.nanos < 0;
        let u = self.nanos.unsigned_abs();
        let mut out = String::new();
        if u < 1_000_000_000 {
            if u == 0 {
                return "0s".to_owned();
            }
            let (unit, scale) = if u < 1_000 {
                ("ns", 1)
            } else if u < 1_000_000 {
                ("µs", 1_000)
            } else {
                ("ms", 1_000_000)
            };
            out.push_str(&fraction(u, scale));
            out.push_str(unit);
        } else {
            let secs = u / 1_000_000_000;
            let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
            if h > 0 {
                out.push_str(&format!("{h}h"));
            }
            if h > 0 || m > 0 {
                out.push_str(&format!("{m}m"));
            }
            out.push_str(&fraction(
                s * 1_000_000_000 + u % 1_000_000_000,
                1_000_000_000,
            ));
            out.push('s');
        }
        if negative {
            out.insert(0, '-');
        }
        out
    }
}

/// `v / scale` with the fractional digits Go prints (trailing zeros dropped).
fn fraction(v: u64, scale: u64) -> String {
    let whole = v / scale;
    let frac = v % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
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

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// The calendar fields of one instant.
struct Fields {
    year: i64,
    month: i64,
    day: i64,
    yday: i64,
    weekday: usize,
    hour: i64,
    minute: i64,
    second: i64,
    nanos: i64,
}

impl Fields {
    fn new(t: &GoTime) -> Self {
        let secs = t.secs();
        let days = secs.div_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let day_secs = secs.rem_euclid(86_400);
        let jan1 = days_from_civil(year, 1, 1);
        Fields {
            year,
            month,
            day,
            yday: days - jan1 + 1,
            weekday: usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0),
            hour: day_secs / 3600,
            minute: day_secs / 60 % 60,
            second: day_secs % 60,
            nanos: t.subsec(),
        }
    }

    fn month_index(&self) -> usize {
        usize::try_from(self.month - 1).unwrap_or(0)
    }

    fn write(&self, out: &mut String, token: Token) {
        let hour12 = match self.hour % 12 {
            0 => 12,
            h => h,
        };
        match token {
            Token::LongYear => out.push_str(&format!("{:04}", self.year)),
            Token::Year => out.push_str(&format!("{:02}", self.year.rem_euclid(100))),
            Token::LongMonth => out.push_str(MONTHS[self.month_index()]),
            Token::Month => out.push_str(&MONTHS[self.month_index()][..3]),
            Token::NumMonth => out.push_str(&self.month.to_string()),
            Token::ZeroMonth => out.push_str(&format!("{:02}", self.month)),
            Token::LongWeekDay => out.push_str(WEEKDAYS[self.weekday]),
            Token::WeekDay => out.push_str(&WEEKDAYS[self.weekday][..3]),
            Token::Day => out.push_str(&self.day.to_string()),
            Token::UnderDay => out.push_str(&format!("{:>2}", self.day)),
            Token::ZeroDay => out.push_str(&format!("{:02}", self.day)),
            Token::UnderYearDay => out.push_str(&format!("{:>3}", self.yday)),
            Token::ZeroYearDay => out.push_str(&format!("{:03}", self.yday)),
            Token::Hour => out.push_str(&format!("{:02}", self.hour)),
            Token::Hour12 => out.push_str(&hour12.to_string()),
            Token::ZeroHour12 => out.push_str(&format!("{hour12:02}")),
            Token::Minute => out.push_str(&self.minute.to_string()),
            Token::ZeroMinute => out.push_str(&format!("{:02}", self.minute)),
            Token::Second => out.push_str(&self.second.to_string()),
            Token::ZeroSecond => out.push_str(&format!("{:02}", self.second)),
            Token::Pm => out.push_str(if self.hour >= 12 { "PM" } else { "AM" }),
            Token::PmLower => out.push_str(if self.hour >= 12 { "pm" } else { "am" }),
            Token::TzName => out.push_str("UTC"),
            Token::Offset(text) => out.push_str(text),
            Token::Frac {
                sep,
                digits,
                trim_zeros,
            } => {
                let all = format!("{:09}", self.nanos);
                let mut shown = &all[..digits];
                if trim_zeros {
                    shown = shown.trim_end_matches('0');
                    if shown.is_empty() {
                        return;
                    }
                }
                out.push(sep);
                out.push_str(shown);
            }
        }
    }
}

/// One element of a Go layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    LongYear,
    Year,
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    Pm,
    PmLower,
    TzName,
    /// A zone offset; for UTC its text is fixed (`Z` forms print `Z`).
    Offset(&'static str),
    Frac {
        sep: char,
        digits: usize,
        trim_zeros: bool,
    },
}

/// Recognises the layout element at the start of `s`, with its length, as Go's
/// `nextStdChunk` does (longest alternative first where two share a prefix).
fn next_token(s: &str) -> Option<(Token, usize)> {
    const PREFIXED: &[(&str, Token)] = &[
        ("January", Token::LongMonth),
        ("Jan", Token::Month),
        ("Monday", Token::LongWeekDay),
        ("Mon", Token::WeekDay),
        ("MST", Token::TzName),
        ("2006", Token::LongYear),
        ("002", Token::ZeroYearDay),
        ("01", Token::ZeroMonth),
        ("02", Token::ZeroDay),
        ("03", Token::ZeroHour12),
        ("04", Token::ZeroMinute),
        ("05", Token::ZeroSecond),
        ("06", Token::Year),
        ("15", Token::Hour),
        ("1", Token::NumMonth),
        ("2", Token::Day),
        ("__2", Token::UnderYearDay),
        ("_2", Token::UnderDay),
        ("3", Token::Hour12),
        ("4", Token::Minute),
        ("5", Token::Second),
        ("PM", Token::Pm),
        ("pm", Token::PmLower),
        ("-07:00:00", Token::Offset("+00:00:00")),
        ("-070000", Token::Offset("+000000")),
        ("-07:00", Token::Offset("+00:00")),
        ("-0700", Token::Offset("+0000")),
        ("-07", Token::Offset("+00")),
        ("Z07:00:00", Token::Offset("Z")),
        ("Z070000", Token::Offset("Z")),
        ("Z07:00", Token::Offset("Z")),
        ("Z0700", Token::Offset("Z")),
        ("Z07", Token::Offset("Z")),
    ];
    // `_2006` is a literal underscore followed by the year, not `_2` and `006`.
    if s.starts_with("_2006") {
        return None;
    }
    if let Some(frac) = fraction_token(s) {
        return Some(frac);
    }
    PREFIXED
        .iter()
        .find(|(p, _)| s.starts_with(p))
        .map(|&(p, token)| (token, p.len()))
}

/// `.000`/`,999`-style fractional seconds: a separator, then a run of one repeated digit `0`
/// or `9` not followed by another digit.
fn fraction_token(s: &str) -> Option<(Token, usize)> {
    let b = s.as_bytes();
    let sep = *b.first()?;
    let digit = *b.get(1)?;
    if !matches!(sep, b'.' | b',') || !matches!(digit, b'0' | b'9') {
        return None;
    }
    let run = b[1..].iter().take_while(|&&c| c == digit).count();
    if b.get(1 + run).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((
        Token::Frac {
            sep: char::from(sep),
            digits: run.min(9),
            trim_zeros: digit == b'9',
        },
        1 + run,
    ))
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
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

/// Days since 1970-01-01 of a civil date (the inverse of [`civil_from_days`]).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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

    #[test]
    fn calendar_round_trips() {
        for days in [-719_468, -1, 0, 59, 365, 11_016, 106_751] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
