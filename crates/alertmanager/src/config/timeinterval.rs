//! `time_intervals`: named sets of periods (times of day, weekdays, days of month, months,
//! years, in a time zone) that mute or activate routes.

use std::fmt;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One named entry of `time_intervals` (or the deprecated `mute_time_intervals`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NamedTimeInterval {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub time_intervals: Vec<TimeInterval>,
}

/// One period; every part that is set must contain the instant.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeInterval {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<Vec<TimeRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weekdays: Option<Vec<WeekdayRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_of_month: Option<Vec<DayOfMonthRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub months: Option<Vec<MonthRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub years: Option<Vec<YearRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// Minutes of the day, end exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    pub start_minute: i32,
    pub end_minute: i32,
}

/// An inclusive range of days, months or years.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InclusiveRange {
    pub begin: i32,
    pub end: i32,
}

macro_rules! range_type {
    ($name:ident, $parse:path, $show:path) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name(pub InclusiveRange);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $parse(&s).map($name).map_err(D::Error::custom)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&$show(self.0))
            }
        }
    };
}

range_type!(WeekdayRange, parse_weekdays, show_weekdays);
range_type!(DayOfMonthRange, parse_days_of_month, show_numbers);
range_type!(MonthRange, parse_months, show_numbers);
range_type!(YearRange, parse_years, show_numbers);

/// An IANA time zone, kept with the name it was written as.
#[derive(Clone, Debug)]
pub struct Location {
    pub name: String,
    pub tz: TimeZone,
}

impl<'de> Deserialize<'de> for Location {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        // Go's LoadLocation: "" and "UTC" are UTC, "Local" is the system zone.
        let tz = match name.as_str() {
            "" | "UTC" => TimeZone::UTC,
            "Local" => TimeZone::system(),
            _ => TimeZone::get(&name)
                .map_err(|_| D::Error::custom(format!("unknown time zone {name}")))?,
        };
        Ok(Location { name, tz })
    }
}

impl Serialize for Location {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.name.is_empty() {
            "UTC"
        } else {
            &self.name
        })
    }
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Go's `strconv.Atoi` message shape, which upstream passes through.
fn atoi(s: &str) -> Result<i32, String> {
    s.parse::<i32>()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: invalid syntax"))
}

/// `a` or `a:b`, each side read by `member`; the input is lower-cased first.
fn parse_range(
    input: &str,
    member: impl Fn(&str) -> Result<i32, String>,
) -> Result<InclusiveRange, String> {
    let lower = input.to_lowercase();
    if lower.contains(':') {
        let parts: Vec<&str> = lower.split(':').collect();
        if parts.len() != 2 {
            return Err(format!("couldn't parse range {lower}, invalid format"));
        }
        return Ok(InclusiveRange {
            begin: member(parts[0])?,
            end: member(parts[1])?,
        });
    }
    let v = member(&lower)?;
    Ok(InclusiveRange { begin: v, end: v })
}

fn parse_weekdays(s: &str) -> Result<InclusiveRange, String> {
    let r = parse_range(s, |m| {
        WEEKDAYS
            .iter()
            .position(|d| *d == m)
            .map(|i| i as i32)
            .ok_or_else(|| format!("{m} is not a valid weekday"))
    })?;
    if r.begin > r.end {
        return Err("start day cannot be before end day".to_owned());
    }
    Ok(r)
}

fn parse_days_of_month(s: &str) -> Result<InclusiveRange, String> {
    let r = parse_range(s, atoi)?;
    for v in [r.begin, r.end] {
        if v == 0 || !(-31..=31).contains(&v) {
            return Err(format!("{v} is not a valid day of the month: out of range"));
        }
    }
    if r.begin < 0 && r.end > 0 {
        return Err("end day must be negative if start day is negative".to_owned());
    }
    let normalise = |v: i32| if v < 0 { 28 + v } else { v };
    if normalise(r.begin) > normalise(r.end) {
        return Err(format!(
            "end day {} is always before start day {}",
            r.end, r.begin
        ));
    }
    Ok(r)
}

fn parse_months(s: &str) -> Result<InclusiveRange, String> {
    let r = parse_range(s, |m| match MONTHS.iter().position(|x| *x == m) {
        Some(i) => Ok(i as i32 + 1),
        None => m
            .parse::<i32>()
            .map_err(|_| format!("{m} is not a valid month")),
    })?;
    if r.begin > r.end {
        let name = |v: i32| {
            usize::try_from(v - 1)
                .ok()
                .and_then(|i| MONTHS.get(i))
                .copied()
                .unwrap_or("")
        };
        return Err(format!(
            "end month {} is before start month {}",
            name(r.end),
            name(r.begin)
        ));
    }
    Ok(r)
}

fn parse_years(s: &str) -> Result<InclusiveRange, String> {
    let r = parse_range(s, atoi)?;
    if r.begin > r.end {
        return Err(format!(
            "end year {} is before start year {}",
            r.end, r.begin
        ));
    }
    Ok(r)
}

fn show_numbers(r: InclusiveRange) -> String {
    if r.begin == r.end {
        r.begin.to_string()
    } else {
        format!("{}:{}", r.begin, r.end)
    }
}

fn show_weekdays(r: InclusiveRange) -> String {
    let name = |v: i32| WEEKDAYS[v.clamp(0, 6) as usize];
    if r.begin == r.end {
        name(r.begin).to_owned()
    } else {
        format!("{}:{}", name(r.begin), name(r.end))
    }
}

/// `HH:MM` from 00:00 to 24:00.
fn parse_time(s: &str) -> Result<i32, String> {
    let invalid = || format!("couldn't parse timestamp {s}, invalid format");
    let (h, m) = s.split_once(':').ok_or_else(invalid)?;
    let valid = s == "24:00"
        || (h.len() == 2
            && m.len() == 2
            && h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
            && h < "24"
            && m < "60");
    if !valid {
        return Err(invalid());
    }
    Ok(atoi(h)? * 60 + atoi(m)?)
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            #[serde(default)]
            start_time: String,
            #[serde(default)]
            end_time: String,
        }
        let raw = Raw::deserialize(d)?;
        if raw.start_time.is_empty() || raw.end_time.is_empty() {
            return Err(D::Error::custom(
                "both start and end times must be provided",
            ));
        }
        let start = parse_time(&raw.start_time).map_err(D::Error::custom)?;
        let end = parse_time(&raw.end_time).map_err(D::Error::custom)?;
        if start >= end {
            return Err(D::Error::custom(
                "start time cannot be equal or greater than end time",
            ));
        }
        Ok(TimeRange {
            start_minute: start,
            end_minute: end,
        })
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, e) = (self.start_minute, self.end_minute);
        write!(f, "{:02}:{:02}-{:02}:{:02}", s / 60, s % 60, e / 60, e % 60)
    }
}

impl Serialize for TimeRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (a, b) = (self.start_minute, self.end_minute);
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("start_time", &format!("{:02}:{:02}", a / 60, a % 60))?;
        map.serialize_entry("end_time", &format!("{:02}:{:02}", b / 60, b % 60))?;
        map.end()
    }
}

impl TimeInterval {
    /// Whether `at` falls in this period (upstream's `ContainsTime`).
    pub fn contains(&self, at: Timestamp) -> bool {
        let tz = self
            .location
            .as_ref()
            .map_or(TimeZone::UTC, |l| l.tz.clone());
        let t = at.to_zoned_datetime(tz);
        if let Some(times) = &self.times {
            let minute = i32::from(t.hour()) * 60 + i32::from(t.minute());
            if !times
                .iter()
                .any(|r| minute >= r.start_minute && minute < r.end_minute)
            {
                return false;
            }
        }
        if let Some(days) = &self.days_of_month {
            let in_month = i32::from(t.days_in_month());
            let day = i32::from(t.day());
            let hit = days.iter().any(|DayOfMonthRange(r)| {
                let resolve = |v: i32| if v < 0 { in_month + v + 1 } else { v };
                let begin = resolve(r.begin);
                if begin > in_month {
                    return false;
                }
                let begin = begin.clamp(-in_month, in_month);
                let end = resolve(r.end).clamp(-in_month, in_month);
                day >= begin && day <= end
            });
            if !hit {
                return false;
            }
        }
        let month = i32::from(t.month());
        if let Some(months) = &self.months
            && !months
                .iter()
                .any(|MonthRange(r)| month >= r.begin && month <= r.end)
        {
            return false;
        }
        let weekday = i32::from(t.weekday().to_sunday_zero_offset());
        if let Some(weekdays) = &self.weekdays
            && !weekdays
                .iter()
                .any(|WeekdayRange(r)| weekday >= r.begin && weekday <= r.end)
        {
            return false;
        }
        let year = i32::from(t.year());
        if let Some(years) = &self.years
            && !years
                .iter()
                .any(|YearRange(r)| year >= r.begin && year <= r.end)
        {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(yaml: &str) -> Result<TimeInterval, String> {
        serde_norway::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_and_checks_ranges() {
        let ti = interval(
            "times:\n- start_time: '09:00'\n  end_time: '17:00'\nweekdays: ['monday:friday']\n\
             days_of_month: ['1:10', '-3:-1']\nmonths: ['january:march', '12']\nyears: ['2020:2030']\n\
             location: Europe/Berlin\n",
        )
        .unwrap();
        assert_eq!(
            ti.weekdays.as_ref().unwrap()[0].0,
            InclusiveRange { begin: 1, end: 5 }
        );
        assert_eq!(
            ti.months.as_ref().unwrap()[1].0,
            InclusiveRange { begin: 12, end: 12 }
        );
        let err = interval("weekdays: ['friday:monday']").unwrap_err();
        assert!(err.contains("start day cannot be before end day"), "{err}");
        let err = interval("days_of_month: ['-1:5']").unwrap_err();
        assert!(
            err.contains("end day must be negative if start day is negative"),
            "{err}"
        );
        let err = interval("days_of_month: ['0']").unwrap_err();
        assert!(
            err.contains("0 is not a valid day of the month: out of range"),
            "{err}"
        );
        let err = interval("months: ['march:january']").unwrap_err();
        assert!(
            err.contains("end month january is before start month march"),
            "{err}"
        );
        let err = interval("times:\n- start_time: '10:00'\n  end_time: '09:00'\n").unwrap_err();
        assert!(
            err.contains("start time cannot be equal or greater than end time"),
            "{err}"
        );
        let err = interval("times:\n- start_time: '25:00'\n  end_time: '26:00'\n").unwrap_err();
        assert!(
            err.contains("couldn't parse timestamp 25:00, invalid format"),
            "{err}"
        );
        let err = interval("location: Nowhere/Special").unwrap_err();
        assert!(err.contains("unknown time zone Nowhere/Special"), "{err}");
    }

    #[test]
    fn contains_respects_every_part_and_location() {
        let ti = interval(
            "times:\n- start_time: '09:00'\n  end_time: '17:00'\nweekdays: ['monday:friday']\nlocation: Europe/Berlin\n",
        )
        .unwrap();
        // Wednesday 2026-11-25 08:30 UTC is 09:30 in Berlin.
        assert!(ti.contains("2026-11-25T08:30:00Z".parse().unwrap()));
        assert!(!ti.contains("2026-11-25T07:30:00Z".parse().unwrap()));
        // Saturday.
        assert!(!ti.contains("2026-11-28T10:00:00Z".parse().unwrap()));
        let last_days = interval("days_of_month: ['-2:-1']").unwrap();
        assert!(last_days.contains("2026-02-27T00:00:00Z".parse().unwrap()));
        assert!(!last_days.contains("2026-02-26T23:59:00Z".parse().unwrap()));
    }
}
