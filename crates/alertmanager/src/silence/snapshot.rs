//! Silence snapshots in upstream's on-disk format (`<storage.path>/silences`): a sequence of
//! length-delimited `silencepb.MeshSilence` protobuf messages, so a data directory moves
//! between upstream's Alertmanager and ours in either direction.

use std::io;
use std::path::Path;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use prost::Message;

use super::Silence;
use crate::labels::{MatchType, Matcher};

/// `google.protobuf.Timestamp`, shared with the notification log's snapshot.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct PbTimestamp {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

#[derive(Clone, PartialEq, Message)]
struct PbMatcher {
    /// EQUAL = 0, REGEXP = 1, NOT_EQUAL = 2, NOT_REGEXP = 3.
    #[prost(int32, tag = "1")]
    r#type: i32,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(string, tag = "3")]
    pattern: String,
}

#[derive(Clone, PartialEq, Message)]
struct PbSilence {
    #[prost(string, tag = "1")]
    id: String,
    #[prost(message, repeated, tag = "2")]
    matchers: Vec<PbMatcher>,
    #[prost(message, optional, tag = "3")]
    starts_at: Option<PbTimestamp>,
    #[prost(message, optional, tag = "4")]
    ends_at: Option<PbTimestamp>,
    #[prost(message, optional, tag = "5")]
    updated_at: Option<PbTimestamp>,
    #[prost(string, tag = "8")]
    created_by: String,
    #[prost(string, tag = "9")]
    comment: String,
}

#[derive(Clone, PartialEq, Message)]
struct MeshSilence {
    #[prost(message, optional, tag = "1")]
    silence: Option<PbSilence>,
    /// When the silence may be forgotten: its end plus the retention.
    #[prost(message, optional, tag = "2")]
    expires_at: Option<PbTimestamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("reading {path}: {source}")]
    Read { path: String, source: io::Error },
    #[error("writing {path}: {source}")]
    Write { path: String, source: io::Error },
    #[error("decoding {path}: {reason}")]
    Decode { path: String, reason: String },
}

pub(crate) fn to_pb(t: Timestamp) -> Option<PbTimestamp> {
    Some(PbTimestamp {
        seconds: t.as_second(),
        nanos: t.subsec_nanosecond(),
    })
}

pub(crate) fn from_pb(t: Option<&PbTimestamp>) -> Timestamp {
    t.and_then(|t| Timestamp::new(t.seconds, t.nanos).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

const TYPES: [MatchType; 4] = [
    MatchType::Equal,
    MatchType::Regexp,
    MatchType::NotEqual,
    MatchType::NotRegexp,
];

/// Encodes the silences, each with its expiry (end + retention).
pub fn encode(silences: &[Arc<Silence>], retention: SignedDuration) -> Vec<u8> {
    let mut out = Vec::new();
    for s in silences {
        let mesh = MeshSilence {
            silence: Some(PbSilence {
                id: s.id.clone(),
                matchers: s
                    .matchers
                    .iter()
                    .map(|m| PbMatcher {
                        r#type: TYPES.iter().position(|t| *t == m.match_type()).unwrap_or(0) as i32,
                        name: m.name().to_owned(),
                        pattern: m.value().to_owned(),
                    })
                    .collect(),
                starts_at: to_pb(s.starts_at),
                ends_at: to_pb(s.ends_at),
                updated_at: to_pb(s.updated_at),
                created_by: s.created_by.clone(),
                comment: s.comment.clone(),
            }),
            expires_at: to_pb(s.ends_at.saturating_add(retention).unwrap_or(s.ends_at)),
        };
        mesh.encode_length_delimited(&mut out)
            .expect("a Vec grows as needed");
    }
    out
}

/// Decodes a snapshot, leaving out silences whose expiry has passed.
fn decode(mut bytes: &[u8], now: Timestamp) -> Result<Vec<Silence>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let mesh = MeshSilence::decode_length_delimited(&mut bytes).map_err(|e| e.to_string())?;
        if from_pb(mesh.expires_at.as_ref()) < now {
            continue;
        }
        let Some(pb) = mesh.silence else { continue };
        let matchers = pb
            .matchers
            .iter()
            .map(|m| {
                let t = usize::try_from(m.r#type)
                    .ok()
                    .and_then(|i| TYPES.get(i))
                    .ok_or_else(|| {
                        format!("silence {}: unknown matcher type {}", pb.id, m.r#type)
                    })?;
                Matcher::new(*t, &m.name, &m.pattern).map_err(|e| format!("silence {}: {e}", pb.id))
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push(Silence {
            matchers,
            starts_at: from_pb(pb.starts_at.as_ref()),
            ends_at: from_pb(pb.ends_at.as_ref()),
            updated_at: from_pb(pb.updated_at.as_ref()),
            id: pb.id,
            created_by: pb.created_by,
            comment: pb.comment,
        });
    }
    Ok(out)
}

/// Writes the snapshot atomically: a temporary file beside it, synced, then renamed over it.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), SnapshotError> {
    let err = |source| SnapshotError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&tmp).map_err(err)?;
        f.write_all(bytes).map_err(err)?;
        f.sync_all().map_err(err)?;
    }
    std::fs::rename(&tmp, path).map_err(err)
}

/// The bytes of a snapshot file; a missing file is an empty snapshot.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, SnapshotError> {
    match std::fs::read(path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(SnapshotError::Read {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Reads a silences snapshot.
pub fn read(path: &Path, now: Timestamp) -> Result<Vec<Silence>, SnapshotError> {
    let bytes = read_bytes(path)?;
    decode(&bytes, now).map_err(|reason| SnapshotError::Decode {
        path: path.display().to_string(),
        reason,
    })
}
