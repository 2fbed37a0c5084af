//! The block index, upstream's format v2 (prometheus `tsdb/docs/format/index.md`): symbol table,
//! 16-byte aligned series entries whose position divided by 16 is their reference, per-name
//! label indices (written for old readers, unused by new ones), postings lists, their offset
//! tables and a table of contents, each section checksummed with CRC32-Castagnoli.

mod postings;
mod reader;
mod writer;

use std::path::PathBuf;

use crate::encoding::DecodeError;

pub use postings::{intersect, merge, without};
pub use reader::IndexReader;
pub use writer::IndexWriter;

pub const MAGIC: u32 = 0xBAAA_D700;
pub const FORMAT_V2: u8 = 2;
/// Magic and version.
const HEADER_LEN: usize = 5;
/// Six 8-byte section offsets and a checksum.
const TOC_LEN: usize = 6 * 8 + 4;
/// Series entries start at multiples of this, so `offset / 16` fits the 32-bit postings.
pub const SERIES_ALIGN: u64 = 16;

/// The name and value of the postings list holding every series.
pub const ALL_POSTINGS_KEY: (&str, &str) = ("", "");

/// A chunk as the index records it: time range and where its bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkIndexMeta {
    pub min_time: i64,
    pub max_time: i64,
    /// A [`crate::chunks::ChunkRef`] value.
    pub chunk_ref: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("index is too short to hold a header and table of contents ({0} bytes)")]
    TooShort(usize),
    #[error("not an index file (magic {0:#010x})")]
    BadMagic(u32),
    #[error("unsupported index format version {0}")]
    BadVersion(u8),
    #[error("index {section}: {source}")]
    Decode {
        section: &'static str,
        #[source]
        source: DecodeError,
    },
    #[error("symbol reference {0} is out of range")]
    UnknownSymbol(u32),
    #[error("series reference {0} is out of range")]
    UnknownSeries(u64),
    #[error("symbol {0:?} added out of order or twice")]
    SymbolOrder(String),
    #[error("symbol {0:?} used by a series was not added")]
    MissingSymbol(String),
    #[error("series {0} added out of order or twice")]
    SeriesOrder(String),
    #[error("index grew past the 32-bit series references it can address")]
    TooLarge,
}

impl IndexError {
    fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { op, path, source }
    }

    fn decode(section: &'static str) -> impl FnOnce(DecodeError) -> Self {
        move |source| Self::Decode { section, source }
    }
}

#[cfg(test)]
mod tests;
