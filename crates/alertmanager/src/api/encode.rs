//! The alert listings' JSON, written straight from the stored alerts into the answer's
//! buffer: fields in the order of upstream's generated code, times and fingerprints
//! formatted on the stack, nothing allocated per alert.

use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::Offset;
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::model::format_time;
use crate::alert::{Alert, Fingerprint};
use crate::daemon::{Muted, Muting};
use crate::dispatch::GroupId;

/// Bytes per listed alert the buffer is sized for: above a typical alert's ~450, so the
/// buffer is rarely grown (and copied) while writing. Untouched capacity costs no memory.
const ALERT_BYTES: usize = 640;

/// One alert of an answer with what the request found about it.
#[derive(Debug)]
pub struct Listed<'a> {
    pub alert: Arc<Alert>,
    pub muted: Muted,
    /// Receiver names, in the order the answer gives them.
    pub receivers: &'a [&'a str],
}

/// One group of the groups answer, its alerts already in upstream's order.
#[derive(Debug)]
pub struct ListedGroup<'a> {
    pub id: Arc<GroupId>,
    pub receiver: &'a str,
    pub alerts: Vec<Listed<'a>>,
}

/// `GET /api/v2/alerts`' answer.
pub fn alerts(muting: &Muting<'_>, alerts: &[Listed<'_>]) -> Vec<u8> {
    write(alerts.len(), &AlertList { muting, alerts })
}

/// `GET /api/v2/alerts/groups`' answer; sorts each group's alerts into upstream's order.
/// A group is sorted right before it is written, while its alerts' labels are still in the
/// CPU cache from the sort: with 100,000 alerts, sorting all first and writing all after
/// read every label set from memory twice.
pub fn groups(muting: &Muting<'_>, groups: &mut [ListedGroup<'_>]) -> Vec<u8> {
    let count: usize = groups.iter().map(|g| g.alerts.len() + 1).sum();
    let mut out = Vec::with_capacity(count * ALERT_BYTES + 3);
    out.push(b'[');
    for (i, g) in groups.iter_mut().enumerate() {
        super::model::sort_alerts_by(&mut g.alerts, |l| &l.alert);
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, &GroupJson { muting, group: g })
            .expect("listing JSON is always encodable");
    }
    out.extend_from_slice(b"]\n");
    out
}

/// The document and upstream's closing newline. Serializing these types cannot fail: maps
/// have string keys and the writer is a `Vec`.
fn write(items: usize, value: &impl Serialize) -> Vec<u8> {
    let mut out = Vec::with_capacity(items * ALERT_BYTES + 3);
    serde_json::to_writer(&mut out, value).expect("listing JSON is always encodable");
    out.push(b'\n');
    out
}

struct AlertList<'a> {
    muting: &'a Muting<'a>,
    alerts: &'a [Listed<'a>],
}

impl Serialize for AlertList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.alerts.iter().map(|listed| AlertJson {
            muting: self.muting,
            listed,
        }))
    }
}

/// One element of the groups answer.
struct GroupJson<'a> {
    muting: &'a Muting<'a>,
    group: &'a ListedGroup<'a>,
}

impl Serialize for GroupJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let g = self.group;
        let mut st = s.serialize_struct("alertGroup", 3)?;
        st.serialize_field(
            "alerts",
            &AlertList {
                muting: self.muting,
                alerts: &g.alerts,
            },
        )?;
        st.serialize_field("labels", &g.id.labels)?;
        st.serialize_field("receiver", &ReceiverJson { name: g.receiver })?;
        st.end()
    }
}

#[derive(Serialize)]
struct ReceiverJson<'a> {
    name: &'a str,
}

/// upstream's `gettableAlert`.
struct AlertJson<'a> {
    muting: &'a Muting<'a>,
    listed: &'a Listed<'a>,
}

impl Serialize for AlertJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (alert, muted) = (&*self.listed.alert, &self.listed.muted);
        let has_url = !alert.generator_url.is_empty();
        let mut st = s.serialize_struct("gettableAlert", 8 + usize::from(has_url))?;
        st.serialize_field("annotations", &alert.annotations)?;
        st.serialize_field("endsAt", &Millis(alert.ends_at))?;
        st.serialize_field("fingerprint", &Hex(alert.fingerprint))?;
        st.serialize_field(
            "receivers",
            &Seq(|| {
                self.listed
                    .receivers
                    .iter()
                    .map(|&name| ReceiverJson { name })
            }),
        )?;
        st.serialize_field("startsAt", &Millis(alert.starts_at))?;
        st.serialize_field(
            "status",
            &StatusJson {
                muting: self.muting,
                muted,
            },
        )?;
        st.serialize_field("updatedAt", &Millis(alert.updated_at))?;
        if has_url {
            st.serialize_field("generatorURL", &alert.generator_url)?;
        }
        st.serialize_field("labels", &alert.labels)?;
        st.end()
    }
}

/// upstream's `alertStatus`.
struct StatusJson<'a> {
    muting: &'a Muting<'a>,
    muted: &'a Muted,
}

impl Serialize for StatusJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("alertStatus", 3)?;
        st.serialize_field("inhibitedBy", &Seq(|| self.muted.inhibited_by.map(Hex)))?;
        st.serialize_field("silencedBy", &Seq(|| self.muting.silence_ids(self.muted)))?;
        let state = if self.muted.is_active() {
            "active"
        } else {
            "suppressed"
        };
        st.serialize_field("state", state)?;
        st.end()
    }
}

/// A sequence produced on demand, serialized without collecting it.
struct Seq<F>(F);

impl<F, I> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: IntoIterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

/// A fingerprint as 16 hex digits.
struct Hex(Fingerprint);

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 16];
        for (i, b) in buf.iter_mut().enumerate() {
            *b = DIGITS[((self.0.0 >> (60 - 4 * i)) & 0xf) as usize];
        }
        s.serialize_str(std::str::from_utf8(&buf).expect("hex digits are ASCII"))
    }
}

/// A time as [`format_time`] writes it (`2026-01-02T03:04:05.678Z`), without allocating
/// for years of four digits.
struct Millis(Timestamp);

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let dt = Offset::UTC.to_datetime(self.0);
        let Ok(year) = u32::try_from(dt.year()) else {
            return s.serialize_str(&format_time(self.0));
        };
        if year > 9999 {
            return s.serialize_str(&format_time(self.0));
        }
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
        s.serialize_str(std::str::from_utf8(&buf).expect("digits are ASCII"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(v: impl Serialize) -> String {
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn times_and_fingerprints_as_the_model_formats_them() {
        for t in [
            "2026-01-02T03:04:05.678999Z",
            "0001-01-01T00:00:00Z",
            "1970-01-01T00:00:00.001Z",
            "9999-06-30T23:59:59.999999999Z",
        ] {
            let t: Timestamp = t.parse().unwrap();
            assert_eq!(json(Millis(t)), format!("\"{}\"", format_time(t)), "{t}");
        }
        assert_eq!(json(Hex(Fingerprint(0xab))), "\"00000000000000ab\"");
        assert_eq!(
            json(Hex(Fingerprint(u64::MAX))),
            format!("\"{}\"", Fingerprint(u64::MAX))
        );
    }
}
