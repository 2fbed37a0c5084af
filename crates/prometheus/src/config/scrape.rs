//! `scrape_configs` entries: one job each, inheriting what it leaves unset from `global`.

use std::collections::BTreeMap;
use std::path::Path;

use pm_common::config::Duration;
use pm_common::config::http::HttpClientConfig;
use pm_common::config::join_dir;
use pm_common::model::NameValidation;
use pm_common::relabel::RelabelConfig;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::discovery::ServiceDiscovery;
use super::global::{
    DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS, DEFAULT_SCRAPE_PROTOCOLS, ESCAPING_SCHEMES, GlobalConfig,
    ScrapeProtocol, is_zero, validate_scrape_protocols, validation_scheme,
};
use super::inline;
use super::relabel_rules;
use pm_common::config::Base2Bytes;

/// One scrape job.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeConfig {
    pub settings: ScrapeSettings,
    /// How targets are reached (auth, TLS, proxy), inline in the job's mapping.
    pub http_client: HttpClientConfig,
    /// Where targets come from: the job's `static_configs` and `*_sd_configs`.
    pub service_discovery: ServiceDiscovery,
}

/// The job's own keys. Fields that inherit from `global` are `None`/zero until
/// [`ScrapeConfig::validate`] fills them, as upstream's `Validate` does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScrapeSettings {
    pub job_name: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub track_timestamps_staleness: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "crate::config::units::is_zero_duration")]
    pub scrape_interval: Duration,
    #[serde(skip_serializing_if = "crate::config::units::is_zero_duration")]
    pub scrape_timeout: Duration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_protocols: Option<Vec<ScrapeProtocol>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_scrape_protocol: Option<ScrapeProtocol>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_native_histograms: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub always_scrape_classic_histograms: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convert_classic_histograms_to_nhcb: Option<bool>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scrape_failure_log_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub metrics_path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scheme: String,
    pub enable_compression: bool,
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
    pub native_histogram_bucket_limit: u64,
    #[serde(skip_serializing_if = "is_zero_f64")]
    pub native_histogram_min_bucket_factor: f64,
    #[serde(skip_serializing_if = "is_zero")]
    pub keep_dropped_targets: u64,
    #[serde(with = "validation_scheme", skip_serializing_if = "Option::is_none")]
    pub metric_name_validation_scheme: Option<NameValidation>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub metric_name_escaping_scheme: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_scrape_metrics: Option<bool>,
    #[serde(
        deserialize_with = "relabel_rules::target",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub relabel_configs: Vec<RelabelConfig>,
    #[serde(
        deserialize_with = "relabel_rules::metric",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub metric_relabel_configs: Vec<RelabelConfig>,
}

fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

impl Default for ScrapeSettings {
    /// Upstream's `DefaultScrapeConfig`.
    fn default() -> Self {
        ScrapeSettings {
            job_name: String::new(),
            honor_labels: false,
            honor_timestamps: true,
            track_timestamps_staleness: false,
            params: BTreeMap::new(),
            scrape_interval: Duration::ZERO,
            scrape_timeout: Duration::ZERO,
            scrape_protocols: None,
            fallback_scrape_protocol: None,
            scrape_native_histograms: None,
            always_scrape_classic_histograms: None,
            convert_classic_histograms_to_nhcb: None,
            scrape_failure_log_file: String::new(),
            metrics_path: "/metrics".to_owned(),
            scheme: "http".to_owned(),
            enable_compression: true,
            body_size_limit: Base2Bytes(0),
            sample_limit: 0,
            target_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            native_histogram_bucket_limit: 0,
            native_histogram_min_bucket_factor: 0.0,
            keep_dropped_targets: 0,
            metric_name_validation_scheme: None,
            metric_name_escaping_scheme: String::new(),
            extra_scrape_metrics: None,
            relabel_configs: Vec::new(),
            metric_relabel_configs: Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for ScrapeConfig {
    /// Upstream's `UnmarshalYAML`: what can be checked without the global block.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let split = inline::split(inline::mapping(d)?, true, ServiceDiscovery::is_key);
        let settings: ScrapeSettings = inline::decode(split.own)?;
        let service_discovery = ServiceDiscovery::from_mapping(split.sd)?;
        if settings.job_name.is_empty() {
            return Err(D::Error::custom("job_name is empty"));
        }
        let http_client = inline::http_client(split.http, true)?;
        if settings.relabel_configs.is_empty() {
            service_discovery
                .check_static_targets()
                .map_err(D::Error::custom)?;
        }
        Ok(ScrapeConfig {
            settings,
            http_client,
            service_discovery,
        })
    }
}

impl Serialize for ScrapeConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = inline::to_mapping::<_, S::Error>(&self.settings)?;
        let rules = out.remove("relabel_configs");
        let metric_rules = out.remove("metric_relabel_configs");
        out.extend(inline::to_mapping::<_, S::Error>(&self.http_client)?);
        out.extend(self.service_discovery.to_mapping::<S::Error>()?);
        // Upstream prints the rules after the inline blocks.
        if let Some(rules) = rules {
            out.insert("relabel_configs".into(), rules);
        }
        if let Some(rules) = metric_rules {
            out.insert("metric_relabel_configs".into(), rules);
        }
        out.serialize(serializer)
    }
}

impl ScrapeConfig {
    /// Fills what the job inherits from `global` and checks the result, as upstream's
    /// `Validate(globalConfig)`; the messages are upstream's.
    pub fn validate(&mut self, global: &GlobalConfig) -> Result<(), String> {
        let s = &mut self.settings;
        let job = super::global::GoQuoted(&s.job_name).to_string();
        if s.scrape_interval.is_zero() {
            s.scrape_interval = global.scrape_interval;
        }
        if s.scrape_timeout > s.scrape_interval {
            return Err(format!(
                "scrape timeout greater than scrape interval for scrape config with job name {job}"
            ));
        }
        if s.scrape_timeout.is_zero() {
            s.scrape_timeout = global.scrape_timeout.min(s.scrape_interval);
        }
        inherit(&mut s.body_size_limit.0, global.body_size_limit.0);
        inherit(&mut s.sample_limit, global.sample_limit);
        inherit(&mut s.target_limit, global.target_limit);
        inherit(&mut s.label_limit, global.label_limit);
        inherit(
            &mut s.label_name_length_limit,
            global.label_name_length_limit,
        );
        inherit(
            &mut s.label_value_length_limit,
            global.label_value_length_limit,
        );
        inherit(&mut s.keep_dropped_targets, global.keep_dropped_targets);
        if s.scrape_failure_log_file.is_empty() {
            s.scrape_failure_log_file = global.scrape_failure_log_file.clone();
        }
        let native = *s
            .scrape_native_histograms
            .get_or_insert(global.scrape_native_histograms);
        s.extra_scrape_metrics
            .get_or_insert(global.extra_scrape_metrics);
        let protocols = s
            .scrape_protocols
            .get_or_insert_with(|| match &global.scrape_protocols {
                Some(global) => global.clone(),
                None if native => ScrapeProtocol::list(&DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS),
                None => ScrapeProtocol::list(&DEFAULT_SCRAPE_PROTOCOLS),
            });
        validate_scrape_protocols(protocols)
            .map_err(|err| format!("{err} for scrape config with job name {job}"))?;
        if let Some(fallback) = &s.fallback_scrape_protocol {
            fallback.validate().map_err(|err| {
                format!(
                    "invalid fallback_scrape_protocol for scrape config with job name {job}: {err}"
                )
            })?;
        }
        let global_scheme = global
            .metric_name_validation_scheme
            .ok_or("global name validation method must be set")?;
        let local_unset = s.metric_name_validation_scheme.is_none();
        let scheme = *s.metric_name_validation_scheme.get_or_insert(global_scheme);
        let global_escaping = match global.metric_name_escaping_scheme.as_str() {
            "" if global_scheme == NameValidation::Legacy => "underscores",
            "" => "allow-utf-8",
            known if ESCAPING_SCHEMES.contains(&known) => known,
            other => {
                return Err(format!(
                    "unknown global name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got {}",
                    super::global::GoQuoted(other)
                ));
            }
        };
        if s.metric_name_escaping_scheme.is_empty() {
            s.metric_name_escaping_scheme = if local_unset {
                global_escaping
            } else if scheme == NameValidation::Legacy {
                "underscores"
            } else {
                "allow-utf-8"
            }
            .to_owned();
        }
        match s.metric_name_escaping_scheme.as_str() {
            "allow-utf-8" if scheme != NameValidation::Utf8 => {
                return Err(
                    "utf8 metric names requested but validation scheme is not set to UTF8"
                        .to_owned(),
                );
            }
            known if ESCAPING_SCHEMES.contains(&known) => {}
            other => {
                return Err(format!(
                    "unknown scrape config name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got {}",
                    super::global::GoQuoted(other)
                ));
            }
        }
        s.convert_classic_histograms_to_nhcb
            .get_or_insert(global.convert_classic_histograms_to_nhcb);
        s.always_scrape_classic_histograms
            .get_or_insert(global.always_scrape_classic_histograms);
        for rule in s
            .relabel_configs
            .iter_mut()
            .chain(s.metric_relabel_configs.iter_mut())
        {
            rule.validate(scheme).map_err(|err| err.to_string())?;
        }
        Ok(())
    }

    /// Resolves relative paths against the directory of the file the job came from.
    pub fn set_directory(&mut self, dir: &Path) {
        self.service_discovery.set_directory(dir);
        self.http_client.set_directory(dir);
        self.settings.scrape_failure_log_file =
            join_dir(dir, &self.settings.scrape_failure_log_file);
    }

    pub fn scrape_native_histograms_enabled(&self) -> bool {
        self.settings.scrape_native_histograms == Some(true)
    }

    pub fn convert_classic_histograms_to_nhcb_enabled(&self) -> bool {
        self.settings.convert_classic_histograms_to_nhcb == Some(true)
    }

    pub fn always_scrape_classic_histograms_enabled(&self) -> bool {
        self.settings.always_scrape_classic_histograms == Some(true)
    }

    pub fn extra_scrape_metrics_enabled(&self) -> bool {
        self.settings.extra_scrape_metrics == Some(true)
    }

    /// The protocols to put in the `Accept` header, in preference order.
    pub fn scrape_protocols(&self) -> &[ScrapeProtocol] {
        self.settings
            .scrape_protocols
            .as_deref()
            .unwrap_or_default()
    }
}

fn inherit<T: Default + PartialEq + Copy>(local: &mut T, global: T) {
    if *local == T::default() {
        *local = global;
    }
}
