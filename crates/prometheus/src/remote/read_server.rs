//! The remote-read server (`POST /api/v1/read`): answers each query of a `ReadRequest` from
//! local storage, either as one `ReadResponse` of samples or as a stream of
//! `ChunkedReadResponse` frames of chunks, with the external labels added as upstream does.

use pm_common::model::{FloatHistogram, Histogram, Labels, MatchType, Matcher};
use pm_storage::{Queryable, SampleIterator, SelectHints, ValueType};
use prost::Message;

use super::codec::{self, CodecError};
use super::prompb::{
    self, ChunkEncoding, ChunkedReadResponse, ChunkedSeries, Query, QueryResult, ReadRequest,
    ReadResponse, ResponseType,
};

/// Samples per re-encoded chunk, as the head cuts them.
const SAMPLES_PER_CHUNK: usize = 120;

/// The `--storage.remote.read-*` limits.
#[derive(Clone, Copy, Debug)]
pub struct ReadLimits {
    /// Most samples a SAMPLES response may hold; 0 = no limit.
    pub sample_limit: usize,
    /// Target size of one streamed frame (a frame holds at least one chunk).
    pub max_bytes_in_frame: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    BadRequest(String),
    #[error("exceeded sample limit ({0})")]
    SampleLimit(usize),
    #[error("{0}")]
    Internal(String),
}

impl ReadError {
    pub fn status(&self) -> http::StatusCode {
        match self {
            ReadError::BadRequest(_) | ReadError::SampleLimit(_) => http::StatusCode::BAD_REQUEST,
            ReadError::Internal(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<CodecError> for ReadError {
    fn from(e: CodecError) -> Self {
        ReadError::BadRequest(e.to_string())
    }
}

/// A response body and its content type (the SAMPLES body is snappy-compressed).
pub struct ReadReply {
    pub content_type: &'static str,
    pub snappy: bool,
    pub body: Vec<u8>,
}

/// The first response type the client accepts that the server speaks; SAMPLES when the
/// client names none (older clients).
pub fn negotiate(accepted: &[i32]) -> Result<ResponseType, ReadError> {
    if accepted.is_empty() {
        return Ok(ResponseType::Samples);
    }
    accepted
        .iter()
        .find_map(|&t| ResponseType::try_from(t).ok())
        .ok_or_else(|| {
            ReadError::BadRequest(format!(
                "server does not support any of the requested response Types: {accepted:?}; supported: [SAMPLES STREAMED_XOR_CHUNKS]"
            ))
        })
}

/// Answers a snappy-compressed `ReadRequest`.
pub fn serve(
    storage: &dyn Queryable,
    external: &Labels,
    limits: ReadLimits,
    body: &[u8],
) -> Result<ReadReply, ReadError> {
    let req: ReadRequest = codec::decode(body)?;
    match negotiate(&req.accepted_response_types)? {
        ResponseType::Samples => Ok(ReadReply {
            content_type: codec::CONTENT_TYPE_PROTOBUF,
            snappy: true,
            body: codec::encode(&samples(storage, external, limits, &req)?),
        }),
        ResponseType::StreamedXorChunks => Ok(ReadReply {
            content_type: codec::CONTENT_TYPE_STREAMED,
            snappy: false,
            body: streamed(storage, external, limits, &req)?,
        }),
    }
}

/// A query's time range, matchers (without those the external labels satisfy, since stored
/// series do not carry them) and hints.
fn prepare(q: &Query, external: &Labels) -> Result<(Vec<Matcher>, SelectHints), ReadError> {
    let mut matchers = Vec::with_capacity(q.matchers.len());
    for m in &q.matchers {
        let m = codec::matcher_from_proto(m)?;
        if m.match_type() == MatchType::Equal && external.get(m.name()) == Some(m.value()) {
            continue;
        }
        matchers.push(m);
    }
    let mut hints = SelectHints {
        start: q.start_timestamp_ms,
        end: q.end_timestamp_ms,
        ..SelectHints::default()
    };
    if let Some(h) = &q.hints {
        hints.step = h.step_ms;
        hints.func = h.func.clone();
        hints.grouping = h.grouping.clone();
        hints.by = h.by;
        hints.range = h.range_ms;
    }
    Ok((matchers, hints))
}

fn samples(
    storage: &dyn Queryable,
    external: &Labels,
    limits: ReadLimits,
    req: &ReadRequest,
) -> Result<ReadResponse, ReadError> {
    let mut results = Vec::with_capacity(req.queries.len());
    let mut total = 0usize;
    for q in &req.queries {
        let (matchers, hints) = prepare(q, external)?;
        let querier = storage
            .querier(q.start_timestamp_ms, q.end_timestamp_ms)
            .map_err(|e| ReadError::Internal(e.to_string()))?;
        let mut set = querier.select(false, Some(&hints), &matchers);
        let mut timeseries = Vec::new();
        while let Some(series) = set.next() {
            let mut ts = prompb::TimeSeries {
                labels: codec::labels_to_proto(&codec::merge_external(series.labels(), external)),
                ..Default::default()
            };
            let mut it = series.iter();
            let mut h = Histogram::default();
            let mut fh = FloatHistogram::default();
            loop {
                match it.next() {
                    ValueType::None => break,
                    ValueType::Float => {
                        let (timestamp, value) = it.at();
                        ts.samples.push(prompb::Sample { value, timestamp });
                    }
                    ValueType::Histogram => {
                        let t = it.at_histogram(&mut h);
                        ts.histograms.push(codec::histogram_to_proto(t, &h));
                    }
                    ValueType::FloatHistogram => {
                        let t = it.at_float_histogram(&mut fh);
                        ts.histograms.push(codec::float_histogram_to_proto(t, &fh));
                    }
                }
                total += 1;
                if limits.sample_limit > 0 && total > limits.sample_limit {
                    return Err(ReadError::SampleLimit(limits.sample_limit));
                }
            }
            if let Some(e) = it.err() {
                return Err(ReadError::Internal(e.to_string()));
            }
            timeseries.push(ts);
        }
        if let Some(e) = set.err() {
            return Err(ReadError::Internal(e.to_string()));
        }
        results.push(QueryResult { timeseries });
    }
    Ok(ReadResponse { results })
}

fn streamed(
    storage: &dyn Queryable,
    external: &Labels,
    limits: ReadLimits,
    req: &ReadRequest,
) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    let mut frame = Vec::new();
    for (index, q) in req.queries.iter().enumerate() {
        let (matchers, hints) = prepare(q, external)?;
        let querier = storage
            .querier(q.start_timestamp_ms, q.end_timestamp_ms)
            .map_err(|e| ReadError::Internal(e.to_string()))?;
        let mut set = querier.select(true, Some(&hints), &matchers);
        while let Some(series) = set.next() {
            let labels = codec::labels_to_proto(&codec::merge_external(series.labels(), external));
            let chunks = chunks(series.iter().as_mut())?;
            let label_bytes: usize = labels.iter().map(Message::encoded_len).sum();
            let mut pending = Vec::new();
            let mut left = limits.max_bytes_in_frame.saturating_sub(label_bytes);
            let count = chunks.len();
            for (i, c) in chunks.into_iter().enumerate() {
                left = left.saturating_sub(c.encoded_len());
                pending.push(c);
                if left > 0 && i + 1 < count {
                    continue;
                }
                frame.clear();
                ChunkedReadResponse {
                    chunked_series: vec![ChunkedSeries {
                        labels: labels.clone(),
                        chunks: std::mem::take(&mut pending),
                    }],
                    query_index: index as i64,
                }
                .encode(&mut frame)
                .map_err(|e| ReadError::Internal(e.to_string()))?;
                codec::write_frame(&mut out, &frame);
                left = limits.max_bytes_in_frame.saturating_sub(label_bytes);
            }
        }
        if let Some(e) = set.err() {
            return Err(ReadError::Internal(e.to_string()));
        }
    }
    Ok(out)
}

/// A series' samples as chunks of up to [`SAMPLES_PER_CHUNK`], cut where the value type changes.
fn chunks(it: &mut dyn SampleIterator) -> Result<Vec<prompb::Chunk>, ReadError> {
    let mut out = Vec::new();
    let mut floats: Vec<(i64, f64)> = Vec::new();
    let mut hists: Vec<(i64, Histogram)> = Vec::new();
    let mut fhists: Vec<(i64, FloatHistogram)> = Vec::new();
    let mut current = ValueType::None;
    loop {
        let vt = it.next();
        let full = floats.len() + hists.len() + fhists.len() >= SAMPLES_PER_CHUNK;
        if vt != current || full {
            flush(&mut out, &mut floats, &mut hists, &mut fhists)?;
            current = vt;
        }
        match vt {
            ValueType::None => break,
            ValueType::Float => floats.push(it.at()),
            ValueType::Histogram => {
                let mut h = Histogram::default();
                let t = it.at_histogram(&mut h);
                hists.push((t, h));
            }
            ValueType::FloatHistogram => {
                let mut fh = FloatHistogram::default();
                let t = it.at_float_histogram(&mut fh);
                fhists.push((t, fh));
            }
        }
    }
    if let Some(e) = it.err() {
        return Err(ReadError::Internal(e.to_string()));
    }
    Ok(out)
}

fn flush(
    out: &mut Vec<prompb::Chunk>,
    floats: &mut Vec<(i64, f64)>,
    hists: &mut Vec<(i64, Histogram)>,
    fhists: &mut Vec<(i64, FloatHistogram)>,
) -> Result<(), ReadError> {
    let internal = |e: pm_tsdb::chunkenc::ChunkError| ReadError::Internal(e.to_string());
    let (encoding, range, data) = if !floats.is_empty() {
        let mut chunk = pm_tsdb::chunkenc::XorChunk::new();
        let mut app = chunk.appender().map_err(internal)?;
        for &(t, v) in floats.iter() {
            app.append(t, v).map_err(internal)?;
        }
        let range = (floats[0].0, floats[floats.len() - 1].0);
        floats.clear();
        (ChunkEncoding::Xor, range, chunk.into_bytes())
    } else if !hists.is_empty() {
        let range = (hists[0].0, hists[hists.len() - 1].0);
        let data = pm_tsdb::chunkenc::encode_histograms(hists).map_err(internal)?;
        hists.clear();
        (ChunkEncoding::Histogram, range, data)
    } else if !fhists.is_empty() {
        let range = (fhists[0].0, fhists[fhists.len() - 1].0);
        let data = pm_tsdb::chunkenc::encode_float_histograms(fhists).map_err(internal)?;
        fhists.clear();
        (ChunkEncoding::FloatHistogram, range, data)
    } else {
        return Ok(());
    };
    out.push(prompb::Chunk {
        min_time_ms: range.0,
        max_time_ms: range.1,
        r#type: encoding as i32,
        data,
    });
    Ok(())
}

#[cfg(test)]
#[path = "read_server_tests.rs"]
mod tests;
