//! Decoding a push body: `Content-Encoding` (gzip, snappy framing), then delimited protobuf when
//! the `Content-Type` says so exactly, else the text format (also when no type is given).

use std::collections::BTreeMap;
use std::io::Read as _;

use http::HeaderMap;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use pm_common::expfmt::dto;
use pm_common::expfmt::proto::DelimitedReader;
use pm_common::expfmt::textparse::decode_text_families;

/// Why a body cannot be read; the texts are the 400 response bodies.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("{0}")]
    Gzip(std::io::Error),
    #[error("{0}")]
    Snappy(std::io::Error),
    #[error("{0}")]
    Proto(#[from] pm_common::expfmt::proto::ProtoError),
    #[error("{0}")]
    Text(#[from] pm_common::expfmt::textparse::TextParseError),
}

/// Undoes the `Content-Encoding` upstream understands; other encodings pass through untouched.
pub fn decompress(headers: &HeaderMap, body: bytes::Bytes) -> Result<bytes::Bytes, BodyError> {
    let encoding = headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut out = Vec::new();
    match encoding.as_str() {
        "gzip" => {
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut out)
                .map_err(BodyError::Gzip)?;
        }
        "snappy" => {
            snap::read::FrameDecoder::new(&body[..])
                .read_to_end(&mut out)
                .map_err(BodyError::Snappy)?;
        }
        _ => return Ok(body),
    }
    Ok(out.into())
}

/// Parses the families of a (decompressed) body. Of several protobuf families with one name the
/// last wins, as upstream keys them by name.
pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Vec<dto::MetricFamily>, BodyError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !is_delimited_protobuf(content_type) {
        return Ok(decode_text_families(body)?);
    }
    let mut by_name = BTreeMap::new();
    for family in DelimitedReader::with_max_message_size(body, usize::MAX) {
        let family = family?;
        by_name.insert(family.name().to_owned(), family);
    }
    Ok(by_name.into_values().collect())
}

/// `application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited`
/// in any parameter order and case of names, as Go's `mime.ParseMediaType` reads it.
fn is_delimited_protobuf(content_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("application/vnd.google.protobuf") {
        return false;
    }
    let (mut proto, mut encoding) = (false, false);
    for param in parts {
        let Some((name, value)) = param.split_once('=') else {
            return false;
        };
        let value = value.trim().trim_matches('"');
        match name.trim().to_ascii_lowercase().as_str() {
            "proto" => proto = value == "io.prometheus.client.MetricFamily",
            "encoding" => encoding = value == "delimited",
            _ => {}
        }
    }
    proto && encoding
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protobuf_content_type() {
        assert!(is_delimited_protobuf(
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
        ));
        assert!(is_delimited_protobuf(
            "Application/vnd.google.protobuf;encoding=delimited;Proto=\"io.prometheus.client.MetricFamily\""
        ));
        assert!(!is_delimited_protobuf(
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=text"
        ));
        assert!(!is_delimited_protobuf("text/plain; version=0.0.4"));
        assert!(!is_delimited_protobuf(""));
    }

    #[test]
    fn gzip_and_snappy_bodies() {
        use std::io::Write as _;
        let text = b"a 1\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_ENCODING, "gzip".parse().unwrap());
        let out = decompress(&headers, gz.finish().unwrap().into()).unwrap();
        assert_eq!(&out[..], text);

        let mut sn = snap::write::FrameEncoder::new(Vec::new());
        sn.write_all(text).unwrap();
        headers.insert(CONTENT_ENCODING, "snappy".parse().unwrap());
        let out = decompress(&headers, sn.into_inner().unwrap().into()).unwrap();
        assert_eq!(&out[..], text);

        headers.insert(CONTENT_ENCODING, "gzip".parse().unwrap());
        assert!(decompress(&headers, bytes::Bytes::from_static(b"nope")).is_err());
    }
}
