//! The `global` block and the values it shares with scrape configs.

use std::collections::BTreeMap;
use std::fmt;

use pm_common::config::Duration;
use pm_common::model::{NameValidation, write_go_quoted};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use pm_common::config::Base2Bytes;

/// `metric_name_escaping_scheme` values.
pub const ESCAPING_SCHEMES: [&str; 4] = ["allow-utf-8", "underscores", "dots", "values"];

/// One entry of `scrape_protocols` / `fallback_scrape_protocol`: the wire formats a scrape
/// may ask for. Kept as written; [`ScrapeProtocol::validate`] checks it against the known
/// set, because upstream prints unknown values back in its message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScrapeProtocol(pub String);

/// Known protocols and the `Accept` media type each stands for, sorted by name (the order
/// upstream lists them in its error message).
pub const SCRAPE_PROTOCOLS: [(&str, &str); 5] = [
    (
        "OpenMetricsText0.0.1",
        "application/openmetrics-text;version=0.0.1",
    ),
    (
        "OpenMetricsText1.0.0",
        "application/openmetrics-text;version=1.0.0",
    ),
    (
        "PrometheusProto",
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
    ),
    ("PrometheusText0.0.4", "text/plain;version=0.0.4"),
    ("PrometheusText1.0.0", "text/plain;version=1.0.0"),
];

/// What a scrape asks for when nothing is configured.
pub const DEFAULT_SCRAPE_PROTOCOLS: [&str; 4] = [
    "OpenMetricsText1.0.0",
    "OpenMetricsText0.0.1",
    "PrometheusText1.0.0",
    "PrometheusText0.0.4",
];

/// What a scrape asks for when native histograms are on: protobuf first, since only it
/// carries them.
pub const DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS: [&str; 5] = [
    "PrometheusProto",
    "OpenMetricsText1.0.0",
    "OpenMetricsText0.0.1",
    "PrometheusText1.0.0",
    "PrometheusText0.0.4",
];

impl ScrapeProtocol {
    pub fn list(names: &[&str]) -> Vec<ScrapeProtocol> {
        names
            .iter()
            .map(|n| ScrapeProtocol((*n).to_owned()))
            .collect()
    }

    /// The `Accept` header value for this protocol (parameters included).
    pub fn header(&self) -> Option<&'static str> {
        SCRAPE_PROTOCOLS
            .iter()
            .find(|(name, _)| *name == self.0)
            .map(|(_, header)| *header)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.header().is_some() {
            return Ok(());
        }
        let names: Vec<&str> = SCRAPE_PROTOCOLS.iter().map(|(n, _)| *n).collect();
        Err(format!(
            "unknown scrape protocol {}, supported: [{}]",
            self.0,
            names.join(" ")
        ))
    }
}

/// Checks a `scrape_protocols` list: not empty, known names, no name twice (ignoring case).
pub(crate) fn validate_scrape_protocols(protocols: &[ScrapeProtocol]) -> Result<(), String> {
    if protocols.is_empty() {
        return Err("scrape_protocols cannot be empty".to_owned());
    }
    let mut seen = Vec::new();
    for protocol in protocols {
        let lower = protocol.0.to_lowercase();
        if seen.contains(&lower) {
            let all: Vec<&str> = protocols.iter().map(|p| p.0.as_str()).collect();
            return Err(format!(
                "duplicated protocol in scrape_protocols, got [{}]",
                all.join(" ")
            ));
        }
        protocol
            .validate()
            .map_err(|err| format!("scrape_protocols: {err}"))?;
        seen.push(lower);
    }
    Ok(())
}

/// `metric_name_validation_scheme`; `None` is upstream's unset value.
pub(crate) mod validation_scheme {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<NameValidation>, D::Error> {
        let text = Option::<String>::deserialize(d)?.unwrap_or_default();
        match text.as_str() {
            "" => Ok(None),
            "legacy" => Ok(Some(NameValidation::Legacy)),
            "utf8" => Ok(Some(NameValidation::Utf8)),
            other => Err(serde::de::Error::custom(format!(
                "unrecognized ValidationScheme: {}",
                GoQuoted(other)
            ))),
        }
    }

    pub fn serialize<S: Serializer>(v: &Option<NameValidation>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(NameValidation::Legacy) => s.serialize_str("legacy"),
            Some(NameValidation::Utf8) => s.serialize_str("utf8"),
            None => s.serialize_none(),
        }
    }
}

/// A string shown as Go's `%q` shows it.
pub(crate) struct GoQuoted<'a>(pub &'a str);

impl fmt::Display for GoQuoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_go_quoted(f, self.0)
    }
}

/// The `global` block: defaults for every scrape config and for rule evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GlobalConfig {
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_protocols: Option<Vec<ScrapeProtocol>>,
    pub evaluation_interval: Duration,
    #[serde(skip_serializing_if = "crate::config::units::is_zero_duration")]
    pub rule_query_offset: Duration,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub query_log_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scrape_failure_log_file: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub external_labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Base2Bytes::is_zero")]
    pub body_size_limit: Base2Bytes,
    #[serde(skip_serializing_if = "is_zero")]
    pub sample_limit: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub target_limit: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub label_limit: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub label_name_length_limit: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub label_value_length_limit: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub keep_dropped_targets: u64,
    #[serde(with = "validation_scheme")]
    pub metric_name_validation_scheme: Option<NameValidation>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub metric_name_escaping_scheme: String,
    pub scrape_native_histograms: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub convert_classic_histograms_to_nhcb: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub always_scrape_classic_histograms: bool,
    pub extra_scrape_metrics: bool,
}

pub(crate) fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Default for GlobalConfig {
    /// Upstream's `DefaultGlobalConfig`: scrape every minute with a 10s timeout, evaluate
    /// every minute, UTF-8 names.
    fn default() -> Self {
        GlobalConfig {
            scrape_interval: Duration::from_secs(60),
            scrape_timeout: Duration::from_secs(10),
            scrape_protocols: None,
            evaluation_interval: Duration::from_secs(60),
            rule_query_offset: Duration::ZERO,
            query_log_file: String::new(),
            scrape_failure_log_file: String::new(),
            external_labels: BTreeMap::new(),
            body_size_limit: Base2Bytes(0),
            sample_limit: 0,
            target_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            keep_dropped_targets: 0,
            metric_name_validation_scheme: Some(NameValidation::Utf8),
            metric_name_escaping_scheme: "allow-utf-8".to_owned(),
            scrape_native_histograms: false,
            convert_classic_histograms_to_nhcb: false,
            always_scrape_classic_histograms: false,
            extra_scrape_metrics: false,
        }
    }
}

/// The block as written: unset durations and flags are told apart from zero ones.
#[derive(Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields, default)]
struct RawGlobal {
    scrape_interval: Duration,
    scrape_timeout: Duration,
    scrape_protocols: Option<Vec<ScrapeProtocol>>,
    evaluation_interval: Duration,
    rule_query_offset: Duration,
    query_log_file: String,
    scrape_failure_log_file: String,
    external_labels: BTreeMap<String, String>,
    body_size_limit: Base2Bytes,
    sample_limit: u64,
    target_limit: u64,
    label_limit: u64,
    label_name_length_limit: u64,
    label_value_length_limit: u64,
    keep_dropped_targets: u64,
    #[serde(with = "validation_scheme")]
    metric_name_validation_scheme: Option<NameValidation>,
    metric_name_escaping_scheme: String,
    scrape_native_histograms: Option<bool>,
    convert_classic_histograms_to_nhcb: bool,
    always_scrape_classic_histograms: bool,
    extra_scrape_metrics: Option<bool>,
}

impl<'de> Deserialize<'de> for GlobalConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let raw = Option::<RawGlobal>::deserialize(d)?.unwrap_or_default();
        let defaults = GlobalConfig::default();
        // A block that sets nothing is the default block (escaping scheme included).
        if raw == RawGlobal::default() {
            return Ok(defaults);
        }
        // An unknown scheme falls back to the default here; upstream only refuses it when
        // parsing the value itself.
        let scheme = raw
            .metric_name_validation_scheme
            .unwrap_or(NameValidation::Utf8);
        // Values need no check: serde only decodes valid UTF-8, which is upstream's rule.
        if let Some(name) = raw
            .external_labels
            .keys()
            .find(|name| !scheme.is_valid_label_name(name))
        {
            return Err(D::Error::custom(format!(
                "{} is not a valid label name",
                GoQuoted(name)
            )));
        }
        let scrape_interval = if raw.scrape_interval.is_zero() {
            defaults.scrape_interval
        } else {
            raw.scrape_interval
        };
        if raw.scrape_timeout > scrape_interval {
            return Err(D::Error::custom(
                "global scrape timeout greater than scrape interval",
            ));
        }
        let scrape_timeout = if raw.scrape_timeout.is_zero() {
            defaults.scrape_timeout.min(scrape_interval)
        } else {
            raw.scrape_timeout
        };
        if let Some(protocols) = &raw.scrape_protocols {
            validate_scrape_protocols(protocols)
                .map_err(|err| D::Error::custom(format!("{err} for global config")))?;
        }
        Ok(GlobalConfig {
            scrape_interval,
            scrape_timeout,
            scrape_protocols: raw.scrape_protocols,
            evaluation_interval: if raw.evaluation_interval.is_zero() {
                defaults.evaluation_interval
            } else {
                raw.evaluation_interval
            },
            rule_query_offset: raw.rule_query_offset,
            query_log_file: raw.query_log_file,
            scrape_failure_log_file: raw.scrape_failure_log_file,
            external_labels: raw.external_labels,
            body_size_limit: raw.body_size_limit,
            sample_limit: raw.sample_limit,
            target_limit: raw.target_limit,
            label_limit: raw.label_limit,
            label_name_length_limit: raw.label_name_length_limit,
            label_value_length_limit: raw.label_value_length_limit,
            keep_dropped_targets: raw.keep_dropped_targets,
            metric_name_validation_scheme: Some(scheme),
            metric_name_escaping_scheme: raw.metric_name_escaping_scheme,
            scrape_native_histograms: raw.scrape_native_histograms.unwrap_or(false),
            convert_classic_histograms_to_nhcb: raw.convert_classic_histograms_to_nhcb,
            always_scrape_classic_histograms: raw.always_scrape_classic_histograms,
            extra_scrape_metrics: raw.extra_scrape_metrics.unwrap_or(false),
        })
    }
}

impl GlobalConfig {
    /// The name validation every relabel rule and external label is checked with.
    pub fn name_validation(&self) -> NameValidation {
        self.metric_name_validation_scheme
            .unwrap_or(NameValidation::Utf8)
    }
}

/// Expands `$VAR` and `${VAR}` in external label values from the environment, as upstream
/// does at load: `$$` is a literal `$`, unset variables expand to nothing, and a malformed
/// reference (`${}`, `${x`) is dropped.
pub fn expand_env(value: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(value.len());
    let bytes = value.as_bytes();
    let mut start = 0;
    let mut j = 0;
    while j < bytes.len() {
        if bytes[j] == b'$' && j + 1 < bytes.len() {
            out.push_str(&value[start..j]);
            let (name, width) = shell_name(&value[j + 1..]);
            match name {
                None if width > 0 => {}
                None => out.push('$'),
                Some("$") => out.push('$'),
                Some(name) => out.push_str(&lookup(name).unwrap_or_default()),
            }
            j += width;
            start = j + 1;
        }
        j += 1;
    }
    out.push_str(&value[start..]);
    out
}

fn is_special(b: u8) -> bool {
    matches!(b, b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-') || b.is_ascii_digit()
}

/// The variable name at the start of `s` and how many bytes it spans; `None` with a
/// non-zero width is malformed syntax to swallow.
fn shell_name(s: &str) -> (Option<&str>, usize) {
    let b = s.as_bytes();
    if b[0] == b'{' {
        if b.len() > 2 && is_special(b[1]) && b[2] == b'}' {
            return (Some(&s[1..2]), 3);
        }
        return match s[1..].find('}') {
            Some(0) => (None, 2),
            Some(end) => (Some(&s[1..end + 1]), end + 2),
            None => (None, 1),
        };
    }
    if is_special(b[0]) {
        return (Some(&s[..1]), 1);
    }
    let len = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count();
    if len == 0 {
        (None, 0)
    } else {
        (Some(&s[..len]), len)
    }
}

/// `runtime`: settings of the Go runtime. GOGC has no meaning here but is kept so that
/// configs load and print back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    #[serde(default)]
    pub gogc: i64,
}

impl Default for RuntimeConfig {
    /// Upstream's default follows `$GOGC` and is 75 otherwise.
    fn default() -> Self {
        let gogc = match std::env::var("GOGC") {
            Ok(v) if v.eq_ignore_ascii_case("off") => -1,
            Ok(v) => v.parse().unwrap_or(75),
            Err(_) => 75,
        };
        RuntimeConfig { gogc }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("h1".to_owned()),
            "1" => Some("one".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn env_expansion_matches_go() {
        assert_eq!(expand_env("a-$HOST-b", env), "a-h1-b");
        assert_eq!(expand_env("${HOST}x", env), "h1x");
        assert_eq!(expand_env("$$HOST", env), "$HOST");
        assert_eq!(expand_env("$1x", env), "onex");
        assert_eq!(expand_env("$UNSET.", env), ".");
        assert_eq!(expand_env("a$", env), "a$");
        assert_eq!(expand_env("a$ b", env), "a$ b");
        assert_eq!(expand_env("a${}b", env), "ab");
        assert_eq!(expand_env("a${HOST", env), "aHOST");
    }

    #[test]
    fn protocols_are_checked() {
        let err =
            validate_scrape_protocols(&ScrapeProtocol::list(&["prometheusproto"])).unwrap_err();
        assert_eq!(
            err,
            "scrape_protocols: unknown scrape protocol prometheusproto, supported: [OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0]"
        );
        let err = validate_scrape_protocols(&ScrapeProtocol::list(&[
            "OpenMetricsText1.0.0",
            "PrometheusProto",
            "OpenMetricsText1.0.0",
        ]))
        .unwrap_err();
        assert_eq!(
            err,
            "duplicated protocol in scrape_protocols, got [OpenMetricsText1.0.0 PrometheusProto OpenMetricsText1.0.0]"
        );
        assert!(validate_scrape_protocols(&[]).is_err());
    }
}
