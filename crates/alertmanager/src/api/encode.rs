//! The alert listings' JSON, written straight from the stored alerts into the answer's
//! buffer: fields in the order of upstream's generated code, times and fingerprints
//! formatted on the stack, nothing allocated per alert.

use std::sync::Arc;

use axum::body::Bytes;
use jiff::Timestamp;
use jiff::tz::Offset;
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::chunks::Chunks;
use super::model::format_time;
use crate::alert::{Alert, Fingerprint, StaticJson};
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
    /// [`group_tail`] of the group.
    pub tail: Arc<[u8]>,
}

/// What follows a group's alerts in its part of the answer: `],"labels":…,"receiver":…}`.
pub fn group_tail(id: &GroupId, receiver: &str) -> Arc<[u8]> {
    let mut w = Writer {
        out: b"],\"labels\":".to_vec(),
        seconds: [None; 3],
        receivers: None,
    };
    w.serde(&id.labels);
    w.out.extend_from_slice(b",\"receiver\":");
    w.serde(&ReceiverJson { name: receiver });
    w.out.push(b'}');
    w.out.into()
}

/// `GET /api/v2/alerts`' answer.
pub fn alerts(muting: &Muting<'_>, alerts: &[Listed<'_>]) -> Vec<u8> {
    write(alerts.len(), &AlertList { muting, alerts })
}

/// Encodes groups of the `GET /api/v2/alerts/groups` answer, each into a part of its own
/// (see [`groups_answer`]). Each alert's labels, annotations and generator URL are copied
/// from its [`StaticJson`] (encoded by the first listing that shows that version); only the
/// times, fingerprint, receivers and status are written per request. One encoder per thread.
pub struct GroupEncoder<'a> {
    w: Writer<'a>,
}

/// Bytes per alert besides its [`StaticJson`] a group's buffer is sized for: the times,
/// fingerprint, receiver and an unmuted status take ≈ 250.
const DYNAMIC_BYTES: usize = 300;

impl<'a> GroupEncoder<'a> {
    pub fn new() -> Self {
        GroupEncoder {
            w: Writer {
                out: Vec::new(),
                seconds: [None; 3],
                receivers: None,
            },
        }
    }

    /// One group's part: `,` and the group's JSON (its alerts already in upstream's order).
    /// `reuse` is a buffer to write it into (its contents are dropped): the group's
    /// replaced encoding, about the size of the new one.
    pub fn group(
        &mut self,
        muting: &Muting<'_>,
        g: &ListedGroup<'a>,
        reuse: Option<Vec<u8>>,
    ) -> Bytes {
        self.w.out = match reuse {
            Some(mut buf) => {
                buf.clear();
                buf
            }
            None => {
                let size: usize = g
                    .alerts
                    .iter()
                    .map(|l| static_json_of(&l.alert).bytes.len() + DYNAMIC_BYTES)
                    .sum();
                Vec::with_capacity(size + 128)
            }
        };
        self.w.out.extend_from_slice(b",{\"alerts\":[");
        for (j, listed) in g.alerts.iter().enumerate() {
            if j > 0 {
                self.w.out.push(b',');
            }
            self.w.alert(muting, listed);
        }
        self.w.out.extend_from_slice(&g.tail);
        let mut part = std::mem::take(&mut self.w.out);
        // Kept for later answers: give the slack back (glibc shrinks in place).
        part.shrink_to_fit();
        Bytes::from(part)
    }
}

/// The groups answer from its groups' parts in order ([`GroupEncoder::group`]'s, this
/// answer's or earlier ones'; empty ones are skipped).
pub fn groups_answer(parts: impl ExactSizeIterator<Item = Bytes>) -> Chunks {
    let mut out = Vec::with_capacity(parts.len() + 2);
    out.push(Bytes::from_static(b"["));
    for part in parts.filter(|p| !p.is_empty()) {
        if out.len() == 1 {
            out.push(part.slice(1..));
        } else {
            out.push(part);
        }
    }
    out.push(Bytes::from_static(b"]\n"));
    Chunks::new(out)
}

/// The groups answer the plain way, sorting each group's alerts and serializing every field: what
/// the fast path must agree with.
#[cfg(test)]
pub fn groups_plain(muting: &Muting<'_>, groups: &mut [ListedGroup<'_>]) -> Vec<u8> {
    let mut out = vec![b'['];
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

/// Reads the kept encodings of a group's alerts ahead of [`GroupEncoder::group`] (see
/// `listing::groups::warm`): independent loads whose cache misses the CPU overlaps with each other
/// and with the encoding of the group before.
pub fn warm(g: &ListedGroup<'_>) {
    for l in &g.alerts {
        let json = static_json_of(&l.alert);
        std::hint::black_box(json.bytes.iter().step_by(64).fold(0, |x, &b| x ^ b));
    }
}

/// The alert's [`StaticJson`], encoded on first need.
fn static_json_of(alert: &Alert) -> &StaticJson {
    alert.json.get_or_init(|| StaticJson::of(alert))
}

/// The groups answer's buffer, with what consecutive alerts usually share.
struct Writer<'a> {
    out: Vec<u8>,
    /// Per time field, the last second written in and that time's text: alerts posted
    /// together share their seconds, and the calendar arithmetic is then done once.
    seconds: [Option<(i64, [u8; 24])>; 3],
    /// The last receivers list written, and its JSON: without `continue` routes every alert
    /// of a route has the same list.
    receivers: Option<(&'a [&'a str], Vec<u8>)>,
}

/// The slots of [`Writer::seconds`].
const ENDS: usize = 0;
const STARTS: usize = 1;
const UPDATED: usize = 2;

/// The status of an alert neither silenced nor inhibited, as [`StatusJson`] writes it.
const ACTIVE: &[u8] = br#"{"inhibitedBy":[],"silencedBy":[],"state":"active"}"#;

impl<'a> Writer<'a> {
    fn serde(&mut self, value: &impl Serialize) {
        serde_json::to_writer(&mut self.out, value).expect("listing JSON is always encodable");
    }

    /// One alert as [`AlertJson`] writes it.
    fn alert(&mut self, muting: &Muting<'_>, listed: &Listed<'a>) {
        let alert = &*listed.alert;
        let json = static_json_of(alert);
        self.out.extend_from_slice(json.head());
        self.out.extend_from_slice(b",\"endsAt\":");
        self.time(ENDS, alert.ends_at);
        self.out.extend_from_slice(b",\"fingerprint\":\"");
        self.out.extend_from_slice(&hex(alert.fingerprint));
        self.out.extend_from_slice(b"\",\"receivers\":");
        self.receivers(listed.receivers);
        self.out.extend_from_slice(b",\"startsAt\":");
        self.time(STARTS, alert.starts_at);
        self.out.extend_from_slice(b",\"status\":");
        if listed.muted.is_active() {
            self.out.extend_from_slice(ACTIVE);
        } else {
            self.serde(&StatusJson {
                muting,
                muted: &listed.muted,
            });
        }
        self.out.extend_from_slice(b",\"updatedAt\":");
        self.time(UPDATED, alert.updated_at);
        self.out.extend_from_slice(json.tail());
    }

    fn receivers(&mut self, receivers: &'a [&'a str]) {
        match &self.receivers {
            Some((last, json)) if std::ptr::eq(*last, receivers) => {
                self.out.extend_from_slice(json);
            }
            _ => {
                let json = serde_json::to_vec(&Seq(|| {
                    receivers.iter().map(|&name| ReceiverJson { name })
                }))
                .expect("receiver names always encode");
                self.out.extend_from_slice(&json);
                self.receivers = Some((receivers, json));
            }
        }
    }

    /// A time as [`Millis`] writes it; `field` picks the slot of [`Writer::seconds`].
    fn time(&mut self, field: usize, t: Timestamp) {
        let (second, nanos) = (t.as_second(), t.subsec_nanosecond());
        let text = match self.seconds[field] {
            Some((s, text)) if s == second && nanos >= 0 => Some(text),
            _ if second >= 0 && nanos >= 0 => millis(t).inspect(|&text| {
                self.seconds[field] = Some((second, text));
            }),
            _ => None,
        };
        let Some(mut text) = text else {
            return self.serde(&Millis(t));
        };
        let mut ms = nanos as u32 / 1_000_000;
        for b in text[20..23].iter_mut().rev() {
            *b = b'0' + (ms % 10) as u8;
            ms /= 10;
        }
        self.out.push(b'"');
        self.out.extend_from_slice(&text);
        self.out.push(b'"');
    }
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
#[cfg(test)]
struct GroupJson<'a> {
    muting: &'a Muting<'a>,
    group: &'a ListedGroup<'a>,
}

#[cfg(test)]
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

fn hex(fp: Fingerprint) -> [u8; 16] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 16];
    for (i, b) in buf.iter_mut().enumerate() {
        *b = DIGITS[((fp.0 >> (60 - 4 * i)) & 0xf) as usize];
    }
    buf
}

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(std::str::from_utf8(&hex(self.0)).expect("hex digits are ASCII"))
    }
}

/// A time as [`format_time`] writes it (`2026-01-02T03:04:05.678Z`), without allocating
/// for years of four digits.
struct Millis(Timestamp);

/// `t` as [`format_time`] writes it when that is 24 bytes (years 0 to 9999).
fn millis(t: Timestamp) -> Option<[u8; 24]> {
    let dt = Offset::UTC.to_datetime(t);
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

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match millis(self.0) {
            Some(buf) => s.serialize_str(std::str::from_utf8(&buf).expect("digits are ASCII")),
            None => s.serialize_str(&format_time(self.0)),
        }
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
