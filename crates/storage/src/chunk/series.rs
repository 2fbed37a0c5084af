//! Reading chunk series as sample series (upstream's `NewSeriesSetFromChunkSeriesSet`), so a
//! storage that serves chunks (a block, a remote-read stream) also serves samples.

use pm_common::model::{FloatHistogram, Histogram, Labels, Sample};

use super::{ChunkMeta, ChunkSeries, ChunkSeriesSet};
use crate::error::{StorageError, Warnings};
use crate::iterator::{EmptyIterator, ErrorIterator, HistogramSample, SampleIterator, ValueType};
use crate::merge::ChainIterator;
use crate::series::{BoxSeries, Series, SeriesSet, fill_range_by_iter};

/// A [`SeriesSet`] over a [`ChunkSeriesSet`]: same series, same order, errors and warnings.
/// Samples are not trimmed to the query range; the chunks' full contents are returned.
pub struct SeriesSetFromChunks {
    inner: Box<dyn ChunkSeriesSet>,
}

impl SeriesSetFromChunks {
    pub fn new(inner: Box<dyn ChunkSeriesSet>) -> Self {
        SeriesSetFromChunks { inner }
    }
}

impl SeriesSet for SeriesSetFromChunks {
    fn next(&mut self) -> Option<BoxSeries> {
        let series = self.inner.next()?;
        Some(Box::new(ChunkedSeries::new(series)))
    }

    fn err(&self) -> Option<&StorageError> {
        self.inner.err()
    }

    fn warnings(&self) -> Warnings {
        self.inner.warnings()
    }
}

/// A chunk series read as samples.
pub struct ChunkedSeries {
    inner: Box<dyn ChunkSeries>,
}

impl ChunkedSeries {
    pub fn new(inner: Box<dyn ChunkSeries>) -> Self {
        ChunkedSeries { inner }
    }
}

impl Series for ChunkedSeries {
    fn labels(&self) -> &Labels {
        self.inner.labels()
    }

    /// Chunks that do not overlap (the common case) are decoded one after another, and seeks
    /// skip whole chunks by their time range without decoding them; overlapping chunks are
    /// merged as identical series are ([`ChainIterator`]).
    fn iter(&self) -> Box<dyn SampleIterator> {
        let mut it = self.inner.chunks();
        let mut chunks = Vec::new();
        while let Some(c) = it.next() {
            chunks.push(c);
        }
        if let Some(e) = it.err() {
            return Box::new(ErrorIterator(e.clone()));
        }
        let disjoint = chunks.windows(2).all(|w| w[0].max_time < w[1].min_time);
        if disjoint {
            Box::new(ChunksIterator::new(chunks))
        } else {
            Box::new(ChainIterator::new(
                chunks.iter().map(|c| c.chunk.iter()).collect(),
            ))
        }
    }

    /// Chunks that do not overlap are read one after another by their own batch reads (what
    /// the chunk-by-chunk iterator returns), skipping those outside `[mint, maxt]`; overlapping
    /// ones go through the merging iterator.
    fn fill_range(
        &self,
        mint: i64,
        maxt: i64,
        floats: &mut Vec<Sample>,
        histograms: &mut Vec<HistogramSample>,
    ) -> Result<(), StorageError> {
        let mut it = self.inner.chunks();
        let mut chunks = Vec::new();
        while let Some(c) = it.next() {
            chunks.push(c);
        }
        if let Some(e) = it.err() {
            return Err(e.clone());
        }
        if fill_from_disjoint_chunks(&chunks, mint, maxt, floats, histograms)? {
            return Ok(());
        }
        fill_range_by_iter(self, mint, maxt, floats, histograms)
    }
}

/// Fills `[mint, maxt]` from `chunks` when they are in time order and do not overlap, each
/// overlapping chunk by its own batch read; `false` (nothing filled) when they overlap, for
/// the caller's merging path.
pub fn fill_from_disjoint_chunks(
    chunks: &[ChunkMeta],
    mint: i64,
    maxt: i64,
    floats: &mut Vec<Sample>,
    histograms: &mut Vec<HistogramSample>,
) -> Result<bool, StorageError> {
    if !chunks.windows(2).all(|w| w[0].max_time < w[1].min_time) {
        return Ok(false);
    }
    for c in chunks {
        if c.max_time < mint {
            continue;
        }
        if c.min_time > maxt {
            break;
        }
        c.chunk.fill_range(mint, maxt, floats, histograms)?;
    }
    Ok(true)
}

/// Iterates over time-ordered, non-overlapping chunks, opening each only when reached.
pub struct ChunksIterator {
    chunks: Vec<ChunkMeta>,
    /// Index of the next chunk to open.
    next_chunk: usize,
    current: Box<dyn SampleIterator>,
    /// Type of the sample `current` stands on.
    current_type: ValueType,
}

impl ChunksIterator {
    /// `chunks` must be sorted by time and must not overlap.
    pub fn new(chunks: Vec<ChunkMeta>) -> Self {
        debug_assert!(chunks.windows(2).all(|w| w[0].max_time < w[1].min_time));
        ChunksIterator {
            chunks,
            next_chunk: 0,
            current: Box::new(EmptyIterator),
            current_type: ValueType::None,
        }
    }

    /// Opens the next chunk; false when there is none.
    fn open_next(&mut self) -> bool {
        match self.chunks.get(self.next_chunk) {
            Some(c) => {
                self.current = c.chunk.iter();
                self.next_chunk += 1;
                true
            }
            None => false,
        }
    }
}

impl SampleIterator for ChunksIterator {
    fn next(&mut self) -> ValueType {
        loop {
            self.current_type = self.current.next();
            if self.current_type.is_some() || self.current.err().is_some() || !self.open_next() {
                return self.current_type;
            }
        }
    }

    fn seek(&mut self, t: i64) -> ValueType {
        if self.current_type.is_some() && self.current.at_t() >= t {
            return self.current_type;
        }
        // The open chunk may still hold the answer.
        let open_reaches_t = self
            .next_chunk
            .checked_sub(1)
            .is_some_and(|i| self.chunks[i].max_time >= t);
        if open_reaches_t {
            self.current_type = self.current.seek(t);
            if self.current_type.is_some() || self.current.err().is_some() {
                return self.current_type;
            }
        }
        // Skip chunks that end before `t` without decoding them.
        while self
            .chunks
            .get(self.next_chunk)
            .is_some_and(|c| c.max_time < t)
        {
            self.next_chunk += 1;
        }
        loop {
            if !self.open_next() {
                self.current = Box::new(EmptyIterator);
                self.current_type = ValueType::None;
                return ValueType::None;
            }
            self.current_type = self.current.seek(t);
            if self.current_type.is_some() || self.current.err().is_some() {
                return self.current_type;
            }
        }
    }

    fn at(&self) -> (i64, f64) {
        self.current.at()
    }

    fn at_histogram(&self, h: &mut Histogram) -> i64 {
        self.current.at_histogram(h)
    }

    fn at_float_histogram(&self, fh: &mut FloatHistogram) -> i64 {
        self.current.at_float_histogram(fh)
    }

    fn at_t(&self) -> i64 {
        self.current.at_t()
    }

    fn err(&self) -> Option<&StorageError> {
        self.current.err()
    }
}
