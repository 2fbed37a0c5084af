//! The Prometheus data model: label sets, names, samples, exemplars, histograms and metadata.

mod escaping;
mod histogram_display;
mod histogram_ops;
mod labels;
mod matcher;
mod names;
mod regex;
mod value;

pub use escaping::{ESCAPING_KEY, EscapingScheme, EscapingSchemeError, escape_name, unescape_name};
pub use histogram_ops::{
    Bucket, Combined, HistogramError, MAX_EXPONENTIAL_SCHEMA, MIN_EXPONENTIAL_SCHEMA,
    exponential_bucket_bound, kahan_inc,
};
pub use labels::{
    Iter as LabelsIter, Label, Labels, LabelsBuilder, ScratchBuilder, write_go_quoted,
};
pub use matcher::{MatchType, Matcher, MatcherError};
pub use names::{
    BUCKET_LABEL, META_LABEL_PREFIX, METRIC_NAME_LABEL, NameValidation, QUANTILE_LABEL,
    RESERVED_LABEL_PREFIX, is_valid_legacy_label_name, is_valid_legacy_metric_name,
};
/// Go's string-literal escapes, beside [`write_go_quoted`] for the other direction.
pub use pm_gotmpl::strconv::unescape as go_unescape;
pub use regex::{FastRegexMatcher, GoRegex, RegexError, to_rust_syntax};
pub use value::{
    CUSTOM_BUCKETS_SCHEMA, CounterResetHint, Exemplar, FloatHistogram, Histogram, Metadata,
    MetricType, STALE_NAN_BITS, Sample, Span, Timestamp, is_stale_nan, stale_nan,
};
