//! The protobuf exposition format: a stream of `io.prometheus.client.MetricFamily` messages, each
//! preceded by its length as a varint (`encoding=delimited`, Go's `protodelim`).

use prost::Message;

use super::dto;

/// The largest single message accepted by default: 4 MiB, the default `MaxSize` of Go's
/// `protodelim.UnmarshalOptions` that prometheus/common's decoder uses.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 4 << 20;

/// Why a delimited stream could not be decoded. `offset` is the byte position of the length
/// prefix of the offending message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("invalid varint length prefix at byte {offset}")]
    InvalidVarint { offset: usize },
    #[error(
        "truncated message at byte {offset}: length prefix says {expected} bytes, {available} remain"
    )]
    Truncated {
        offset: usize,
        expected: u64,
        available: usize,
    },
    #[error("message at byte {offset} is {size} bytes, more than the limit of {max}")]
    TooLarge {
        offset: usize,
        size: u64,
        max: usize,
    },
    #[error("invalid MetricFamily message at byte {offset}: {source}")]
    Decode {
        offset: usize,
        source: prost::DecodeError,
    },
}

/// Iterates over the messages of a delimited body without copying it. Stops after the first
/// error.
#[derive(Debug, Clone)]
pub struct DelimitedReader<'a> {
    buf: &'a [u8],
    offset: usize,
    max_message_size: usize,
    failed: bool,
}

impl<'a> DelimitedReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self::with_max_message_size(buf, DEFAULT_MAX_MESSAGE_SIZE)
    }

    pub fn with_max_message_size(buf: &'a [u8], max_message_size: usize) -> Self {
        DelimitedReader {
            buf,
            offset: 0,
            max_message_size,
            failed: false,
        }
    }

    /// Byte position of the next length prefix.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The next message's encoded bytes, for callers that decode lazily.
    pub fn next_raw(&mut self) -> Option<Result<&'a [u8], ProtoError>> {
        if self.failed || self.offset >= self.buf.len() {
            return None;
        }
        let result = self.split_next();
        self.failed = result.is_err();
        Some(result)
    }

    fn split_next(&mut self) -> Result<&'a [u8], ProtoError> {
        let offset = self.offset;
        let mut rest = &self.buf[offset..];
        let before = rest.len();
        let len = prost::encoding::decode_varint(&mut rest)
            .map_err(|_| ProtoError::InvalidVarint { offset })?;
        let prefix = before - rest.len();
        if len > self.max_message_size as u64 {
            return Err(ProtoError::TooLarge {
                offset,
                size: len,
                max: self.max_message_size,
            });
        }
        // Cannot truncate: len is at most max_message_size, a usize.
        let len = len as usize;
        if len > rest.len() {
            return Err(ProtoError::Truncated {
                offset,
                expected: len as u64,
                available: rest.len(),
            });
        }
        self.offset = offset + prefix + len;
        Ok(&rest[..len])
    }
}

impl Iterator for DelimitedReader<'_> {
    type Item = Result<dto::MetricFamily, ProtoError>;

    fn next(&mut self) -> Option<Self::Item> {
        let offset = self.offset;
        let raw = match self.next_raw()? {
            Ok(raw) => raw,
            Err(e) => return Some(Err(e)),
        };
        let decoded = dto::MetricFamily::decode(raw);
        self.failed = decoded.is_err();
        Some(decoded.map_err(|source| ProtoError::Decode { offset, source }))
    }
}

/// Decodes a whole delimited body. An empty body is zero families.
pub fn decode_delimited(body: &[u8]) -> Result<Vec<dto::MetricFamily>, ProtoError> {
    DelimitedReader::new(body).collect()
}

/// Appends one family as a length-prefixed message.
pub fn encode_delimited(mf: &dto::MetricFamily, out: &mut Vec<u8>) {
    let len = mf.encoded_len();
    out.reserve(len + prost::length_delimiter_len(len));
    // Encoding into a Vec grows it as needed, so this cannot fail.
    let _ = mf.encode_length_delimited(out);
}

/// Appends every family, each as a length-prefixed message.
pub fn encode_delimited_all<'a>(
    families: impl IntoIterator<Item = &'a dto::MetricFamily>,
    out: &mut Vec<u8>,
) {
    for mf in families {
        encode_delimited(mf, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(name: &str, value: f64) -> dto::MetricFamily {
        dto::MetricFamily {
            name: Some(name.into()),
            help: Some("help".into()),
            r#type: Some(dto::MetricType::Gauge as i32),
            metric: vec![dto::Metric {
                gauge: Some(dto::Gauge { value: Some(value) }),
                ..Default::default()
            }],
            unit: None,
        }
    }

    #[test]
    fn round_trip() {
        let families = vec![family("a", 1.0), family("b", 2.5)];
        let mut buf = Vec::new();
        encode_delimited_all(&families, &mut buf);
        assert_eq!(decode_delimited(&buf).unwrap(), families);
        assert_eq!(decode_delimited(&[]).unwrap(), vec![]);
    }

    #[test]
    fn fields_are_written_in_tag_order_like_go() {
        // `timestamp_ms` (6) is declared after `histogram` (7) in the schema; Go writes by tag
        // number, and so must we for byte-identical output.
        let m = dto::Metric {
            timestamp_ms: Some(1),
            histogram: Some(dto::Histogram::default()),
            ..Default::default()
        };
        assert_eq!(m.encode_to_vec(), [0x30, 0x01, 0x3a, 0x00]);
    }

    #[test]
    fn truncated_message_is_reported_with_offset() {
        let mut buf = Vec::new();
        encode_delimited(&family("a", 1.0), &mut buf);
        let first_len = buf.len();
        encode_delimited(&family("b", 1.0), &mut buf);
        buf.pop();
        let err = decode_delimited(&buf).unwrap_err();
        assert!(
            matches!(err, ProtoError::Truncated { offset, .. } if offset == first_len),
            "{err}"
        );
    }

    #[test]
    fn bad_varint_and_oversized_messages() {
        assert_eq!(
            decode_delimited(&[0xff; 11]).unwrap_err(),
            ProtoError::InvalidVarint { offset: 0 }
        );
        let mut buf = Vec::new();
        encode_delimited(&family("a", 1.0), &mut buf);
        let err = DelimitedReader::with_max_message_size(&buf, 4)
            .next()
            .unwrap()
            .unwrap_err();
        assert!(matches!(err, ProtoError::TooLarge { max: 4, .. }), "{err}");
    }

    #[test]
    fn garbage_message_is_a_decode_error_and_stops_iteration() {
        let mut reader = DelimitedReader::new(&[2, 0xff, 0xff, 1, 0]);
        assert!(matches!(
            reader.next(),
            Some(Err(ProtoError::Decode { offset: 0, .. }))
        ));
        assert!(reader.next().is_none());
    }
}
