//! `remote_write` and `remote_read` entries.

use std::collections::BTreeMap;
use std::path::Path;

use pm_common::config::Duration;
use pm_common::config::http::HttpClientConfig;
use pm_common::model::NameValidation;
use pm_common::relabel::RelabelConfig;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::auth::{AzureAdConfig, GoogleIamConfig};
use super::inline;
use super::relabel_rules;
use pm_common::config::SigV4Config;

/// Headers a user may not set on remote requests: they are the protocol's own.
const RESERVED_HEADERS: [&str; 16] = [
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// Checks `headers`; `authorization` gets its own message (tracing words it differently).
pub(crate) fn validate_headers(
    headers: &BTreeMap<String, String>,
    authorization: &str,
) -> Result<(), String> {
    for name in headers.keys() {
        let lower = name.to_ascii_lowercase();
        if lower == "authorization" {
            return Err(authorization.to_owned());
        }
        if RESERVED_HEADERS.contains(&lower.as_str()) {
            return Err(format!(
                "{name} is a reserved header. It must not be changed"
            ));
        }
    }
    Ok(())
}

/// The remote-write protobuf messages a sender can speak.
pub const PROTOBUF_MESSAGES: [&str; 2] =
    ["prometheus.WriteRequest", "io.prometheus.write.v2.Request"];

/// `url` of remote endpoints: printed back with any password replaced, as upstream does.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct RemoteUrl(pub String);

impl Serialize for RemoteUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match url::Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                // Cannot fail: a URL that has a password can take another.
                let _ = url.set_password(Some("xxxxx"));
                serializer.serialize_str(url.as_str())
            }
            _ => serializer.serialize_str(&self.0),
        }
    }
}

/// One `remote_write` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteWriteConfig {
    pub settings: RemoteWriteSettings,
    pub http_client: HttpClientConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemoteWriteSettings {
    pub url: Option<RemoteUrl>,
    #[serde(skip_serializing_if = "crate::config::units::is_zero_duration")]
    pub remote_timeout: Duration,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(
        deserialize_with = "relabel_rules::remote_write",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub write_relabel_configs: Vec<RelabelConfig>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub send_exemplars: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub send_native_histograms: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub round_robin_dns: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub protobuf_message: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub failed_request_logging: bool,
    pub queue_config: QueueConfig,
    pub metadata_config: MetadataConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigv4: Option<SigV4Config>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azuread: Option<AzureAdConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub google_iam: Option<GoogleIamConfig>,
}

impl Default for RemoteWriteSettings {
    fn default() -> Self {
        RemoteWriteSettings {
            url: None,
            remote_timeout: Duration::from_secs(30),
            headers: BTreeMap::new(),
            write_relabel_configs: Vec::new(),
            name: String::new(),
            send_exemplars: false,
            send_native_histograms: false,
            round_robin_dns: false,
            protobuf_message: PROTOBUF_MESSAGES[0].to_owned(),
            failed_request_logging: false,
            queue_config: QueueConfig::default(),
            metadata_config: MetadataConfig::default(),
            sigv4: None,
            azuread: None,
            google_iam: None,
        }
    }
}

/// `queue_config`: how samples are sharded, batched and retried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    pub capacity: i64,
    pub max_shards: i64,
    pub min_shards: i64,
    pub max_samples_per_send: i64,
    pub batch_send_deadline: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    #[serde(
        rename = "retry_on_http_429",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub retry_on_rate_limit: bool,
    #[serde(skip_serializing_if = "crate::config::units::is_zero_duration")]
    pub sample_age_limit: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: 10_000,
            max_shards: 50,
            min_shards: 1,
            max_samples_per_send: 2000,
            batch_send_deadline: Duration::from_secs(5),
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            retry_on_rate_limit: false,
            sample_age_limit: Duration::ZERO,
        }
    }
}

impl QueueConfig {
    pub fn validate(&self) -> Result<(), String> {
        let problem = if self.max_shards <= 0 {
            "max_shards must be positive"
        } else if self.min_shards <= 0 {
            "min_shards must be positive"
        } else if self.min_shards > self.max_shards {
            "min_shards must not be greater than max_shards"
        } else if self.max_samples_per_send <= 0 {
            "max_samples_per_send must be positive"
        } else if self.capacity <= 0 {
            "capacity must be positive"
        } else if self.max_backoff < self.min_backoff {
            "max_backoff must not be less than min_backoff"
        } else {
            return Ok(());
        };
        Err(format!("remote write queue {problem}"))
    }
}

/// `metadata_config`: whether and how often metric metadata is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataConfig {
    pub send: bool,
    pub send_interval: Duration,
    pub max_samples_per_send: i64,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig {
            send: true,
            send_interval: Duration::from_secs(60),
            max_samples_per_send: 2000,
        }
    }
}

impl<'de> Deserialize<'de> for RemoteWriteConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let split = inline::split(inline::mapping(d)?, true, |_| false);
        let mut settings: RemoteWriteSettings = inline::decode(split.own)?;
        let url = settings
            .url
            .as_ref()
            .ok_or_else(|| D::Error::custom("url for remote_write is empty"))?;
        inline::go_url_parses(&url.0).map_err(D::Error::custom)?;
        validate_headers(
            &settings.headers,
            "authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter",
        )
        .map_err(D::Error::custom)?;
        if !PROTOBUF_MESSAGES.contains(&settings.protobuf_message.as_str()) {
            return Err(D::Error::custom(format!(
                "invalid protobuf_message value: unknown type for remote write protobuf message {}, supported: {}",
                settings.protobuf_message,
                PROTOBUF_MESSAGES.join(", ")
            )));
        }
        let http_client: HttpClientConfig = inline::http_client(split.http, false)?;
        settings.queue_config.validate().map_err(D::Error::custom)?;
        if let Some(sigv4) = &settings.sigv4 {
            sigv4.validate().map_err(D::Error::custom)?;
        }
        if let Some(azuread) = &mut settings.azuread {
            azuread.validate().map_err(D::Error::custom)?;
        }
        let configured: Vec<&str> = [
            ("basic_auth", http_client.basic_auth.is_some()),
            ("authorization", http_client.authorization.is_some()),
            ("oauth2", http_client.oauth2.is_some()),
            ("sigv4", settings.sigv4.is_some()),
            ("azuread", settings.azuread.is_some()),
            ("google_iam", settings.google_iam.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        if configured.len() > 1 {
            return Err(D::Error::custom(format!(
                "at most one of basic_auth, authorization, oauth2, sigv4, azuread or google_iam must be configured. Currently configured: [{}]",
                configured.join(" ")
            )));
        }
        Ok(RemoteWriteConfig {
            settings,
            http_client,
        })
    }
}

impl Serialize for RemoteWriteConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = inline::to_mapping::<_, S::Error>(&self.settings)?;
        out.extend(inline::to_mapping::<_, S::Error>(&self.http_client)?);
        out.serialize(serializer)
    }
}

impl RemoteWriteConfig {
    pub(crate) fn validate(&mut self, scheme: NameValidation) -> Result<(), String> {
        for rule in &mut self.settings.write_relabel_configs {
            rule.validate(scheme).map_err(|err| err.to_string())?;
        }
        Ok(())
    }

    pub fn set_directory(&mut self, dir: &Path) {
        self.http_client.set_directory(dir);
    }
}

/// One `remote_read` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteReadConfig {
    pub settings: RemoteReadSettings,
    pub http_client: HttpClientConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemoteReadSettings {
    pub url: Option<RemoteUrl>,
    #[serde(skip_serializing_if = "crate::config::units::is_zero_duration")]
    pub remote_timeout: Duration,
    #[serde(skip_serializing_if = "is_zero")]
    pub chunked_read_limit: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_recent: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub required_matchers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub filter_external_labels: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Default for RemoteReadSettings {
    fn default() -> Self {
        RemoteReadSettings {
            url: None,
            remote_timeout: Duration::from_secs(60),
            chunked_read_limit: 50_000_000,
            headers: BTreeMap::new(),
            read_recent: false,
            name: String::new(),
            required_matchers: BTreeMap::new(),
            filter_external_labels: true,
        }
    }
}

impl<'de> Deserialize<'de> for RemoteReadConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let split = inline::split(inline::mapping(d)?, true, |_| false);
        let settings: RemoteReadSettings = inline::decode(split.own)?;
        let url = settings
            .url
            .as_ref()
            .ok_or_else(|| D::Error::custom("url for remote_read is empty"))?;
        inline::go_url_parses(&url.0).map_err(D::Error::custom)?;
        validate_headers(
            &settings.headers,
            "authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter",
        )
        .map_err(D::Error::custom)?;
        Ok(RemoteReadConfig {
            settings,
            http_client: inline::http_client(split.http, true)?,
        })
    }
}

impl Serialize for RemoteReadConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = inline::to_mapping::<_, S::Error>(&self.settings)?;
        let matchers = out.remove("required_matchers");
        let filter = out.remove("filter_external_labels");
        out.extend(inline::to_mapping::<_, S::Error>(&self.http_client)?);
        if let Some(matchers) = matchers {
            out.insert("required_matchers".into(), matchers);
        }
        if let Some(filter) = filter {
            out.insert("filter_external_labels".into(), filter);
        }
        out.serialize(serializer)
    }
}

impl RemoteReadConfig {
    pub fn set_directory(&mut self, dir: &Path) {
        self.http_client.set_directory(dir);
    }
}
