//! The `consul_sd_configs` entry.

use std::collections::BTreeMap;

use pm_common::config::http::HttpClientConfig;
use pm_common::config::{Duration, Secret};
use serde::{Deserialize, Serialize};

/// Services from Consul's catalog API. The YAML form inlines the HTTP client keys beside the
/// Consul ones; the server's config loader decodes it and folds the legacy `username` and
/// `password` into `http_client.basic_auth`.
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
    #[serde(skip_serializing_if = "crate::config::is_zero_duration")]
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
