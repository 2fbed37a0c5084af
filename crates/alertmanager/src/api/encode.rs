//! The alert listings' JSON, written straight from the stored alerts into the answer's
//! buffer: fields in the order of upstream's generated code, times and fingerprints
//! formatted on the stack, nothing allocated per alert.

use std::sync::Arc;

use axum::body::Bytes;
use bytes::BytesMut;
use jiff::Timestamp;
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::chunks::Chunks;
use super::model::{TimeField, TimeTexts, format_time, millis};
use crate::alert::{Alert, Fingerprint, StaticJson};
use crate::daemon::{Muted, Muting};
use crate::dispatch::{GroupId, SlotsBuilder, TimeSlots};

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
        texts: TimeTexts::default(),
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
                texts: TimeTexts::default(),
                receivers: None,
            },
        }
    }

    /// One group's part: `,` and the group's JSON (its alerts already in upstream's order).
    /// `reuse` is a buffer to write it into (its contents are dropped): the group's
    /// replaced encoding, about the size of the new one. With `record`, also where the
    /// alerts' times went, if [`Self::patch`] can later rewrite them.
    pub fn group(
        &mut self,
        muting: &Muting<'_>,
        g: &ListedGroup<'a>,
        reuse: Option<Vec<u8>>,
        record: bool,
    ) -> (Bytes, Option<TimeSlots>) {
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
        let mut slots = record.then(SlotsBuilder::default);
        for (j, listed) in g.alerts.iter().enumerate() {
            if j > 0 {
                self.w.out.push(b',');
            }
            let at = self.w.alert(muting, listed);
            let alert = &*listed.alert;
            slots = slots.and_then(|s| s.push(&static_json_of(alert).bytes, alert.ends_at, at?));
        }
        self.w.out.extend_from_slice(&g.tail);
        let mut part = std::mem::take(&mut self.w.out);
        // Kept for later answers: give the slack back (glibc shrinks in place).
        part.shrink_to_fit();
        (Bytes::from(part), slots.and_then(SlotsBuilder::finish))
    }

    /// The group's part from `old`, its encoding when its alerts' times were at `slots`,
    /// with the times overwritten by its alerts' current ones: right when the alerts are
    /// those `old` showed, in the same order, each with the same `StaticJson` allocation
    /// and still unmuted (so the fingerprints, receivers and statuses are the same bytes),
    /// and each time still takes 24 bytes. The caller vouches for the rest of what the
    /// part was computed from (the query, the route's receiver, the group's labels).
    /// `old`'s buffer is rewritten in place unless an earlier answer still shares it.
    /// Otherwise gives back a buffer for the full encode, if it has one.
    pub fn patch(
        &mut self,
        g: &ListedGroup<'a>,
        old: Bytes,
        slots: &mut TimeSlots,
    ) -> Result<Bytes, Option<Vec<u8>>> {
        let same = g.alerts.iter().all(|l| l.muted.is_active())
            && slots.holds(g.alerts.iter().map(|l| &static_json_of(&l.alert).bytes));
        if !same {
            return Err(reusable(old));
        }
        // Patched as it is, not as a `Vec`: a `BytesMut` turned into a `Vec` has every
        // byte moved onto itself.
        match old.try_into_mut() {
            Ok(mut owned) => {
                if self.write_times(&mut owned, g, slots) {
                    Ok(owned.freeze())
                } else {
                    Err(Some(emptied(owned)))
                }
            }
            Err(shared) => {
                let mut copy = shared.to_vec();
                if self.write_times(&mut copy, g, slots) {
                    Ok(Bytes::from(copy))
                } else {
                    Err(Some(copy))
                }
            }
        }
    }

    /// Overwrites the times at `slots` in `buf` with `g`'s alerts' ones; `false` if one does
    /// not take the fixed form (or a slot is not where a time's text is).
    fn write_times(&mut self, buf: &mut [u8], g: &ListedGroup<'a>, slots: &mut TimeSlots) -> bool {
        g.alerts
            .iter()
            .enumerate()
            .all(|(i, l)| slots.rewrite(buf, i, &l.alert, &mut self.w.texts))
    }
}

/// A stale part's allocation as an empty buffer for a new encoding, if no answer shares it.
pub fn reusable(part: Bytes) -> Option<Vec<u8>> {
    part.try_into_mut().ok().map(emptied)
}

/// Emptied first: turning a `BytesMut` into a `Vec` moves every byte it holds onto itself.
fn emptied(mut buffer: BytesMut) -> Vec<u8> {
    buffer.clear();
    Vec::from(buffer)
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

/// Reads a stale part ahead of [`GroupEncoder::patch`] (see [`warm`]), all of it in one
/// stream: the patch writes into 3 of about 7 cache lines per alert, and those writes,
/// each missing the caches in turn (or the same lines read ahead one by one), had cost
/// more than encoding the group again.
pub fn warm_part(part: &[u8]) {
    std::hint::black_box(part.iter().step_by(64).fold(0, |x, &b| x ^ b));
}

/// The alert's [`StaticJson`], encoded on first need.
fn static_json_of(alert: &Alert) -> &StaticJson {
    alert.json.get_or_init(|| StaticJson::of(alert))
}

/// The groups answer's buffer, with what consecutive alerts usually share.
struct Writer<'a> {
    out: Vec<u8>,
    texts: TimeTexts,
    /// The last receivers list written, and its JSON: without `continue` routes every alert
    /// of a route has the same list.
    receivers: Option<(&'a [&'a str], Vec<u8>)>,
}

/// The status of an alert neither silenced nor inhibited, as [`StatusJson`] writes it.
const ACTIVE: &[u8] = br#"{"inhibitedBy":[],"silencedBy":[],"state":"active"}"#;

impl<'a> Writer<'a> {
    fn serde(&mut self, value: &impl Serialize) {
        serde_json::to_writer(&mut self.out, value).expect("listing JSON is always encodable");
    }

    /// One alert as [`AlertJson`] writes it; where its `endsAt`, `startsAt` and
    /// `updatedAt` texts went if it is unmuted and each took the fixed 24 bytes.
    fn alert(&mut self, muting: &Muting<'_>, listed: &Listed<'a>) -> Option<[usize; 3]> {
        let alert = &*listed.alert;
        let json = static_json_of(alert);
        self.out.extend_from_slice(json.head());
        self.out.extend_from_slice(b",\"endsAt\":");
        let ends = self.time(TimeField::Ends, alert.ends_at);
        self.out.extend_from_slice(b",\"fingerprint\":\"");
        self.out.extend_from_slice(&hex(alert.fingerprint));
        self.out.extend_from_slice(b"\",\"receivers\":");
        self.receivers(listed.receivers);
        self.out.extend_from_slice(b",\"startsAt\":");
        let starts = self.time(TimeField::Starts, alert.starts_at);
        self.out.extend_from_slice(b",\"status\":");
        let active = listed.muted.is_active();
        if active {
            self.out.extend_from_slice(ACTIVE);
        } else {
            self.serde(&StatusJson {
                muting,
                muted: &listed.muted,
            });
        }
        self.out.extend_from_slice(b",\"updatedAt\":");
        let updated = self.time(TimeField::Updated, alert.updated_at);
        self.out.extend_from_slice(json.tail());
        Some([ends?, starts?, updated?]).filter(|_| active)
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

    /// A time as [`Millis`] writes it; returns where its text starts if it took the fixed
    /// width.
    fn time(&mut self, field: TimeField, t: Timestamp) -> Option<usize> {
        let Some(text) = self.texts.fixed(field, t) else {
            self.serde(&Millis(t));
            return None;
        };
        self.out.push(b'"');
        let at = self.out.len();
        self.out.extend_from_slice(&text);
        self.out.push(b'"');
        Some(at)
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
