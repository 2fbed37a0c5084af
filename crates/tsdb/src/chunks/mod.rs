//! Chunk segment files: the `chunks/000001`, `chunks/000002`, … files of a block, byte-compatible
//! with upstream's `tsdb/chunks` as documented in prometheus `tsdb/docs/format/chunks.md`:
//!
//! ```text
//! magic 0x85BD40DD (4 bytes, big-endian) | version 1 (1 byte) | padding (3 zero bytes)
//! then per chunk: data length uvarint | encoding (1 byte) | data | CRC32-Castagnoli (4 bytes, BE)
//! ```
//!
//! The checksum covers the encoding byte and the data. A chunk is addressed by a [`ChunkRef`]:
//! the 0-based position of its segment among the directory's segment files, and its byte offset.

mod reader;
mod writer;

use std::path::PathBuf;

use crate::chunkenc::ChunkError;

pub use reader::{ChunkReader, RawChunk};
pub use writer::ChunkWriter;

pub const MAGIC: u32 = 0x85BD_40DD;
pub const FORMAT_V1: u8 = 1;
/// Magic, version and padding.
pub const SEGMENT_HEADER_LEN: usize = 8;
/// Upstream's default segment size cut-off.
pub const DEFAULT_SEGMENT_SIZE: u64 = 512 * 1024 * 1024;
/// Upstream budgets the length field at its widest 32-bit varint when deciding where to cut.
const MAX_LEN_FIELD: u64 = 5;
const CRC_LEN: usize = 4;

/// Where a chunk lives: segment index in the high 32 bits, byte offset in the low 32 bits
/// (upstream `chunks.BlockChunkRef`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkRef(pub u64);

impl ChunkRef {
    pub fn new(segment: u32, offset: u32) -> Self {
        Self(u64::from(segment) << 32 | u64::from(offset))
    }

    pub fn segment(self) -> u32 {
        (self.0 >> 32) as u32
    }

    pub fn offset(self) -> u32 {
        self.0 as u32
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a chunk segment file (magic {found:#010x})")]
    BadMagic { path: PathBuf, found: u32 },
    #[error("{path}: unsupported chunk segment format version {version}")]
    BadVersion { path: PathBuf, version: u8 },
    #[error("{path}: shorter than the segment header")]
    ShortHeader { path: PathBuf },
    #[error("chunk ref {0:#x}: no such segment")]
    NoSegment(u64),
    #[error("chunk ref {0:#x}: offset lies outside the segment or the chunk runs past its end")]
    OutOfBounds(u64),
    #[error(
        "chunk ref {ref_:#x}: checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
    )]
    Checksum {
        ref_: u64,
        stored: u32,
        computed: u32,
    },
    #[error("chunk ref {ref_:#x}: {source}")]
    Chunk {
        ref_: u64,
        #[source]
        source: ChunkError,
    },
    #[error("chunk of {0} bytes does not fit the 32-bit offsets of a chunk ref")]
    TooLarge(usize),
    #[error("too many segment files for 32-bit segment indexes")]
    TooManySegments,
}

impl SegmentError {
    fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { op, path, source }
    }
}

/// Segment file name for a sequence number, as upstream spells it (`%06d`).
fn segment_name(seq: u64) -> String {
    format!("{seq:06}")
}

/// The segment files of `dir`, sorted by sequence number: every all-digit file name (temporary
/// files of an unfinished writer are therefore skipped).
fn segment_files(dir: &std::path::Path) -> Result<Vec<(u64, PathBuf)>, SegmentError> {
    let entries = std::fs::read_dir(dir).map_err(SegmentError::io("list", dir))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(SegmentError::io("list", dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(seq) = name.parse() {
            files.push((seq, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests;
