//! Durations in the two syntaxes upstream configs use.
//!
//! Most Prometheus fields use `model.Duration` (`1h30m`, `2w`, `1y`: integer amounts, units in
//! descending order, millisecond resolution). A few fields inherited from Go's standard library
//! use `time.ParseDuration` (`1.5h`, `300ms`, `2µs`). The two accept different languages, so
//! they are two clearly named parsers rather than one lenient one.

use std::fmt;
use std::str::FromStr;
use std::time::Duration as StdDuration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::write_go_quoted;

/// Why a duration string was rejected. The texts match upstream's error strings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration string")]
    Empty,
    #[error("not a valid duration string: {}", GoQuoted(.0))]
    Invalid(String),
    #[error("unknown unit {} in duration {}", GoQuoted(.unit), GoQuoted(.input))]
    UnknownUnit { unit: String, input: String },
    #[error("duration out of range")]
    OutOfRange,
    /// Go's `time.ParseDuration` wording, used by [`parse_go_duration`].
    #[error("time: invalid duration {}", GoQuoted(.0))]
    GoInvalid(String),
    #[error("time: missing unit in duration {}", GoQuoted(.0))]
    GoMissingUnit(String),
    #[error("time: unknown unit {} in duration {}", GoQuoted(.unit), GoQuoted(.input))]
    GoUnknownUnit { unit: String, input: String },
    /// Go accepts `-1s`; every field parsed here is a timeout or interval, where a negative
    /// value can only be a mistake, so it is refused instead of wrapped around.
    #[error("negative duration {} is not allowed", GoQuoted(.0))]
    Negative(String),
}

/// Renders a string the way Go's `%q` does, so error texts match upstream byte for byte.
struct GoQuoted<'a>(&'a str);

impl fmt::Display for GoQuoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_go_quoted(f, self.0)
    }
}

const MS: u64 = 1;
const SECOND: u64 = 1000 * MS;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
const WEEK: u64 = 7 * DAY;
const YEAR: u64 = 365 * DAY;

/// Units of the Prometheus syntax, largest first; each may appear at most once, in this order.
const UNITS: [(&str, u64); 7] = [
    ("y", YEAR),
    ("w", WEEK),
    ("d", DAY),
    ("h", HOUR),
    ("m", MINUTE),
    ("s", SECOND),
    ("ms", MS),
];

/// Upstream stores a Go `time.Duration` (signed nanoseconds), so anything past
/// `i64::MAX` nanoseconds is out of range even though we count milliseconds.
const MAX_NANOS: u128 = i64::MAX as u128;

/// A Prometheus `model.Duration`: non-negative, millisecond resolution, written as `1h30m`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(StdDuration);

impl Duration {
    pub const ZERO: Duration = Duration(StdDuration::ZERO);

    pub const fn from_std(d: StdDuration) -> Self {
        Duration(d)
    }

    pub const fn from_millis(ms: u64) -> Self {
        Duration(StdDuration::from_millis(ms))
    }

    pub const fn from_secs(secs: u64) -> Self {
        Duration(StdDuration::from_secs(secs))
    }

    pub const fn as_std(self) -> StdDuration {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Parses the Prometheus syntax (`model.ParseDuration`).
    pub fn parse(s: &str) -> Result<Self, DurationError> {
        match s {
            "0" => return Ok(Duration::ZERO),
            "" => return Err(DurationError::Empty),
            _ => {}
        }
        let invalid = || DurationError::Invalid(s.to_owned());
        let mut rest = s;
        let mut total_ms: u64 = 0;
        // Index into UNITS of the next unit allowed; enforces "descending, each once".
        let mut next_unit = 0;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(invalid());
            }
            let value: u64 = rest[..digits].parse().map_err(|_| invalid())?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(|b| !b.is_ascii_digit()).count();
            if unit_len == 0 {
                return Err(invalid());
            }
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let Some(pos) = UNITS.iter().position(|(name, _)| *name == unit) else {
                return Err(DurationError::UnknownUnit {
                    unit: unit.to_owned(),
                    input: s.to_owned(),
                });
            };
            if pos < next_unit {
                return Err(invalid());
            }
            next_unit = pos + 1;
            let ms = value
                .checked_mul(UNITS[pos].1)
                .and_then(|v| total_ms.checked_add(v))
                .ok_or(DurationError::OutOfRange)?;
            if u128::from(ms) * 1_000_000 > MAX_NANOS {
                return Err(DurationError::OutOfRange);
            }
            total_ms = ms;
        }
        Ok(Duration::from_millis(total_ms))
    }
}

impl From<StdDuration> for Duration {
    fn from(d: StdDuration) -> Self {
        Duration(d)
    }
}

impl From<Duration> for StdDuration {
    fn from(d: Duration) -> Self {
        d.0
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Duration::parse(s)
    }
}

/// Prints like upstream `Duration.String()`: sub-millisecond parts are dropped, years and
/// weeks are used only when they divide the whole value (`90d` reads better than `12w6d`).
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            return f.write_str("0s");
        }
        for (name, mult) in UNITS {
            let exact_only = mult == YEAR || mult == WEEK;
            if exact_only && ms % mult != 0 {
                continue;
            }
            let v = ms / mult;
            if v > 0 {
                write!(f, "{v}{name}")?;
                ms -= v * mult;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Duration::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Parses Go's `time.ParseDuration` syntax: optional sign, decimal fractions, units `ns`, `us`,
/// `µs`, `μs`, `ms`, `s`, `m`, `h`. Negative values are refused (see [`DurationError::Negative`]).
pub fn parse_go_duration(s: &str) -> Result<StdDuration, DurationError> {
    let invalid = || DurationError::GoInvalid(s.to_owned());
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(StdDuration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let frac_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &after_dot[..frac_len];
            rest = &after_dot[frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(i, _)| i);
        if unit_len == 0 {
            return Err(DurationError::GoMissingUnit(s.to_owned()));
        }
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let nanos_per_unit: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(DurationError::GoUnknownUnit {
                    unit: unit.to_owned(),
                    input: s.to_owned(),
                });
            }
        };
        let int_value: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        let mut nanos = int_value.checked_mul(nanos_per_unit).ok_or_else(invalid)?;
        // Go keeps at most ~19 significant fraction digits and truncates the rest; digits
        // beyond nanosecond precision of the unit cannot change the result.
        let mut scale = nanos_per_unit;
        for digit in frac_part.bytes().take(20) {
            scale /= 10;
            if scale == 0 {
                break;
            }
            nanos += u128::from(digit - b'0') * scale;
        }
        total = total.checked_add(nanos).ok_or_else(invalid)?;
        if total > MAX_NANOS + u128::from(negative) {
            return Err(invalid());
        }
    }
    if negative && total != 0 {
        return Err(DurationError::Negative(s.to_owned()));
    }
    let nanos = u64::try_from(total).map_err(|_| invalid())?;
    Ok(StdDuration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        let cases = [
            ("0", 0, "0s"),
            ("0s", 0, "0s"),
            ("0w", 0, "0s"),
            ("324ms", 324, "324ms"),
            ("3s", 3 * SECOND, "3s"),
            ("5m", 5 * MINUTE, "5m"),
            ("1h", HOUR, "1h"),
            ("1h30m", HOUR + 30 * MINUTE, "1h30m"),
            ("4d", 4 * DAY, "4d"),
            ("7d", WEEK, "1w"),
            ("2w", 2 * WEEK, "2w"),
            ("10y", 10 * YEAR, "10y"),
            ("365d", YEAR, "1y"),
            ("90d", 90 * DAY, "90d"),
            (
                "1y1w1d1h1m1s1ms",
                YEAR + WEEK + DAY + HOUR + MINUTE + SECOND + 1,
                "373d1h1m1s1ms",
            ),
            ("14d", 2 * WEEK, "2w"),
            ("3w2d1h", 3 * WEEK + 2 * DAY + HOUR, "23d1h"),
        ];
        for (input, ms, printed) in cases {
            let d = Duration::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(d, Duration::from_millis(ms), "{input}");
            assert_eq!(d.to_string(), printed, "{input}");
        }
    }

    #[test]
    fn rejects_bad_syntax_with_upstream_messages() {
        let cases = [
            ("", "empty duration string"),
            ("1", "not a valid duration string: \"1\""),
            ("s", "not a valid duration string: \"s\""),
            ("1.5h", "unknown unit \".\" in duration \"1.5h\""),
            ("-1s", "not a valid duration string: \"-1s\""),
            ("1m1h", "not a valid duration string: \"1m1h\""),
            ("1h1h", "not a valid duration string: \"1h1h\""),
            ("1s1m", "not a valid duration string: \"1s1m\""),
            ("1x", "unknown unit \"x\" in duration \"1x\""),
            ("1 s", "unknown unit \" s\" in duration \"1 s\""),
            ("300y", "duration out of range"),
            (
                "99999999999999999999s",
                "not a valid duration string: \"99999999999999999999s\"",
            ),
        ];
        for (input, message) in cases {
            let err = Duration::parse(input).expect_err(input);
            assert_eq!(err.to_string(), message, "{input}");
        }
    }

    #[test]
    fn largest_duration_is_accepted() {
        // 106751d is just under Go's ~292 year limit of time.Duration.
        assert!(Duration::parse("106751d").is_ok());
        assert_eq!(Duration::parse("106752d"), Err(DurationError::OutOfRange));
    }

    #[test]
    fn serde_uses_strings() {
        let d: Duration = serde_norway::from_str("1h30m").unwrap();
        assert_eq!(d, Duration::from_secs(5400));
        assert_eq!(serde_norway::to_string(&d).unwrap().trim(), "1h30m");
        let err = serde_norway::from_str::<Duration>("1x").unwrap_err();
        assert!(err.to_string().contains("unknown unit \"x\""), "{err}");
    }

    #[test]
    fn go_durations() {
        let ok = [
            ("0", StdDuration::ZERO),
            ("-0", StdDuration::ZERO),
            ("5s", StdDuration::from_secs(5)),
            ("+5s", StdDuration::from_secs(5)),
            ("300ms", StdDuration::from_millis(300)),
            ("1.5h", StdDuration::from_secs(5400)),
            ("1h2m3.5s", StdDuration::from_millis(3_723_500)),
            (".5s", StdDuration::from_millis(500)),
            ("1.s", StdDuration::from_secs(1)),
            ("10µs", StdDuration::from_micros(10)),
            ("10μs", StdDuration::from_micros(10)),
            ("10us", StdDuration::from_micros(10)),
            ("7ns", StdDuration::from_nanos(7)),
            ("1s1s", StdDuration::from_secs(2)),
        ];
        for (input, want) in ok {
            assert_eq!(parse_go_duration(input), Ok(want), "{input}");
        }
        let bad = [
            ("", "time: invalid duration \"\""),
            ("-", "time: invalid duration \"-\""),
            (".s", "time: invalid duration \".s\""),
            ("1", "time: missing unit in duration \"1\""),
            ("1d", "time: unknown unit \"d\" in duration \"1d\""),
            ("3000000h", "time: invalid duration \"3000000h\""),
            ("-1s", "negative duration \"-1s\" is not allowed"),
        ];
        for (input, message) in bad {
            let err = parse_go_duration(input).expect_err(input);
            assert_eq!(err.to_string(), message, "{input}");
        }
    }
}
