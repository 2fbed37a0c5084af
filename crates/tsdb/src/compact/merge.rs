//! Merging the chunk series of several blocks into one sorted set, as compaction writes it:
//! series with equal labels become one, and where their chunks overlap (vertical compaction)
//! the samples are merged and re-encoded.

use std::sync::Arc;

use pm_common::model::Labels;
use pm_storage::{
    ChunkIterator, ChunkMeta, ChunkSeries, ChunkSeriesSet, SeriesSample, StorageError, Warnings,
};

use crate::chunkenc::{ChunkError, decode_samples, encode_samples};
use crate::querier::BlockChunk;

/// Samples per re-encoded chunk, as the head cuts them.
const CHUNK_SAMPLES: usize = 120;

/// A k-way merge of sorted chunk series sets; the sets listed first win when two have a
/// sample at the same timestamp.
pub struct MergedChunkSeriesSet {
    sets: Vec<Box<dyn ChunkSeriesSet>>,
    /// The next series of each set, `None` once it is exhausted.
    heads: Vec<Option<Box<dyn ChunkSeries>>>,
    /// Samples outside `[mint, maxt]` are dropped, when set.
    range: Option<(i64, i64)>,
    err: Option<StorageError>,
}

impl MergedChunkSeriesSet {
    pub fn new(mut sets: Vec<Box<dyn ChunkSeriesSet>>) -> Self {
        let heads = sets.iter_mut().map(|s| s.next()).collect();
        Self {
            sets,
            heads,
            range: None,
            err: None,
        }
    }

    /// Keeps only samples in `[mint, maxt]`, re-encoding chunks that reach outside: a block
    /// must hold nothing beyond its range.
    pub fn with_range(mut self, mint: i64, maxt: i64) -> Self {
        self.range = Some((mint, maxt));
        self
    }

    fn merge_next(&mut self) -> Result<Option<MergedSeries>, StorageError> {
        if let Some(e) = self.sets.iter().find_map(|s| s.err()) {
            return Err(e.clone());
        }
        let Some(labels) = self
            .heads
            .iter()
            .flatten()
            .map(|s| s.labels())
            .min()
            .cloned()
        else {
            return Ok(None);
        };
        let mut chunks = Vec::new();
        for (head, set) in self.heads.iter_mut().zip(&mut self.sets) {
            if head.as_ref().is_some_and(|s| *s.labels() == labels) {
                let series = head.take().expect("checked above");
                let mut it = series.chunks();
                while let Some(c) = it.next() {
                    chunks.push(c);
                }
                if let Some(e) = it.err() {
                    return Err(e.clone());
                }
                *head = set.next();
            }
        }
        let mut chunks = merge_chunks(chunks)?;
        if let Some((mint, maxt)) = self.range {
            chunks = trim_chunks(chunks, mint, maxt)?;
        }
        Ok(Some(MergedSeries { labels, chunks }))
    }
}

impl ChunkSeriesSet for MergedChunkSeriesSet {
    fn next(&mut self) -> Option<Box<dyn ChunkSeries>> {
        if self.err.is_some() {
            return None;
        }
        match self.merge_next() {
            Ok(s) => s.map(|s| Box::new(s) as Box<dyn ChunkSeries>),
            Err(e) => {
                self.err = Some(e);
                None
            }
        }
    }

    fn err(&self) -> Option<&StorageError> {
        self.err.as_ref()
    }

    fn warnings(&self) -> Warnings {
        let mut w = Warnings::new();
        for s in &self.sets {
            w.extend(&s.warnings());
        }
        w
    }
}

struct MergedSeries {
    labels: Labels,
    chunks: Vec<ChunkMeta>,
}

impl ChunkSeries for MergedSeries {
    fn labels(&self) -> &Labels {
        &self.labels
    }

    fn chunks(&self) -> Box<dyn ChunkIterator> {
        Box::new(ChunksOf(self.chunks.clone().into_iter()))
    }
}

struct ChunksOf(std::vec::IntoIter<ChunkMeta>);

impl ChunkIterator for ChunksOf {
    fn next(&mut self) -> Option<ChunkMeta> {
        self.0.next()
    }

    fn err(&self) -> Option<&StorageError> {
        None
    }
}

/// Chunks in time order, without overlaps: disjoint chunks pass through untouched; each run of
/// overlapping chunks is decoded, merged sample by sample (on equal timestamps the chunk listed
/// first wins) and re-encoded, floats and histograms alike.
pub(crate) fn merge_chunks(chunks: Vec<ChunkMeta>) -> Result<Vec<ChunkMeta>, StorageError> {
    // Remember each chunk's position in the input, which decides ties between sources.
    let mut chunks: Vec<(usize, ChunkMeta)> = chunks.into_iter().enumerate().collect();
    chunks.sort_by_key(|(_, c)| c.min_time);
    let mut out = Vec::with_capacity(chunks.len());
    let mut run: Vec<(usize, ChunkMeta)> = Vec::new();
    let mut run_max = i64::MIN;
    for (i, c) in chunks {
        if !run.is_empty() && c.min_time > run_max {
            flush_run(&mut run, &mut out)?;
        }
        run_max = if run.is_empty() {
            c.max_time
        } else {
            run_max.max(c.max_time)
        };
        run.push((i, c));
    }
    flush_run(&mut run, &mut out)?;
    Ok(out)
}

fn chunk_err(e: ChunkError) -> StorageError {
    StorageError::other(e)
}

fn decode(c: &ChunkMeta) -> Result<Vec<SeriesSample>, StorageError> {
    decode_samples(c.chunk.encoding(), c.chunk.bytes()).map_err(chunk_err)
}

/// Chunks of `samples` (ascending, unique timestamps).
fn encode(samples: &[SeriesSample], out: &mut Vec<ChunkMeta>) -> Result<(), StorageError> {
    for c in encode_samples(samples, CHUNK_SAMPLES).map_err(chunk_err)? {
        out.push(ChunkMeta {
            min_time: c.min_time,
            max_time: c.max_time,
            chunk: Arc::new(BlockChunk::new(c.encoding, c.bytes)),
        });
    }
    Ok(())
}

fn flush_run(
    run: &mut Vec<(usize, ChunkMeta)>,
    out: &mut Vec<ChunkMeta>,
) -> Result<(), StorageError> {
    if run.len() < 2 {
        out.extend(run.drain(..).map(|(_, c)| c));
        return Ok(());
    }
    // Sorting by (timestamp, input position) and keeping the first of each timestamp lets
    // the chunk listed first win.
    let mut samples = Vec::new();
    for (i, c) in run.drain(..) {
        samples.extend(decode(&c)?.into_iter().map(|s| (i, s)));
    }
    samples.sort_by_key(|(i, s)| (s.t, *i));
    samples.dedup_by_key(|(_, s)| s.t);
    let samples: Vec<SeriesSample> = samples.into_iter().map(|(_, s)| s).collect();
    encode(&samples, out)
}

/// Drops chunks outside `[mint, maxt]` and re-encodes chunks reaching past it.
fn trim_chunks(
    chunks: Vec<ChunkMeta>,
    mint: i64,
    maxt: i64,
) -> Result<Vec<ChunkMeta>, StorageError> {
    let mut out = Vec::with_capacity(chunks.len());
    for c in chunks {
        if c.max_time < mint || c.min_time > maxt {
            continue;
        }
        if mint <= c.min_time && c.max_time <= maxt {
            out.push(c);
            continue;
        }
        let mut samples = decode(&c)?;
        samples.retain(|s| mint <= s.t && s.t <= maxt);
        encode(&samples, &mut out)?;
    }
    Ok(out)
}

/// The samples of already merged chunks, for tests.
#[cfg(test)]
pub(crate) fn samples_of(chunks: Vec<ChunkMeta>) -> Vec<(i64, f64)> {
    use pm_storage::{ChunksIterator, SampleIterator, ValueType};
    let mut it = ChunksIterator::new(chunks);
    let mut out = Vec::new();
    while it.next() == ValueType::Float {
        out.push(it.at());
    }
    out
}
