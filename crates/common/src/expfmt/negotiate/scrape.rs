//! The scraping side: which formats Prometheus asks for (`scrape_protocols`), and which parser
//! a response gets from its `Content-Type` (`fallback_scrape_protocol` when it has none usable).

use std::fmt;
use std::str::FromStr;

use crate::model::{ESCAPING_KEY, EscapingScheme, write_go_quoted};

/// A value of `scrape_protocols` / `fallback_scrape_protocol` in the Prometheus config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScrapeProtocol {
    PrometheusProto,
    PrometheusText0_0_4,
    PrometheusText1_0_0,
    OpenMetricsText0_0_1,
    OpenMetricsText1_0_0,
}

impl ScrapeProtocol {
    pub const ALL: [ScrapeProtocol; 5] = [
        ScrapeProtocol::PrometheusProto,
        ScrapeProtocol::PrometheusText0_0_4,
        ScrapeProtocol::PrometheusText1_0_0,
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::OpenMetricsText1_0_0,
    ];

    /// Prometheus 3's default `scrape_protocols`.
    pub const DEFAULT: [ScrapeProtocol; 4] = [
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::PrometheusText1_0_0,
        ScrapeProtocol::PrometheusText0_0_4,
    ];

    /// The default when protobuf is preferred (native histograms, created-timestamp ingestion).
    pub const DEFAULT_PROTO_FIRST: [ScrapeProtocol; 5] = [
        ScrapeProtocol::PrometheusProto,
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::PrometheusText1_0_0,
        ScrapeProtocol::PrometheusText0_0_4,
    ];

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => "PrometheusProto",
            ScrapeProtocol::PrometheusText0_0_4 => "PrometheusText0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "PrometheusText1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "OpenMetricsText0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "OpenMetricsText1.0.0",
        }
    }

    /// The media range this protocol contributes to the `Accept` header.
    pub fn header_value(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => {
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
            }
            ScrapeProtocol::PrometheusText0_0_4 => "text/plain;version=0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "text/plain;version=1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "application/openmetrics-text;version=0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "application/openmetrics-text;version=1.0.0",
        }
    }

    /// The bare media type, used when this protocol is the fallback for a bad `Content-Type`.
    pub fn media_type(self) -> &'static str {
        self.parser_kind().media_type()
    }

    pub fn parser_kind(self) -> ParserKind {
        match self {
            ScrapeProtocol::PrometheusProto => ParserKind::Protobuf,
            ScrapeProtocol::PrometheusText0_0_4 | ScrapeProtocol::PrometheusText1_0_0 => {
                ParserKind::PromText
            }
            ScrapeProtocol::OpenMetricsText0_0_1 | ScrapeProtocol::OpenMetricsText1_0_0 => {
                ParserKind::OpenMetrics
            }
        }
    }
}

impl fmt::Display for ScrapeProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scrape protocol name that Prometheus does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown scrape protocol {0}, supported: [OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0]"
)]
pub struct ScrapeProtocolError(pub String);

impl FromStr for ScrapeProtocol {
    type Err = ScrapeProtocolError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScrapeProtocol::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| ScrapeProtocolError(s.to_owned()))
    }
}

impl serde::Serialize for ScrapeProtocol {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ScrapeProtocol {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The `Accept` header Prometheus sends: protocols in the configured order with descending
/// weights starting at `0.<number of known protocols + 1>`, the escaping scheme on the formats
/// that understand it, and a final catch-all.
pub fn scrape_accept_header(protocols: &[ScrapeProtocol], scheme: EscapingScheme) -> String {
    let mut weight = ScrapeProtocol::ALL.len() + 1;
    let mut header = String::with_capacity(64 * (protocols.len() + 1));
    for &p in protocols {
        header.push_str(p.header_value());
        if matches!(
            p,
            ScrapeProtocol::PrometheusText1_0_0 | ScrapeProtocol::OpenMetricsText1_0_0
        ) {
            header.push_str(&format!(";{ESCAPING_KEY}={scheme}"));
        }
        header.push_str(&format!(";q=0.{weight},"));
        weight = weight.saturating_sub(1);
    }
    header.push_str(&format!("*/*;q=0.{weight}"));
    header
}

/// The parser family a scrape body needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParserKind {
    PromText,
    OpenMetrics,
    Protobuf,
}

impl ParserKind {
    pub fn media_type(self) -> &'static str {
        match self {
            ParserKind::PromText => "text/plain",
            ParserKind::OpenMetrics => "application/openmetrics-text",
            ParserKind::Protobuf => "application/vnd.google.protobuf",
        }
    }
}

/// The chosen parser, with the reason when it came from the fallback protocol (Prometheus logs
/// that and still scrapes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParserSelection {
    pub kind: ParserKind,
    pub fallback_reason: Option<ContentTypeError>,
}

/// `mime.ParseMediaType` failures, with Go's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MediaTypeError {
    #[error("mime: no media type")]
    NoMediaType,
    #[error("mime: expected slash after first token")]
    ExpectedSlash,
    #[error("mime: expected token after slash")]
    ExpectedSubtype,
    #[error("mime: unexpected content after media subtype")]
    TrailingContent,
    #[error("mime: invalid media parameter")]
    InvalidParameter,
    #[error("mime: duplicate parameter name")]
    DuplicateParameter,
}

/// A response `Content-Type` that does not name a usable parser. The messages are Prometheus's,
/// since they end up in scrape error logs and the targets page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentTypeError {
    #[error(
        "non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target"
    )]
    Blank,
    #[error(
        "non-compliant scrape target sending blank Content-Type, using fallback_scrape_protocol {}",
        quoted(.fallback)
    )]
    BlankUsingFallback { fallback: &'static str },
    #[error("cannot parse Content-Type {} and no fallback_scrape_protocol for target\n{source}", quoted(.content_type))]
    Unparsable {
        content_type: String,
        source: MediaTypeError,
    },
    #[error(
        "could not parse received Content-Type {}, using fallback_scrape_protocol {}\n{source}",
        quoted(.content_type),
        quoted(.fallback)
    )]
    UnparsableUsingFallback {
        content_type: String,
        fallback: &'static str,
        source: MediaTypeError,
    },
    #[error(
        "received unsupported Content-Type {} and no fallback_scrape_protocol specified for target",
        quoted(.content_type)
    )]
    Unsupported { content_type: String },
    #[error(
        "received unsupported Content-Type {}, using fallback_scrape_protocol {}",
        quoted(.content_type),
        quoted(.fallback)
    )]
    UnsupportedUsingFallback {
        content_type: String,
        fallback: &'static str,
    },
}

/// Go's `%q`.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    // Writing into a String cannot fail.
    let _ = write_go_quoted(&mut out, s);
    out
}

/// Picks the parser for a response as `textparse.New` does: the media type of a parsable
/// `Content-Type` decides; a blank, unparsable or unsupported one uses `fallback` if configured
/// (reporting why) and is an error otherwise.
pub fn select_parser(
    content_type: &str,
    fallback: Option<ScrapeProtocol>,
) -> Result<ParserSelection, ContentTypeError> {
    let with_fallback = |reason: ContentTypeError| match fallback {
        Some(p) => Ok(ParserSelection {
            kind: p.parser_kind(),
            fallback_reason: Some(reason),
        }),
        None => Err(reason),
    };
    let fallback_type = fallback.map(ScrapeProtocol::media_type).unwrap_or_default();
    if content_type.is_empty() {
        return with_fallback(match fallback {
            Some(_) => ContentTypeError::BlankUsingFallback {
                fallback: fallback_type,
            },
            None => ContentTypeError::Blank,
        });
    }
    let content_type_owned = || content_type.to_owned();
    let media_type = match parse_media_type(content_type) {
        Ok((media_type, _)) => media_type,
        Err(source) => {
            return with_fallback(match fallback {
                Some(_) => ContentTypeError::UnparsableUsingFallback {
                    content_type: content_type_owned(),
                    fallback: fallback_type,
                    source,
                },
                None => ContentTypeError::Unparsable {
                    content_type: content_type_owned(),
                    source,
                },
            });
        }
    };
    let kind = [
        ParserKind::OpenMetrics,
        ParserKind::Protobuf,
        ParserKind::PromText,
    ]
    .into_iter()
    .find(|k| k.media_type() == media_type);
    match kind {
        Some(kind) => Ok(ParserSelection {
            kind,
            fallback_reason: None,
        }),
        None => with_fallback(match fallback {
            Some(_) => ContentTypeError::UnsupportedUsingFallback {
                content_type: content_type_owned(),
                fallback: fallback_type,
            },
            None => ContentTypeError::Unsupported {
                content_type: content_type_owned(),
            },
        }),
    }
}

/// RFC 1521 token characters, as Go's `mime` package defines them.
fn is_token_char(c: char) -> bool {
    c.is_ascii() && c > ' ' && c != '\x7f' && !"()<>@,;:\\\"/[]?=".contains(c)
}

fn split_token(s: &str) -> (&str, &str) {
    let end = s.find(|c| !is_token_char(c)).unwrap_or(s.len());
    s.split_at(end)
}

/// A token or a quoted string (unescaped); `None` when neither starts `s`.
fn split_value(s: &str) -> Option<(String, &str)> {
    let Some(quoted) = s.strip_prefix('"') else {
        let (token, rest) = split_token(s);
        return (!token.is_empty()).then(|| (token.to_owned(), rest));
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &quoted[i + 1..])),
            '\\' => value.push(chars.next()?.1),
            c => value.push(c),
        }
    }
    None
}

/// Splits a `Content-Type` into its lower-cased media type and parameters (keys lower-cased),
/// with the checks of Go's `mime.ParseMediaType`.
pub fn parse_media_type(value: &str) -> Result<(String, Vec<(String, String)>), MediaTypeError> {
    let (base, mut rest) = value.split_at(value.find(';').unwrap_or(value.len()));
    let media_type = base.to_lowercase().trim().to_owned();
    let (ty, after) = split_token(&media_type);
    if ty.is_empty() {
        return Err(MediaTypeError::NoMediaType);
    }
    if !after.is_empty() {
        let sub = after
            .strip_prefix('/')
            .ok_or(MediaTypeError::ExpectedSlash)?;
        let (subtype, trailing) = split_token(sub);
        if subtype.is_empty() {
            return Err(MediaTypeError::ExpectedSubtype);
        }
        if !trailing.is_empty() {
            return Err(MediaTypeError::TrailingContent);
        }
    }
    let mut params: Vec<(String, String)> = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let Some((key, value, remaining)) = split_param(rest) else {
            // A lone trailing semicolon is tolerated.
            if rest.trim() == ";" {
                break;
            }
            return Err(MediaTypeError::InvalidParameter);
        };
        if params.iter().any(|(k, _)| *k == key) {
            return Err(MediaTypeError::DuplicateParameter);
        }
        params.push((key, value));
        rest = remaining;
    }
    Ok((media_type, params))
}

/// `; key = value` at the start of `s`.
fn split_param(s: &str) -> Option<(String, String, &str)> {
    let s = s.trim_start().strip_prefix(';')?.trim_start();
    let (key, rest) = split_token(s);
    if key.is_empty() {
        return None;
    }
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let (value, rest) = split_value(rest)?;
    Some((key.to_lowercase(), value, rest))
}
