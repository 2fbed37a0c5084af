//! Chunks handed out by block queriers, and the sample iterator that applies a querier's time
//! range and tombstones.

use std::sync::Arc;

use pm_common::model::{FloatHistogram, Histogram, Sample};
use pm_storage::{
    Chunk, ChunkEncoding, ErrorIterator, HistogramSample, ListIterator, SampleIterator,
    SeriesSample, StorageError, ValueType,
};

use crate::chunkenc::{XorChunk, XorIterator, decode_float_histograms, decode_histograms};
use crate::tombstones::Interval;

/// A chunk's stored bytes, shared with every iterator over it.
#[derive(Clone, Debug)]
pub struct BlockChunk {
    encoding: ChunkEncoding,
    bytes: Arc<[u8]>,
}

/// A chunk that is not of the encoding a caller needs (only XOR chunks can be re-encoded for
/// trimming, tombstones and vertical merges yet; histogram chunks pass through by their bytes).
#[derive(Debug, thiserror::Error)]
#[error("{0} chunks cannot be read as float samples")]
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

    /// Every sample, whatever the encoding.
    fn samples(&self) -> Result<Vec<SeriesSample>, StorageError> {
        let mut out = Vec::with_capacity(self.num_samples());
        append_samples(self.encoding, &self.bytes, &mut out, |_| true)?;
        Ok(out)
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

/// Every encoding starts with a big-endian 16-bit sample count.
fn num_samples(bytes: &[u8]) -> usize {
    match bytes {
        [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
        _ => 0,
    }
}

/// Appends the samples of a chunk whose timestamps `keep` accepts, whatever the encoding. XOR
/// chunks are decoded straight into `out`: range queries read every float sample through here.
pub fn append_samples(
    encoding: ChunkEncoding,
    bytes: &[u8],
    out: &mut Vec<SeriesSample>,
    keep: impl Fn(i64) -> bool,
) -> Result<(), StorageError> {
    let chunk_err = |e: crate::chunkenc::ChunkError| StorageError::other(e);
    match encoding {
        ChunkEncoding::Histogram => out.extend(
            decode_histograms(bytes)
                .map_err(chunk_err)?
                .into_iter()
                .filter(|(t, _)| keep(*t))
                .map(|(t, h)| SeriesSample::histogram(t, h)),
        ),
        ChunkEncoding::FloatHistogram => out.extend(
            decode_float_histograms(bytes)
                .map_err(chunk_err)?
                .into_iter()
                .filter(|(t, _)| keep(*t))
                .map(|(t, h)| SeriesSample::float_histogram(t, h)),
        ),
        ChunkEncoding::Xor => {
            let mut it = XorIterator::new(bytes);
            out.reserve(num_samples(bytes));
            while it.next_value() == ValueType::Float {
                let (t, v) = it.at();
                if keep(t) {
                    out.push(SeriesSample::float(t, v));
                }
            }
            if let Some(e) = it.err() {
                return Err(StorageError::other(e.clone()));
            }
        }
    }
    Ok(())
}

/// Appends the float samples of an XOR chunk within `[mint, maxt]` and outside every
/// `removed` interval, decoding no further than `maxt`.
pub fn append_xor_floats(
    bytes: &[u8],
    (mint, maxt): (i64, i64),
    removed: &[Interval],
    out: &mut Vec<Sample>,
) -> Result<(), StorageError> {
    let mut it = XorIterator::new(bytes);
    out.reserve(num_samples(bytes));
    it.decode_until(maxt, |t, v| {
        if t >= mint && !removed.iter().any(|iv| iv.contains(t)) {
            out.push(Sample { t, v });
        }
    });
    match it.err() {
        Some(e) => Err(StorageError::other(e.clone())),
        None => Ok(()),
    }
}

impl Chunk for BlockChunk {
    fn encoding(&self) -> ChunkEncoding {
        self.encoding
    }

    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn num_samples(&self) -> usize {
        num_samples(&self.bytes)
    }

    fn iter(&self) -> Box<dyn SampleIterator> {
        match self.samples() {
            Ok(samples) => Box::new(ListIterator::new(samples.into())),
            Err(e) => Box::new(ErrorIterator(e)),
        }
    }

    /// XOR chunks (head chunks read by queries) decode straight into `floats`.
    fn fill_range(
        &self,
        mint: i64,
        maxt: i64,
        floats: &mut Vec<Sample>,
        histograms: &mut Vec<HistogramSample>,
    ) -> Result<(), StorageError> {
        if self.encoding == ChunkEncoding::Xor {
            return append_xor_floats(&self.bytes, (mint, maxt), &[], floats);
        }
        let mut it = self.iter();
        it.fill(mint, maxt, floats, histograms);
        it.err().map_or(Ok(()), |e| Err(e.clone()))
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
