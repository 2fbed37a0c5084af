//! Errors of the text-format parsers.

use thiserror::Error;

/// An error of the streaming parsers or of the OpenMetrics validator, at a 1-based line.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("line {line}: {kind}")]
pub struct ParseError {
    pub line: usize,
    pub kind: ParseErrorKind,
}

/// What went wrong. Messages follow upstream's wording so that operators find the same text
/// in logs and search results.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ParseErrorKind {
    /// A token did not fit the grammar: what was expected, the offending text, and the text of
    /// the entry up to that point.
    #[error("{expected}, got {found:?} while parsing: {context:?}")]
    Unexpected {
        expected: &'static str,
        found: String,
        context: String,
    },
    #[error("invalid metric type {0:?}")]
    InvalidType(String),
    #[error("help text {0:?} is not a valid utf8 string")]
    InvalidHelpUtf8(String),
    #[error("invalid UTF-8 label value: {0:?}")]
    InvalidLabelUtf8(String),
    #[error("metric name not set while parsing: {0:?}")]
    MissingMetricName(String),
    #[error("metric name already set while parsing: {0:?}")]
    DuplicateMetricName(String),
    #[error("{reason} while parsing: {context:?}")]
    InvalidNumber {
        reason: &'static str,
        context: String,
    },
    #[error("invalid timestamp {0}")]
    InvalidTimestamp(f64),
    #[error("invalid exemplar timestamp {0}")]
    InvalidExemplarTimestamp(f64),
    #[error("unit {unit:?} not a suffix of metric {metric:?}")]
    UnitNotSuffix { unit: String, metric: String },
    #[error("data does not end with # EOF")]
    MissingEof,
    #[error("unexpected data after # EOF")]
    DataAfterEof,
    /// A whole-exposition rule of the OpenMetrics specification, checked by
    /// [`super::validate_openmetrics`].
    #[error("{rule}: {detail}")]
    Spec { rule: SpecRule, detail: String },
}

/// The OpenMetrics rules that only a view over the whole exposition can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SpecRule {
    #[error("clashing metric family name")]
    ClashingName,
    #[error("metadata after samples of its family")]
    MetadataAfterSamples,
    #[error("duplicate metadata line")]
    DuplicateMetadata,
    #[error("unit not allowed for this type")]
    UnitNotAllowed,
    #[error("trailing comma in label set")]
    TrailingComma,
    #[error("duplicate label name")]
    DuplicateLabel,
    #[error("invalid value for this type")]
    InvalidValue,
    #[error("missing or invalid label for this type")]
    TypeLabel,
    #[error("exemplar not allowed here")]
    ExemplarNotAllowed,
    #[error("exemplar labels longer than 128 code points")]
    ExemplarTooLong,
    #[error("samples of a group are not contiguous")]
    Grouping,
    #[error("timestamp presence is mixed within a group")]
    MixedTimestamps,
    #[error("timestamps go backwards within a group")]
    TimestampBackwards,
    #[error("invalid histogram")]
    Histogram,
}

/// An error of [`super::decode_text_families`], worded exactly as prometheus/common's
/// `expfmt.ParseError` because pushgateway clients see it in HTTP 400 responses.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("text format parsing error in line {line}: {msg}")]
pub struct TextParseError {
    pub line: usize,
    pub msg: String,
}
