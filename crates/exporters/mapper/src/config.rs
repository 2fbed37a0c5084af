//! The mapping config file as users write it for upstream's statsd_exporter and
//! graphite_exporter: field names, enum spellings and defaults follow upstream's YAML exactly,
//! and unknown fields are refused as upstream's strict unmarshalling does.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// The kind of StatsD event a mapping applies to (`match_metric_type`). Timers, histograms and
/// distributions are all observers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    Counter,
    Gauge,
    Observer,
}

impl MetricType {
    pub const ALL: [MetricType; 3] = [MetricType::Counter, MetricType::Gauge, MetricType::Observer];

    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Observer => "observer",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MetricType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = String::deserialize(d)?;
        MetricType::ALL
            .into_iter()
            .find(|t| t.as_str() == v)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid metric type '{v}'")))
    }
}

/// How a mapping's `match` is interpreted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MatchType {
    /// Dotted fields with `*` wildcards, matched by a finite state machine.
    #[default]
    Glob,
    /// A Go (RE2) regular expression, unanchored, tried in config order after all globs.
    Regex,
}

impl<'de> Deserialize<'de> for MatchType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "glob" | "" => Ok(MatchType::Glob),
            "regex" => Ok(MatchType::Regex),
            v => Err(serde::de::Error::custom(format!(
                "invalid match type {v:?}"
            ))),
        }
    }
}

/// What happens to a metric that matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ActionType {
    #[default]
    Map,
    Drop,
}

impl<'de> Deserialize<'de> for ActionType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "map" | "" => Ok(ActionType::Map),
            "drop" => Ok(ActionType::Drop),
            v => Err(serde::de::Error::custom(format!(
                "invalid action type {v:?}"
            ))),
        }
    }
}

/// How observer events (timers, histograms, distributions) are exposed. Upstream reads an
/// empty string as `summary`; a missing field stays unset (and then also means summary, but
/// without filling in the summary defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObserverType {
    Histogram,
    Summary,
}

impl<'de> Deserialize<'de> for ObserverType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "histogram" => Ok(ObserverType::Histogram),
            "summary" | "" => Ok(ObserverType::Summary),
            v => Err(serde::de::Error::custom(format!(
                "invalid observer type '{v}'"
            ))),
        }
    }
}

/// One summary objective: a quantile and its allowed rank error.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    #[serde(default)]
    pub quantile: f64,
    #[serde(default)]
    pub error: f64,
}

/// client_golang's objectives when a config names none.
pub const DEFAULT_QUANTILES: [Objective; 3] = [
    Objective {
        quantile: 0.5,
        error: 0.05,
    },
    Objective {
        quantile: 0.9,
        error: 0.01,
    },
    Objective {
        quantile: 0.99,
        error: 0.001,
    },
];

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryOptions {
    #[serde(default)]
    pub quantiles: Vec<Objective>,
    #[serde(default, deserialize_with = "go_duration")]
    pub max_age: Duration,
    #[serde(default)]
    pub age_buckets: u32,
    #[serde(default)]
    pub buf_cap: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistogramOptions {
    #[serde(default)]
    pub buckets: Vec<f64>,
    #[serde(default)]
    pub native_histogram_bucket_factor: f64,
    #[serde(default)]
    pub native_histogram_max_buckets: u32,
}

/// The `defaults:` block.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default)]
    pub observer_type: Option<ObserverType>,
    #[serde(default)]
    pub match_type: MatchType,
    #[serde(default)]
    pub glob_disable_ordering: bool,
    #[serde(default, deserialize_with = "go_duration")]
    pub ttl: Duration,
    #[serde(default)]
    pub summary_options: SummaryOptions,
    #[serde(default)]
    pub histogram_options: HistogramOptions,
}

/// One entry of `mappings:`, as written; [`crate::MetricMapper`] fills in the defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricMapping {
    #[serde(default, rename = "match")]
    pub pattern: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub honor_labels: bool,
    #[serde(default)]
    pub observer_type: Option<ObserverType>,
    /// Unset means "the default match type".
    #[serde(default)]
    pub match_type: Option<MatchType>,
    #[serde(default, rename = "help")]
    pub help_text: String,
    #[serde(default)]
    pub action: ActionType,
    #[serde(default)]
    pub match_metric_type: Option<MetricType>,
    #[serde(default, deserialize_with = "go_duration")]
    pub ttl: Duration,
    #[serde(default)]
    pub summary_options: Option<SummaryOptions>,
    #[serde(default)]
    pub histogram_options: Option<HistogramOptions>,
    /// A factor applied to observed values (e.g. `0.001` to turn milliseconds into seconds).
    #[serde(default)]
    pub scale: Option<f64>,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MapperConfig {
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub mappings: Vec<MetricMapping>,
}

/// Go's `time.Duration` as go-yaml decodes it: a `time.ParseDuration` string (`90s`, `1m30s`,
/// `1.5h`) or an integer count of nanoseconds.
fn go_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Nanos(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Nanos(n) => Ok(Duration::from_nanos(n)),
        Raw::Text(s) => pm_common::config::parse_go_duration(&s).map_err(serde::de::Error::custom),
    }
}
