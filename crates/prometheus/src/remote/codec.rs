//! What both ends of the remote protocols agree on: headers, snappy block compression, the
//! chunked-response framing, and conversions between the wire messages and the model.

use pm_common::model::{
    CounterResetHint, FloatHistogram, Histogram, Labels, MatchType, Matcher, MatcherError,
    MetricType, ScratchBuilder, Span,
};

use super::prompb::{self, BucketSpan, Count, ResetHint, ZeroCount};

pub const CONTENT_TYPE_PROTOBUF: &str = "application/x-protobuf";
/// The streamed remote-read response's content type.
pub const CONTENT_TYPE_STREAMED: &str =
    "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse";
pub const SNAPPY: &str = "snappy";
pub const HEADER_WRITE_VERSION: &str = "X-Prometheus-Remote-Write-Version";
pub const HEADER_READ_VERSION: &str = "X-Prometheus-Remote-Read-Version";
pub const WRITE_VERSION_1: &str = "0.1.0";
pub const WRITE_VERSION_2: &str = "2.0.0";
pub const READ_VERSION: &str = "0.1.0";
/// Remote write 2.0 responses: how much of the request was written.
pub const HEADER_SAMPLES_WRITTEN: &str = "X-Prometheus-Remote-Write-Samples-Written";
pub const HEADER_HISTOGRAMS_WRITTEN: &str = "X-Prometheus-Remote-Write-Histograms-Written";
pub const HEADER_EXEMPLARS_WRITTEN: &str = "X-Prometheus-Remote-Write-Exemplars-Written";

/// The two remote-write messages, named as in `protobuf_message` and the content type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WriteMessage {
    V1,
    V2,
}

impl WriteMessage {
    pub fn name(self) -> &'static str {
        match self {
            WriteMessage::V1 => "prometheus.WriteRequest",
            WriteMessage::V2 => "io.prometheus.write.v2.Request",
        }
    }

    pub fn parse(name: &str) -> Option<WriteMessage> {
        [WriteMessage::V1, WriteMessage::V2]
            .into_iter()
            .find(|m| m.name() == name)
    }

    pub fn content_type(self) -> String {
        format!("{CONTENT_TYPE_PROTOBUF};proto={}", self.name())
    }

    pub fn version(self) -> &'static str {
        match self {
            WriteMessage::V1 => WRITE_VERSION_1,
            WriteMessage::V2 => WRITE_VERSION_2,
        }
    }

    /// The message a `Content-Type` asks for: bare `application/x-protobuf` is 1.0, as
    /// upstream; `Err` names what is unsupported.
    pub fn from_content_type(content_type: &str) -> Result<WriteMessage, String> {
        let mut parts = content_type.split(';').map(str::trim);
        if parts.next() != Some(CONTENT_TYPE_PROTOBUF) {
            return Err(format!(
                "expected {CONTENT_TYPE_PROTOBUF} as the first (media) part, got {content_type} content-type"
            ));
        }
        let mut message = WriteMessage::V1;
        for param in parts.filter(|p| !p.is_empty()) {
            let (key, value) = param
                .split_once('=')
                .ok_or_else(|| format!("as per https://www.rfc-editor.org/rfc/rfc9110#parameter expected parameters to be key-values, got {param} in {content_type} content-type"))?;
            if key.trim() == "proto" {
                message = WriteMessage::parse(value.trim()).ok_or_else(|| {
                    format!("got {content_type} content type; unknown type for remote write protobuf message {}, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request", value.trim())
                })?;
            }
        }
        Ok(message)
    }
}

/// The version User-Agent every remote request carries.
pub fn user_agent() -> String {
    format!("Prometheus/{}", env!("CARGO_PKG_VERSION"))
}

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("snappy: {0}")]
    Snappy(#[from] snap::Error),
    #[error("{0}")]
    Proto(#[from] prost::DecodeError),
    #[error("invalid matcher: {0}")]
    Matcher(#[from] MatcherError),
    #[error("unknown matcher type {0}")]
    MatcherType(i32),
    #[error("chunked frame of {0} bytes exceeds the limit of {1} bytes")]
    FrameTooLarge(u64, u64),
    #[error("chunked frame checksum mismatch")]
    FrameChecksum,
    #[error("chunked frame truncated")]
    FrameTruncated,
}

/// Snappy block format (not the framed format), as remote write and read use.
pub fn compress(data: &[u8]) -> Vec<u8> {
    // Cannot fail: the encoder only rejects inputs over 4 GiB minus a bit, which a request
    // body never is (a batch is at most a few MiB).
    snap::raw::Encoder::new()
        .compress_vec(data)
        .unwrap_or_default()
}

pub fn decompress(data: &[u8]) -> Result<Vec<u8>, CodecError> {
    Ok(snap::raw::Decoder::new().decompress_vec(data)?)
}

/// Encodes and compresses a message, as a request or response body.
pub fn encode<M: prost::Message>(msg: &M) -> Vec<u8> {
    compress(&msg.encode_to_vec())
}

/// Decompresses and decodes a request or response body.
pub fn decode<M: prost::Message + Default>(body: &[u8]) -> Result<M, CodecError> {
    Ok(M::decode(decompress(body)?.as_slice())?)
}

pub fn labels_to_proto(labels: &Labels) -> Vec<prompb::Label> {
    labels
        .iter()
        .map(|l| prompb::Label {
            name: l.name.to_owned(),
            value: l.value.to_owned(),
        })
        .collect()
}

/// Collects wire labels into `b`, sorted; the caller checks for duplicates.
pub fn labels_into(labels: &[prompb::Label], b: &mut ScratchBuilder) {
    b.reset();
    for l in labels {
        b.push(&l.name, &l.value);
    }
    b.sort();
}

pub fn labels_from_proto(labels: &[prompb::Label]) -> Labels {
    let mut b = ScratchBuilder::new();
    labels_into(labels, &mut b);
    b.labels()
}

/// `series` with the external labels added where the series does not set them itself.
pub fn merge_external(series: &Labels, external: &Labels) -> Labels {
    if external.is_empty() {
        return series.clone();
    }
    let mut b = series.builder();
    for l in external {
        if !series.has(l.name) {
            b.set(l.name, l.value);
        }
    }
    b.labels()
}

pub fn metric_type_to_proto(t: MetricType) -> prompb::MetricType {
    match t {
        MetricType::Counter => prompb::MetricType::Counter,
        MetricType::Gauge => prompb::MetricType::Gauge,
        MetricType::Histogram => prompb::MetricType::Histogram,
        MetricType::GaugeHistogram => prompb::MetricType::Gaugehistogram,
        MetricType::Summary => prompb::MetricType::Summary,
        MetricType::Info => prompb::MetricType::Info,
        MetricType::StateSet => prompb::MetricType::Stateset,
        MetricType::Unknown => prompb::MetricType::Unknown,
    }
}

pub fn metric_type_from_proto(t: i32) -> MetricType {
    match prompb::MetricType::try_from(t) {
        Ok(prompb::MetricType::Counter) => MetricType::Counter,
        Ok(prompb::MetricType::Gauge) => MetricType::Gauge,
        Ok(prompb::MetricType::Histogram) => MetricType::Histogram,
        Ok(prompb::MetricType::Gaugehistogram) => MetricType::GaugeHistogram,
        Ok(prompb::MetricType::Summary) => MetricType::Summary,
        Ok(prompb::MetricType::Info) => MetricType::Info,
        Ok(prompb::MetricType::Stateset) => MetricType::StateSet,
        _ => MetricType::Unknown,
    }
}

fn hint_to_proto(h: CounterResetHint) -> i32 {
    (match h {
        CounterResetHint::Unknown => ResetHint::Unknown,
        CounterResetHint::CounterReset => ResetHint::Yes,
        CounterResetHint::NotCounterReset => ResetHint::No,
        CounterResetHint::Gauge => ResetHint::Gauge,
    }) as i32
}

fn hint_from_proto(h: i32) -> CounterResetHint {
    match ResetHint::try_from(h) {
        Ok(ResetHint::Yes) => CounterResetHint::CounterReset,
        Ok(ResetHint::No) => CounterResetHint::NotCounterReset,
        Ok(ResetHint::Gauge) => CounterResetHint::Gauge,
        _ => CounterResetHint::Unknown,
    }
}

fn spans_to_proto(spans: &[Span]) -> Vec<BucketSpan> {
    spans
        .iter()
        .map(|s| BucketSpan {
            offset: s.offset,
            length: s.length,
        })
        .collect()
}

fn spans_from_proto(spans: &[BucketSpan]) -> Vec<Span> {
    spans
        .iter()
        .map(|s| Span {
            offset: s.offset,
            length: s.length,
        })
        .collect()
}

pub fn histogram_to_proto(t: i64, h: &Histogram) -> prompb::Histogram {
    prompb::Histogram {
        count: Some(Count::CountInt(h.count)),
        sum: h.sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: Some(ZeroCount::ZeroCountInt(h.zero_count)),
        negative_spans: spans_to_proto(&h.negative_spans),
        negative_deltas: h.negative_deltas.clone(),
        negative_counts: Vec::new(),
        positive_spans: spans_to_proto(&h.positive_spans),
        positive_deltas: h.positive_deltas.clone(),
        positive_counts: Vec::new(),
        reset_hint: hint_to_proto(h.counter_reset_hint),
        timestamp: t,
        custom_values: h.custom_values.clone(),
    }
}

pub fn float_histogram_to_proto(t: i64, h: &FloatHistogram) -> prompb::Histogram {
    prompb::Histogram {
        count: Some(Count::CountFloat(h.count)),
        sum: h.sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: Some(ZeroCount::ZeroCountFloat(h.zero_count)),
        negative_spans: spans_to_proto(&h.negative_spans),
        negative_deltas: Vec::new(),
        negative_counts: h.negative_buckets.clone(),
        positive_spans: spans_to_proto(&h.positive_spans),
        positive_deltas: Vec::new(),
        positive_counts: h.positive_buckets.clone(),
        reset_hint: hint_to_proto(h.counter_reset_hint),
        timestamp: t,
        custom_values: h.custom_values.clone(),
    }
}

/// A wire histogram as the model's integer or float histogram (a float count marks a float
/// histogram, as upstream's `IsFloatHistogram`).
pub enum AnyHistogram {
    Int(Histogram),
    Float(FloatHistogram),
}

pub fn histogram_from_proto(h: &prompb::Histogram) -> AnyHistogram {
    if let Some(Count::CountFloat(count)) = h.count {
        let zero_count = match h.zero_count {
            Some(ZeroCount::ZeroCountFloat(z)) => z,
            Some(ZeroCount::ZeroCountInt(z)) => z as f64,
            None => 0.0,
        };
        return AnyHistogram::Float(FloatHistogram {
            counter_reset_hint: hint_from_proto(h.reset_hint),
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count,
            count,
            sum: h.sum,
            positive_spans: spans_from_proto(&h.positive_spans),
            negative_spans: spans_from_proto(&h.negative_spans),
            positive_buckets: h.positive_counts.clone(),
            negative_buckets: h.negative_counts.clone(),
            custom_values: h.custom_values.clone(),
        });
    }
    let zero_count = match h.zero_count {
        Some(ZeroCount::ZeroCountInt(z)) => z,
        _ => 0,
    };
    AnyHistogram::Int(Histogram {
        counter_reset_hint: hint_from_proto(h.reset_hint),
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count,
        count: match h.count {
            Some(Count::CountInt(c)) => c,
            _ => 0,
        },
        sum: h.sum,
        positive_spans: spans_from_proto(&h.positive_spans),
        negative_spans: spans_from_proto(&h.negative_spans),
        positive_deltas: h.positive_deltas.clone(),
        negative_deltas: h.negative_deltas.clone(),
        custom_values: h.custom_values.clone(),
    })
}

pub fn matcher_to_proto(m: &Matcher) -> prompb::LabelMatcher {
    let t = match m.match_type() {
        MatchType::Equal => prompb::MatcherType::Eq,
        MatchType::NotEqual => prompb::MatcherType::Neq,
        MatchType::Regexp => prompb::MatcherType::Re,
        MatchType::NotRegexp => prompb::MatcherType::Nre,
    };
    prompb::LabelMatcher {
        r#type: t as i32,
        name: m.name().to_owned(),
        value: m.value().to_owned(),
    }
}

pub fn matcher_from_proto(m: &prompb::LabelMatcher) -> Result<Matcher, CodecError> {
    let t = match prompb::MatcherType::try_from(m.r#type) {
        Ok(prompb::MatcherType::Eq) => MatchType::Equal,
        Ok(prompb::MatcherType::Neq) => MatchType::NotEqual,
        Ok(prompb::MatcherType::Re) => MatchType::Regexp,
        Ok(prompb::MatcherType::Nre) => MatchType::NotRegexp,
        Err(_) => return Err(CodecError::MatcherType(m.r#type)),
    };
    Ok(Matcher::new(t, m.name.clone(), m.value.clone())?)
}

/// Appends one frame of a streamed read response: the message's length as a uvarint, the
/// CRC32-Castagnoli of the message (big endian), then the message.
pub fn write_frame(out: &mut Vec<u8>, msg: &[u8]) {
    let mut n = msg.len() as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(&crc32c::crc32c(msg).to_be_bytes());
    out.extend_from_slice(msg);
}

/// Splits the next frame off `buf`: `Ok(None)` when `buf` does not hold a whole frame yet.
/// Returns the message and the bytes the frame took.
pub fn read_frame(buf: &[u8], max: u64) -> Result<Option<(&[u8], usize)>, CodecError> {
    let mut len = 0u64;
    let mut i = 0;
    loop {
        let Some(&b) = buf.get(i) else {
            return Ok(None);
        };
        if i >= 10 {
            return Err(CodecError::FrameTruncated);
        }
        len |= u64::from(b & 0x7f) << (7 * i);
        i += 1;
        if b < 0x80 {
            break;
        }
    }
    if len > max {
        return Err(CodecError::FrameTooLarge(len, max));
    }
    let start = i + 4;
    let Some(msg) = usize::try_from(len)
        .ok()
        .and_then(|len| buf.get(start..start + len))
    else {
        return Ok(None);
    };
    let crc = u32::from_be_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
    if crc32c::crc32c(msg) != crc {
        return Err(CodecError::FrameChecksum);
    }
    Ok(Some((msg, start + msg.len())))
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
