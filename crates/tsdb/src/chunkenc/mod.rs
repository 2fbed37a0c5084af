//! Chunk encodings, byte-compatible with upstream's `tsdb/chunkenc` as documented in
//! `tsdb/docs/format/chunks.md` of prometheus/prometheus.
//!
//! A chunk is a self-contained, compressed run of samples of one series. Chunks are what the head
//! keeps in memory, what blocks store on disk, and what queries decode, so both the bit layout and
//! the decoding speed matter.

mod bstream;
pub(crate) mod histogram;
pub(crate) mod histogram_append;
mod histogram_write;
mod samples;
mod varbit;
mod xor;

pub use histogram::{decode_float_histograms, decode_histograms};
pub use histogram_write::{
    FloatHistogramEncoder, HistogramEncoder, encode_float_histograms, encode_histograms,
};
pub use samples::{EncodedChunk, decode_samples, encode_samples};
pub use xor::{XorAppender, XorChunk, XorIterator};

/// Chunk encodings and iterator states are the storage contract's (`pm_storage`), so chunks
/// written here are handed to queriers and remote read without translation.
pub use pm_storage::{ChunkEncoding, ValueType};

/// Reads an on-disk encoding byte.
pub(crate) fn encoding_from_u8(b: u8) -> Result<ChunkEncoding, ChunkError> {
    ChunkEncoding::from_u8(b).ok_or(ChunkError::UnknownEncoding(b))
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
    #[error("a histogram's schema, zero threshold, spans or custom bounds differ from the chunk's")]
    LayoutChange,
    #[error("only stale markers may follow a stale marker in a histogram chunk")]
    AfterStaleMarker,
    #[error("sample at {t} is not after the chunk's last sample at {last}")]
    OutOfOrder { t: i64, last: i64 },
}
