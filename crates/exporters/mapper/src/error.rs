use pm_common::config::yaml::YamlError;

/// A mapping config that cannot be used. Messages follow upstream's, so users can search
/// for them.
#[derive(Debug, thiserror::Error)]
pub enum MapperError {
    #[error(transparent)]
    Yaml(#[from] YamlError),
    #[error("invalid label key: {0}")]
    InvalidLabelKey(String),
    /// `index` is the mapping's position in `mappings:` (upstream calls it a line).
    #[error("line {index}: metric mapping didn't set a metric name")]
    MissingName { index: usize },
    #[error("metric name '{0}' doesn't match regex '{re}'", re = crate::mapper::METRIC_NAME_RE)]
    InvalidName(String),
    #[error("invalid match: {0}")]
    InvalidMatch(String),
    #[error("invalid regex {pattern} in mapping: {reason}")]
    InvalidRegex { pattern: String, reason: String },
    #[error("cannot use histogram observer and summary options at the same time")]
    HistogramWithSummaryOptions,
    #[error("cannot use summary observer and histogram options at the same time")]
    SummaryWithHistogramOptions,
}
