//! Prometheus durations (`1h30m`, `5m`, `250ms`, `2w`, `1y`) in PromQL. The syntax and the
//! canonical printing are `pm_common::config::Duration`'s, shared with every config file; PromQL
//! adds signed values (negative offsets) and millisecond/nanosecond integers for its AST.

use pm_common::config::Duration;
pub use pm_common::config::DurationError;

/// Parses a duration into milliseconds.
pub fn parse_duration(s: &str) -> Result<i64, DurationError> {
    let d = Duration::parse(s)?;
    i64::try_from(d.as_std().as_millis()).map_err(|_| DurationError::OutOfRange)
}

/// Prints milliseconds the way Prometheus does: `1h30m`, `-5m`, `0s`; years and weeks only when
/// they divide the duration exactly.
pub fn format_duration(ms: i64) -> String {
    let abs = Duration::from_millis(ms.unsigned_abs());
    if ms < 0 {
        format!("-{abs}")
    } else {
        abs.to_string()
    }
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
