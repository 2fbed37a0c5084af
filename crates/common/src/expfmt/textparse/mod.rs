//! Parsers for the text exposition formats.
//!
//! Two kinds of consumer need text parsing, with opposite trade-offs:
//!
//! * the scrape loop parses millions of samples per second and keeps a per-target cache keyed
//!   by the raw series text, so it needs a **streaming, zero-copy** parser that hands out byte
//!   slices of the input and builds label sets only on a cache miss: [`PromParser`] (text format
//!   0.0.4, as Prometheus 3.x `model/textparse`) and [`OpenMetricsParser`] (OpenMetrics 1.0);
//! * the pushgateway, node_exporter's textfile collector and promtool want whole metric
//!   families, with the exact semantics and error messages of prometheus/common's
//!   `expfmt.TextParser`: [`decode_text_families`].
//!
//! The streaming parsers accept what upstream's scrape parsers accept, which is more than the
//! OpenMetrics specification allows. [`validate_openmetrics`] layers the whole-exposition
//! rules of the specification (grouping, ordering, histogram structure, …) on top, for callers
//! that must reject non-conforming input (conformance tests, `promtool check metrics`).

mod error;
mod families;
mod lexer;
mod openmetrics;
mod promtext;
#[cfg(test)]
mod proptests;
mod validate;

pub use error::{ParseError, ParseErrorKind, SpecRule, TextParseError};
pub use families::decode_text_families;
pub use openmetrics::{OpenMetricsOptions, OpenMetricsParser};
pub use promtext::PromParser;
pub use validate::validate_openmetrics;

use std::borrow::Cow;

use crate::model::{Exemplar, MetricType, ScratchBuilder};

/// The kind of line [`Parser::next`] stopped at; the matching accessor returns its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// `# HELP name text`: see [`Parser::help`].
    Help,
    /// `# TYPE name type`: see [`Parser::type_`].
    Type,
    /// `# UNIT name unit` (OpenMetrics only): see [`Parser::unit`].
    Unit,
    /// Any other `#` line (Prometheus text only): see [`Parser::comment`].
    Comment,
    /// A sample: see [`Parser::series`] and [`Parser::labels`].
    Series,
}

/// A streaming parser over one whole scrape body.
///
/// The accessors describe the entry returned by the last successful [`Parser::next`]; calling
/// one that does not match the entry kind returns empty data rather than panicking. Slices
/// borrow from the input, so they stay valid after the parser moves on.
pub trait Parser<'a> {
    /// Advances to the next entry; `Ok(None)` at the end of the input.
    fn next(&mut self) -> Result<Option<Entry>, ParseError>;

    /// Raw series text (metric name and label block, exactly as exposed; the cache key of the
    /// scrape loop), timestamp in milliseconds if given, and the value.
    fn series(&self) -> (&'a [u8], Option<i64>, f64);

    /// Metric name and unescaped help text.
    fn help(&self) -> (&'a [u8], Cow<'a, str>);

    /// Metric name and type.
    fn type_(&self) -> (&'a [u8], MetricType);

    /// Metric name and unit; the unit is empty for formats without units.
    fn unit(&self) -> (&'a [u8], &'a str);

    /// The text of a comment line.
    fn comment(&self) -> &'a [u8];

    /// Fills `builder` (after resetting it) with `__name__` and the labels of the current
    /// sample, unescaped and sorted. Duplicate names are left for the caller to detect with
    /// [`ScratchBuilder::duplicate_name`], as the scrape loop reports them with the target.
    fn labels(&self, builder: &mut ScratchBuilder);

    /// The exemplar of the current sample, once: later calls for the same sample return `None`.
    fn exemplar(&mut self) -> Option<Exemplar>;

    /// The created timestamp (milliseconds) of the current sample, where the format carries one.
    fn created_timestamp(&mut self) -> Option<i64>;

    /// The type of the family the current sample belongs to (`Unknown` without a matching
    /// `# TYPE`).
    fn metric_type(&self) -> MetricType;
}

/// The NaN bit pattern Prometheus stores for an exposed `NaN` (upstream `value.NormalNaN`), so
/// that it is never mistaken for the staleness marker.
pub const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;
