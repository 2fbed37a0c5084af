//! Chunk encodings, byte-compatible with upstream's `tsdb/chunkenc` as documented in
//! `tsdb/docs/format/chunks.md` of prometheus/prometheus.
//!
//! A chunk is a self-contained, compressed run of samples of one series. Chunks are what the head
//! keeps in memory, what blocks store on disk, and what queries decode, so both the bit layout and
//! the decoding speed matter.

mod bstream;
mod xor;

pub use xor::{XorAppender, XorChunk, XorIterator};

/// The encoding byte stored before each chunk in segment files (upstream `chunkenc.Encoding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Encoding {
    /// Gorilla-style float chunks.
    Xor = 1,
    /// Integer native histogram chunks.
    Histogram = 2,
    /// Float native histogram chunks.
    FloatHistogram = 3,
}

impl Encoding {
    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

impl TryFrom<u8> for Encoding {
    type Error = ChunkError;

    fn try_from(b: u8) -> Result<Self, ChunkError> {
        match b {
            1 => Ok(Self::Xor),
            2 => Ok(Self::Histogram),
            3 => Ok(Self::FloatHistogram),
            other => Err(ChunkError::UnknownEncoding(other)),
        }
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Xor => "XOR",
            Self::Histogram => "histogram",
            Self::FloatHistogram => "floathistogram",
        })
    }
}

/// What an iterator is positioned on (upstream `chunkenc.ValueType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// Exhausted, or stopped on an error.
    None,
    Float,
    Histogram,
    FloatHistogram,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ChunkError {
    #[error("chunk data ends in the middle of a sample")]
    Truncated,
    #[error("chunk is shorter than its 2-byte sample count header")]
    MissingHeader,
    #[error("varint in chunk overflows 64 bits")]
    VarintOverflow,
    #[error("chunk value reuses the previous leading/trailing zero counts before any were set")]
    NoPreviousWindow,
    #[error("unknown chunk encoding {0}")]
    UnknownEncoding(u8),
    #[error("chunk is full: {0} samples is the most a 2-byte count can hold")]
    Full(u16),
    #[error("sample at {t} is not after the chunk's last sample at {last}")]
    OutOfOrder { t: i64, last: i64 },
}
