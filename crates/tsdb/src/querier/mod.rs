//! Queries over one block: series selected through the index, chunks limited to the querier's
//! range, tombstones honoured, output in label order (postings order is label order).

mod chunk;
mod postings;
mod sets;

use std::collections::BTreeSet;
use std::sync::Arc;

use pm_common::model::Matcher;
use pm_storage::{
    BoxSeriesSet, ChunkQuerier, ChunkSeriesSet, ErrorSeriesSet, LabelHints, LabelQuerier, Querier,
    SelectHints, StorageError, Warnings,
};

use crate::chunks::ChunkReader;
use crate::index::IndexReader;
use crate::tombstones::Tombstones;

pub use chunk::{BlockChunk, TrimmedIterator, UnsupportedEncoding};
pub use postings::postings_for_matchers;
pub use sets::{BlockChunkSeriesSet, BlockSeriesSet};

/// A querier over one block's data in `[mint, maxt]` (both inclusive).
#[derive(Debug, Clone)]
pub struct BlockQuerier {
    index: Arc<IndexReader>,
    chunks: Arc<ChunkReader>,
    tombstones: Arc<Tombstones>,
    mint: i64,
    maxt: i64,
}

impl BlockQuerier {
    pub fn new(
        index: Arc<IndexReader>,
        chunks: Arc<ChunkReader>,
        tombstones: Arc<Tombstones>,
        mint: i64,
        maxt: i64,
    ) -> Self {
        Self {
            index,
            chunks,
            tombstones,
            mint,
            maxt,
        }
    }

    fn chunk_set(
        &self,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<BlockChunkSeriesSet, StorageError> {
        let trim = !hints.is_some_and(|h| h.disable_trimming);
        let postings = postings_for_matchers(&self.index, matchers).map_err(StorageError::other)?;
        Ok(BlockChunkSeriesSet::new(
            self.index.clone(),
            self.chunks.clone(),
            self.tombstones.clone(),
            postings,
            self.mint,
            self.maxt,
            trim,
        ))
    }

    /// Every series of the block with its chunks, tombstones applied (chunks touching a deleted
    /// range re-encoded without it) but otherwise whole: what compaction copies.
    pub fn all_chunk_series(&self) -> Result<BlockChunkSeriesSet, StorageError> {
        let postings = self.index.all_postings().map_err(StorageError::other)?;
        Ok(BlockChunkSeriesSet::new(
            self.index.clone(),
            self.chunks.clone(),
            self.tombstones.clone(),
            postings,
            self.mint,
            self.maxt,
            false,
        ))
    }

    /// Label sets of the series matching `matchers`, decoded from the index.
    fn matching_series(
        &self,
        matchers: &[Matcher],
        mut f: impl FnMut(&pm_common::model::Labels),
    ) -> Result<(), StorageError> {
        let postings = postings_for_matchers(&self.index, matchers).map_err(StorageError::other)?;
        let mut chunks = Vec::new();
        for r in postings {
            let labels = self
                .index
                .series(r, &mut chunks)
                .map_err(StorageError::other)?;
            f(&labels);
        }
        Ok(())
    }
}

fn limited(mut v: Vec<String>, hints: Option<&LabelHints>) -> Vec<String> {
    if let Some(limit) = hints.map(|h| h.limit).filter(|&l| l > 0) {
        v.truncate(limit);
    }
    v
}

impl LabelQuerier for BlockQuerier {
    fn label_values(
        &self,
        name: &str,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> pm_storage::Result<(Vec<String>, Warnings)> {
        let values: Vec<String> = if matchers.is_empty() {
            self.index
                .values(name)
                .iter()
                .map(|(v, _)| v.to_string())
                .collect()
        } else {
            let mut set = BTreeSet::new();
            self.matching_series(matchers, |l| {
                if let Some(v) = l.get(name)
                    && !set.contains(v)
                {
                    set.insert(v.to_owned());
                }
            })?;
            set.into_iter().collect()
        };
        Ok((limited(values, hints), Warnings::new()))
    }

    fn label_names(
        &self,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> pm_storage::Result<(Vec<String>, Warnings)> {
        let names: Vec<String> = if matchers.is_empty() {
            self.index.label_names().map(str::to_owned).collect()
        } else {
            let mut set = BTreeSet::new();
            self.matching_series(matchers, |l| {
                for label in l.iter() {
                    if !set.contains(label.name) {
                        set.insert(label.name.to_owned());
                    }
                }
            })?;
            set.into_iter().collect()
        };
        Ok((limited(names, hints), Warnings::new()))
    }
}

impl ChunkQuerier for BlockQuerier {
    /// Postings come in label order, so `sort` needs no work. Chunks reaching outside the
    /// range are re-encoded without those samples unless the hints disable trimming.
    fn select(
        &self,
        _sort: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Box<dyn ChunkSeriesSet> {
        match self.chunk_set(hints, matchers) {
            Ok(set) => Box::new(set),
            Err(e) => Box::new(ErrorSeriesSet(e)),
        }
    }
}

impl Querier for BlockQuerier {
    /// Samples are trimmed to `[mint, maxt]` unless the hints disable trimming.
    fn select(
        &self,
        _sort: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> BoxSeriesSet {
        match self.chunk_set(hints, matchers) {
            Ok(set) => Box::new(BlockSeriesSet::new(set)),
            Err(e) => Box::new(ErrorSeriesSet(e)),
        }
    }
}

#[cfg(test)]
mod tests;
