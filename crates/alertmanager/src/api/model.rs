//! The JSON shapes of upstream's `api/v2/openapi.yaml`, with fields in the order upstream's
//! generated code writes them, and timestamps as it formats them (milliseconds, UTC).

use std::borrow::Cow;
use std::cmp::Ordering;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::alert::{Alert, LabelSet};
use crate::silence::{Silence, SilenceState};

/// `2026-01-02T03:04:05.678Z`.
pub fn format_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The length of a time's text for years 0 to 9999 (`2026-01-02T03:04:05.678Z`).
pub const TIME_BYTES: usize = 24;

/// `t` as [`format_time`] writes it when that is [`TIME_BYTES`] long (years 0 to 9999),
/// without allocating.
pub fn millis(t: Timestamp) -> Option<[u8; TIME_BYTES]> {
    let dt = jiff::tz::Offset::UTC.to_datetime(t);
    let year = u32::try_from(dt.year()).ok().filter(|&y| y <= 9999)?;
    let mut buf = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut v: u32| {
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, dt.month() as u32);
    put(8, 2, dt.day() as u32);
    put(11, 2, dt.hour() as u32);
    put(14, 2, dt.minute() as u32);
    put(17, 2, dt.second() as u32);
    put(20, 3, dt.subsec_nanosecond() as u32 / 1_000_000);
    Some(buf)
}

/// An alert's time fields, each with a slot in [`TimeTexts`].
#[derive(Debug, Clone, Copy)]
pub enum TimeField {
    Ends,
    Starts,
    Updated,
}

/// Formats alerts' times in their fixed-width form, remembering per field the last second
/// formatted: alerts posted together share their seconds, and the calendar arithmetic is
/// then done once.
#[derive(Debug, Default)]
pub struct TimeTexts {
    seconds: [Option<(i64, [u8; TIME_BYTES])>; 3],
}

impl TimeTexts {
    /// [`millis`] of `t` if it is from 1970 on (a negative second would need the
    /// calendar for each millisecond).
    pub fn fixed(&mut self, field: TimeField, t: Timestamp) -> Option<[u8; TIME_BYTES]> {
        let (second, nanos) = (t.as_second(), t.subsec_nanosecond());
        let memo = &mut self.seconds[field as usize];
        let mut text = match *memo {
            Some((s, text)) if s == second && nanos >= 0 => text,
            _ if second >= 0 && nanos >= 0 => millis(t).inspect(|&text| {
                *memo = Some((second, text));
            })?,
            _ => return None,
        };
        let mut ms = nanos as u32 / 1_000_000;
        for b in text[20..23].iter_mut().rev() {
            *b = b'0' + (ms % 10) as u8;
            ms /= 10;
        }
        Some(text)
    }
}

#[derive(Debug, Serialize)]
pub struct Receiver {
    pub name: String,
}

/// One posted alert. Times stay text until validated, so a bad one can be reported; they are
/// borrowed from the request body unless escaped.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableAlert<'a> {
    pub labels: LabelSet,
    #[serde(default)]
    pub annotations: LabelSet,
    #[serde(default, borrow)]
    pub starts_at: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub ends_at: Option<Cow<'a, str>>,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SilenceMatcher {
    pub is_equal: Option<bool>,
    pub is_regex: bool,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableSilence {
    #[serde(default)]
    pub id: Option<String>,
    pub matchers: Vec<SilenceMatcher>,
    pub starts_at: String,
    pub ends_at: String,
    pub created_by: String,
    pub comment: String,
}

#[derive(Debug, Serialize)]
pub struct SilenceStatus {
    pub state: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableSilence {
    pub id: String,
    pub status: SilenceStatus,
    pub updated_at: String,
    pub comment: String,
    pub created_by: String,
    pub ends_at: String,
    pub matchers: Vec<SilenceMatcher>,
    pub starts_at: String,
}

impl GettableSilence {
    pub fn new(s: &Silence, now: Timestamp) -> Self {
        GettableSilence {
            id: s.id.clone(),
            status: SilenceStatus {
                state: s.state_at(now).as_str(),
            },
            updated_at: format_time(s.updated_at),
            comment: s.comment.clone(),
            created_by: s.created_by.clone(),
            ends_at: format_time(s.ends_at),
            matchers: s
                .matchers
                .iter()
                .map(|m| SilenceMatcher {
                    is_equal: Some(m.match_type().is_equal()),
                    is_regex: m.match_type().is_regex(),
                    name: m.name().to_owned(),
                    value: m.value().to_owned(),
                })
                .collect(),
            starts_at: format_time(s.starts_at),
        }
    }
}

/// Upstream's listing order: active silences by end, then pending by start, then expired
/// with the most recently ended first.
pub fn silence_order(a: &Silence, b: &Silence, now: Timestamp) -> Ordering {
    let (sa, sb) = (a.state_at(now), b.state_at(now));
    sa.cmp(&sb).then_with(|| match sa {
        SilenceState::Active => a.ends_at.cmp(&b.ends_at),
        SilenceState::Pending => a.starts_at.cmp(&b.starts_at),
        SilenceState::Expired => b.ends_at.cmp(&a.ends_at),
    })
}

/// Upstream's `LabelSet.Before`: smaller sets first, then by the first differing label in
/// name order (a set missing that label sorts first). Both maps are sorted, so one merged
/// walk finds that label without allocating: listings sort 10,000s of groups with it.
pub fn label_set_order(a: &LabelSet, b: &LabelSet) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| {
        let (mut a, mut b) = (a.iter().peekable(), b.iter().peekable());
        loop {
            match (a.peek(), b.peek()) {
                (Some((na, va)), Some((nb, vb))) => match na.cmp(nb) {
                    // `na` comes first in name order and `b` lacks it.
                    Ordering::Less => return Ordering::Greater,
                    Ordering::Greater => return Ordering::Less,
                    Ordering::Equal if va != vb => return va.cmp(vb),
                    Ordering::Equal => {
                        a.next();
                        b.next();
                    }
                },
                // Equal lengths and equal so far: both end together.
                _ => return Ordering::Equal,
            }
        }
    })
}

/// A byte string whose order is [`label_set_order`]'s: the sorted 10,000s of groups of a
/// listing are then compared by `memcmp` of keys built once each, not by walking two label
/// maps per comparison. The set's size comes first (big-endian); then per label its name with
/// each byte inverted (a set lacking a name that the other has sorts first, so a smaller name
/// must sort last), `0xff 0x00` for an inverted zero byte and `0xff 0xff` ending it (above any
/// continuation, so a name that is a prefix of another sorts last); then its value with
/// `0x00 0xff` for a zero byte and `0x00 0x00` ending it (below any continuation).
pub fn label_set_key(labels: &LabelSet) -> Vec<u8> {
    let size: usize = labels.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
    let mut key = Vec::with_capacity(size + 4);
    key.extend_from_slice(
        &u32::try_from(labels.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    for (name, value) in labels {
        for &b in name.as_bytes() {
            match b {
                0 => key.extend_from_slice(&[0xff, 0x00]),
                b => key.push(!b),
            }
        }
        key.extend_from_slice(&[0xff, 0xff]);
        for &b in value.as_bytes() {
            match b {
                0 => key.extend_from_slice(&[0x00, 0xff]),
                b => key.push(b),
            }
        }
        key.extend_from_slice(&[0x00, 0x00]);
    }
    key
}

/// Sorts items that each carry an alert into upstream's order inside a group: by `job`, then
/// `instance` (alerts having the label first), then by label set. Each alert's `job` and
/// `instance` are looked up once rather than in every comparison: the listings sort 100,000s
/// of alerts.
pub fn sort_alerts_by<T>(items: &mut Vec<T>, alert: impl Fn(&T) -> &Alert) {
    let mut order: Vec<(AlertOrderKey<'_>, usize)> = items
        .iter()
        .enumerate()
        .map(|(i, item)| (AlertOrderKey::of(alert(item)), i))
        .collect();
    order.sort_by(|x, y| x.0.cmp(&y.0));
    let order: Vec<usize> = order.into_iter().map(|(_, i)| i).collect();
    let mut taken: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(
        order
            .into_iter()
            .filter_map(|i| taken.get_mut(i).and_then(Option::take)),
    );
}

/// An alert's place in the order of [`sort_alerts_by`].
#[derive(Clone, Copy, Debug)]
struct AlertOrderKey<'a> {
    job: Option<&'a str>,
    instance: Option<&'a str>,
    labels: &'a LabelSet,
}

impl<'a> AlertOrderKey<'a> {
    fn of(alert: &'a Alert) -> Self {
        AlertOrderKey {
            job: alert.labels.get("job").map(String::as_str),
            instance: alert.labels.get("instance").map(String::as_str),
            labels: &alert.labels,
        }
    }
}

impl Ord for AlertOrderKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in [(self.job, other.job), (self.instance, other.instance)] {
            match (a, b) {
                (None, Some(_)) => return Ordering::Greater,
                (Some(_), None) => return Ordering::Less,
                (Some(x), Some(y)) if x != y => return x.cmp(y),
                _ => {}
            }
        }
        label_set_order(self.labels, other.labels)
    }
}

impl PartialOrd for AlertOrderKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for AlertOrderKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for AlertOrderKey<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn label_sets_order_as_upstream() {
        let cases = [
            (
                vec![("z", "1")],
                vec![("a", "1"), ("b", "1")],
                Ordering::Less,
            ),
            (vec![("a", "1")], vec![("a", "2")], Ordering::Less),
            (vec![("a", "2")], vec![("a", "1")], Ordering::Greater),
            // The first name in order is `a`, which the right set lacks.
            (vec![("a", "9")], vec![("b", "1")], Ordering::Greater),
            (vec![("b", "1")], vec![("a", "9")], Ordering::Less),
            (
                vec![("a", "1"), ("c", "1")],
                vec![("a", "1"), ("b", "1")],
                Ordering::Less,
            ),
            (
                vec![("a", "1"), ("b", "2")],
                vec![("a", "1"), ("b", "2")],
                Ordering::Equal,
            ),
            (vec![], vec![], Ordering::Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(label_set_order(&set(&a), &set(&b)), want, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn label_set_keys_order_as_label_set_order() {
        let names = ["a", "ab", "b", "a\0", "a\0b", "\u{ff}"];
        let values = ["", "1", "10", "2", "1\0", "1\0\0", "\0", "ü"];
        let mut sets: Vec<LabelSet> = vec![LabelSet::new()];
        for n in names {
            for v in values {
                sets.push(set(&[(n, v)]));
                for m in names.iter().filter(|&&m| m != n) {
                    sets.push(set(&[(n, v), (m, "1")]));
                    sets.push(set(&[(n, "1"), (m, v)]));
                }
            }
        }
        for a in &sets {
            for b in &sets {
                assert_eq!(
                    label_set_key(a).cmp(&label_set_key(b)),
                    label_set_order(a, b),
                    "{a:?} vs {b:?}"
                );
            }
        }
    }
}
