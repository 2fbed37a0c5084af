//! Prometheus durations (`1h30m`, `5m`, `250ms`, `2w`, `1y`): parsing and canonical printing.

use std::fmt::Write as _;

const MS_PER_SECOND: i64 = 1000;
const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3600 * MS_PER_SECOND),
    ("w", 7 * 24 * 3600 * MS_PER_SECOND),
    ("d", 24 * 3600 * MS_PER_SECOND),
    ("h", 3600 * MS_PER_SECOND),
    ("m", 60 * MS_PER_SECOND),
    ("s", MS_PER_SECOND),
    ("ms", 1),
];

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration string")]
    Empty,
    #[error("not a valid duration string: {0:?}")]
    Invalid(String),
    #[error("duration out of range")]
    OutOfRange,
}

/// Parses a duration into milliseconds. Units must appear at most once each, from the largest
/// to the smallest; `0` alone is accepted without a unit.
pub fn parse_duration(s: &str) -> Result<i64, DurationError> {
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    if s == "0" {
        return Ok(0);
    }
    let invalid = || DurationError::Invalid(s.to_owned());
    let mut rest = s;
    let mut total: i64 = 0;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let n: i64 = rest[..digits]
            .parse()
            .map_err(|_| DurationError::OutOfRange)?;
        rest = &rest[digits..];
        // "ms" must win over "m" followed by garbage.
        let (idx, unit) = UNITS[next_unit..]
            .iter()
            .enumerate()
            .filter(|(_, (u, _))| rest.starts_with(u))
            .max_by_key(|(_, (u, _))| u.len())
            .ok_or_else(invalid)?;
        let mult = unit.1;
        rest = &rest[unit.0.len()..];
        next_unit += idx + 1;
        total = n
            .checked_mul(mult)
            .and_then(|v| total.checked_add(v))
            .ok_or(DurationError::OutOfRange)?;
    }
    // Durations are nanoseconds upstream; keep within what an i64 of nanoseconds holds.
    if total > i64::MAX / 1_000_000 {
        return Err(DurationError::OutOfRange);
    }
    Ok(total)
}

/// Prints milliseconds the way Prometheus does: `1h30m`, `0s`; weeks only when exact.
/// Negative values print as an empty string, as upstream; callers print the sign themselves.
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    let mut left = ms;
    for (unit, mult) in UNITS {
        if unit == "w" && left % mult != 0 {
            continue;
        }
        let v = left / mult;
        if v > 0 {
            let _ = write!(out, "{v}{unit}");
            left -= v * mult;
        }
    }
    out
}

/// Prints nanoseconds as a duration, truncating below milliseconds like upstream.
pub fn format_duration_nanos(ns: i64) -> String {
    format_duration(ns / 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("5m"), Ok(300_000));
        assert_eq!(parse_duration("10ms"), Ok(10));
        assert_eq!(parse_duration("1y2w3d"), Ok((365 + 14 + 3) * 86_400_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert!(parse_duration("1m1h").is_err());
        assert!(parse_duration("5mm").is_err());
        assert!(parse_duration("1.5m").is_err());
        assert_eq!(parse_duration("1s1ms"), Ok(1001));
    }

    #[test]
    fn format() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(format_duration(14 * 86_400_000), "2w");
        assert_eq!(format_duration(15 * 86_400_000), "15d");
        assert_eq!(format_duration(1001), "1s1ms");
        assert_eq!(format_duration(366 * 86_400_000), "1y1d");
    }
}
