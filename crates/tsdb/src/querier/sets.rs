//! Lazily decoded series sets over a block's postings.

use std::sync::Arc;

use pm_common::model::{Labels, Sample};
use pm_storage::{
    BoxSeries, ChunkEncoding, ChunkIterator, ChunkMeta, ChunkSeries, ChunkSeriesSet, ErrorIterator,
    HistogramSample, ListIterator, SampleIterator, Series, SeriesSample, SeriesSet, StorageError,
    Warnings, fill_range_by_iter,
};

use super::chunk::{BlockChunk, TrimmedIterator, append_samples, append_xor_floats};
use crate::chunkenc::{
    ChunkError, decode_float_histograms, decode_histograms, encode_float_histograms,
    encode_histograms,
};
use crate::chunks::{ChunkReader, ChunkRef};
use crate::index::{ChunkIndexMeta, IndexReader};
use crate::tombstones::{Interval, Tombstones};

/// One selected series: its chunks overlapping the range, and the time ranges whose samples
/// must not be returned (tombstones, plus the parts of chunks outside the range).
#[derive(Clone)]
struct SeriesData {
    labels: Labels,
    chunks: Vec<ChunkMeta>,
    removed: Vec<Interval>,
}

/// Chunk series of a block in label order.
pub struct BlockChunkSeriesSet {
    index: Arc<IndexReader>,
    chunks: Arc<ChunkReader>,
    tombstones: Arc<Tombstones>,
    postings: Vec<u64>,
    /// Position of the next posting to load.
    next: usize,
    mint: i64,
    maxt: i64,
    /// Whether samples outside `[mint, maxt]` in chunks reaching past it are removed.
    trim: bool,
    metas: Vec<ChunkIndexMeta>,
    err: Option<StorageError>,
}

impl BlockChunkSeriesSet {
    pub(super) fn new(
        index: Arc<IndexReader>,
        chunks: Arc<ChunkReader>,
        tombstones: Arc<Tombstones>,
        postings: Vec<u64>,
        mint: i64,
        maxt: i64,
        trim: bool,
    ) -> Self {
        Self {
            index,
            chunks,
            tombstones,
            postings,
            next: 0,
            mint,
            maxt,
            trim,
            metas: Vec::new(),
            err: None,
        }
    }

    fn next_data(&mut self) -> Option<SeriesData> {
        if self.err.is_some() {
            return None;
        }
        while let Some(&r) = self.postings.get(self.next) {
            self.next += 1;
            match load_series(self, r) {
                Ok(Some(data)) => return Some(data),
                Ok(None) => {}
                Err(e) => {
                    self.err = Some(e);
                    return None;
                }
            }
        }
        None
    }
}

fn load_series(set: &mut BlockChunkSeriesSet, r: u64) -> Result<Option<SeriesData>, StorageError> {
    let labels = set
        .index
        .series(r, &mut set.metas)
        .map_err(StorageError::other)?;
    let mut removed: Vec<Interval> = set.tombstones.get(r).to_vec();
    let (mint, maxt) = (set.mint, set.maxt);
    let mut chunks = Vec::new();
    for m in &set.metas {
        if m.max_time < mint || m.min_time > maxt {
            continue;
        }
        if removed.iter().any(|iv| iv.covers(m.min_time, m.max_time)) {
            continue;
        }
        let raw = set
            .chunks
            .chunk(ChunkRef(m.chunk_ref))
            .map_err(StorageError::other)?;
        chunks.push(ChunkMeta {
            min_time: m.min_time,
            max_time: m.max_time,
            chunk: Arc::new(BlockChunk::new(raw.encoding, raw.data)),
        });
    }
    if chunks.is_empty() {
        return Ok(None);
    }
    if set.trim && chunks.iter().any(|c| c.min_time < mint) {
        removed.push(Interval {
            mint: i64::MIN,
            maxt: mint - 1,
        });
    }
    if set.trim && chunks.iter().any(|c| c.max_time > maxt) {
        removed.push(Interval {
            mint: maxt + 1,
            maxt: i64::MAX,
        });
    }
    removed.sort_unstable();
    Ok(Some(SeriesData {
        labels,
        chunks,
        removed,
    }))
}

impl ChunkSeriesSet for BlockChunkSeriesSet {
    fn next(&mut self) -> Option<Box<dyn ChunkSeries>> {
        self.next_data()
            .map(|d| Box::new(BlockChunkSeries(d)) as Box<dyn ChunkSeries>)
    }

    fn err(&self) -> Option<&StorageError> {
        self.err.as_ref()
    }

    fn warnings(&self) -> Warnings {
        Warnings::new()
    }
}

struct BlockChunkSeries(SeriesData);

impl ChunkSeries for BlockChunkSeries {
    fn labels(&self) -> &Labels {
        &self.0.labels
    }

    /// Chunks touching a removed range are re-encoded without its samples.
    fn chunks(&self) -> Box<dyn ChunkIterator> {
        Box::new(RewritingChunks {
            chunks: self.0.chunks.clone().into_iter(),
            removed: self.0.removed.clone(),
            err: None,
        })
    }
}

/// First and last timestamp of samples in time order.
fn times<T>(samples: &[(i64, T)]) -> Option<(i64, i64)> {
    Some((samples.first()?.0, samples.last()?.0))
}

struct RewritingChunks {
    chunks: std::vec::IntoIter<ChunkMeta>,
    removed: Vec<Interval>,
    err: Option<StorageError>,
}

impl RewritingChunks {
    fn rewrite(&self, c: ChunkMeta) -> Result<Option<ChunkMeta>, StorageError> {
        let touched = self
            .removed
            .iter()
            .any(|iv| iv.mint <= c.max_time && c.min_time <= iv.maxt);
        if !touched {
            return Ok(Some(c));
        }
        let keep = |t: i64| !self.removed.iter().any(|iv| iv.contains(t));
        let bytes = c.chunk.bytes();
        let chunk_err = |e: ChunkError| StorageError::other(e);
        let (times, chunk) = match c.chunk.encoding() {
            ChunkEncoding::Xor => {
                let samples: Vec<(i64, f64)> = BlockChunk::new(ChunkEncoding::Xor, bytes)
                    .float_samples()?
                    .into_iter()
                    .filter(|(t, _)| keep(*t))
                    .collect();
                (times(&samples), BlockChunk::encode_floats(&samples)?)
            }
            ChunkEncoding::Histogram => {
                let mut samples = decode_histograms(bytes).map_err(chunk_err)?;
                samples.retain(|(t, _)| keep(*t));
                let encoded = encode_histograms(&samples).map_err(chunk_err)?;
                (
                    times(&samples),
                    BlockChunk::new(ChunkEncoding::Histogram, encoded),
                )
            }
            ChunkEncoding::FloatHistogram => {
                let mut samples = decode_float_histograms(bytes).map_err(chunk_err)?;
                samples.retain(|(t, _)| keep(*t));
                let encoded = encode_float_histograms(&samples).map_err(chunk_err)?;
                let times = times(&samples);
                (
                    times,
                    BlockChunk::new(ChunkEncoding::FloatHistogram, encoded),
                )
            }
        };
        Ok(times.map(|(min_time, max_time)| ChunkMeta {
            min_time,
            max_time,
            chunk: Arc::new(chunk),
        }))
    }
}

impl ChunkIterator for RewritingChunks {
    fn next(&mut self) -> Option<ChunkMeta> {
        if self.err.is_some() {
            return None;
        }
        while let Some(c) = self.chunks.next() {
            match self.rewrite(c) {
                Ok(Some(c)) => return Some(c),
                Ok(None) => {}
                Err(e) => {
                    self.err = Some(e);
                    return None;
                }
            }
        }
        None
    }

    fn err(&self) -> Option<&StorageError> {
        self.err.as_ref()
    }
}

/// Sample series of a block in label order.
pub struct BlockSeriesSet {
    inner: BlockChunkSeriesSet,
}

impl BlockSeriesSet {
    pub(super) fn new(inner: BlockChunkSeriesSet) -> Self {
        Self { inner }
    }
}

impl SeriesSet for BlockSeriesSet {
    fn next(&mut self) -> Option<BoxSeries> {
        let data = self.inner.next_data()?;
        Some(Box::new(BlockSeries(data)))
    }

    fn err(&self) -> Option<&StorageError> {
        self.inner.err()
    }

    fn warnings(&self) -> Warnings {
        Warnings::new()
    }
}

struct BlockSeries(SeriesData);

impl Series for BlockSeries {
    fn labels(&self) -> &Labels {
        &self.0.labels
    }

    /// Chunks in time order (the usual case) are decoded up front into one list, without the
    /// removed samples, so that the engine's batch reads copy runs of samples instead of going
    /// through a chain of per-chunk and trimming iterators sample by sample.
    fn iter(&self) -> Box<dyn SampleIterator> {
        let SeriesData {
            chunks, removed, ..
        } = &self.0;
        if !chunks.windows(2).all(|w| w[0].max_time < w[1].min_time) {
            let inner = pm_storage::merge::ChainIterator::new(
                chunks.iter().map(|c| c.chunk.iter()).collect(),
            );
            return Box::new(TrimmedIterator::new(Box::new(inner), removed.clone()));
        }
        match decode_kept(chunks, removed) {
            Ok(samples) => Box::new(ListIterator::new(samples.into())),
            Err(e) => Box::new(ErrorIterator(e)),
        }
    }

    /// XOR chunks in time order (the usual case) are decoded straight into `floats`, only
    /// those overlapping `[mint, maxt]` and each only up to `maxt`; anything else goes through
    /// the iterator.
    fn fill_range(
        &self,
        mint: i64,
        maxt: i64,
        floats: &mut Vec<Sample>,
        histograms: &mut Vec<HistogramSample>,
    ) -> Result<(), StorageError> {
        let SeriesData {
            chunks, removed, ..
        } = &self.0;
        let simple = chunks.windows(2).all(|w| w[0].max_time < w[1].min_time)
            && chunks
                .iter()
                .all(|c| c.chunk.encoding() == ChunkEncoding::Xor);
        if !simple {
            return fill_range_by_iter(self, mint, maxt, floats, histograms);
        }
        for c in chunks {
            if c.max_time < mint {
                continue;
            }
            if c.min_time > maxt {
                break;
            }
            append_xor_floats(c.chunk.bytes(), (mint, maxt), removed, floats)?;
        }
        Ok(())
    }
}

/// The samples of `chunks` (which are block chunks in time order) outside every `removed`
/// interval.
fn decode_kept(
    chunks: &[ChunkMeta],
    removed: &[Interval],
) -> Result<Vec<SeriesSample>, StorageError> {
    let capacity = chunks.iter().map(|c| c.chunk.num_samples()).sum();
    let mut out = Vec::with_capacity(capacity);
    for c in chunks {
        let touched: Vec<Interval> = removed
            .iter()
            .filter(|iv| iv.mint <= c.max_time && c.min_time <= iv.maxt)
            .copied()
            .collect();
        append_samples(c.chunk.encoding(), c.chunk.bytes(), &mut out, |t| {
            !touched.iter().any(|iv| iv.contains(t))
        })?;
    }
    Ok(out)
}
