//! The `tombstones` file of a block (prometheus `tsdb/docs/format/tombstones.md`): deleted time
//! ranges per series, as `magic | version | (series ref uvarint, mint varint, maxt varint)* |
//! CRC32`, the checksum covering the entries.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::encoding::{DecBuf, DecodeError, EncBuf, check_crc};

pub const MAGIC: u32 = 0x0130_BA30;
pub const FORMAT_V1: u8 = 1;
pub const FILE_NAME: &str = "tombstones";
const HEADER_LEN: usize = 5;

/// A closed time range `[mint, maxt]` in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    pub mint: i64,
    pub maxt: i64,
}

impl Interval {
    pub fn contains(&self, t: i64) -> bool {
        self.mint <= t && t <= self.maxt
    }

    /// Whether the interval covers all of `[mint, maxt]`.
    pub fn covers(&self, mint: i64, maxt: i64) -> bool {
        self.mint <= mint && maxt <= self.maxt
    }
}

/// Deleted intervals per series reference; each series' intervals sorted and disjoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tombstones {
    series: BTreeMap<u64, Vec<Interval>>,
}

impl Tombstones {
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Number of intervals over all series (`stats.numTombstones` in meta.json).
    pub fn num_intervals(&self) -> u64 {
        self.series.values().map(|v| v.len() as u64).sum()
    }

    /// Deleted intervals of series `r`.
    pub fn get(&self, r: u64) -> &[Interval] {
        self.series.get(&r).map_or(&[], Vec::as_slice)
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &[Interval])> {
        self.series.iter().map(|(r, v)| (*r, v.as_slice()))
    }

    /// Marks `iv` deleted for series `r`, merging it with touching or overlapping intervals
    /// (as upstream's `Intervals.Add`).
    pub fn add(&mut self, r: u64, iv: Interval) {
        let list = self.series.entry(r).or_default();
        list.push(iv);
        list.sort_unstable();
        let mut merged: Vec<Interval> = Vec::with_capacity(list.len());
        for iv in list.drain(..) {
            match merged.last_mut() {
                Some(last) if iv.mint <= last.maxt.saturating_add(1) => {
                    last.maxt = last.maxt.max(iv.maxt);
                }
                _ => merged.push(iv),
            }
        }
        *list = merged;
    }

    /// Drops intervals ending before `mint`, and series left without any (upstream's
    /// `MemTombstones.TruncateBefore`, run when the head is truncated).
    pub fn truncate_before(&mut self, mint: i64) {
        self.series.retain(|_, ivs| {
            ivs.retain(|iv| iv.maxt >= mint);
            !ivs.is_empty()
        });
    }

    /// Keeps only the series `keep` accepts.
    pub fn retain_series(&mut self, mut keep: impl FnMut(u64) -> bool) {
        self.series.retain(|r, _| keep(*r));
    }

    /// The encoded file contents.
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = EncBuf::new();
        buf.put_be32(MAGIC);
        buf.put_byte(FORMAT_V1);
        for (r, ivs) in &self.series {
            for iv in ivs {
                buf.put_uvarint(*r);
                buf.put_varint(iv.mint);
                buf.put_varint(iv.maxt);
            }
        }
        buf.put_crc32_of(HEADER_LEN);
        buf.bytes
    }

    pub fn decode(b: &[u8]) -> Result<Self, TombstoneError> {
        if b.len() < HEADER_LEN + 4 {
            return Err(TombstoneError::Decode(DecodeError::Truncated));
        }
        let magic = u32::from_be_bytes(b[..4].try_into().expect("4 bytes"));
        if magic != MAGIC {
            return Err(TombstoneError::BadMagic(magic));
        }
        if b[4] != FORMAT_V1 {
            return Err(TombstoneError::BadVersion(b[4]));
        }
        let body = &b[HEADER_LEN..b.len() - 4];
        check_crc(body, &b[b.len() - 4..])?;
        let mut d = DecBuf::new(body);
        let mut t = Tombstones::default();
        while d.remaining() > 0 {
            let r = d.uvarint()?;
            let mint = d.varint()?;
            let maxt = d.varint()?;
            t.add(r, Interval { mint, maxt });
        }
        Ok(t)
    }

    /// Reads `dir/tombstones`; a missing file means no tombstones, as upstream.
    pub fn read(dir: &Path) -> Result<Self, TombstoneError> {
        let path = dir.join(FILE_NAME);
        match std::fs::read(&path) {
            Ok(b) => Self::decode(&b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(TombstoneError::Io { path, source }),
        }
    }

    /// Writes `dir/tombstones` through a temporary file, fsynced and renamed into place; returns
    /// its size.
    pub fn write(&self, dir: &Path) -> Result<u64, TombstoneError> {
        let path = dir.join(FILE_NAME);
        let tmp = dir.join(format!("{FILE_NAME}.tmp"));
        let bytes = self.encode();
        let io = |path: &PathBuf| {
            let path = path.clone();
            move |source| TombstoneError::Io { path, source }
        };
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(bytes.len() as u64)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TombstoneError {
    #[error("tombstones {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not a tombstones file (magic {0:#010x})")]
    BadMagic(u32),
    #[error("unsupported tombstones format version {0}")]
    BadVersion(u8),
    #[error("tombstones: {0}")]
    Decode(#[from] DecodeError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_merge_and_file_round_trips() {
        let mut t = Tombstones::default();
        t.add(5, Interval { mint: 10, maxt: 20 });
        t.add(5, Interval { mint: 21, maxt: 30 });
        t.add(5, Interval { mint: 50, maxt: 60 });
        t.add(1, Interval { mint: -5, maxt: 5 });
        assert_eq!(
            t.get(5),
            [
                Interval { mint: 10, maxt: 30 },
                Interval { mint: 50, maxt: 60 }
            ]
        );
        assert_eq!(t.num_intervals(), 3);
        let bytes = t.encode();
        assert_eq!(&bytes[..5], &[0x01, 0x30, 0xBA, 0x30, 1]);
        assert_eq!(Tombstones::decode(&bytes).unwrap(), t);

        let dir = tempfile::tempdir().unwrap();
        assert!(Tombstones::read(dir.path()).unwrap().is_empty());
        t.write(dir.path()).unwrap();
        assert_eq!(Tombstones::read(dir.path()).unwrap(), t);

        let mut corrupt = bytes;
        corrupt[6] ^= 0xff;
        assert!(Tombstones::decode(&corrupt).is_err());
        // An empty file is the header and the checksum of nothing.
        assert_eq!(Tombstones::default().encode().len(), 9);
    }
}
