//! A group's kept part of the groups answer, and the rewriting of its alerts' times.
//!
//! Prometheus re-sends every firing alert each evaluation cycle with new times and nothing
//! else changed. The dispatcher then rewrites the three times of the re-sent alert in its
//! group's kept part (a few dozen bytes) instead of dropping the part: a listing after a
//! re-send of every alert copies every group's part as it would after no change at all,
//! rather than walking 100,000 freshly stored alerts to rewrite them there.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use jiff::Timestamp;

use crate::alert::Alert;
use crate::api::model::{TIME_BYTES, TimeField, TimeTexts};
use crate::clock::earliest;

/// One group's part of the groups answer (`{"alerts":[…],"labels":…,"receiver":…}`) with what
/// it was computed from besides the group's alerts: `api::listing` reuses it for a request
/// with the same query, silences and (when inhibition could mute one of its alerts) stored
/// alerts, at a time in `at..until`.
#[derive(Clone, Debug)]
pub struct Fragment {
    pub query: Arc<str>,
    pub silences: u64,
    pub alerts: Option<u64>,
    pub at: Timestamp,
    /// The earlier of `bound` and its shown alerts' earliest end (`None`: never). After a
    /// rewrite moved the earliest end later it may be earlier than that (which is safe)
    /// until [`Self::refresh_until`].
    pub until: Option<Timestamp>,
    /// What ends it besides its alerts: a silence starting or ending, inhibition changing.
    pub bound: Option<Timestamp>,
    pub body: Bytes,
    /// Where the alerts' times are in `body`, when only they may differ after a re-send.
    pub times: Option<TimeSlots>,
}

/// Where a group part's alerts' times are, recorded when every alert was shown `active`
/// and every time took the fixed 24-byte form: a re-send of the same alerts changes only
/// their times, which are then overwritten in place.
#[derive(Clone, Debug)]
pub struct TimeSlots {
    /// Per shown alert, in order.
    alerts: Box<[Slot]>,
    /// For a group of many alerts, the slots' indices by the address of their `StaticJson`:
    /// a re-sent alert's slot is then found without a scan of the group.
    by_address: Box<[u32]>,
    /// From an alert's `endsAt` text to its `startsAt` text, and from that to `updatedAt`'s:
    /// the same for every alert of a group (one route's receivers, an unmuted status).
    starts: u32,
    updated: u32,
    /// A rewrite moved the end of an alert that may have been the earliest later, so the
    /// fragment's `until` may be early.
    ends_moved: bool,
}

#[derive(Clone, Debug)]
struct Slot {
    /// The alert's `StaticJson` bytes, held so that an address match means this very
    /// encoding of its labels, annotations and generator URL.
    json: Arc<[u8]>,
    /// Where its `endsAt` text starts.
    ends_at: u32,
    ends: Timestamp,
}

/// Groups of up to this many alerts find a re-sent alert's slot by a scan.
const SCANNED: usize = 16;

/// [`TimeSlots`] being recorded while a group is encoded.
#[derive(Debug, Default)]
pub struct SlotsBuilder {
    alerts: Vec<Slot>,
    gaps: Option<(u32, u32)>,
}

impl SlotsBuilder {
    /// Adds an alert (its `StaticJson` bytes and end) whose times were written at `at`
    /// (`endsAt`, `startsAt`, `updatedAt`); `None` if the group cannot be rewritten.
    pub fn push(mut self, json: &Arc<[u8]>, ends: Timestamp, at: [usize; 3]) -> Option<Self> {
        let [ends_at, starts, updated] = at.map(|a| u32::try_from(a).ok());
        let (ends_at, starts, updated) = (ends_at?, starts?, updated?);
        let gaps = (starts - ends_at, updated - starts);
        if *self.gaps.get_or_insert(gaps) != gaps {
            return None;
        }
        self.alerts.push(Slot {
            json: Arc::clone(json),
            ends_at,
            ends,
        });
        Some(self)
    }

    pub fn finish(self) -> Option<TimeSlots> {
        let (starts, updated) = self.gaps?;
        let mut by_address: Vec<u32> = Vec::new();
        if self.alerts.len() > SCANNED {
            by_address = (0..self.alerts.len() as u32).collect();
            by_address.sort_unstable_by_key(|&i| address(&self.alerts[i as usize].json));
        }
        Some(TimeSlots {
            alerts: self.alerts.into(),
            by_address: by_address.into(),
            starts,
            updated,
            ends_moved: false,
        })
    }
}

fn address(json: &Arc<[u8]>) -> usize {
    Arc::as_ptr(json).cast::<u8>() as usize
}

impl TimeSlots {
    /// Whether the alerts are those with these `StaticJson` allocations, in this order.
    pub fn holds<'j>(&self, jsons: impl ExactSizeIterator<Item = &'j Arc<[u8]>>) -> bool {
        jsons.len() == self.alerts.len()
            && jsons
                .zip(&self.alerts)
                .all(|(j, s)| Arc::ptr_eq(j, &s.json))
    }

    /// The slot of the alert encoded with these `StaticJson` bytes.
    fn find(&self, json: &Arc<[u8]>) -> Option<usize> {
        if self.by_address.is_empty() {
            return self.alerts.iter().position(|s| Arc::ptr_eq(&s.json, json));
        }
        let key = address(json);
        let at = self
            .by_address
            .binary_search_by_key(&key, |&i| address(&self.alerts[i as usize].json))
            .ok()?;
        Some(self.by_address[at] as usize)
    }

    /// Where the `i`-th alert's `endsAt`, `startsAt` and `updatedAt` texts start in `buf`,
    /// if each is a quoted time text there.
    fn places(&self, buf: &[u8], i: usize) -> Option<[usize; 3]> {
        let ends = self.alerts[i].ends_at as usize;
        let starts = ends + self.starts as usize;
        let updated = starts + self.updated as usize;
        let places = [ends, starts, updated];
        places
            .iter()
            .all(|&at| {
                at > 0 && buf.get(at - 1) == Some(&b'"') && buf.get(at + TIME_BYTES) == Some(&b'"')
            })
            .then_some(places)
    }

    /// Overwrites the `i`-th alert's times in `buf` with `alert`'s; `false` (having written
    /// nothing) if one of them does not take the fixed form, or `buf` has no time text
    /// where the slot says.
    pub fn rewrite(
        &mut self,
        buf: &mut [u8],
        i: usize,
        alert: &Alert,
        texts: &mut TimeTexts,
    ) -> bool {
        let Some(texts) = times_of(alert, texts) else {
            return false;
        };
        let Some(places) = self.places(buf, i) else {
            return false;
        };
        self.put(buf, i, places, &texts, alert.ends_at);
        true
    }

    fn put(
        &mut self,
        buf: &mut [u8],
        i: usize,
        places: [usize; 3],
        texts: &[[u8; TIME_BYTES]; 3],
        ends: Timestamp,
    ) {
        for (at, text) in places.into_iter().zip(texts) {
            buf[at..at + TIME_BYTES].copy_from_slice(text);
        }
        self.alerts[i].ends = ends;
    }

    /// The earliest end of the alerts.
    fn first_end(&self) -> Option<Timestamp> {
        self.alerts.iter().map(|s| s.ends).min()
    }
}

/// `endsAt`, `startsAt` and `updatedAt` of an alert in their fixed-width form, if each has one.
fn times_of(alert: &Alert, texts: &mut TimeTexts) -> Option<[[u8; TIME_BYTES]; 3]> {
    Some([
        texts.fixed(TimeField::Ends, alert.ends_at)?,
        texts.fixed(TimeField::Starts, alert.starts_at)?,
        texts.fixed(TimeField::Updated, alert.updated_at)?,
    ])
}

impl Fragment {
    /// Keeps the fragment right after `old` was replaced in its group by `new` at `now`,
    /// by rewriting the alert's times: when `old` is one of its alerts, `new` has the same
    /// `StaticJson` (so the same labels, annotations and generator URL, hence the same
    /// fingerprint, receivers and, as long as the silences are those the fragment was
    /// computed under, status) and has not ended, and no other alert decides the
    /// statuses (the group is not inhibitable). `false` if it cannot; nothing was changed
    /// then, and the fragment no longer describes the group.
    pub fn rewrite(
        &mut self,
        old: &Alert,
        new: &Alert,
        now: Timestamp,
        texts: &mut TimeTexts,
    ) -> bool {
        if self.alerts.is_some() || self.at > now || new.resolved_at(now) {
            return false;
        }
        if self.refresh_until(now).is_some_and(|until| until <= now) {
            return false;
        }
        let (Some(json), Some(new_json)) = (old.json.get(), new.json.get()) else {
            return false;
        };
        if !Arc::ptr_eq(&json.bytes, &new_json.bytes) {
            return false;
        }
        let Some(slots) = &mut self.times else {
            return false;
        };
        let Some(i) = slots.find(&json.bytes) else {
            return false;
        };
        // Checked before the part is copied (when an answer being sent shares it).
        let Some(texts) = times_of(new, texts) else {
            return false;
        };
        let Some(places) = slots.places(&self.body, i) else {
            return false;
        };
        let mut buf = match std::mem::take(&mut self.body).try_into_mut() {
            Ok(owned) => owned,
            Err(shared) => BytesMut::from(&shared[..]),
        };
        let old_end = slots.alerts[i].ends;
        slots.put(&mut buf, i, places, &texts, new.ends_at);
        self.body = buf.freeze();
        if new.ends_at < old_end {
            self.until = earliest([self.until, Some(new.ends_at)]);
        } else if self.until == Some(old_end) {
            slots.ends_moved = true;
        }
        true
    }

    /// `until`, made exact again if the clock reached it at `now` after rewrites moved its
    /// earliest alert's end later. Before that an early `until` is right (and only shortens
    /// how long answers built from it are kept), so the scan over the alerts' ends is made
    /// only when it matters: after a re-send of every alert, finding every group's earliest
    /// end again took ~2 ms of the next listing.
    pub fn refresh_until(&mut self, now: Timestamp) -> Option<Timestamp> {
        if let Some(slots) = &mut self.times
            && slots.ends_moved
            && self.until.is_some_and(|until| until <= now)
        {
            slots.ends_moved = false;
            self.until = earliest([self.bound, slots.first_end()]);
        }
        self.until
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Arrival, LabelSet, PostedAlert, StaticJson};

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// An alert with `labels`, posted at `now`.
    fn posted(labels: LabelSet, ends: &str, now: &str) -> Alert {
        let posted = PostedAlert {
            labels,
            starts_at: Some(t("2026-01-01T00:00:00Z")),
            ends_at: Some(t(ends)),
            ..PostedAlert::default()
        };
        posted
            .into_alert(&Arrival::new(t(now), jiff::SignedDuration::from_mins(5)))
            .unwrap()
    }

    /// An alert named `name`, its encoding made (as a listing would).
    fn alert(name: &str, ends: &str, now: &str) -> Alert {
        let labels = LabelSet::from([("alertname".to_owned(), name.to_owned())]);
        let alert = posted(labels, ends, now);
        alert.json.get_or_init(|| StaticJson::of(&alert));
        alert
    }

    /// A later version of `old` with other times, its encoding handed on.
    fn resent(old: &Alert, ends: &str, now: &str) -> Alert {
        let new = posted(old.labels.clone(), ends, now);
        old.hand_on_json(&new);
        assert!(new.json.get().is_some(), "{:?}", old.labels);
        new
    }

    /// A part with each alert's times as quoted texts, and its slots.
    fn fragment(alerts: &[&Alert], bound: Option<Timestamp>) -> Fragment {
        let mut texts = TimeTexts::default();
        let mut body = Vec::new();
        let mut slots = SlotsBuilder::default();
        for a in alerts {
            let mut at = [0; 3];
            for (i, (field, time)) in [
                (TimeField::Ends, a.ends_at),
                (TimeField::Starts, a.starts_at),
                (TimeField::Updated, a.updated_at),
            ]
            .into_iter()
            .enumerate()
            {
                body.extend_from_slice(b"{\"t\":\"");
                at[i] = body.len();
                body.extend_from_slice(&texts.fixed(field, time).unwrap());
                body.extend_from_slice(b"\"}");
            }
            slots = slots
                .push(&a.json.get().unwrap().bytes, a.ends_at, at)
                .unwrap();
        }
        let first_end = alerts.iter().map(|a| a.ends_at).min();
        Fragment {
            query: "".into(),
            silences: 0,
            alerts: None,
            at: t("2026-01-01T00:00:00Z"),
            until: earliest([first_end, bound]),
            bound,
            body: body.into(),
            times: slots.finish(),
        }
    }

    fn text(f: &Fragment) -> String {
        String::from_utf8(f.body.to_vec()).unwrap()
    }

    #[test]
    fn a_resent_alert_has_its_times_rewritten_in_place_or_in_a_copy() {
        let now = "2026-01-01T00:01:00Z";
        let a = alert("a", "2026-01-01T01:00:00Z", "2026-01-01T00:00:00Z");
        let b = alert("b", "2026-01-01T02:00:00Z", "2026-01-01T00:00:00Z");
        let mut f = fragment(&[&a, &b], None);
        let before = text(&f);
        let sent = f.body.clone();
        let a2 = resent(&a, "2026-01-01T03:00:00Z", now);
        assert!(f.rewrite(&a, &a2, t(now), &mut TimeTexts::default()));
        // `a`'s end and update (its start is the same), nothing of `b`.
        let times = |a_ends: &str, a_updated: &str| {
            [a_ends, "00:00", a_updated, "02:00", "00:00", "00:00"]
                .map(|hm| format!("{{\"t\":\"2026-01-01T{hm}:00.000Z\"}}"))
                .concat()
        };
        assert_eq!(before, times("01:00", "00:00"));
        assert_eq!(text(&f), times("03:00", "00:01"));
        // The answer being sent kept its bytes.
        assert_eq!(String::from_utf8(sent.to_vec()).unwrap(), before);
        drop(sent);
        // The earliest end moved later: `until` stays early (which is safe) until it is
        // found again on demand; `b` is now the earliest end.
        assert_eq!(f.until, Some(t("2026-01-01T01:00:00Z")));
        assert_eq!(
            f.refresh_until(t("2026-01-01T00:59:00Z")),
            Some(t("2026-01-01T01:00:00Z"))
        );
        assert_eq!(
            f.refresh_until(t("2026-01-01T01:00:00Z")),
            Some(t("2026-01-01T02:00:00Z"))
        );
        let b2 = resent(&b, "2026-01-01T04:00:00Z", now);
        let address = f.body.as_ptr();
        assert!(f.rewrite(&b, &b2, t(now), &mut TimeTexts::default()));
        assert_eq!(f.body.as_ptr(), address, "not rewritten in place");
        assert!(text(&f).contains("2026-01-01T04:00:00.000Z"));
        assert_eq!(f.until, Some(t("2026-01-01T02:00:00Z")));
        assert_eq!(
            f.refresh_until(t("2026-01-01T02:30:00Z")),
            Some(t("2026-01-01T03:00:00Z"))
        );
        // An earlier end lowers it at once, down to the bound.
        let mut bounded = fragment(&[&a, &b], Some(t("2026-01-01T00:30:00Z")));
        let a3 = resent(&a, "2026-01-01T00:20:00Z", now);
        assert!(bounded.rewrite(&a, &a3, t(now), &mut TimeTexts::default()));
        assert_eq!(bounded.until, Some(t("2026-01-01T00:20:00Z")));
        let b3 = resent(&b, "2026-01-01T05:00:00Z", now);
        assert!(bounded.rewrite(&b, &b3, t(now), &mut TimeTexts::default()));
        assert_eq!(
            bounded.refresh_until(t("2026-01-01T00:20:00Z")),
            Some(t("2026-01-01T00:20:00Z"))
        );
    }

    #[test]
    fn only_a_listed_alert_with_the_same_encoding_and_fixed_times_is_rewritten() {
        let now = "2026-01-01T00:01:00Z";
        let a = alert("a", "2026-01-01T01:00:00Z", "2026-01-01T00:00:00Z");
        let b = alert("b", "2026-01-01T01:00:00Z", "2026-01-01T00:00:00Z");
        let f = fragment(&[&a], None);
        let fails = |old: &Alert, new: &Alert, f: &Fragment, now: &str| {
            let mut f = f.clone();
            assert!(!f.rewrite(old, new, t(now), &mut TimeTexts::default()));
        };
        // Not in the fragment.
        fails(&b, &resent(&b, "2026-01-01T02:00:00Z", now), &f, now);
        // Another encoding of the same fields (not handed on: made anew).
        let other = resent(&a, "2026-01-01T02:00:00Z", now);
        let fresh = Alert {
            json: Default::default(),
            ..other.clone()
        };
        fresh.json.get_or_init(|| StaticJson::of(&fresh));
        fails(&a, &fresh, &f, now);
        // Without an encoding.
        fails(
            &a,
            &Alert {
                json: Default::default(),
                ..other
            },
            &f,
            now,
        );
        // Resolved by the re-send, or by the clock.
        fails(&a, &resent(&a, "2026-01-01T00:01:00Z", now), &f, now);
        fails(
            &a,
            &resent(&a, "2026-01-01T02:00:00Z", "2026-01-01T01:00:00Z"),
            &f,
            "2026-01-01T01:00:00Z",
        );
        // A time before 1970.
        let mut early = resent(&a, "2026-01-01T02:00:00Z", now);
        early.starts_at = t("1969-12-31T00:00:00Z");
        fails(&a, &early, &f, now);
        // Inhibitable, computed later than now, or without slots.
        for change in [
            |f: &mut Fragment| f.alerts = Some(1),
            |f: &mut Fragment| f.at = t("2026-01-01T00:02:00Z"),
            |f: &mut Fragment| f.times = None,
        ] {
            let mut g = f.clone();
            change(&mut g);
            fails(&a, &resent(&a, "2026-01-01T02:00:00Z", now), &g, now);
        }
    }

    #[test]
    fn large_groups_find_the_slot_by_address() {
        let now = "2026-01-01T00:01:00Z";
        let alerts: Vec<Alert> = (0..SCANNED * 3)
            .map(|i| {
                alert(
                    &format!("a{i}"),
                    "2026-01-01T01:00:00Z",
                    "2026-01-01T00:00:00Z",
                )
            })
            .collect();
        let refs: Vec<&Alert> = alerts.iter().collect();
        let mut f = fragment(&refs, None);
        assert!(!f.times.as_ref().unwrap().by_address.is_empty());
        for old in alerts.iter().rev() {
            let new = resent(old, "2026-01-01T02:00:00Z", now);
            assert!(f.rewrite(old, &new, t(now), &mut TimeTexts::default()));
        }
        let text = text(&f);
        assert_eq!(
            text.matches("2026-01-01T02:00:00.000Z").count(),
            alerts.len()
        );
        assert!(!text.contains("2026-01-01T01:00:00.000Z"));
    }
}
