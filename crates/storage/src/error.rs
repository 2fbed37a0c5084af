//! The errors of the storage contract and the warnings carried beside query results.
//!
//! The appender errors keep upstream's exact texts (`storage/interface.go`): the scrape loop, the
//! remote-write receiver and the rule manager classify and log them by kind, and users grep logs
//! for these sentences.

use std::fmt;
use std::sync::Arc;

use crate::histogram::HistogramError;

/// Upper bound, in Unicode scalar values, of an exemplar's label names and values together
/// (OpenMetrics' limit, upstream `exemplar.ExemplarMaxLabelSetLength`).
pub const EXEMPLAR_MAX_LABEL_SET_LENGTH: usize = 128;

/// Shorthand for results of the storage traits.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Everything a storage implementation may report through the traits of this crate.
///
/// Errors are cheap to clone (the foreign-error variant is reference-counted) because they travel
/// inside series sets and iterators, may be turned into warnings by the merge helpers, and are
/// reported to several callers.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StorageError {
    /// The series or object a call refers to does not exist.
    #[error("not found")]
    NotFound,
    /// Out-of-order ingestion is disabled and the sample is older than the series' newest one.
    #[error("out of order sample")]
    OutOfOrderSample,
    /// Out-of-order ingestion is disabled and the sample is older than the oldest time the
    /// storage still accepts (the head's lower bound).
    #[error("out of bounds")]
    OutOfBounds,
    /// Out-of-order ingestion is enabled but the sample is older than its time window allows.
    #[error("too old sample")]
    TooOldSample,
    /// A different value for a timestamp the series already has.
    #[error(transparent)]
    DuplicateSample(#[from] DuplicateSample),
    #[error("not found out of order exemplar insertion point")]
    OutOfOrderExemplarInsertionNotFound,
    #[error("out of order exemplar")]
    OutOfOrderExemplar,
    /// The exemplar equals the newest one of its series. Expected on every scrape of an
    /// unchanged exemplar; callers treat it as a no-op.
    #[error("duplicate exemplar")]
    DuplicateExemplar,
    #[error("too old exemplar")]
    TooOldExemplar,
    #[error(
        "label length for exemplar exceeds maximum of {EXEMPLAR_MAX_LABEL_SET_LENGTH} UTF-8 characters"
    )]
    ExemplarLabelLength,
    #[error("exemplar storage is disabled or max exemplars is less than or equal to 0")]
    ExemplarsDisabled,
    #[error("native histograms are disabled")]
    NativeHistogramsDisabled,
    /// The created timestamp is not after the series' newest sample; the zero sample is skipped.
    /// Upstream recommends ignoring this error: it is as often expected as it is a bug.
    #[error("created timestamp out of order, ignoring")]
    OutOfOrderCreatedTimestamp,
    /// The created timestamp is not before the sample it belongs to; the zero sample is skipped.
    #[error("CT is newer or the same as sample's timestamp, ignoring")]
    CreatedTimestampNotBeforeSample,
    /// A malformed native histogram.
    #[error(transparent)]
    InvalidHistogram(#[from] HistogramError),
    /// A histogram append carried neither an integer nor a float histogram.
    #[error("histogram sample without a histogram value")]
    MissingHistogram,
    /// An implementation-specific failure (I/O, corruption, a remote endpoint…), kept whole so
    /// its source chain survives.
    #[error(transparent)]
    Other(Arc<dyn std::error::Error + Send + Sync + 'static>),
}

impl StorageError {
    /// Wraps an implementation's own error.
    pub fn other(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        StorageError::Other(Arc::new(err))
    }

    /// Whether this is a duplicate-sample error, whatever details it carries (upstream's
    /// `errors.Is(err, ErrDuplicateSampleForTimestamp)`).
    pub fn is_duplicate_sample(&self) -> bool {
        matches!(self, StorageError::DuplicateSample(_))
    }
}

/// Details of a rejected duplicate: the message names the timestamp and both values when known.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DuplicateSample {
    /// `0` when the details are unknown; the message is then the bare sentence.
    pub timestamp: i64,
    pub existing: DuplicateExisting,
    pub new_value: f64,
}

/// What the storage already holds at the duplicate's timestamp.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum DuplicateExisting {
    /// Not reported (e.g. a histogram duplicate): the bare message is used.
    #[default]
    Unknown,
    Float(f64),
    Histogram,
}

impl DuplicateSample {
    /// A duplicate whose values are not reported.
    pub fn bare() -> Self {
        DuplicateSample::default()
    }

    /// A float sample that collides with a different float at the same timestamp.
    pub fn float(timestamp: i64, existing: f64, new_value: f64) -> Self {
        DuplicateSample {
            timestamp,
            existing: DuplicateExisting::Float(existing),
            new_value,
        }
    }

    /// A float sample that collides with a histogram at the same timestamp.
    pub fn histogram_to_float(timestamp: i64, new_value: f64) -> Self {
        DuplicateSample {
            timestamp,
            existing: DuplicateExisting::Histogram,
            new_value,
        }
    }
}

impl fmt::Display for DuplicateSample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("duplicate sample for timestamp")?;
        if self.timestamp == 0 {
            return Ok(());
        }
        match self.existing {
            DuplicateExisting::Unknown => Ok(()),
            DuplicateExisting::Float(existing) => write!(
                f,
                " {}; overrides not allowed: existing {}, new value {}",
                self.timestamp,
                GoFloat(existing),
                GoFloat(self.new_value)
            ),
            DuplicateExisting::Histogram => write!(
                f,
                " {}; overrides not allowed: existing is a histogram, new value {}",
                self.timestamp,
                GoFloat(self.new_value)
            ),
        }
    }
}

impl std::error::Error for DuplicateSample {}

/// Formats a float as Go's `%g` does: shortest digits, exponent form when the decimal exponent
/// is below -4 or at least 6, exponent with a sign and at least two digits, `+Inf`/`-Inf`/`NaN`.
pub(crate) struct GoFloat(pub(crate) f64);

impl fmt::Display for GoFloat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v.is_nan() {
            return f.write_str("NaN");
        }
        if v.is_infinite() {
            return f.write_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        }
        // `{:e}` yields the shortest round-tripping mantissa and the exact decimal exponent.
        let s = format!("{v:e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exponent.parse().unwrap_or(0);
        if (-4..6).contains(&exp) {
            return write!(f, "{v}");
        }
        let (sign, digits) = match exponent.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exponent),
        };
        write!(f, "{mantissa}e{sign}{digits:0>2}")
    }
}

/// Non-fatal problems found while answering a query (a secondary storage failed, a limit cut
/// the result short…), returned beside the data and shown to users as the `warnings` of the HTTP
/// API. Kept in first-seen order without repeats, as upstream's annotation set is keyed by text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Warnings {
    messages: Vec<String>,
}

impl Warnings {
    pub fn new() -> Self {
        Warnings::default()
    }

    /// Adds a warning unless the same text is already present.
    pub fn push(&mut self, message: impl Into<String>) {
        let message = message.into();
        if !self.messages.contains(&message) {
            self.messages.push(message);
        }
    }

    /// Adds an error as a warning (how secondary-storage failures are reported).
    pub fn push_error(&mut self, err: &StorageError) {
        self.push(err.to_string());
    }

    /// Adds every warning of `other`.
    pub fn extend(&mut self, other: &Warnings) {
        for m in &other.messages {
            self.push(m.as_str());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.messages.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_match_upstream() {
        assert_eq!(
            StorageError::OutOfOrderSample.to_string(),
            "out of order sample"
        );
        assert_eq!(StorageError::OutOfBounds.to_string(), "out of bounds");
        assert_eq!(StorageError::TooOldSample.to_string(), "too old sample");
        assert_eq!(
            StorageError::ExemplarLabelLength.to_string(),
            "label length for exemplar exceeds maximum of 128 UTF-8 characters"
        );
        assert_eq!(
            StorageError::from(DuplicateSample::bare()).to_string(),
            "duplicate sample for timestamp"
        );
        assert_eq!(
            DuplicateSample::float(1000, 1.5, 2.0).to_string(),
            "duplicate sample for timestamp 1000; overrides not allowed: existing 1.5, new value 2"
        );
        assert_eq!(
            DuplicateSample::histogram_to_float(7, f64::INFINITY).to_string(),
            "duplicate sample for timestamp 7; overrides not allowed: existing is a histogram, \
             new value +Inf"
        );
    }

    #[test]
    fn go_float_formatting() {
        let cases = [
            (1e21, "1e+21"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (0.0, "0"),
            (-0.0, "-0"),
            (-2.5e300, "-2.5e+300"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for (v, want) in cases {
            assert_eq!(GoFloat(v).to_string(), want, "{v}");
        }
    }

    #[test]
    fn warnings_deduplicate_in_order() {
        let mut w = Warnings::new();
        w.push("b");
        w.push("a");
        w.push("b");
        let mut other = Warnings::new();
        other.push("a");
        other.push("c");
        w.extend(&other);
        assert_eq!(w.iter().collect::<Vec<_>>(), ["b", "a", "c"]);
        assert_eq!(w.len(), 3);
    }
}
