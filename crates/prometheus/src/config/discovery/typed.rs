//! The SD mechanisms the server implements: file, DNS, Consul and HTTP.

use std::collections::BTreeMap;
use std::path::Path;

use pm_common::config::http::{BasicAuth, HttpClientConfig};
use pm_common::config::{Duration, Secret, join_dir};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::global::GoQuoted;
use crate::config::inline;

/// `file_sd_configs`: targets read from JSON/YAML files, re-read on change and every
/// `refresh_interval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileSdConfig {
    pub files: Vec<String>,
    #[serde(skip_serializing_if = "crate::config::units::is_zero_duration")]
    pub refresh_interval: Duration,
}

impl Default for FileSdConfig {
    fn default() -> Self {
        FileSdConfig {
            files: Vec::new(),
            refresh_interval: Duration::from_secs(300),
        }
    }
}

impl FileSdConfig {
    pub(crate) fn validate(&mut self) -> Result<(), String> {
        if self.files.is_empty() {
            return Err("file service discovery config must contain at least one path name".into());
        }
        match self.files.iter().find(|f| !is_valid_file_sd_name(f)) {
            Some(bad) => Err(format!(
                "path name {} is not valid for file discovery",
                GoQuoted(bad)
            )),
            None => Ok(()),
        }
    }

    pub fn set_directory(&mut self, dir: &Path) {
        for file in &mut self.files {
            *file = join_dir(dir, file);
        }
    }
}

/// A file SD path: a JSON or YAML extension, and a `*` only in the last path component.
fn is_valid_file_sd_name(name: &str) -> bool {
    const EXTENSIONS: [&str; 6] = [".json", ".yml", ".yaml", ".JSON", ".YML", ".YAML"];
    let glob_ok = name
        .find('*')
        .is_none_or(|star| !name[star + 1..].contains('/'));
    glob_ok && EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

/// `dns_sd_configs`: targets from DNS records, re-resolved every `refresh_interval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsSdConfig {
    pub names: Vec<String>,
    #[serde(skip_serializing_if = "crate::config::units::is_zero_duration")]
    pub refresh_interval: Duration,
    #[serde(rename = "type")]
    pub record_type: String,
    /// The port for A/AAAA/MX/NS targets; SRV records carry their own.
    pub port: u16,
}

impl Default for DnsSdConfig {
    fn default() -> Self {
        DnsSdConfig {
            names: Vec::new(),
            refresh_interval: Duration::from_secs(30),
            record_type: "SRV".to_owned(),
            port: 0,
        }
    }
}

impl DnsSdConfig {
    pub(crate) fn validate(&mut self) -> Result<(), String> {
        if self.names.is_empty() {
            return Err("DNS-SD config must contain at least one SRV record name".into());
        }
        match self.record_type.to_uppercase().as_str() {
            "SRV" => Ok(()),
            "A" | "AAAA" | "MX" | "NS" if self.port == 0 => {
                Err("a port is required in DNS-SD configs for all record types except SRV".into())
            }
            "A" | "AAAA" | "MX" | "NS" => Ok(()),
            _ => Err(format!("invalid DNS-SD records type {}", self.record_type)),
        }
    }
}

/// `consul_sd_configs`: services from Consul's catalog API.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsulSdConfig {
    pub settings: ConsulSettings,
    pub http_client: HttpClientConfig,
}

/// The Consul-specific keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsulSettings {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub server: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path_prefix: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub token: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub datacenter: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub partition: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tag_separator: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scheme: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub password: Secret,
    pub allow_stale: bool,
    #[serde(skip_serializing_if = "crate::config::units::is_zero_duration")]
    pub refresh_interval: Duration,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    #[serde(rename = "tags", skip_serializing_if = "Vec::is_empty")]
    pub service_tags: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub node_meta: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub filter: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub health_filter: String,
}

impl Default for ConsulSettings {
    fn default() -> Self {
        ConsulSettings {
            server: "localhost:8500".to_owned(),
            path_prefix: String::new(),
            token: Secret::default(),
            datacenter: String::new(),
            namespace: String::new(),
            partition: String::new(),
            tag_separator: ",".to_owned(),
            scheme: "http".to_owned(),
            username: String::new(),
            password: Secret::default(),
            allow_stale: true,
            refresh_interval: Duration::from_secs(30),
            services: Vec::new(),
            service_tags: Vec::new(),
            node_meta: BTreeMap::new(),
            filter: String::new(),
            health_filter: String::new(),
        }
    }
}

impl<'de> Deserialize<'de> for ConsulSdConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let split = inline::split(inline::mapping(d)?, true, |_| false);
        let settings: ConsulSettings = inline::decode(split.own)?;
        let mut http_client = inline::decode_http::<D::Error>(split.http)?;
        if settings.server.trim().is_empty() {
            return Err(D::Error::custom(
                "consul SD configuration requires a server address",
            ));
        }
        // The legacy username/password keys are basic auth by another name.
        if !settings.username.is_empty() || !settings.password.is_empty() {
            if http_client.basic_auth.is_some() {
                return Err(D::Error::custom(
                    "at most one of consul SD configuration username and password and basic auth can be configured",
                ));
            }
            http_client.basic_auth = Some(BasicAuth {
                username: settings.username.clone(),
                password: settings.password.clone(),
                ..BasicAuth::default()
            });
        }
        if !settings.token.is_empty()
            && (http_client.authorization.is_some() || http_client.oauth2.is_some())
        {
            return Err(D::Error::custom(
                "at most one of consul SD token, authorization, or oauth2 can be configured",
            ));
        }
        http_client.validate().map_err(D::Error::custom)?;
        Ok(ConsulSdConfig {
            settings,
            http_client,
        })
    }
}

impl Serialize for ConsulSdConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = inline::to_mapping::<_, S::Error>(&self.settings)?;
        out.extend(inline::to_mapping::<_, S::Error>(&self.http_client)?);
        out.serialize(serializer)
    }
}

/// `http_sd_configs`: target groups fetched as JSON from a URL.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSdConfig {
    pub url: String,
    pub refresh_interval: Duration,
    pub http_client: HttpClientConfig,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpSdSettings {
    #[serde(default)]
    url: String,
    #[serde(
        default,
        skip_serializing_if = "crate::config::units::is_zero_duration"
    )]
    refresh_interval: Duration,
}

impl<'de> Deserialize<'de> for HttpSdConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let split = inline::split(inline::mapping(d)?, true, |_| false);
        let own: HttpSdSettings = inline::decode(split.own)?;
        if own.url.is_empty() {
            return Err(D::Error::custom("URL is missing"));
        }
        check_http_url(&own.url).map_err(D::Error::custom)?;
        Ok(HttpSdConfig {
            url: own.url,
            refresh_interval: if own.refresh_interval.is_zero() {
                Duration::from_secs(60)
            } else {
                own.refresh_interval
            },
            http_client: inline::http_client(split.http, true)?,
        })
    }
}

impl Serialize for HttpSdConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let own = HttpSdSettings {
            url: self.url.clone(),
            refresh_interval: self.refresh_interval,
        };
        let mut out = inline::to_mapping::<_, S::Error>(&self.http_client)?;
        out.extend(inline::to_mapping::<_, S::Error>(&own)?);
        out.serialize(serializer)
    }
}

/// The URL checks shared by HTTP SD and PuppetDB SD, with upstream's messages.
pub(crate) fn check_http_url(url: &str) -> Result<(), String> {
    let (scheme, host) = inline::go_url_scheme_host(url)?;
    if scheme != "http" && scheme != "https" {
        return Err("URL scheme must be 'http' or 'https'".into());
    }
    if host.is_empty() {
        return Err("host is missing in URL".into());
    }
    Ok(())
}
