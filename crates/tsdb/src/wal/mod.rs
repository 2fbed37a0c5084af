//! The write-ahead log, in upstream's on-disk format (`tsdb/docs/format/wal.md`), so a
//! Prometheus data directory's `wal/` can be replayed by either implementation.
//!
//! The log is a directory of numbered segment files (`00000000`, `00000001`, …) of at most
//! [`DEFAULT_SEGMENT_SIZE`] bytes, each a sequence of [`PAGE_SIZE`] pages. A record is split
//! into fragments that never cross a page; each fragment carries a 7-byte header (type and
//! compression flags, big-endian length, CRC32-Castagnoli of the fragment's data). A page whose
//! rest cannot hold a header is zero-padded; a record never spans segments.
//!
//! Checkpoints (`checkpoint.NNNNNNNN`, see [`checkpoint`]) are logs of the same format holding
//! what a truncated prefix of segments still contributes to the head.

pub mod checkpoint;
mod metrics;
mod reader;
#[cfg(test)]
mod tests;
pub mod watcher;
mod writer;

use std::io;
use std::path::{Path, PathBuf};

pub use metrics::WalMetrics;
pub use reader::{Corruption, LogReader};
pub use writer::{Compression, Wal, WalOptions, repair};

pub const PAGE_SIZE: usize = 32 * 1024;
pub const DEFAULT_SEGMENT_SIZE: usize = 128 * 1024 * 1024;
/// Type byte, 2-byte length, 4-byte CRC.
pub const RECORD_HEADER_SIZE: usize = 7;

/// Fragment types, in the low bits of a fragment's type byte.
const FRAG_PAGE_TERM: u8 = 0;
const FRAG_FULL: u8 = 1;
const FRAG_FIRST: u8 = 2;
const FRAG_MIDDLE: u8 = 3;
const FRAG_LAST: u8 = 4;
const FRAG_TYPE_MASK: u8 = 0b0000_0111;
const SNAPPY_FLAG: u8 = 0b0000_1000;
const ZSTD_FLAG: u8 = 0b0001_0000;

#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(transparent)]
    Corruption(#[from] Corruption),
    #[error("segments are not sequential: {0} follows {1}")]
    SegmentGap(u32, u32),
    #[error("record of {len} bytes does not fit in a segment of {segment_size} bytes")]
    RecordTooLarge { len: usize, segment_size: usize },
    #[error("segment size {0} is not a positive multiple of the page size {PAGE_SIZE}")]
    BadSegmentSize(usize),
}

impl WalError {
    pub(crate) fn io<'a>(
        op: &'static str,
        path: &'a Path,
    ) -> impl FnOnce(io::Error) -> WalError + 'a {
        move |source| WalError::Io {
            op,
            path: path.to_owned(),
            source,
        }
    }
}

pub fn segment_name(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("{n:08}"))
}

/// The segment numbers in `dir`, ascending. Files whose names are not numbers are ignored, as
/// upstream does, so leftovers like `checkpoint.*` directories do not count.
pub fn list_segments(dir: &Path) -> Result<Vec<u32>, WalError> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(WalError::io("read directory", dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(WalError::io("read directory", dir))?;
        if let Some(n) = entry
            .file_name()
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
        {
            out.push(n);
        }
    }
    out.sort_unstable();
    for w in out.windows(2) {
        if w[1] != w[0] + 1 {
            return Err(WalError::SegmentGap(w[1], w[0]));
        }
    }
    Ok(out)
}
