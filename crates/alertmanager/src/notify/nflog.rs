//! The notification log: what each integration of each receiver last sent for each group, so
//! a flush sends only when something changed or the repeat interval passed, and a restart does
//! not page again. Persisted as upstream's `nflog` snapshot (length-delimited
//! `nflogpb.MeshEntry` messages), so a data directory moves between upstream and us.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{PoisonError, RwLock};

use jiff::{SignedDuration, Timestamp};
use prost::Message;

use crate::silence::snapshot::{PbTimestamp, SnapshotError, from_pb, read_bytes, to_pb, write};

#[derive(Clone, PartialEq, Message)]
struct PbReceiver {
    #[prost(string, tag = "1")]
    group_name: String,
    #[prost(string, tag = "2")]
    integration: String,
    #[prost(uint32, tag = "3")]
    idx: u32,
}

#[derive(Clone, PartialEq, Message)]
struct PbEntry {
    #[prost(bytes = "vec", tag = "1")]
    group_key: Vec<u8>,
    #[prost(message, optional, tag = "2")]
    receiver: Option<PbReceiver>,
    #[prost(message, optional, tag = "5")]
    timestamp: Option<PbTimestamp>,
    #[prost(uint64, repeated, tag = "6")]
    firing_alerts: Vec<u64>,
    #[prost(uint64, repeated, tag = "7")]
    resolved_alerts: Vec<u64>,
}

#[derive(Clone, PartialEq, Message)]
struct MeshEntry {
    #[prost(message, optional, tag = "1")]
    entry: Option<PbEntry>,
    #[prost(message, optional, tag = "2")]
    expires_at: Option<PbTimestamp>,
}

/// One integration of one receiver (upstream's `nflogpb.Receiver`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReceiverKey {
    pub group_name: String,
    pub integration: &'static str,
    pub idx: u32,
}

/// The last notification of one group to one integration.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub timestamp: Timestamp,
    pub firing: Vec<u64>,
    pub resolved: Vec<u64>,
}

impl Entry {
    pub fn firing_contains_all(&self, hashes: &[u64]) -> bool {
        hashes.iter().all(|h| self.firing.contains(h))
    }

    pub fn resolved_contains_all(&self, hashes: &[u64]) -> bool {
        hashes.iter().all(|h| self.resolved.contains(h))
    }
}

#[derive(Clone, Debug)]
struct Stored {
    group_key: String,
    receiver: PbReceiver,
    entry: Entry,
    expires_at: Timestamp,
}

/// Upstream's state key, `<group key>:<receiver name>/<integration>/<index>`.
fn state_key(group_key: &str, r: &ReceiverKey) -> String {
    format!("{group_key}:{}/{}/{}", r.group_name, r.integration, r.idx)
}

#[derive(Debug)]
pub struct NotificationLog {
    entries: RwLock<HashMap<String, Stored>>,
    retention: SignedDuration,
}

impl NotificationLog {
    pub fn new(retention: SignedDuration) -> Self {
        NotificationLog {
            entries: RwLock::default(),
            retention,
        }
    }

    pub fn query(&self, group_key: &str, receiver: &ReceiverKey) -> Option<Entry> {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&state_key(group_key, receiver))
            .map(|s| s.entry.clone())
    }

    /// Records a notification; the entry is kept for the retention after `now`.
    pub fn log(&self, group_key: &str, receiver: &ReceiverKey, entry: Entry, now: Timestamp) {
        let stored = Stored {
            group_key: group_key.to_owned(),
            receiver: PbReceiver {
                group_name: receiver.group_name.clone(),
                integration: receiver.integration.to_owned(),
                idx: receiver.idx,
            },
            entry,
            expires_at: now.saturating_add(self.retention).unwrap_or(Timestamp::MAX),
        };
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(state_key(group_key, receiver), stored);
    }

    pub fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets the entries whose retention passed; returns how many went.
    pub fn gc(&self, now: Timestamp) -> usize {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let before = entries.len();
        entries.retain(|_, s| s.expires_at >= now);
        before - entries.len()
    }

    /// Writes the snapshot atomically; returns its size in bytes.
    pub fn save(&self, path: &Path) -> Result<usize, SnapshotError> {
        let mut out = Vec::new();
        for s in self
            .entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            let mesh = MeshEntry {
                entry: Some(PbEntry {
                    group_key: s.group_key.clone().into_bytes(),
                    receiver: Some(s.receiver.clone()),
                    timestamp: to_pb(s.entry.timestamp),
                    firing_alerts: s.entry.firing.clone(),
                    resolved_alerts: s.entry.resolved.clone(),
                }),
                expires_at: to_pb(s.expires_at),
            };
            mesh.encode_length_delimited(&mut out)
                .expect("a Vec grows as needed");
        }
        write(path, &out)?;
        Ok(out.len())
    }

    /// Loads a snapshot (a missing file is an empty log), skipping expired entries; returns
    /// how many entries were loaded.
    pub fn load(&self, path: &Path, now: Timestamp) -> Result<usize, SnapshotError> {
        let bytes = read_bytes(path)?;
        let mut rest = bytes.as_slice();
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let mut loaded = 0;
        while !rest.is_empty() {
            let mesh = MeshEntry::decode_length_delimited(&mut rest).map_err(|e| {
                SnapshotError::Decode {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                }
            })?;
            let expires_at = from_pb(mesh.expires_at.as_ref());
            let Some(pb) = mesh.entry.filter(|_| expires_at >= now) else {
                continue;
            };
            let receiver = pb.receiver.unwrap_or_default();
            let group_key = String::from_utf8_lossy(&pb.group_key).into_owned();
            let key = format!(
                "{group_key}:{}/{}/{}",
                receiver.group_name, receiver.integration, receiver.idx
            );
            entries.insert(
                key,
                Stored {
                    group_key,
                    receiver,
                    entry: Entry {
                        timestamp: from_pb(pb.timestamp.as_ref()),
                        firing: pb.firing_alerts,
                        resolved: pb.resolved_alerts,
                    },
                    expires_at,
                },
            );
            loaded += 1;
        }
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receiver() -> ReceiverKey {
        ReceiverKey {
            group_name: "team".into(),
            integration: "webhook",
            idx: 0,
        }
    }

    #[test]
    fn snapshot_round_trips_and_drops_expired_entries() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let log = NotificationLog::new(SignedDuration::from_hours(1));
        let entry = Entry {
            timestamp: now,
            firing: vec![1, 2],
            resolved: vec![3],
        };
        log.log("{}:{a=\"b\"}", &receiver(), entry.clone(), now);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nflog");
        assert!(log.save(&path).unwrap() > 0);

        let again = NotificationLog::new(SignedDuration::from_hours(1));
        assert_eq!(again.load(&path, now).unwrap(), 1);
        assert_eq!(again.query("{}:{a=\"b\"}", &receiver()), Some(entry));
        assert_eq!(again.query("{}:{}", &receiver()), None);

        let late = NotificationLog::new(SignedDuration::from_hours(1));
        let later = now + SignedDuration::from_hours(2);
        assert_eq!(late.load(&path, later).unwrap(), 0);
        assert_eq!(log.gc(later), 1);
        assert!(log.is_empty());
    }
}
