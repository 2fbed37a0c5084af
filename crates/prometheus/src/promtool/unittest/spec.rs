//! The unit-test file format, read strictly (unknown fields are errors) as upstream does.

use std::collections::BTreeMap;

use pm_common::config::Duration;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct UnitTestFile {
    pub rule_files: Vec<String>,
    pub evaluation_interval: Option<Duration>,
    pub group_eval_order: Vec<String>,
    pub tests: Vec<TestGroup>,
    /// Floats equal when they are at most one ULP apart.
    pub fuzzy_compare: bool,
}

/// Input series and the tests run against them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct TestGroup {
    /// Step between consecutive input values; the file's `evaluation_interval` when unset.
    pub interval: Option<Duration>,
    pub input_series: Vec<InputSeries>,
    pub alert_rule_test: Vec<AlertTestCase>,
    pub promql_expr_test: Vec<PromqlTestCase>,
    pub external_labels: BTreeMap<String, String>,
    pub external_url: String,
    pub name: String,
    /// RFC 3339 or a Unix timestamp: where time 0 of the group is (default: the epoch).
    pub start_timestamp: Option<StartTimestamp>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InputSeries {
    pub series: String,
    #[serde(deserialize_with = "scalar_string")]
    pub values: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AlertTestCase {
    #[serde(default)]
    pub eval_time: Duration,
    #[serde(default)]
    pub alertname: String,
    #[serde(default)]
    pub exp_alerts: Vec<ExpectedAlert>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct ExpectedAlert {
    pub exp_labels: BTreeMap<String, String>,
    pub exp_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PromqlTestCase {
    pub expr: String,
    #[serde(default)]
    pub eval_time: Duration,
    #[serde(default)]
    pub exp_samples: Vec<ExpectedSample>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct ExpectedSample {
    pub labels: String,
    pub value: f64,
}

/// `start_timestamp`, in milliseconds since the epoch.
#[derive(Debug, Clone, Copy)]
pub(super) struct StartTimestamp(pub i64);

impl<'de> Deserialize<'de> for StartTimestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = scalar_string(d)?;
        let t = super::super::query::parse_time(&s).map_err(serde::de::Error::custom)?;
        let ms = match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
        };
        Ok(StartTimestamp(ms))
    }
}

/// A YAML scalar of any type as its text, as Go's YAML decoder fills a string field from
/// `values: 1` or `start_timestamp: 1700000000`.
fn scalar_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Int(i64),
        Float(f64),
        Bool(bool),
    }
    Ok(match Scalar::deserialize(d)? {
        Scalar::Text(s) => s,
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Bool(b) => b.to_string(),
    })
}
