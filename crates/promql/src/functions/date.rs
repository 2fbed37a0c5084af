//! `minute()`, `hour()`, `day_of_month()` and the other calendar functions. They read a float
//! of Unix seconds, truncate it towards zero as Go's `time.Unix(int64(v), 0)` does, and answer
//! in UTC.

/// A calendar field of a timestamp, one per PromQL date function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateFunction {
    Minute,
    Hour,
    DayOfMonth,
    DayOfWeek,
    DayOfYear,
    DaysInMonth,
    Month,
    Year,
}

impl DateFunction {
    /// The function called `name` in PromQL.
    pub fn from_name(name: &str) -> Option<DateFunction> {
        Some(match name {
            "minute" => DateFunction::Minute,
            "hour" => DateFunction::Hour,
            "day_of_month" => DateFunction::DayOfMonth,
            "day_of_week" => DateFunction::DayOfWeek,
            "day_of_year" => DateFunction::DayOfYear,
            "days_in_month" => DateFunction::DaysInMonth,
            "month" => DateFunction::Month,
            "year" => DateFunction::Year,
            _ => return None,
        })
    }

    /// The field of the instant `unix_seconds` (a sample value; NaN and out-of-range values
    /// saturate like Go's float-to-int conversion on amd64 gives the minimum int).
    pub fn apply(self, unix_seconds: f64) -> f64 {
        self.of_seconds(go_float_to_int(unix_seconds))
    }

    /// The field of the evaluation time when the function is called without argument.
    pub fn at_millis(self, ms: i64) -> f64 {
        self.of_seconds(ms / 1000)
    }

    fn of_seconds(self, secs: i64) -> f64 {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let value = match self {
            DateFunction::Minute => rem % 3600 / 60,
            DateFunction::Hour => rem / 3600,
            DateFunction::DayOfMonth => i64::from(day),
            // 1970-01-01 was a Thursday (4).
            DateFunction::DayOfWeek => (days + 4).rem_euclid(7),
            DateFunction::DayOfYear => days - days_from_civil(year, 1, 1) + 1,
            DateFunction::DaysInMonth => i64::from(days_in_month(year, month)),
            DateFunction::Month => i64::from(month),
            DateFunction::Year => year,
        };
        value as f64
    }
}

/// Go's `int64(f)` on amd64: truncation, with NaN and out-of-range values becoming the
/// minimum int64.
fn go_float_to_int(f: f64) -> i64 {
    let limit = -(i64::MIN as f64);
    if f.is_nan() || !(-limit..limit).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Year, month (1–12) and day (1–31) of the proleptic Gregorian calendar for a count of days
/// since 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (inverse of [`civil_from_days`]).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_known_instants() {
        // 2024-02-29T13:45:30Z, a Thursday, day 60 of a leap year.
        let t = 1_709_214_330.0;
        let cases = [
            (DateFunction::Minute, 45.0),
            (DateFunction::Hour, 13.0),
            (DateFunction::DayOfMonth, 29.0),
            (DateFunction::DayOfWeek, 4.0),
            (DateFunction::DayOfYear, 60.0),
            (DateFunction::DaysInMonth, 29.0),
            (DateFunction::Month, 2.0),
            (DateFunction::Year, 2024.0),
        ];
        for (f, want) in cases {
            assert_eq!(f.apply(t), want, "{f:?}");
        }
    }

    #[test]
    fn epoch_and_fractions_truncate() {
        assert_eq!(DateFunction::Year.apply(0.0), 1970.0);
        assert_eq!(DateFunction::DayOfWeek.apply(0.0), 4.0);
        assert_eq!(DateFunction::Minute.apply(59.9), 0.0);
        // Truncation towards zero: -0.5 s is still 1970-01-01T00:00:00.
        assert_eq!(DateFunction::Year.apply(-0.5), 1970.0);
        assert_eq!(DateFunction::Year.apply(-1.0), 1969.0);
        assert_eq!(DateFunction::DayOfYear.apply(-1.0), 365.0);
        assert_eq!(DateFunction::at_millis(DateFunction::Hour, 7_200_999), 2.0);
    }

    #[test]
    fn month_lengths_and_non_leap_centuries() {
        // 1900-02-15 and 2000-02-15.
        assert_eq!(DateFunction::DaysInMonth.apply(-2_205_446_400.0), 28.0);
        assert_eq!(DateFunction::DaysInMonth.apply(950_572_800.0), 29.0);
        // 2023-12-31: last day of a common year.
        assert_eq!(DateFunction::DayOfYear.apply(1_704_024_000.0), 365.0);
        assert_eq!(DateFunction::DaysInMonth.apply(1_704_024_000.0), 31.0);
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 59, 365, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
