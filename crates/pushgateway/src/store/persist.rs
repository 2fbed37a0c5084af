//! The persistence file: our own format, not upstream's gob (see docs/pushgateway.md).
//!
//! Layout: the 8-byte magic `PMPUSHGW`, a little-endian `u32` format version (1), then one
//! length-delimited protobuf `PersistedGroup` per group. Written to a temporary file beside the
//! target, fsynced and renamed over it, so a crash leaves the old or the new file, never a mix.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use pm_common::expfmt::dto;
use prost::Message as _;

use super::{Group, StoredFamily};

const MAGIC: &[u8; 8] = b"PMPUSHGW";
const VERSION: u32 = 1;

#[derive(Clone, PartialEq, prost::Message)]
struct PersistedGroup {
    #[prost(message, repeated, tag = "1")]
    labels: Vec<dto::LabelPair>,
    #[prost(message, repeated, tag = "2")]
    families: Vec<PersistedFamily>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PersistedFamily {
    /// Unix nanoseconds of the push that stored the family; absent for "never".
    #[prost(int64, optional, tag = "1")]
    timestamp_ns: Option<i64>,
    #[prost(message, optional, tag = "2")]
    family: Option<dto::MetricFamily>,
}

#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a pushgateway persistence file of this format (bad header)")]
    Header { path: PathBuf },
    #[error("{path}: unsupported format version {version}")]
    Version { path: PathBuf, version: u32 },
    #[error("{path}: corrupt group record at byte {offset}: {source}")]
    Corrupt {
        path: PathBuf,
        offset: usize,
        source: prost::DecodeError,
    },
}

/// Serializes groups into the file format.
pub fn encode(groups: &[Group]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * groups.len() + 12);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    for group in groups {
        let record = PersistedGroup {
            labels: group
                .labels
                .iter()
                .map(|(n, v)| dto::LabelPair {
                    name: Some(n.clone()),
                    value: Some(v.clone()),
                })
                .collect(),
            families: group
                .families()
                .iter()
                .map(|stored| PersistedFamily {
                    timestamp_ns: stored
                        .timestamp
                        .map(|t| i64::try_from(t.as_nanosecond()).unwrap_or(i64::MAX)),
                    family: Some(stored.family()),
                })
                .collect(),
        };
        // Encoding into a Vec grows it as needed, so this cannot fail.
        let _ = record.encode_length_delimited(&mut out);
    }
    out
}

/// Parses the file format; `path` only names the file in errors.
pub fn decode(path: &Path, data: &[u8]) -> Result<Vec<Group>, PersistError> {
    let path = || path.to_owned();
    if data.len() < 12 || &data[..8] != MAGIC {
        return Err(PersistError::Header { path: path() });
    }
    let version = u32::from_le_bytes([data[8], data[9], data[10], data[11]]);
    if version != VERSION {
        return Err(PersistError::Version {
            path: path(),
            version,
        });
    }
    let mut rest = &data[12..];
    let mut groups = Vec::new();
    while !rest.is_empty() {
        let offset = data.len() - rest.len();
        let record = PersistedGroup::decode_length_delimited(&mut rest).map_err(|source| {
            PersistError::Corrupt {
                path: path(),
                offset,
                source,
            }
        })?;
        let labels: BTreeMap<String, String> = record
            .labels
            .into_iter()
            .map(|p| (p.name.unwrap_or_default(), p.value.unwrap_or_default()))
            .collect();
        let families = record
            .families
            .into_iter()
            .filter_map(|f| {
                let family = f.family?;
                let timestamp = f
                    .timestamp_ns
                    .and_then(|ns| Timestamp::from_nanosecond(i128::from(ns)).ok());
                Some(StoredFamily::new(timestamp, &family))
            })
            .collect();
        groups.push(Group::new(labels, families));
    }
    Ok(groups)
}

/// Writes `data` to `path` atomically: temporary file in the same directory, fsync, rename,
/// fsync of the directory.
pub fn write_atomically(path: &Path, data: &[u8]) -> Result<(), PersistError> {
    let io = |source| PersistError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(format!(".in_progress.{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(data)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Loads the file at `path`: no file is an empty store. A file that cannot be parsed is
/// renamed to `<path>.corrupt-<unix seconds>` (so the next write does not destroy it) and the
/// error returned names both.
pub fn load(path: &Path) -> Result<Vec<Group>, LoadError> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(LoadError::Read(PersistError::Io {
                path: path.to_owned(),
                source,
            }));
        }
    };
    decode(path, &data).map_err(|error| {
        let mut aside = path.as_os_str().to_owned();
        aside.push(format!(".corrupt-{}", Timestamp::now().as_second()));
        let aside = PathBuf::from(aside);
        match std::fs::rename(path, &aside) {
            Ok(()) => LoadError::Corrupt { error, aside },
            Err(_) => LoadError::Read(error),
        }
    })
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("could not load persisted metrics: {0}")]
    Read(PersistError),
    #[error("could not load persisted metrics: {error}; the file was moved to {}", aside.display())]
    Corrupt { error: PersistError, aside: PathBuf },
}
