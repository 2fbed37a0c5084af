//! How upstream turns MySQL's textual status and variable values into numbers and names.

use std::sync::LazyLock;

use regex::Regex;

/// `Jan 02 15:04:05 2006 GMT`, the form of OpenSSL dates such as `Ssl_server_not_after`; the
/// day may be space-padded (OpenSSL pads it), as newer upstream releases accept.
static SSL_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([A-Z][a-z]{2}) ([ 0-9]?[0-9]) (\d{2}):(\d{2}):(\d{2}) (\d{4}) [A-Z]{3,5}$")
        .expect("a valid regex")
});

/// `2006-01-02 15:04:05`, as in `SHOW SLAVE STATUS` timestamps.
static DATE_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$").expect("a valid regex")
});

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A status value as a number: the words MySQL uses for states (`ON`, `Connecting`,
/// `Primary`…), dates as Unix seconds (read as UTC, as Go reads an unknown zone
/// abbreviation), else a float. `None` for anything else, which upstream skips silently.
pub fn status_value(raw: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(raw).ok()?;
    match text.to_ascii_lowercase().as_str() {
        "yes" | "on" | "primary" => return Some(1.0),
        "no" | "off" | "disabled" | "connecting" | "non-primary" | "disconnected" => {
            return Some(0.0);
        }
        _ => {}
    }
    if let Some(c) = SSL_DATE.captures(text) {
        let month = MONTHS.iter().position(|m| *m == &c[1])? + 1;
        return unix_seconds(
            c[6].parse().ok()?,
            month as i8,
            c[2].trim().parse().ok()?,
            [&c[3], &c[4], &c[5]],
        );
    }
    if let Some(c) = DATE_TIME.captures(text) {
        return unix_seconds(
            c[1].parse().ok()?,
            c[2].parse().ok()?,
            c[3].parse().ok()?,
            [&c[4], &c[5], &c[6]],
        );
    }
    go_float(text)
}

fn unix_seconds(year: i16, month: i8, day: i8, hms: [&str; 3]) -> Option<f64> {
    let [h, m, s] = hms.map(|p| p.parse::<i8>().ok());
    let at = jiff::civil::DateTime::new(year, month, day, h?, m?, s?, 0).ok()?;
    let epoch = jiff::civil::DateTime::new(1970, 1, 1, 0, 0, 0, 0).ok()?;
    Some(at.duration_since(epoch).as_secs() as f64)
}

/// Go's `strconv.ParseFloat` for the decimal forms MySQL prints (Rust's parser accepts the
/// same decimal syntax and the same `inf`/`nan` words, case-insensitively).
pub fn go_float(text: &str) -> Option<f64> {
    if text.is_empty() || text.contains('_') {
        return None;
    }
    text.parse().ok()
}

/// A variable or status name as a metric name part: every byte outside `[a-zA-Z0-9_]`
/// becomes `_`, and the result is lowercased.
pub fn metric_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_dates_and_numbers() {
        for (raw, want) in [
            ("ON", Some(1.0)),
            ("Yes", Some(1.0)),
            ("Primary", Some(1.0)),
            ("OFF", Some(0.0)),
            ("DISABLED", Some(0.0)),
            ("Connecting", Some(0.0)),
            ("non-Primary", Some(0.0)),
            ("Disconnected", Some(0.0)),
            ("42", Some(42.0)),
            ("-1.5", Some(-1.5)),
            ("1e3", Some(1000.0)),
            ("", None),
            ("mysql-bin.000002", None),
            ("ROW", None),
            ("1_000", None),
            ("Nov 20 10:00:00 2036 GMT", Some(2_110_788_000.0)),
            ("Nov  5 10:00:00 2036 GMT", Some(2_109_492_000.0)),
            ("2024-01-02 03:04:05", Some(1_704_164_645.0)),
            ("2024-13-02 03:04:05", None),
        ] {
            assert_eq!(status_value(raw.as_bytes()), want, "{raw:?}");
        }
        assert_eq!(status_value(&[0xff, 0xfe]), None);
    }

    #[test]
    fn names_become_metric_names() {
        assert_eq!(metric_name("Innodb_Buffer-Pool.x"), "innodb_buffer_pool_x");
        assert_eq!(metric_name("a b"), "a_b");
    }
}
