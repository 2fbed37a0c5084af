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
    #[error("unknown unit {unit:?} in duration {duration:?}")]
    UnknownUnit { unit: String, duration: String },
    #[error("duration out of range")]
    OutOfRange,
}

const NANOS_PER_MS: u64 = 1_000_000;

/// Parses a duration into milliseconds. Each number needs a unit, units go from the largest to
/// the smallest and appear at most once; `0` alone is accepted without a unit.
pub fn parse_duration(s: &str) -> Result<i64, DurationError> {
    match s {
        "" => return Err(DurationError::Empty),
        "0" => return Ok(0),
        _ => {}
    }
    let invalid = || DurationError::Invalid(s.to_owned());
    let mut rest = s;
    // Upstream accumulates nanoseconds in a u64 and rejects anything beyond i64::MAX.
    let mut nanos: u64 = 0;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(|b| !b.is_ascii_digit()).count();
        if unit_len == 0 {
            return Err(invalid());
        }
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let idx = UNITS.iter().position(|(u, _)| *u == unit).ok_or_else(|| {
            DurationError::UnknownUnit {
                unit: unit.to_owned(),
                duration: s.to_owned(),
            }
        })?;
        if idx < next_unit {
            return Err(invalid());
        }
        next_unit = idx + 1;
        let mult = UNITS[idx].1 as u64 * NANOS_PER_MS;
        if n > (1u64 << 63) / mult {
            return Err(DurationError::OutOfRange);
        }
        nanos = nanos.wrapping_add(n * mult);
        if nanos > i64::MAX as u64 {
            return Err(DurationError::OutOfRange);
        }
    }
    Ok((nanos / NANOS_PER_MS) as i64)
}

/// Prints milliseconds the way Prometheus does: `1h30m`, `-5m`, `0s`; years and weeks only when
/// they divide the duration exactly.
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let mut left = ms.unsigned_abs();
    for (unit, mult) in UNITS {
        let mult = mult as u64;
        if matches!(unit, "y" | "w") && !left.is_multiple_of(mult) {
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
        assert_eq!(
            parse_duration("5y1hs").unwrap_err().to_string(),
            r#"unknown unit "hs" in duration "5y1hs""#
        );
        assert_eq!(
            parse_duration("1m1h").unwrap_err().to_string(),
            r#"not a valid duration string: "1m1h""#
        );
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
        assert_eq!(format_duration(366 * 86_400_000), "366d");
        assert_eq!(format_duration(730 * 86_400_000), "2y");
        assert_eq!(format_duration(-90_000), "-1m30s");
    }
}
