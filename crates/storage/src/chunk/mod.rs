//! Chunk-level read access, for consumers that want encoded data rather than samples: remote
//! read with streamed chunks, compaction, and the TSDB's own block readers.
//!
//! This crate defines only the surface, plus [`SeriesSetFromChunks`], which reads chunk series as
//! ordinary series; the encodings (XOR, histogram, float histogram, as in upstream's
//! `tsdb/chunkenc`) live in the TSDB.

mod series;

pub use series::{ChunkedSeries, ChunksIterator, SeriesSetFromChunks, fill_from_disjoint_chunks};

use std::sync::Arc;

use pm_common::model::{Labels, Matcher};

use crate::error::{StorageError, Warnings};
use crate::iterator::SampleIterator;
use crate::query::{LabelQuerier, SelectHints};
use crate::series::{EmptySeriesSet, ErrorSeriesSet};

/// How a chunk's bytes are encoded. The numbers are upstream's on-disk and remote-read
/// encoding identifiers (`chunkenc.Encoding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ChunkEncoding {
    Xor = 1,
    Histogram = 2,
    FloatHistogram = 3,
}

impl ChunkEncoding {
    /// The encoding with upstream's identifier `b`, if any.
    pub fn from_u8(b: u8) -> Option<Self> {
        match b {
            1 => Some(ChunkEncoding::Xor),
            2 => Some(ChunkEncoding::Histogram),
            3 => Some(ChunkEncoding::FloatHistogram),
            _ => None,
        }
    }

    /// Upstream's names (`XOR`, `histogram`, `floathistogram`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChunkEncoding::Xor => "XOR",
            ChunkEncoding::Histogram => "histogram",
            ChunkEncoding::FloatHistogram => "floathistogram",
        }
    }
}

/// An encoded run of samples of one series, immutable once handed out.
pub trait Chunk: Send + Sync {
    fn encoding(&self) -> ChunkEncoding;

    /// The encoded bytes, exactly as stored on disk and sent over remote read.
    fn bytes(&self) -> &[u8];

    fn num_samples(&self) -> usize;

    /// Decodes the samples, following the [`SampleIterator`] contract. The iterator owns (a
    /// share of) the bytes, so it may outlive the borrow of the chunk: implementations keep
    /// their bytes reference-counted (or in a shared mapping) to make this cheap.
    fn iter(&self) -> Box<dyn SampleIterator>;

    /// Appends the samples in `[mint, maxt]`, as a fresh [`iter`](Self::iter)'s
    /// [`SampleIterator::fill`] would; encodings the engine reads most override it to decode
    /// straight into the buffers.
    fn fill_range(
        &self,
        mint: i64,
        maxt: i64,
        floats: &mut Vec<pm_common::model::Sample>,
        histograms: &mut Vec<crate::iterator::HistogramSample>,
    ) -> Result<(), crate::error::StorageError> {
        let mut it = self.iter();
        it.fill(mint, maxt, floats, histograms);
        it.err().map_or(Ok(()), |e| Err(e.clone()))
    }
}

/// A chunk and the time range it covers (upstream's `chunks.Meta`, without the storage-private
/// reference).
#[derive(Clone)]
pub struct ChunkMeta {
    /// Timestamp of the first sample (inclusive).
    pub min_time: i64,
    /// Timestamp of the last sample (inclusive).
    pub max_time: i64,
    pub chunk: Arc<dyn Chunk>,
}

/// Iterates over the chunks of one series, sorted by `min_time`. Chunks may overlap (e.g. from
/// overlapping blocks or out-of-order data); readers that need samples merge them.
pub trait ChunkIterator: Send {
    fn next(&mut self) -> Option<ChunkMeta>;

    /// Why iteration stopped early, if it did.
    fn err(&self) -> Option<&StorageError>;
}

/// One series with its chunks.
pub trait ChunkSeries: Send + Sync {
    fn labels(&self) -> &Labels;

    /// A fresh iterator over the series' chunks.
    fn chunks(&self) -> Box<dyn ChunkIterator>;
}

/// The chunk series matching a select; same protocol and ordering as
/// [`SeriesSet`](crate::SeriesSet).
pub trait ChunkSeriesSet: Send {
    fn next(&mut self) -> Option<Box<dyn ChunkSeries>>;

    fn err(&self) -> Option<&StorageError>;

    fn warnings(&self) -> Warnings;
}

/// Selects chunk series over the querier's time range; see [`Querier`](crate::Querier).
pub trait ChunkQuerier: LabelQuerier {
    fn select(
        &self,
        sort: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Box<dyn ChunkSeriesSet>;
}

/// Something that can be queried for encoded chunks.
pub trait ChunkQueryable: Send + Sync {
    /// A chunk querier over `[mint, maxt]` (milliseconds, inclusive); chunks overlapping the
    /// range are returned whole.
    fn chunk_querier(&self, mint: i64, maxt: i64) -> crate::Result<Box<dyn ChunkQuerier>>;
}

#[cfg(test)]
mod tests;

impl ChunkSeriesSet for EmptySeriesSet {
    fn next(&mut self) -> Option<Box<dyn ChunkSeries>> {
        None
    }

    fn err(&self) -> Option<&StorageError> {
        None
    }

    fn warnings(&self) -> Warnings {
        Warnings::new()
    }
}

impl ChunkSeriesSet for ErrorSeriesSet {
    fn next(&mut self) -> Option<Box<dyn ChunkSeries>> {
        None
    }

    fn err(&self) -> Option<&StorageError> {
        Some(&self.0)
    }

    fn warnings(&self) -> Warnings {
        Warnings::new()
    }
}
