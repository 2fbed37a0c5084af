//! Alerts as the Alertmanager keeps them: identity (the label fingerprint), the activity range
//! with upstream's resolve-timeout rules, validation, and the in-memory [`AlertStore`].

mod store;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::sync::{Arc, OnceLock};

use jiff::Timestamp;

pub use store::{AlertStore, PutBatch};

/// Label names to values; a `BTreeMap` keeps names sorted, which both the fingerprint and the
/// JSON output rely on.
pub type LabelSet = BTreeMap<String, String>;

/// Upstream's `model.Fingerprint`: FNV-1a (64 bit) over the sorted label pairs, each name and
/// value followed by the byte 0xff. Printed as 16 hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    pub fn of(labels: &LabelSet) -> Fingerprint {
        const OFFSET: u64 = 14_695_981_039_346_656_037;
        const PRIME: u64 = 1_099_511_628_211;
        let mut hash = OFFSET;
        let mut feed = |bytes: &[u8]| {
            for &b in bytes {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(PRIME);
            }
        };
        for (name, value) in labels {
            feed(name.as_bytes());
            feed(&[0xff]);
            feed(value.as_bytes());
            feed(&[0xff]);
        }
        Fingerprint(hash)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// An alert that passed validation and got its defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub labels: LabelSet,
    pub annotations: LabelSet,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub updated_at: Timestamp,
    pub generator_url: String,
    /// The end was not given by the client but derived from `resolve_timeout`; an explicit end
    /// from a later update wins over it.
    pub timeout: bool,
    pub fingerprint: Fingerprint,
    /// The listings' encoding of the fields above that clients rarely change.
    pub json: JsonCell,
}

/// The JSON of an alert's labels, annotations and generator URL as the listings write them
/// (see `api::encode`): the part before the times (`{"annotations":{…}`) and the part after
/// them (`,"generatorURL":…,"labels":{…}}`), in one shared allocation so that a listing
/// follows one pointer per alert to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticJson {
    pub bytes: Arc<[u8]>,
    /// Where the part after the times starts.
    pub split: usize,
}

impl StaticJson {
    /// The alert's fields as the listings write them (`api::encode`'s `AlertJson`).
    pub fn of(alert: &Alert) -> StaticJson {
        let mut bytes = Vec::with_capacity(256);
        let split = write_static_json(alert, &mut bytes).expect("a Vec takes every write");
        StaticJson {
            bytes: bytes.into(),
            split,
        }
    }

    /// Whether this is [`StaticJson::of`] `alert`, found without allocating: the alert is
    /// encoded into a comparison with these bytes. The store asks this of every re-sent
    /// alert that was listed, so it reads these bytes (one allocation, in order) rather than
    /// the old version's scattered label strings.
    pub fn matches(&self, alert: &Alert) -> bool {
        let mut cmp = Compare {
            expected: &self.bytes,
            equal: true,
        };
        write_static_json(alert, &mut cmp).is_ok() && cmp.equal && cmp.expected.is_empty()
    }

    pub fn head(&self) -> &[u8] {
        &self.bytes[..self.split]
    }

    pub fn tail(&self) -> &[u8] {
        &self.bytes[self.split..]
    }
}

/// Writes the fields [`StaticJson`] holds; returns where the part after the times starts.
fn write_static_json(alert: &Alert, out: &mut impl std::io::Write) -> std::io::Result<usize> {
    let mut written = Counted { out, len: 0 };
    written.write_all(b"{\"annotations\":")?;
    serde_json::to_writer(&mut written, &alert.annotations)?;
    let split = written.len;
    if !alert.generator_url.is_empty() {
        written.write_all(b",\"generatorURL\":")?;
        serde_json::to_writer(&mut written, &alert.generator_url)?;
    }
    written.write_all(b",\"labels\":")?;
    serde_json::to_writer(&mut written, &alert.labels)?;
    written.write_all(b"}")?;
    Ok(split)
}

/// A writer counting what passes through it.
struct Counted<'w, W> {
    out: &'w mut W,
    len: usize,
}

impl<W: std::io::Write> std::io::Write for Counted<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.len += n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// A writer comparing what is written with `expected`; gives up at the first difference.
struct Compare<'e> {
    expected: &'e [u8],
    equal: bool,
}

impl std::io::Write for Compare<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let same = match self.expected.get(..buf.len()) {
            // The serializer writes in small pieces (quotes, separators, short names):
            // compared in line rather than by a call to `memcmp` for each.
            Some(head) if buf.len() <= 16 => head.iter().zip(buf).all(|(a, b)| a == b),
            Some(head) => head == buf,
            None => false,
        };
        if same {
            self.expected = &self.expected[buf.len()..];
            Ok(buf.len())
        } else {
            self.equal = false;
            Err(std::io::ErrorKind::InvalidData.into())
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An alert's [`StaticJson`], encoded by the first listing that shows the alert and handed on
/// by the store to later versions with the same labels, annotations and generator URL:
/// Prometheus re-sends every firing alert with new times only, and re-escaping 100,000
/// alerts' labels was most of a listing's cost. It is derived from the other fields, so it
/// never makes two alerts differ.
#[derive(Clone, Debug, Default)]
pub struct JsonCell(OnceLock<StaticJson>);

impl PartialEq for JsonCell {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl JsonCell {
    pub fn get(&self) -> Option<&StaticJson> {
        self.0.get()
    }

    pub fn get_or_init(&self, encode: impl FnOnce() -> StaticJson) -> &StaticJson {
        self.0.get_or_init(encode)
    }
}

/// Why a posted alert was refused; the texts are upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    #[error("start time must be before end time")]
    EndBeforeStart,
    #[error("invalid label set: {0}")]
    Labels(String),
    #[error("at least one label pair required")]
    NoLabels,
    #[error("invalid annotations: {0}")]
    Annotations(String),
}

/// When posted alerts arrived, and so when one without an end resolves: the same for every
/// alert of a post, computed once for it.
#[derive(Clone, Copy, Debug)]
pub struct Arrival {
    now: Timestamp,
    timeout_end: Timestamp,
}

impl Arrival {
    pub fn new(now: Timestamp, resolve_timeout: jiff::SignedDuration) -> Self {
        Arrival {
            now,
            timeout_end: now.saturating_add(resolve_timeout).unwrap_or(now),
        }
    }
}

/// An alert as a client posts it: every time optional.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PostedAlert {
    pub labels: LabelSet,
    pub annotations: LabelSet,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub generator_url: String,
}

impl PostedAlert {
    /// Upstream's ingestion rules: empty label values are dropped, the start defaults to the
    /// end (or now), and an alert without an end resolves after `resolve_timeout` unless it is
    /// posted again.
    pub fn into_alert(mut self, arrival: &Arrival) -> Result<Alert, AlertError> {
        let now = arrival.now;
        self.labels.retain(|_, v| !v.is_empty());
        let starts_at = self.starts_at.or(self.ends_at).unwrap_or(now);
        let (ends_at, timeout) = match self.ends_at {
            Some(end) => (end, false),
            None => (arrival.timeout_end, true),
        };
        if ends_at < starts_at {
            return Err(AlertError::EndBeforeStart);
        }
        validate_names(&self.labels).map_err(AlertError::Labels)?;
        if self.labels.is_empty() {
            return Err(AlertError::NoLabels);
        }
        validate_names(&self.annotations).map_err(AlertError::Annotations)?;
        Ok(Alert {
            fingerprint: Fingerprint::of(&self.labels),
            labels: self.labels,
            annotations: self.annotations,
            starts_at,
            ends_at,
            updated_at: now,
            generator_url: self.generator_url,
            timeout,
            json: JsonCell::default(),
        })
    }
}

/// Alert label names follow the classic Prometheus rules (upstream's default mode).
fn validate_names(set: &LabelSet) -> Result<(), String> {
    match set.keys().find(|n| !crate::labels::is_legacy_label_name(n)) {
        Some(name) => Err(format!("invalid name {name:?}")),
        None => Ok(()),
    }
}

impl Alert {
    /// Whether the alert has ended at `now`.
    pub fn resolved_at(&self, now: Timestamp) -> bool {
        self.ends_at <= now
    }

    /// Combines an update with the stored alert when their activity ranges overlap, as
    /// upstream does: the newer update's data, the earliest start, and an end that only an
    /// explicit (non-timeout) later end can extend.
    /// The update is taken by value: it is usually the newer one, and its data is kept as is
    /// rather than copied.
    pub fn merge(&self, update: Alert, now: Timestamp) -> Alert {
        if update.updated_at < self.updated_at {
            return self.clone().merged_with_older(&update, now);
        }
        update.merged_with_older(self, now)
    }

    /// [`Self::merge`] with `self` the newer of the two.
    fn merged_with_older(mut self, older: &Alert, now: Timestamp) -> Alert {
        if older.starts_at < self.starts_at {
            self.starts_at = older.starts_at;
        }
        if self.resolved_at(now) {
            if older.resolved_at(now) && older.ends_at > self.ends_at {
                self.ends_at = older.ends_at;
            }
        } else if older.ends_at > self.ends_at && !older.timeout {
            self.ends_at = older.ends_at;
        }
        self
    }

    /// Whether `other` has the same labels (cheaply decided when both share their encoding).
    pub fn same_labels(&self, other: &Alert) -> bool {
        self.shares_json(other) || self.labels == other.labels
    }

    fn shares_json(&self, other: &Alert) -> bool {
        matches!((self.json.0.get(), other.json.0.get()), (Some(a), Some(b)) if Arc::ptr_eq(&a.bytes, &b.bytes))
    }

    /// Hands this alert's encoding on to `newer` (a later version of it) when the fields it
    /// encodes are the same (compared through the encoding, which is injective). Costs a
    /// comparison only when this version was listed.
    pub fn hand_on_json(&self, newer: &Alert) {
        if let Some(json) = self.json.0.get()
            && newer.json.0.get().is_none()
            && json.matches(newer)
        {
            let _ = newer.json.0.set(json.clone());
        }
    }

    /// Whether an update and this stored alert describe the same firing (upstream merges only
    /// then; otherwise the update replaces the alert).
    pub fn overlaps(&self, update: &Alert) -> bool {
        (update.ends_at > self.starts_at && update.ends_at < self.ends_at)
            || (update.starts_at > self.starts_at && update.starts_at < self.ends_at)
    }
}
