//! The `global:` block: defaults that receivers inherit.

use pm_common::config::http::{HttpClientConfig, TlsConfig};
use pm_common::config::{Duration, Secret};
use serde::{Deserialize, Serialize};

use super::ConfigError;
use super::types::{HostPort, HttpUrl, SecretUrl};

fn url(s: &str) -> Option<HttpUrl> {
    Some(HttpUrl::parse(s).expect("built-in default URL"))
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlobalConfig {
    /// How long after its last update an alert without an end time counts as resolved.
    pub resolve_timeout: Duration,
    pub http_config: HttpClientConfig,

    #[serde(skip_serializing_if = "Option::is_none")]
    pub jira_api_url: Option<HttpUrl>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_from: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_hello: String,
    #[serde(skip_serializing_if = "HostPort::is_empty")]
    pub smtp_smarthost: HostPort,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_auth_username: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub smtp_auth_password: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_auth_password_file: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub smtp_auth_secret: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_auth_secret_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_auth_identity: String,
    pub smtp_require_tls: bool,
    pub smtp_tls_config: TlsConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_force_implicit_tls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack_api_url: Option<SecretUrl>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub slack_api_url_file: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub slack_app_token: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub slack_app_token_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack_app_url: Option<HttpUrl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagerduty_url: Option<HttpUrl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opsgenie_api_url: Option<HttpUrl>,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub opsgenie_api_key: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub opsgenie_api_key_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wechat_api_url: Option<HttpUrl>,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub wechat_api_secret: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub wechat_api_secret_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub wechat_api_corp_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub victorops_api_url: Option<HttpUrl>,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub victorops_api_key: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub victorops_api_key_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telegram_api_url: Option<HttpUrl>,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub telegram_bot_token: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub telegram_bot_token_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webex_api_url: Option<HttpUrl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rocketchat_api_url: Option<HttpUrl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rocketchat_token: Option<Secret>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub rocketchat_token_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rocketchat_token_id: Option<Secret>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub rocketchat_token_id_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mattermost_webhook_url: Option<SecretUrl>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mattermost_webhook_url_file: String,
}

impl Default for GlobalConfig {
    /// Upstream's `DefaultGlobalConfig`.
    fn default() -> Self {
        GlobalConfig {
            resolve_timeout: std::time::Duration::from_secs(300).into(),
            http_config: HttpClientConfig::default(),
            jira_api_url: None,
            smtp_from: String::new(),
            smtp_hello: "localhost".to_owned(),
            smtp_smarthost: HostPort::default(),
            smtp_auth_username: String::new(),
            smtp_auth_password: Secret::default(),
            smtp_auth_password_file: String::new(),
            smtp_auth_secret: Secret::default(),
            smtp_auth_secret_file: String::new(),
            smtp_auth_identity: String::new(),
            smtp_require_tls: true,
            smtp_tls_config: TlsConfig::default(),
            smtp_force_implicit_tls: None,
            slack_api_url: None,
            slack_api_url_file: String::new(),
            slack_app_token: Secret::default(),
            slack_app_token_file: String::new(),
            slack_app_url: url("https://slack.com/api/chat.postMessage"),
            pagerduty_url: url("https://events.pagerduty.com/v2/enqueue"),
            opsgenie_api_url: url("https://api.opsgenie.com/"),
            opsgenie_api_key: Secret::default(),
            opsgenie_api_key_file: String::new(),
            wechat_api_url: url("https://qyapi.weixin.qq.com/cgi-bin/"),
            wechat_api_secret: Secret::default(),
            wechat_api_secret_file: String::new(),
            wechat_api_corp_id: String::new(),
            victorops_api_url: url(
                "https://alert.victorops.com/integrations/generic/20131114/alert/",
            ),
            victorops_api_key: Secret::default(),
            victorops_api_key_file: String::new(),
            telegram_api_url: url("https://api.telegram.org"),
            telegram_bot_token: Secret::default(),
            telegram_bot_token_file: String::new(),
            webex_api_url: url("https://webexapis.com/v1/messages"),
            rocketchat_api_url: url("https://open.rocket.chat/"),
            rocketchat_token: None,
            rocketchat_token_file: String::new(),
            rocketchat_token_id: None,
            rocketchat_token_id_file: String::new(),
            mattermost_webhook_url: None,
            mattermost_webhook_url_file: String::new(),
        }
    }
}

impl GlobalConfig {
    /// The "at most one of" checks upstream runs on the global block, in upstream's order.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let both = |a: bool, b: &str| a && !b.is_empty();
        let checks: [(bool, &str); 12] = [
            (
                both(!self.slack_app_token.is_empty(), &self.slack_app_token_file),
                "slack_app_token & slack_app_token_file",
            ),
            (
                both(self.slack_api_url.is_some(), &self.slack_api_url_file),
                "slack_api_url & slack_api_url_file",
            ),
            (
                self.slack_token_and_url_conflict(),
                "slack_app_token/slack_app_token_file & slack_api_url/slack_api_url_file",
            ),
            (
                both(
                    !self.opsgenie_api_key.is_empty(),
                    &self.opsgenie_api_key_file,
                ),
                "opsgenie_api_key & opsgenie_api_key_file",
            ),
            (
                both(
                    !self.victorops_api_key.is_empty(),
                    &self.victorops_api_key_file,
                ),
                "victorops_api_key & victorops_api_key_file",
            ),
            (
                both(
                    !self.telegram_bot_token.is_empty(),
                    &self.telegram_bot_token_file,
                ),
                "telegram_bot_token & telegram_bot_token_file",
            ),
            (
                both(
                    !self.smtp_auth_password.is_empty(),
                    &self.smtp_auth_password_file,
                ),
                "smtp_auth_password & smtp_auth_password_file",
            ),
            (
                both(self.rocketchat_token.is_some(), &self.rocketchat_token_file),
                "rocketchat_token & rocketchat_token_file",
            ),
            (
                both(
                    self.rocketchat_token_id.is_some(),
                    &self.rocketchat_token_id_file,
                ),
                "rocketchat_token_id & rocketchat_token_id_file",
            ),
            (
                both(
                    !self.smtp_auth_secret.is_empty(),
                    &self.smtp_auth_secret_file,
                ),
                "smtp_auth_secret & smtp_auth_secret_file",
            ),
            (
                both(
                    !self.wechat_api_secret.is_empty(),
                    &self.wechat_api_secret_file,
                ),
                "wechat_api_secret & wechat_api_secret_file",
            ),
            (
                both(
                    self.mattermost_webhook_url.is_some(),
                    &self.mattermost_webhook_url_file,
                ),
                "mattermost_webhook_url & mattermost_webhook_url_file",
            ),
        ];
        match checks.iter().find(|(bad, _)| *bad) {
            Some((_, fields)) => Err(ConfigError::AtMostOne((*fields).to_owned())),
            None => Ok(()),
        }
    }

    /// A Slack app token and a webhook URL conflict, except in upstream's transition case
    /// where the URL is the app URL itself.
    fn slack_token_and_url_conflict(&self) -> bool {
        let has_token = !self.slack_app_token.is_empty() || !self.slack_app_token_file.is_empty();
        let has_url = self.slack_api_url.is_some() || !self.slack_api_url_file.is_empty();
        if !(has_token && has_url) {
            return false;
        }
        let api = self
            .slack_api_url
            .as_ref()
            .and_then(|u| u.expose())
            .map(|u| u.as_str().to_owned());
        let app = self.slack_app_url.as_ref().map(|u| u.0.as_str().to_owned());
        api != app
    }
}
