//! The `alerting` block: where alerts go and how they are relabeled on the way.

use std::path::Path;

use pm_common::config::Duration;
use pm_common::config::http::HttpClientConfig;
use pm_common::model::NameValidation;
use pm_common::relabel::RelabelConfig;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::discovery::ServiceDiscovery;
use super::inline;
use super::relabel_rules;
use pm_common::config::SigV4Config;

/// The `alerting` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertingConfig {
    #[serde(
        deserialize_with = "relabel_rules::alert",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub alert_relabel_configs: Vec<RelabelConfig>,
    #[serde(
        deserialize_with = "alertmanagers",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub alertmanagers: Vec<AlertmanagerConfig>,
}

fn alertmanagers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<AlertmanagerConfig>, D::Error> {
    let list = Option::<Vec<Option<AlertmanagerConfig>>>::deserialize(d)?.unwrap_or_default();
    inline::non_null(list, "empty or null Alertmanager config section")
}

impl AlertingConfig {
    pub(crate) fn validate(&mut self, scheme: NameValidation) -> Result<(), String> {
        let am_rules = self.alertmanagers.iter_mut().flat_map(|am| {
            let s = &mut am.settings;
            s.alert_relabel_configs
                .iter_mut()
                .chain(s.relabel_configs.iter_mut())
        });
        for rule in self.alert_relabel_configs.iter_mut().chain(am_rules) {
            rule.validate(scheme).map_err(|err| err.to_string())?;
        }
        Ok(())
    }

    pub fn set_directory(&mut self, dir: &Path) {
        for am in &mut self.alertmanagers {
            am.service_discovery.set_directory(dir);
            am.http_client.set_directory(dir);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.alert_relabel_configs.is_empty() && self.alertmanagers.is_empty()
    }
}

/// One `alertmanagers` entry: a set of Alertmanagers and how to reach them.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertmanagerConfig {
    pub settings: AlertmanagerSettings,
    pub http_client: HttpClientConfig,
    pub service_discovery: ServiceDiscovery,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertmanagerSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigv4: Option<SigV4Config>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scheme: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path_prefix: String,
    #[serde(skip_serializing_if = "crate::config::units::is_zero_duration")]
    pub timeout: Duration,
    #[serde(deserialize_with = "api_version")]
    pub api_version: String,
    #[serde(
        deserialize_with = "relabel_rules::alertmanager_target",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub relabel_configs: Vec<RelabelConfig>,
    #[serde(
        deserialize_with = "relabel_rules::alertmanager_alert",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub alert_relabel_configs: Vec<RelabelConfig>,
}

/// Only the v2 API is left; upstream refuses `v1` with this message.
fn api_version<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let version = Option::<String>::deserialize(d)?.unwrap_or_default();
    if version != "v2" {
        return Err(serde::de::Error::custom(format!(
            "expected Alertmanager api version to be one of [v2] but got {version}"
        )));
    }
    Ok(version)
}

impl Default for AlertmanagerSettings {
    fn default() -> Self {
        AlertmanagerSettings {
            sigv4: None,
            scheme: "http".to_owned(),
            path_prefix: String::new(),
            timeout: Duration::from_secs(10),
            api_version: "v2".to_owned(),
            relabel_configs: Vec::new(),
            alert_relabel_configs: Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for AlertmanagerConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let split = inline::split(inline::mapping(d)?, true, ServiceDiscovery::is_key);
        let settings: AlertmanagerSettings = inline::decode(split.own)?;
        let service_discovery = ServiceDiscovery::from_mapping(split.sd)?;
        let http_client = inline::http_client(split.http, true)?;
        let http_auth = http_client.basic_auth.is_some()
            || http_client.authorization.is_some()
            || http_client.oauth2.is_some();
        if http_auth && settings.sigv4.is_some() {
            return Err(D::Error::custom(
                "at most one of basic_auth, authorization, oauth2, & sigv4 must be configured",
            ));
        }
        if let Some(sigv4) = &settings.sigv4 {
            sigv4.validate().map_err(D::Error::custom)?;
        }
        if settings.relabel_configs.is_empty() {
            service_discovery
                .check_static_targets()
                .map_err(D::Error::custom)?;
        }
        Ok(AlertmanagerConfig {
            settings,
            http_client,
            service_discovery,
        })
    }
}

impl Serialize for AlertmanagerConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = inline::to_mapping::<_, S::Error>(&self.settings)?;
        let rules = out.remove("relabel_configs");
        let alert_rules = out.remove("alert_relabel_configs");
        out.extend(inline::to_mapping::<_, S::Error>(&self.http_client)?);
        out.extend(self.service_discovery.to_mapping::<S::Error>()?);
        if let Some(rules) = rules {
            out.insert("relabel_configs".into(), rules);
        }
        if let Some(rules) = alert_rules {
            out.insert("alert_relabel_configs".into(), rules);
        }
        out.serialize(serializer)
    }
}
