//! alertmanager.yml: upstream's fields, defaults and validation.
//!
//! Loading runs in two steps, like upstream: the YAML is decoded strictly (unknown fields,
//! duplicate keys and malformed values are refused with file, line and field), then the
//! document is checked as a whole: every receiver inherits the `global:` defaults and must end
//! up with what it needs, every receiver and time interval a route names must exist, and the
//! root route must be a catch-all.

pub mod global;
pub mod receivers;
pub mod route;
pub mod timeinterval;
pub mod types;

use std::collections::HashSet;
use std::path::Path;

use pm_common::config::http::{Header, HttpClientConfig, TlsConfig};
use pm_common::config::yaml::{self, YamlError};
use pm_common::config::{Duration, join_dir};
use serde::{Deserialize, Serialize};

pub use global::GlobalConfig;
pub use receivers::Receiver;
pub use route::{InhibitRuleConfig, RouteConfig};
pub use timeinterval::{NamedTimeInterval, TimeInterval};

/// A document that decoded but is not a valid configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
    #[error("at most one of {0} must be configured")]
    AtMostOne(String),
}

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    #[serde(deserialize_with = "null_as_default")]
    pub global: GlobalConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<RouteConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inhibit_rules: Vec<InhibitRuleConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub receivers: Vec<Receiver>,
    pub templates: Vec<String>,
    /// Deprecated upstream in favour of `time_intervals`; both are honoured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mute_time_intervals: Vec<NamedTimeInterval>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub time_intervals: Vec<NamedTimeInterval>,
    #[serde(skip_serializing_if = "TracingConfig::is_unset")]
    pub tracing: TracingConfig,
    /// The text the config was loaded from.
    #[serde(skip)]
    pub original: String,
}

/// An empty `global:` block means the defaults, as upstream restores them.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `tracing:` (accepted and validated; this build does not export traces).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TracingConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub endpoint: String,
    pub sampling_fraction: f64,
    pub insecure: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<std::collections::BTreeMap<String, Header>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub compression: String,
    pub timeout: Duration,
}

impl TracingConfig {
    fn is_unset(&self) -> bool {
        self.client_type.is_empty() && self.endpoint.is_empty()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.is_unset() {
            return Ok(());
        }
        if !matches!(self.client_type.as_str(), "" | "grpc" | "http") {
            return Err(ConfigError::Invalid(format!(
                "invalid tracing client type {:?}",
                self.client_type
            )));
        }
        if self.endpoint.is_empty() {
            return Err(ConfigError::Invalid("tracing endpoint must be set".into()));
        }
        if !matches!(self.compression.as_str(), "" | "gzip") {
            return Err(ConfigError::Invalid(format!(
                "invalid compression type {:?} provided, valid options: gzip",
                self.compression
            )));
        }
        Ok(())
    }
}

impl Config {
    /// Parses and validates `text`; `path` names the source in errors and is not read.
    pub fn load(text: &str, path: impl AsRef<Path>) -> Result<Config, YamlError> {
        let path = path.as_ref();
        let mut cfg: Config = yaml::from_str(text, path)?;
        cfg.original = text.to_owned();
        yaml::validate(path, cfg, Config::validate)
    }

    /// Reads, parses and validates the file, resolving relative paths against its directory.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Config, YamlError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| YamlError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut cfg = Config::load(&text, path)?;
        cfg.set_directory(path.parent().unwrap_or(Path::new(".")));
        Ok(cfg)
    }

    fn set_directory(&mut self, dir: &Path) {
        for t in &mut self.templates {
            *t = join_dir(dir, t);
        }
        self.global.http_config.set_directory(dir);
        for receiver in &mut self.receivers {
            for http in receiver.http_configs_mut() {
                http.set_directory(dir);
            }
        }
    }

    /// The root route; loading guarantees it exists.
    pub fn root_route(&self) -> &RouteConfig {
        static EMPTY: std::sync::LazyLock<RouteConfig> = std::sync::LazyLock::new(Default::default);
        self.route.as_ref().unwrap_or(&EMPTY)
    }

    /// Every named time interval, the deprecated `mute_time_intervals` first.
    pub fn named_time_intervals(&self) -> impl Iterator<Item = &NamedTimeInterval> {
        self.mute_time_intervals.iter().chain(&self.time_intervals)
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        let invalid = ConfigError::Invalid;
        // Checks upstream makes while decoding the parts.
        validate_http(&mut self.global.http_config)?;
        for (i, receiver) in self.receivers.iter_mut().enumerate() {
            let context = |e: String| invalid(format!("receivers[{i}]: {e}"));
            receiver.validate_own().map_err(context)?;
            for http in receiver.http_configs_mut() {
                validate_http(http).map_err(|e| context(e.to_string()))?;
            }
        }
        if let Some(route) = &self.route {
            route.validate()?;
        }
        for rule in &self.inhibit_rules {
            rule.validate()?;
        }
        for ti in &self.mute_time_intervals {
            if ti.name.is_empty() {
                return Err(invalid("missing name in mute time interval".into()));
            }
        }
        for ti in &self.time_intervals {
            if ti.name.is_empty() {
                return Err(invalid("missing name in time interval".into()));
            }
        }
        self.tracing.validate()?;

        // Checks on the whole document.
        let Some(route) = &self.route else {
            return Err(invalid("no route provided in config".into()));
        };
        if route.continue_matching {
            return Err(invalid("cannot have continue in root route".into()));
        }
        self.global.validate()?;
        let mut names = HashSet::new();
        for receiver in &mut self.receivers {
            if !names.insert(receiver.name.clone()) {
                return Err(invalid(format!(
                    "notification config name {:?} is not unique",
                    receiver.name
                )));
            }
            let name = receiver.name.clone();
            receiver
                .apply_globals(&self.global)
                .map_err(|e| invalid(format!("receiver {name:?}: {e}")))?;
        }
        if route.receiver.is_empty() {
            return Err(invalid("root route must specify a default receiver".into()));
        }
        if route.has_matchers() {
            return Err(invalid("root route must not have any matchers".into()));
        }
        if !route.mute_time_intervals.is_empty() {
            return Err(invalid(
                "root route must not have any mute time intervals".into(),
            ));
        }
        if !route.active_time_intervals.is_empty() {
            return Err(invalid(
                "root route must not have any active time intervals".into(),
            ));
        }
        let names: HashSet<&str> = names.iter().map(String::as_str).collect();
        route.check_receivers(&names)?;
        let mut intervals = HashSet::new();
        for ti in &self.mute_time_intervals {
            if !intervals.insert(ti.name.as_str()) {
                return Err(invalid(format!(
                    "mute time interval {:?} is not unique",
                    ti.name
                )));
            }
        }
        for ti in &self.time_intervals {
            if !intervals.insert(ti.name.as_str()) {
                return Err(invalid(format!(
                    "time interval {:?} is not unique",
                    ti.name
                )));
            }
        }
        route.check_time_intervals(&intervals)
    }

    /// The config as YAML with every secret replaced by `<secret>` (upstream's
    /// `Config.String`, shown by `/api/v2/status` and `amtool config show`).
    pub fn to_redacted_yaml(&self) -> String {
        serde_norway::to_string(self)
            .unwrap_or_else(|err| format!("<error creating config string: {err}>"))
    }
}

fn validate_http(http: &mut HttpClientConfig) -> Result<(), ConfigError> {
    http.validate()
        .map_err(|e| ConfigError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests;
