//! Go's `time` printing, which templates in both daemons show: `Time.Format` with Go's
//! reference layouts (zone-aware) and `Duration.String`.

use jiff::{SignedDuration, ZonedDateTime as Zoned};

/// Go's `Duration.String`.
pub fn duration_string(d: SignedDuration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    if n < 1_000_000_000 {
        let (unit, scale) = if n < 1_000 {
            ("ns", 1)
        } else if n < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", fraction(n, scale));
    }
    let secs = n / 1_000_000_000;
    let (h, m) = (secs / 3600, secs / 60 % 60);
    let s = fraction(n % 60_000_000_000, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{sign}{s}s"),
        (0, _) => format!("{sign}{m}m{s}s"),
        _ => format!("{sign}{h}h{m}m{s}s"),
    }
}

/// `n / scale` with the fraction's trailing zeros dropped.
fn fraction(n: u128, scale: u128) -> String {
    let (whole, frac) = (n / scale, n % scale);
    if frac == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Go's month names.
pub const MONTHS: [&str; 12] = [
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
/// Go's weekday names, Sunday first.
pub const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Formats with a Go reference layout (`Mon Jan 2 15:04:05 MST 2006`).
pub fn format(t: &Zoned, layout: &str) -> String {
    let mut out = String::with_capacity(layout.len() + 8);
    let mut rest = layout;
    while !rest.is_empty() {
        let (len, piece) = chunk(t, rest);
        match piece {
            Some(p) => out.push_str(&p),
            None => out.push_str(&rest[..len]),
        }
        rest = &rest[len..];
    }
    out
}

/// The layout element at the start of `s`: its length and, when it is a reference token,
/// its value for `t`.
fn chunk(t: &Zoned, s: &str) -> (usize, Option<String>) {
    let month = usize::try_from(t.month() - 1).unwrap_or(0);
    let weekday = usize::from(t.weekday().to_sunday_zero_offset().unsigned_abs());
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let offset = t.offset().seconds();
    let tokens: [(&str, &dyn Fn() -> String); 29] = [
        ("January", &|| MONTHS[month].into()),
        ("Jan", &|| MONTHS[month][..3].into()),
        ("Monday", &|| DAYS[weekday].into()),
        ("Mon", &|| DAYS[weekday][..3].into()),
        ("MST", &|| zone_abbreviation(t)),
        ("2006", &|| format!("{:04}", t.year())),
        ("002", &|| format!("{:03}", t.day_of_year())),
        ("01", &|| format!("{:02}", t.month())),
        ("02", &|| format!("{:02}", t.day())),
        ("03", &|| format!("{hour12:02}")),
        ("04", &|| format!("{:02}", t.minute())),
        ("05", &|| format!("{:02}", t.second())),
        ("06", &|| format!("{:02}", t.year().rem_euclid(100))),
        ("15", &|| format!("{:02}", t.hour())),
        ("__2", &|| format!("{:>3}", t.day_of_year())),
        ("_2", &|| format!("{:>2}", t.day())),
        ("1", &|| t.month().to_string()),
        ("2", &|| t.day().to_string()),
        ("3", &|| hour12.to_string()),
        ("4", &|| t.minute().to_string()),
        ("5", &|| t.second().to_string()),
        ("PM", &|| if t.hour() >= 12 { "PM" } else { "AM" }.into()),
        ("pm", &|| if t.hour() >= 12 { "pm" } else { "am" }.into()),
        ("Z07:00", &|| zone_offset(offset, true, ":")),
        ("Z0700", &|| zone_offset(offset, true, "")),
        ("Z07", &|| zone_offset_hours(offset, true)),
        ("-07:00", &|| zone_offset(offset, false, ":")),
        ("-0700", &|| zone_offset(offset, false, "")),
        ("-07", &|| zone_offset_hours(offset, false)),
    ];
    if let Some(len) = fraction_token(s) {
        let digits = format!("{:09}", t.subsec_nanosecond());
        let digits = &digits[..(len - 1).min(9)];
        let piece = if s.as_bytes()[1] == b'9' {
            let trimmed = digits.trim_end_matches('0');
            if trimmed.is_empty() {
                String::new()
            } else {
                format!("{}{trimmed}", &s[..1])
            }
        } else {
            format!("{}{digits}", &s[..1])
        };
        return (len, Some(piece));
    }
    // Go reads `_2006` as a literal `_` followed by the year, not `_2` and `006`.
    if s.starts_with("_2006") {
        return (1, None);
    }
    for (token, value) in &tokens {
        if s.starts_with(token) {
            return (token.len(), Some(value()));
        }
    }
    (s.chars().next().map_or(1, char::len_utf8), None)
}

/// `.000`/`,999` style fractional seconds: the separator, then a run of one digit (`0` keeps
/// trailing zeros, `9` drops them) not followed by another digit. Go prints at most nine.
fn fraction_token(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 2 || !matches!(b[0], b'.' | b',') || !matches!(b[1], b'0' | b'9') {
        return None;
    }
    let run = b[1..].iter().take_while(|&&c| c == b[1]).count();
    if b.get(1 + run).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some(1 + run)
}

fn zone_abbreviation(t: &Zoned) -> String {
    let abbreviation = t.strftime("%Z").to_string();
    // Go prints a numeric offset when the zone has no abbreviation.
    if abbreviation.starts_with(['+', '-']) {
        zone_offset_hours(t.offset().seconds(), false)
    } else {
        abbreviation
    }
}

fn zone_offset(seconds: i32, z_for_utc: bool, sep: &str) -> String {
    if z_for_utc && seconds == 0 {
        return "Z".into();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let abs = seconds.unsigned_abs();
    format!("{sign}{:02}{sep}{:02}", abs / 3600, abs / 60 % 60)
}

fn zone_offset_hours(seconds: i32, z_for_utc: bool) -> String {
    if z_for_utc && seconds == 0 {
        return "Z".into();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    format!("{sign}{:02}", seconds.unsigned_abs() / 3600)
}

#[cfg(test)]
mod tests {
    use jiff::{Timestamp, tz::TimeZone};

    use super::*;

    fn at(s: &str, zone: &str) -> Zoned {
        let ts: Timestamp = s.parse().unwrap();
        ts.to_zoned_datetime(TimeZone::get(zone).unwrap())
    }

    #[test]
    fn go_layouts_format_like_go() {
        let t = at("2026-03-04T05:06:07.120Z", "UTC");
        let cases = [
            (
                "2006-01-02 15:04:05.999999999 -0700 MST",
                "2026-03-04 05:06:07.12 +0000 UTC",
            ),
            ("2006-01-02T15:04:05Z07:00", "2026-03-04T05:06:07Z"),
            ("Mon Jan _2 3:04PM", "Wed Mar  4 5:06AM"),
            ("Monday, January 2 2006", "Wednesday, March 4 2026"),
            ("15:04:05.000", "05:06:07.120"),
            ("02/01/06 pm", "04/03/26 am"),
            ("_2006 _2", "_2026  4"),
            ("05.0000000000", "07.120000000"),
        ];
        for (layout, want) in cases {
            assert_eq!(format(&t, layout), want, "{layout}");
        }
        let berlin = at("2026-07-01T12:00:00Z", "Europe/Berlin");
        assert_eq!(
            format(&berlin, "15:04 -07:00 MST Z0700"),
            "14:00 +02:00 CEST +0200"
        );
    }

    #[test]
    fn durations_print_like_go() {
        let cases = [
            (SignedDuration::ZERO, "0s"),
            (SignedDuration::from_millis(1500), "1.5s"),
            (SignedDuration::from_secs(3723), "1h2m3s"),
            (SignedDuration::from_secs(120), "2m0s"),
            (SignedDuration::from_micros(250), "250µs"),
            (SignedDuration::from_millis(-20), "-20ms"),
        ];
        for (d, want) in cases {
            assert_eq!(duration_string(d), want);
        }
    }
}
