//! `!!binary` scalars. serde's YAML reader drops the tag and hands over the base64 text; Go's
//! decodes it. Label names and values must be UTF-8, so upstream refuses binary content that
//! is not, and its fixtures rely on that. This pass finds such scalars before decoding.

use base64::Engine as _;
use saphyr_parser::{Event, Parser};

/// A `!!binary` scalar upstream would refuse, with its 1-based position.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BinaryError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

enum Frame {
    Map { expecting_key: bool },
    Seq,
}

/// Checks every `!!binary` scalar of `text`: it must be base64 of UTF-8 text. Content
/// that is not UTF-8 is refused the way upstream refuses it in labels: as a label name in
/// key position, as a label value otherwise. Syntax errors are left to the real decoder.
pub(crate) fn check(text: &str) -> Result<(), BinaryError> {
    let mut stack: Vec<Frame> = Vec::new();
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else { break };
        let is_key = match stack.last_mut() {
            Some(Frame::Map { expecting_key })
                if matches!(
                    event,
                    Event::Scalar(..)
                        | Event::Alias(_)
                        | Event::MappingStart(..)
                        | Event::SequenceStart(..)
                ) =>
            {
                let was = *expecting_key;
                *expecting_key = !was;
                was
            }
            _ => false,
        };
        match event {
            Event::Scalar(value, _, _, Some(tag))
                if tag.suffix == "binary"
                    && (tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:") =>
            {
                let fail = |message: String| BinaryError {
                    line: span.start.line(),
                    column: span.start.col() + 1,
                    message,
                };
                let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map_err(|_| fail("!!binary value contains invalid base64 data".into()))?;
                if std::str::from_utf8(&bytes).is_err() {
                    let what = if is_key { "name" } else { "value" };
                    return Err(fail(format!(
                        "{} is not a valid label {what}",
                        quote_bytes(&bytes)
                    )));
                }
            }
            Event::MappingStart(..) => stack.push(Frame::Map {
                expecting_key: true,
            }),
            Event::SequenceStart(..) => stack.push(Frame::Seq),
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
            }
            _ => {}
        }
    }
    Ok(())
}

/// Go's `%q` of a byte string that is not UTF-8: printable ASCII as is, the rest as `\x..`.
fn quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_utf8_and_bad_base64() {
        let err = check("global:\n  external_labels:\n    !!binary \"/w==\": value\n").unwrap_err();
        assert_eq!(err.message, "\"\\xff\" is not a valid label name");
        assert_eq!((err.line, err.column), (3, 5));
        let err = check("a:\n  name: !!binary \"/w==\"\n").unwrap_err();
        assert_eq!(err.message, "\"\\xff\" is not a valid label value");
        let err = check("a: [!!binary \"/w==$1\"]\n").unwrap_err();
        assert_eq!(err.message, "!!binary value contains invalid base64 data");
        assert_eq!(check("a: !!binary aGk=\nb: [x, {c: d}]\n"), Ok(()));
    }
}
