//! Encoding a series' decoded samples back into chunks: what the head does for the parts of
//! chunks a querier may see, tombstones and out-of-order samples, and what compaction does for
//! overlapping chunks. Floats, integer and float histograms may alternate; each run of one type
//! becomes chunks of its encoding, and histogram runs are cut where upstream's appenders would
//! cut them (layout changes, counter resets).

use std::sync::Arc;

use pm_common::model::{FloatHistogram, Histogram};
use pm_storage::{ChunkEncoding, SampleValue, SeriesSample};

use super::histogram_append::{ChunkHistogram, OpenHistogramChunk};
use super::{ChunkError, XorChunk};

/// One encoded chunk and the times of its first and last sample.
#[derive(Clone, Debug)]
pub struct EncodedChunk {
    pub min_time: i64,
    pub max_time: i64,
    pub encoding: ChunkEncoding,
    pub bytes: Vec<u8>,
}

enum Builder {
    Float(XorChunk, usize),
    Histogram(OpenHistogramChunk<Histogram>),
    FloatHistogram(OpenHistogramChunk<FloatHistogram>),
}

impl Builder {
    fn samples(&self) -> usize {
        match self {
            Builder::Float(_, n) => *n,
            Builder::Histogram(c) => c.num_samples(),
            Builder::FloatHistogram(c) => c.num_samples(),
        }
    }

    fn finish(self) -> (ChunkEncoding, Vec<u8>) {
        match self {
            Builder::Float(c, _) => (ChunkEncoding::Xor, c.into_bytes()),
            Builder::Histogram(c) => (ChunkEncoding::Histogram, c.bytes()),
            Builder::FloatHistogram(c) => (ChunkEncoding::FloatHistogram, c.bytes()),
        }
    }
}

/// Appends a histogram to the open chunk of its type, or says which chunk it starts.
fn push_histogram<H: ChunkHistogram>(
    open: Option<&mut OpenHistogramChunk<H>>,
    full: bool,
    t: i64,
    h: &H,
) -> Result<Option<OpenHistogramChunk<H>>, ChunkError> {
    match open {
        Some(c) if !full => c.push(t, h),
        Some(c) => OpenHistogramChunk::start(t, h, Some(c)).map(Some),
        None => OpenHistogramChunk::start(t, h, None).map(Some),
    }
}

/// Chunks of at most `max_samples` samples each holding `samples`, which must be in strictly
/// ascending time order.
pub fn encode_samples(
    samples: &[SeriesSample],
    max_samples: usize,
) -> Result<Vec<EncodedChunk>, ChunkError> {
    let mut out = Vec::new();
    let mut open: Option<(i64, i64, Builder)> = None;
    let close = |open: Option<(i64, i64, Builder)>, out: &mut Vec<EncodedChunk>| {
        if let Some((min_time, max_time, b)) = open {
            let (encoding, bytes) = b.finish();
            out.push(EncodedChunk {
                min_time,
                max_time,
                encoding,
                bytes,
            });
        }
    };
    for s in samples {
        let t = s.t;
        let full = open
            .as_ref()
            .is_some_and(|(_, _, b)| b.samples() >= max_samples);
        let started = match (&s.value, open.as_mut().map(|o| &mut o.2)) {
            (SampleValue::Float(v), Some(Builder::Float(c, n))) if !full => {
                c.appender()?.append(t, *v)?;
                *n += 1;
                None
            }
            (SampleValue::Float(v), _) => {
                let mut c = XorChunk::new();
                c.appender()?.append(t, *v)?;
                Some(Builder::Float(c, 1))
            }
            (SampleValue::Histogram(h), b) => {
                let cur = match b {
                    Some(Builder::Histogram(c)) => Some(c),
                    _ => None,
                };
                push_histogram(cur, full, t, h.as_ref())?.map(Builder::Histogram)
            }
            (SampleValue::FloatHistogram(h), b) => {
                let cur = match b {
                    Some(Builder::FloatHistogram(c)) => Some(c),
                    _ => None,
                };
                push_histogram(cur, full, t, h.as_ref())?.map(Builder::FloatHistogram)
            }
        };
        match started {
            Some(b) => {
                close(open.take(), &mut out);
                open = Some((t, t, b));
            }
            None => {
                if let Some(o) = open.as_mut() {
                    o.1 = t;
                }
            }
        }
    }
    close(open, &mut out);
    Ok(out)
}

/// Every sample of a chunk, whatever its encoding.
pub fn decode_samples(
    encoding: ChunkEncoding,
    bytes: &[u8],
) -> Result<Vec<SeriesSample>, ChunkError> {
    Ok(match encoding {
        ChunkEncoding::Histogram => super::decode_histograms(bytes)?
            .into_iter()
            .map(|(t, h)| SeriesSample {
                t,
                value: SampleValue::Histogram(Arc::new(h)),
            })
            .collect(),
        ChunkEncoding::FloatHistogram => super::decode_float_histograms(bytes)?
            .into_iter()
            .map(|(t, h)| SeriesSample {
                t,
                value: SampleValue::FloatHistogram(Arc::new(h)),
            })
            .collect(),
        ChunkEncoding::Xor => {
            let mut it = super::XorIterator::new(bytes);
            let mut out = Vec::new();
            while it.next_value() == super::ValueType::Float {
                let (t, v) = it.at();
                out.push(SeriesSample::float(t, v));
            }
            if let Some(e) = it.err() {
                return Err(e.clone());
            }
            out
        }
    })
}
