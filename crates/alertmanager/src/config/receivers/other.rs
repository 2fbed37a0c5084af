//! Webhook, Amazon SNS and WeChat receivers.

use std::collections::BTreeMap;

use pm_common::config::http::HttpClientConfig;
use pm_common::config::{Secret, SigV4Config};
use serde::{Deserialize, Serialize};

use super::{at_most_one, tmpl};
use crate::config::types::{GoDuration, HttpUrl, SecretTemplateUrl};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    pub url: SecretTemplateUrl,
    pub url_file: String,
    /// At most this many alerts per message; 0 means all.
    pub max_alerts: u64,
    pub timeout: GoDuration,
    /// A custom payload template replacing the standard version-4 message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            send_resolved: true,
            http_config: None,
            url: SecretTemplateUrl::default(),
            url_file: String::new(),
            max_alerts: 0,
            timeout: GoDuration::default(),
            payload: None,
        }
    }
}

impl WebhookConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        if self.url.0.is_empty() && self.url_file.is_empty() {
            return Err("one of url or url_file must be configured".into());
        }
        at_most_one(!self.url.0.is_empty(), &self.url_file, "url & url_file")
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnsConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_url: String,
    pub sigv4: SigV4Config,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub topic_arn: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub phone_number: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target_arn: String,
    pub subject: String,
    pub message: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    pub use_aws_http_client: bool,
}

impl Default for SnsConfig {
    fn default() -> Self {
        SnsConfig {
            send_resolved: true,
            http_config: None,
            api_url: String::new(),
            sigv4: SigV4Config::default(),
            topic_arn: String::new(),
            phone_number: String::new(),
            target_arn: String::new(),
            subject: tmpl("sns.default.subject"),
            message: tmpl("sns.default.message"),
            attributes: BTreeMap::new(),
            use_aws_http_client: false,
        }
    }
}

impl SnsConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        // Upstream's chained inequality: an odd number of the three targets must be set.
        let set = [&self.target_arn, &self.topic_arn, &self.phone_number]
            .iter()
            .filter(|s| !s.is_empty())
            .count();
        if set % 2 == 0 {
            return Err(
                "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"
                    .into(),
            );
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WechatConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub api_secret: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_secret_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub corp_id: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<HttpUrl>,
    pub to_user: String,
    pub to_party: String,
    pub to_tag: String,
    pub agent_id: String,
    pub message_type: String,
}

impl Default for WechatConfig {
    fn default() -> Self {
        WechatConfig {
            send_resolved: false,
            http_config: None,
            api_secret: Secret::default(),
            api_secret_file: String::new(),
            corp_id: String::new(),
            message: tmpl("wechat.default.message"),
            api_url: None,
            to_user: tmpl("wechat.default.to_user"),
            to_party: tmpl("wechat.default.to_party"),
            to_tag: tmpl("wechat.default.to_tag"),
            agent_id: tmpl("wechat.default.agent_id"),
            message_type: String::new(),
        }
    }
}

impl WechatConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        if self.message_type.is_empty() {
            self.message_type = "text".to_owned();
        }
        if !matches!(self.message_type.as_str(), "text" | "markdown") {
            return Err(format!(
                "weChat message type {:?} does not match valid options ^(text|markdown)$",
                self.message_type
            ));
        }
        at_most_one(
            !self.api_secret.is_empty(),
            &self.api_secret_file,
            "api_secret & api_secret_file",
        )
    }
}
