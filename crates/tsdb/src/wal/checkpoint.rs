//! Checkpoints: when the head drops old data, the segments holding it are condensed into a
//! `checkpoint.NNNNNNNN` directory (a log of the same format, `N` the last segment it covers)
//! keeping only what the head still needs, and the segments are deleted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{LogReader, Wal, WalError, WalOptions};
use crate::record::{self, HeadSeriesRef, Record, RecordError};

const PREFIX: &str = "checkpoint.";

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error(transparent)]
    Wal(#[from] WalError),
    #[error("decode record in {path}: {source}")]
    Record { path: PathBuf, source: RecordError },
}

/// The newest complete checkpoint in `wal_dir`, with the last segment it covers.
pub fn last_checkpoint(wal_dir: &Path) -> Result<Option<(PathBuf, u32)>, WalError> {
    Ok(list(wal_dir)?.into_iter().max_by_key(|&(_, n)| n))
}

fn list(wal_dir: &Path) -> Result<Vec<(PathBuf, u32)>, WalError> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(wal_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(WalError::io("read directory", wal_dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(WalError::io("read directory", wal_dir))?;
        let name = entry.file_name();
        // `checkpoint.N.tmp` is an interrupted attempt and never matches.
        if let Some(n) = name
            .to_str()
            .and_then(|s| s.strip_prefix(PREFIX))
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
        {
            out.push((entry.path(), n));
        }
    }
    Ok(out)
}

/// What a checkpoint keeps.
pub struct Retain<'a> {
    /// Whether the head still holds the series.
    pub series: &'a dyn Fn(HeadSeriesRef) -> bool,
    /// Samples, exemplars and tombstones ending before this time are dropped.
    pub mint: i64,
}

/// Writes `checkpoint.{last}` from the previous checkpoint and segments up to `last`, then
/// deletes older checkpoints. The caller deletes the covered segments afterwards
/// ([`Wal::truncate`]`(last + 1)`); a crash in between only leaves redundant segments that
/// replay skips.
pub fn checkpoint(
    wal_dir: &Path,
    last: u32,
    retain: &Retain<'_>,
) -> Result<PathBuf, CheckpointError> {
    let previous = last_checkpoint(wal_dir)?;
    let final_dir = wal_dir.join(format!("{PREFIX}{last:08}"));
    let tmp_dir = wal_dir.join(format!("{PREFIX}{last:08}.tmp"));
    if tmp_dir.exists() {
        std::fs::remove_dir_all(&tmp_dir).map_err(WalError::io("remove", &tmp_dir))?;
    }
    let mut out = Wal::open(&tmp_dir, WalOptions::default())?;
    let mut metadata = HashMap::new();
    let mut buf = Vec::new();
    let mut sources = Vec::new();
    if let Some((dir, _)) = &previous {
        sources.push((dir.clone(), 0..=u32::MAX));
    }
    let first_segment = previous.as_ref().map_or(0, |&(_, n)| n + 1);
    sources.push((wal_dir.to_owned(), first_segment..=last));
    for (dir, range) in sources {
        let mut reader = LogReader::open(&dir, range)?;
        while let Some(rec) = reader.next_record()? {
            let rec = record::decode(rec).map_err(|source| CheckpointError::Record {
                path: dir.clone(),
                source,
            })?;
            buf.clear();
            filter_record(rec, retain, &mut metadata, &mut buf);
            if buf.len() > 1 {
                out.log(&[&buf])?;
            }
        }
    }
    if !metadata.is_empty() {
        let mut latest: Vec<_> = metadata.into_values().collect();
        latest.sort_by_key(|m: &record::RefMetadata| m.r);
        buf.clear();
        record::encode_metadata(&latest, &mut buf);
        out.log(&[&buf])?;
    }
    out.sync()?;
    drop(out);
    std::fs::rename(&tmp_dir, &final_dir).map_err(WalError::io("rename", &tmp_dir))?;
    std::fs::File::open(wal_dir)
        .and_then(|d| d.sync_all())
        .map_err(WalError::io("fsync directory", wal_dir))?;
    for (dir, n) in list(wal_dir)? {
        if n < last {
            std::fs::remove_dir_all(&dir).map_err(WalError::io("remove", &dir))?;
        }
    }
    Ok(final_dir)
}

/// Re-encodes the retained part of `rec` into `buf` (left with at most the type byte when
/// nothing is retained). Metadata is collected instead: only each series' latest survives.
fn filter_record(
    rec: Record,
    retain: &Retain<'_>,
    metadata: &mut HashMap<HeadSeriesRef, record::RefMetadata>,
    buf: &mut Vec<u8>,
) {
    let live = retain.series;
    match rec {
        Record::Series(mut v) => {
            v.retain(|s| live(s.r));
            record::encode_series(&v, buf);
        }
        Record::Samples(mut v) => {
            v.retain(|s| s.t >= retain.mint && live(s.r));
            record::encode_samples(&v, buf);
        }
        Record::Tombstones(mut v) => {
            v.retain(|s| s.maxt >= retain.mint && live(s.r));
            record::encode_tombstones(&v, buf);
        }
        Record::Exemplars(mut v) => {
            v.retain(|s| s.t >= retain.mint && live(s.r));
            record::encode_exemplars(&v, buf);
        }
        Record::Histograms(mut v) => {
            v.retain(|s| s.t >= retain.mint && live(s.r));
            record::encode_histograms(&v, buf);
        }
        Record::FloatHistograms(mut v) => {
            v.retain(|s| s.t >= retain.mint && live(s.r));
            record::encode_float_histograms(&v, buf);
        }
        Record::Metadata(v) => {
            for m in v.into_iter().filter(|m| live(m.r)) {
                metadata.insert(m.r, m);
            }
        }
        // Markers belong to the out-of-order log, which is not checkpointed.
        Record::MmapMarkers(_) => {}
    }
}
