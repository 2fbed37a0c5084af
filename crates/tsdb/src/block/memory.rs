//! Turning float samples held in memory into a chunk series set.

use std::sync::Arc;

use pm_common::model::Labels;
use pm_storage::{ChunkIterator, ChunkMeta, ChunkSeries, ChunkSeriesSet, StorageError, Warnings};

use crate::querier::BlockChunk;

/// Samples per chunk, as upstream's head cuts them.
const CHUNK_SAMPLES: usize = 120;

struct VecChunkSeries {
    labels: Labels,
    chunks: Vec<ChunkMeta>,
}

impl ChunkSeries for VecChunkSeries {
    fn labels(&self) -> &Labels {
        &self.labels
    }

    fn chunks(&self) -> Box<dyn ChunkIterator> {
        Box::new(VecChunks(self.chunks.clone().into_iter()))
    }
}

struct VecChunks(std::vec::IntoIter<ChunkMeta>);

impl ChunkIterator for VecChunks {
    fn next(&mut self) -> Option<ChunkMeta> {
        self.0.next()
    }

    fn err(&self) -> Option<&StorageError> {
        None
    }
}

/// A chunk series set over float series held in memory, cut into XOR chunks of 120 samples
/// as upstream's head cuts them: how importers and tests turn plain samples into a block.
pub struct VecChunkSeriesSet(std::vec::IntoIter<VecChunkSeries>);

impl VecChunkSeriesSet {
    /// Sorts the series; samples of each must be in ascending time order.
    pub fn new(mut series: Vec<(Labels, Vec<(i64, f64)>)>) -> Result<Self, StorageError> {
        series.sort_by(|a, b| a.0.cmp(&b.0));
        let series = series
            .into_iter()
            .map(|(labels, samples)| {
                Ok(VecChunkSeries {
                    labels,
                    chunks: samples
                        .chunks(CHUNK_SAMPLES)
                        .map(|c| {
                            Ok(ChunkMeta {
                                min_time: c[0].0,
                                max_time: c[c.len() - 1].0,
                                chunk: Arc::new(BlockChunk::encode_floats(c)?),
                            })
                        })
                        .collect::<Result<_, StorageError>>()?,
                })
            })
            .collect::<Result<Vec<_>, StorageError>>()?;
        Ok(Self(series.into_iter()))
    }
}

impl VecChunkSeriesSet {
    /// Series given as ready chunks (of any encoding), sorted here; each series' chunks must be
    /// in time order.
    pub fn from_chunks(mut series: Vec<(Labels, Vec<ChunkMeta>)>) -> Self {
        series.sort_by(|a, b| a.0.cmp(&b.0));
        let series: Vec<_> = series
            .into_iter()
            .map(|(labels, chunks)| VecChunkSeries { labels, chunks })
            .collect();
        Self(series.into_iter())
    }
}

impl ChunkSeriesSet for VecChunkSeriesSet {
    fn next(&mut self) -> Option<Box<dyn ChunkSeries>> {
        self.0.next().map(|s| Box::new(s) as Box<dyn ChunkSeries>)
    }

    fn err(&self) -> Option<&StorageError> {
        None
    }

    fn warnings(&self) -> Warnings {
        Warnings::new()
    }
}
