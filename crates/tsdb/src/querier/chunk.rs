//! Chunks handed out by block queriers, and the sample iterator that applies a querier's time
//! range and tombstones.

use std::sync::Arc;

use pm_common::model::{FloatHistogram, Histogram};
use pm_storage::{
    Chunk, ChunkEncoding, ErrorIterator, ListIterator, SampleIterator, SeriesSample, StorageError,
    ValueType,
};

use crate::chunkenc::{XorChunk, XorIterator};
use crate::tombstones::Interval;

/// A chunk's stored bytes, shared with every iterator over it.
#[derive(Clone, Debug)]
pub struct BlockChunk {
    encoding: ChunkEncoding,
    bytes: Arc<[u8]>,
}

/// A chunk of an encoding this version cannot decode yet (native histograms pass through
/// compaction and chunk queries by their bytes, but cannot be read as samples).
#[derive(Debug, thiserror::Error)]
#[error("decoding {0} chunks is not supported yet")]
pub struct UnsupportedEncoding(&'static str);

impl BlockChunk {
    pub fn new(encoding: ChunkEncoding, bytes: impl Into<Arc<[u8]>>) -> Self {
        Self {
            encoding,
            bytes: bytes.into(),
        }
    }

    /// The float samples of an XOR chunk.
    pub fn float_samples(&self) -> Result<Vec<(i64, f64)>, StorageError> {
        if self.encoding != ChunkEncoding::Xor {
            return Err(StorageError::other(UnsupportedEncoding(
                self.encoding.as_str(),
            )));
        }
        let mut it = XorIterator::new(&self.bytes);
        let mut out = Vec::with_capacity(self.num_samples());
        while it.next_value() == ValueType::Float {
            out.push(it.at());
        }
        match it.err() {
            Some(e) => Err(StorageError::other(e.clone())),
            None => Ok(out),
        }
    }

    /// An XOR chunk of `samples`, which must be in ascending time order.
    pub fn encode_floats(samples: &[(i64, f64)]) -> Result<Self, StorageError> {
        let mut c = XorChunk::new();
        {
            let mut app = c.appender().map_err(StorageError::other)?;
            for &(t, v) in samples {
                app.append(t, v).map_err(StorageError::other)?;
            }
        }
        Ok(Self::new(ChunkEncoding::Xor, c.into_bytes()))
    }
}

impl Chunk for BlockChunk {
    fn encoding(&self) -> ChunkEncoding {
        self.encoding
    }

    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Every encoding starts with a big-endian 16-bit sample count.
    fn num_samples(&self) -> usize {
        match &self.bytes[..] {
            [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
            _ => 0,
        }
    }

    fn iter(&self) -> Box<dyn SampleIterator> {
        match self.float_samples() {
            Ok(samples) => {
                let samples: Vec<SeriesSample> = samples
                    .into_iter()
                    .map(|(t, v)| SeriesSample::float(t, v))
                    .collect();
                Box::new(ListIterator::new(samples.into()))
            }
            Err(e) => Box::new(ErrorIterator(e)),
        }
    }
}

/// Passes on only samples outside every removed interval (tombstones, and the parts of chunks
/// outside the query range). `removed` must be sorted.
pub struct TrimmedIterator {
    inner: Box<dyn SampleIterator>,
    removed: Vec<Interval>,
}

impl TrimmedIterator {
    pub fn new(inner: Box<dyn SampleIterator>, removed: Vec<Interval>) -> Self {
        Self { inner, removed }
    }

    /// From the inner iterator's position (type `vt`), moves to the first acceptable sample.
    fn settle(&mut self, mut vt: ValueType) -> ValueType {
        while vt.is_some() {
            let t = self.inner.at_t();
            let Some(iv) = self.removed.iter().find(|iv| iv.contains(t)) else {
                break;
            };
            // Skip the whole interval in one seek.
            vt = match iv.maxt.checked_add(1) {
                Some(next) => self.inner.seek(next),
                None => ValueType::None,
            };
        }
        vt
    }
}

impl SampleIterator for TrimmedIterator {
    fn next(&mut self) -> ValueType {
        let vt = self.inner.next();
        self.settle(vt)
    }

    fn seek(&mut self, t: i64) -> ValueType {
        let vt = self.inner.seek(t);
        self.settle(vt)
    }

    fn at(&self) -> (i64, f64) {
        self.inner.at()
    }

    fn at_histogram(&self, h: &mut Histogram) -> i64 {
        self.inner.at_histogram(h)
    }

    fn at_float_histogram(&self, fh: &mut FloatHistogram) -> i64 {
        self.inner.at_float_histogram(fh)
    }

    fn at_t(&self) -> i64 {
        self.inner.at_t()
    }

    fn err(&self) -> Option<&StorageError> {
        self.inner.err()
    }
}
