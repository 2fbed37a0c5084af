//! prometheus.yml: the typed server configuration, loaded and validated as upstream's
//! `config.LoadFile` does, and printed back (secrets hidden) for `/api/v1/status/config`.
//!
//! Loading is two-staged like upstream: each block checks what it can on its own while it is
//! decoded (unknown keys, required fields, HTTP client rules), then [`Config`] fills what
//! scrape configs inherit from `global` and checks cross-block rules (duplicate job names,
//! relabel rules under the chosen name validation). Error texts are upstream's, so searches
//! for an upstream message find the same cause; every error names the file, and decode errors
//! also the line, column and field path.
//!
//! ```no_run
//! let cfg = pm_prometheus::config::load_file("prometheus.yml".as_ref(), false)?;
//! for job in cfg.all_scrape_configs() {
//!     println!("{} every {}", job.settings.job_name, job.settings.scrape_interval);
//! }
//! # Ok::<(), pm_prometheus::config::ConfigError>(())
//! ```

mod alerting;
mod auth;
mod binary;
pub mod discovery;
mod global;
mod inline;
mod relabel_rules;
mod remote;
mod scrape;
mod storage;
mod units;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pm_common::config::join_dir;
use pm_common::config::positions::{Position, Positions};
use pm_common::config::yaml::{self, YamlError};
use serde::{Deserialize, Deserializer, Serialize};

pub use alerting::{AlertingConfig, AlertmanagerConfig, AlertmanagerSettings};
pub use auth::{AzureAdConfig, AzureClient, GoogleIamConfig};
pub use global::{
    DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS, DEFAULT_SCRAPE_PROTOCOLS, GlobalConfig, RuntimeConfig,
    SCRAPE_PROTOCOLS, ScrapeProtocol, expand_env,
};
pub use pm_common::config::Base2Bytes;
pub use pm_common::config::SigV4Config;
pub use remote::{
    MetadataConfig, PROTOBUF_MESSAGES, QueueConfig, RemoteReadConfig, RemoteReadSettings,
    RemoteUrl, RemoteWriteConfig, RemoteWriteSettings,
};
pub use scrape::{ScrapeConfig, ScrapeSettings};
pub use storage::{
    ChunkEncodingConfig, ExemplarsConfig, OtlpConfig, RetentionConfig, StorageConfig,
    TRANSLATION_STRATEGIES, TracingConfig, TsdbConfig,
};

use global::GoQuoted;

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read, parsed or validated.
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// Agent mode only scrapes and remote-writes.
    #[error("{}: field {field} is not allowed in agent mode", path.display())]
    AgentMode { path: PathBuf, field: &'static str },
    /// A check across blocks failed; `field` is the path of the node concerned
    /// (`scrape_configs[2]`), `position` where it starts.
    #[error("parsing YAML file {}: {}{field}: {message}", path.display(), located(position))]
    Invalid {
        path: PathBuf,
        position: Option<Position>,
        field: String,
        message: String,
    },
    /// A `!!binary` scalar whose content upstream refuses.
    #[error("{}: line {line} column {column}: {message}", path.display())]
    Binary {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A `scrape_config_files` pattern that cannot be expanded.
    #[error(
        "error retrieving scrape config files for {}: {reason}",
        GoQuoted(pattern)
    )]
    ScrapeConfigGlob { pattern: String, reason: String },
    /// A file included by `scrape_config_files` is wrong; `path` is absolute, as upstream
    /// prints it.
    #[error("{}: {reason}", GoQuoted(&path.display().to_string()))]
    ScrapeConfigFile { path: PathBuf, reason: String },
}

/// The whole of prometheus.yml.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    pub global: GlobalConfig,
    pub runtime: RuntimeConfig,
    #[serde(skip_serializing_if = "AlertingConfig::is_empty")]
    pub alerting: AlertingConfig,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rule_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scrape_config_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scrape_configs: Vec<ScrapeConfig>,
    pub storage: StorageConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing: Option<TracingConfig>,
    #[serde(rename = "remote_write", skip_serializing_if = "Vec::is_empty")]
    pub remote_write: Vec<RemoteWriteConfig>,
    #[serde(rename = "remote_read", skip_serializing_if = "Vec::is_empty")]
    pub remote_read: Vec<RemoteReadConfig>,
    pub otlp: OtlpConfig,
    /// Jobs read from `scrape_config_files` by [`load_file`], validated against `global`;
    /// not printed back, as upstream prints only the main file.
    #[serde(skip)]
    pub included_scrape_configs: Vec<ScrapeConfig>,
}

impl Default for Config {
    /// What an empty file loads as.
    fn default() -> Self {
        Config {
            global: GlobalConfig::default(),
            runtime: RuntimeConfig::default(),
            alerting: AlertingConfig::default(),
            rule_files: Vec::new(),
            scrape_config_files: Vec::new(),
            scrape_configs: Vec::new(),
            storage: StorageConfig::default(),
            tracing: None,
            remote_write: Vec::new(),
            remote_read: Vec::new(),
            otlp: OtlpConfig::default(),
            included_scrape_configs: Vec::new(),
        }
    }
}

/// Null (`key:` with no value) reads as the block's default, as upstream's decoder does.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The file as written, before cross-block checks.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawConfig {
    global: GlobalConfig,
    #[serde(deserialize_with = "nullable")]
    runtime: Option<RuntimeConfig>,
    #[serde(deserialize_with = "nullable")]
    alerting: AlertingConfig,
    #[serde(deserialize_with = "nullable")]
    rule_files: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    scrape_config_files: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    scrape_configs: Vec<Option<ScrapeConfig>>,
    #[serde(deserialize_with = "nullable")]
    storage: StorageConfig,
    tracing: Option<TracingConfig>,
    #[serde(deserialize_with = "nullable")]
    remote_write: Vec<Option<RemoteWriteConfig>>,
    #[serde(deserialize_with = "nullable")]
    remote_read: Vec<Option<RemoteReadConfig>>,
    #[serde(deserialize_with = "nullable")]
    otlp: OtlpConfig,
}

/// A file of `scrape_config_files`: only scrape configs.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct ScrapeConfigsFile {
    #[serde(deserialize_with = "nullable")]
    scrape_configs: Vec<Option<ScrapeConfig>>,
}

/// Rule and scrape-config file patterns may only glob in their last path component.
fn is_valid_file_pattern(pattern: &str) -> bool {
    pattern
        .find('*')
        .is_none_or(|star| !pattern[star + 1..].contains('/'))
}

fn located(position: &Option<Position>) -> String {
    position.map_or_else(String::new, |p| {
        format!("line {} column {}: ", p.line, p.column)
    })
}

/// A cross-block check that failed, and the path of the node it is about.
struct Invalid {
    field: String,
    message: String,
}

impl Invalid {
    fn at(field: impl Into<String>, message: String) -> Self {
        Invalid {
            field: field.into(),
            message,
        }
    }
}

impl Config {
    /// Upstream's `Config.UnmarshalYAML` and the rest of `Load`: cross-block checks,
    /// inheritance from `global`, and environment expansion in external labels.
    fn check(raw: RawConfig) -> Result<Config, Invalid> {
        let mut cfg = Config {
            global: raw.global,
            runtime: raw.runtime.filter(|r| r.gogc != 0).unwrap_or_default(),
            alerting: raw.alerting,
            rule_files: raw.rule_files,
            scrape_config_files: raw.scrape_config_files,
            scrape_configs: Vec::new(),
            storage: raw.storage,
            tracing: raw.tracing,
            remote_write: Vec::new(),
            remote_read: Vec::new(),
            otlp: raw.otlp,
            included_scrape_configs: Vec::new(),
        };
        if let Some(bad) = cfg.rule_files.iter().find(|f| !is_valid_file_pattern(f)) {
            let message = format!("invalid rule file path {}", GoQuoted(bad));
            return Err(Invalid::at("rule_files", message));
        }
        if let Some(bad) = cfg
            .scrape_config_files
            .iter()
            .find(|f| !is_valid_file_pattern(f))
        {
            let message = format!("invalid scrape config file path {}", GoQuoted(bad));
            return Err(Invalid::at("scrape_config_files", message));
        }
        let mut jobs = Vec::new();
        for (i, job) in raw.scrape_configs.into_iter().enumerate() {
            let at = |message: String| Invalid::at(format!("scrape_configs[{i}]"), message);
            let mut job = job.ok_or_else(|| at("empty or null scrape config section".into()))?;
            job.validate(&cfg.global).map_err(at)?;
            if jobs.contains(&job.settings.job_name) {
                return Err(at(format!(
                    "found multiple scrape configs with job name {}",
                    GoQuoted(&job.settings.job_name)
                )));
            }
            jobs.push(job.settings.job_name.clone());
            cfg.scrape_configs.push(job);
        }
        let scheme = cfg.global.name_validation();
        cfg.alerting
            .validate(scheme)
            .map_err(|message| Invalid::at("alerting", message))?;
        let mut names = Vec::new();
        for (i, rw) in raw.remote_write.into_iter().enumerate() {
            let at = |message: String| Invalid::at(format!("remote_write[{i}]"), message);
            let mut rw =
                rw.ok_or_else(|| at("empty or null remote write config section".into()))?;
            let name = &rw.settings.name;
            if !name.is_empty() && names.contains(name) {
                return Err(at(format!(
                    "found multiple remote write configs with job name {}",
                    GoQuoted(name)
                )));
            }
            rw.validate(scheme).map_err(at)?;
            names.push(rw.settings.name.clone());
            cfg.remote_write.push(rw);
        }
        names.clear();
        for (i, rr) in raw.remote_read.into_iter().enumerate() {
            let at = |message: String| Invalid::at(format!("remote_read[{i}]"), message);
            let rr = rr.ok_or_else(|| at("empty or null remote read config section".into()))?;
            let name = &rr.settings.name;
            if !name.is_empty() && names.contains(name) {
                return Err(at(format!(
                    "found multiple remote read configs with job name {}",
                    GoQuoted(name)
                )));
            }
            names.push(rr.settings.name.clone());
            cfg.remote_read.push(rr);
        }
        for value in cfg.global.external_labels.values_mut() {
            *value = expand_env(value, |name| {
                std::env::var(name).ok().filter(|v| !v.is_empty())
            });
        }
        let strategy = cfg.otlp.translation_strategy.as_str();
        match strategy {
            "UnderscoreEscapingWithSuffixes" | "UnderscoreEscapingWithoutSuffixes" | "" => {}
            "NoTranslation" | "NoUTF8EscapingWithSuffixes" => {
                if scheme == pm_common::model::NameValidation::Legacy {
                    let message = format!(
                        "OTLP translation strategy {} is not allowed when UTF8 is disabled",
                        GoQuoted(strategy)
                    );
                    return Err(Invalid::at("otlp.translation_strategy", message));
                }
            }
            other => {
                let message = format!("unsupported OTLP translation strategy {}", GoQuoted(other));
                return Err(Invalid::at("otlp.translation_strategy", message));
            }
        }
        Ok(cfg)
    }

    /// Resolves every relative path against `dir`, the directory of the config file.
    pub fn set_directory(&mut self, dir: &Path) {
        self.global.query_log_file = join_dir(dir, &self.global.query_log_file);
        self.global.scrape_failure_log_file = join_dir(dir, &self.global.scrape_failure_log_file);
        self.alerting.set_directory(dir);
        if let Some(tracing) = &mut self.tracing {
            tracing.set_directory(dir);
        }
        for file in self
            .rule_files
            .iter_mut()
            .chain(self.scrape_config_files.iter_mut())
        {
            *file = join_dir(dir, file);
        }
        for job in &mut self.scrape_configs {
            job.set_directory(dir);
        }
        for rw in &mut self.remote_write {
            rw.set_directory(dir);
        }
        for rr in &mut self.remote_read {
            rr.set_directory(dir);
        }
    }

    /// Every scrape job: the main file's first, then those of `scrape_config_files`.
    pub fn all_scrape_configs(&self) -> impl Iterator<Item = &ScrapeConfig> {
        self.scrape_configs
            .iter()
            .chain(self.included_scrape_configs.iter())
    }

    /// The config as YAML with secrets shown as `<secret>`, for `/api/v1/status/config`.
    pub fn to_yaml(&self) -> Result<String, serde_norway::Error> {
        serde_norway::to_string(self)
    }

    /// Reads the files of `scrape_config_files` (upstream's `GetScrapeConfigs`): each job is
    /// validated against `global`, may not reuse a job name, and resolves its paths against
    /// its own file's directory.
    fn load_scrape_config_files(&mut self) -> Result<(), ConfigError> {
        let mut seen: HashMap<String, String> = self
            .scrape_configs
            .iter()
            .map(|job| (job.settings.job_name.clone(), "main config file".to_owned()))
            .collect();
        for pattern in &self.scrape_config_files {
            let files =
                pm_common::glob::glob(pattern).map_err(|e| ConfigError::ScrapeConfigGlob {
                    pattern: pattern.clone(),
                    reason: e.to_string(),
                })?;
            for file in files.into_iter().map(PathBuf::from) {
                let absolute = std::path::absolute(&file).unwrap_or_else(|_| file.clone());
                let fail = |reason: String| ConfigError::ScrapeConfigFile {
                    path: absolute.clone(),
                    reason,
                };
                let parsed: ScrapeConfigsFile =
                    yaml::load_file(&file).map_err(|err| fail(err.to_string()))?;
                for job in parsed.scrape_configs {
                    let mut job =
                        job.ok_or_else(|| fail("empty or null scrape config section".into()))?;
                    job.validate(&self.global).map_err(fail)?;
                    let name = job.settings.job_name.clone();
                    if let Some(first) = seen.get(&name) {
                        return Err(fail(format!(
                            "found multiple scrape configs with job name {}, first found in {first}",
                            GoQuoted(&name)
                        )));
                    }
                    let origin = GoQuoted(&absolute.display().to_string()).to_string();
                    seen.insert(name, origin);
                    if let Some(dir) = file.parent() {
                        job.set_directory(dir);
                    }
                    self.included_scrape_configs.push(job);
                }
            }
        }
        Ok(())
    }
}

/// Parses and validates `text` as upstream's `config.Load`: relative paths stay as written.
/// `origin` only names the source in errors.
pub fn load_str(text: &str, origin: impl AsRef<Path>) -> Result<Config, ConfigError> {
    let origin = origin.as_ref();
    binary::check(text).map_err(|err| ConfigError::Binary {
        path: origin.to_owned(),
        line: err.line,
        column: err.column,
        message: err.message,
    })?;
    let raw: Option<RawConfig> = yaml::from_str(text, origin)?;
    Config::check(raw.unwrap_or_default()).map_err(|err| ConfigError::Invalid {
        path: origin.to_owned(),
        position: Positions::new(text).get(&err.field),
        field: err.field,
        message: err.message,
    })
}

/// Loads prometheus.yml as upstream's `config.LoadFile`, plus the files of
/// `scrape_config_files`. In agent mode, alerting, rule files and remote read are refused.
pub fn load_file(path: &Path, agent_mode: bool) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| YamlError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut cfg = load_str(&text, path)?;
    if agent_mode {
        let refused = if !cfg.alerting.is_empty() {
            Some("alerting")
        } else if !cfg.rule_files.is_empty() {
            Some("rule_files")
        } else if !cfg.remote_read.is_empty() {
            Some("remote_read")
        } else {
            None
        };
        if let Some(field) = refused {
            return Err(ConfigError::AgentMode {
                path: path.to_owned(),
                field,
            });
        }
    }
    cfg.set_directory(path.parent().unwrap_or(Path::new("")));
    cfg.load_scrape_config_files()?;
    Ok(cfg)
}

#[cfg(test)]
mod tests;
