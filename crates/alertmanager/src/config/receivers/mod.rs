//! `receivers:`: named lists of integrations, and how each inherits the global defaults.

mod chat;
mod email;
mod other;
mod paging;

use std::collections::BTreeMap;

use pm_common::config::http::{Authorization, HttpClientConfig};
use serde::{Deserialize, Serialize};

pub use chat::{
    DiscordConfig, MattermostAttachment, MattermostConfig, MattermostField, MsTeamsConfig,
    MsTeamsV2Config, RocketchatConfig, SlackAction, SlackConfig, SlackField, TelegramConfig,
    WebexConfig,
};
pub use email::{EmailConfig, ThreadingConfig};
pub use other::{SnsConfig, WebhookConfig, WechatConfig};
pub use paging::{
    IncidentioConfig, JiraConfig, JiraFieldConfig, OpsGenieConfig, OpsGenieResponder,
    PagerdutyConfig, PagerdutyImage, PagerdutyLink, PushoverConfig, VictorOpsConfig,
};
pub use pm_common::config::SigV4Config;

use super::global::GlobalConfig;
use super::types::SecretUrl;

/// `{{ template "name" . }}`, the shape of every default notification field.
fn tmpl(name: &str) -> String {
    format!("{{{{ template \"{name}\" . }}}}")
}

/// Upstream's "at most one of A & B must be configured".
fn at_most_one(inline_set: bool, file: &str, fields: &str) -> Result<(), String> {
    if inline_set && !file.is_empty() {
        return Err(format!("at most one of {fields} must be configured"));
    }
    Ok(())
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Receiver {
    pub name: String,
    /// Always holds `name` after loading.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub discord_configs: Vec<DiscordConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub email_configs: Vec<EmailConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incidentio_configs: Vec<IncidentioConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pagerduty_configs: Vec<PagerdutyConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slack_configs: Vec<SlackConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub webhook_configs: Vec<WebhookConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub opsgenie_configs: Vec<OpsGenieConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub wechat_configs: Vec<WechatConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pushover_configs: Vec<PushoverConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub victorops_configs: Vec<VictorOpsConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sns_configs: Vec<SnsConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub telegram_configs: Vec<TelegramConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub webex_configs: Vec<WebexConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub msteams_configs: Vec<MsTeamsConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub msteamsv2_configs: Vec<MsTeamsV2Config>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub jira_configs: Vec<JiraConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rocketchat_configs: Vec<RocketchatConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mattermost_configs: Vec<MattermostConfig>,
}

/// Runs `check` on every entry of a list, naming the entry in the error.
fn each<T>(
    list: &mut [T],
    kind: &str,
    mut check: impl FnMut(&mut T) -> Result<(), String>,
) -> Result<(), String> {
    for (i, item) in list.iter_mut().enumerate() {
        check(item).map_err(|e| format!("{kind}[{i}]: {e}"))?;
    }
    Ok(())
}

/// The receiver's own `http_config`, or a copy of the global one.
fn inherit_http(own: &mut Option<HttpClientConfig>, global: &GlobalConfig) {
    if own.is_none() {
        *own = Some(global.http_config.clone());
    }
}

impl Receiver {
    /// The checks upstream runs while decoding one receiver entry.
    pub(super) fn validate_own(&mut self) -> Result<(), String> {
        if self.name.is_empty() {
            return Err("missing name in receiver".into());
        }
        if let Some(v) = self.labels.get("name")
            && *v != self.name
        {
            return Err(format!(
                "receiver label \"name\" must match receiver name {:?}, got {v:?}",
                self.name
            ));
        }
        self.labels.insert("name".to_owned(), self.name.clone());
        each(
            &mut self.discord_configs,
            "discord_configs",
            DiscordConfig::validate,
        )?;
        each(
            &mut self.email_configs,
            "email_configs",
            EmailConfig::validate,
        )?;
        each(
            &mut self.incidentio_configs,
            "incidentio_configs",
            IncidentioConfig::validate,
        )?;
        each(
            &mut self.pagerduty_configs,
            "pagerduty_configs",
            PagerdutyConfig::validate,
        )?;
        each(
            &mut self.slack_configs,
            "slack_configs",
            SlackConfig::validate,
        )?;
        each(
            &mut self.webhook_configs,
            "webhook_configs",
            WebhookConfig::validate,
        )?;
        each(
            &mut self.opsgenie_configs,
            "opsgenie_configs",
            OpsGenieConfig::validate,
        )?;
        each(
            &mut self.wechat_configs,
            "wechat_configs",
            WechatConfig::validate,
        )?;
        each(
            &mut self.pushover_configs,
            "pushover_configs",
            PushoverConfig::validate,
        )?;
        each(
            &mut self.victorops_configs,
            "victorops_configs",
            VictorOpsConfig::validate,
        )?;
        each(&mut self.sns_configs, "sns_configs", SnsConfig::validate)?;
        each(
            &mut self.telegram_configs,
            "telegram_configs",
            TelegramConfig::validate,
        )?;
        each(
            &mut self.webex_configs,
            "webex_configs",
            WebexConfig::validate,
        )?;
        each(
            &mut self.msteams_configs,
            "msteams_configs",
            MsTeamsConfig::validate,
        )?;
        each(
            &mut self.msteamsv2_configs,
            "msteamsv2_configs",
            MsTeamsV2Config::validate,
        )?;
        each(&mut self.jira_configs, "jira_configs", JiraConfig::validate)?;
        each(
            &mut self.rocketchat_configs,
            "rocketchat_configs",
            RocketchatConfig::validate,
        )?;
        each(
            &mut self.mattermost_configs,
            "mattermost_configs",
            MattermostConfig::validate,
        )
    }

    /// Fills unset fields from the global block and refuses integrations that still lack
    /// something required, in upstream's order and with upstream's messages.
    pub(super) fn apply_globals(&mut self, g: &GlobalConfig) -> Result<(), String> {
        each(&mut self.webhook_configs, "webhook_configs", |c| {
            inherit_http(&mut c.http_config, g);
            Ok(())
        })?;
        each(&mut self.email_configs, "email_configs", |c| {
            email_globals(c, g)
        })?;
        each(&mut self.slack_configs, "slack_configs", |c| {
            slack_globals(c, g)
        })?;
        each(&mut self.pushover_configs, "pushover_configs", |c| {
            inherit_http(&mut c.http_config, g);
            Ok(())
        })?;
        each(&mut self.pagerduty_configs, "pagerduty_configs", |c| {
            inherit_http(&mut c.http_config, g);
            c.url = c.url.take().or_else(|| g.pagerduty_url.clone());
            c.url
                .as_ref()
                .map(|_| ())
                .ok_or("no global PagerDuty URL set".into())
        })?;
        each(&mut self.incidentio_configs, "incidentio_configs", |c| {
            inherit_http(&mut c.http_config, g);
            Ok(())
        })?;
        each(&mut self.opsgenie_configs, "opsgenie_configs", |c| {
            inherit_http(&mut c.http_config, g);
            let url = c.api_url.take().or_else(|| g.opsgenie_api_url.clone());
            c.api_url = Some(
                url.ok_or("no global OpsGenie URL set")?
                    .with_trailing_slash(),
            );
            if c.api_key.is_empty() {
                c.api_key = g.opsgenie_api_key.clone();
            }
            if c.api_key_file.is_empty() {
                c.api_key_file = g.opsgenie_api_key_file.clone();
            }
            if c.api_key.is_empty() && c.api_key_file.is_empty() {
                return Err("no global OpsGenie API Key set either inline or in a file".into());
            }
            Ok(())
        })?;
        each(&mut self.wechat_configs, "wechat_configs", |c| {
            inherit_http(&mut c.http_config, g);
            let url = c.api_url.take().or_else(|| g.wechat_api_url.clone());
            let url = url.ok_or("no global Wechat URL set")?;
            if c.api_secret.is_empty() && c.api_secret_file.is_empty() {
                if g.wechat_api_secret.is_empty() && g.wechat_api_secret_file.is_empty() {
                    return Err("no global Wechat Api Secret set either inline or in a file".into());
                }
                c.api_secret = g.wechat_api_secret.clone();
                c.api_secret_file = g.wechat_api_secret_file.clone();
            }
            if c.corp_id.is_empty() {
                c.corp_id = g.wechat_api_corp_id.clone();
            }
            if c.corp_id.is_empty() {
                return Err("no global Wechat CorpID set".into());
            }
            c.api_url = Some(url.with_trailing_slash());
            Ok(())
        })?;
        each(&mut self.victorops_configs, "victorops_configs", |c| {
            inherit_http(&mut c.http_config, g);
            let url = c.api_url.take().or_else(|| g.victorops_api_url.clone());
            c.api_url = Some(
                url.ok_or("no global VictorOps URL set")?
                    .with_trailing_slash(),
            );
            if c.api_key.is_empty() {
                c.api_key = g.victorops_api_key.clone();
            }
            if c.api_key_file.is_empty() {
                c.api_key_file = g.victorops_api_key_file.clone();
            }
            if c.api_key.is_empty() && c.api_key_file.is_empty() {
                return Err("no global VictorOps API Key set".into());
            }
            Ok(())
        })?;
        each(&mut self.sns_configs, "sns_configs", |c| {
            inherit_http(&mut c.http_config, g);
            Ok(())
        })?;
        each(&mut self.telegram_configs, "telegram_configs", |c| {
            inherit_http(&mut c.http_config, g);
            c.api_url = c.api_url.take().or_else(|| g.telegram_api_url.clone());
            if c.bot_token.is_empty() && c.bot_token_file.is_empty() {
                if g.telegram_bot_token.is_empty() && g.telegram_bot_token_file.is_empty() {
                    return Err("missing bot_token or bot_token_file on telegram_config".into());
                }
                c.bot_token = g.telegram_bot_token.clone();
                c.bot_token_file = g.telegram_bot_token_file.clone();
            }
            Ok(())
        })?;
        each(&mut self.discord_configs, "discord_configs", |c| {
            inherit_http(&mut c.http_config, g);
            Ok(())
        })?;
        each(&mut self.webex_configs, "webex_configs", |c| {
            inherit_http(&mut c.http_config, g);
            c.api_url = c.api_url.take().or_else(|| g.webex_api_url.clone());
            c.api_url
                .as_ref()
                .map(|_| ())
                .ok_or("no global Webex URL set".into())
        })?;
        each(&mut self.msteams_configs, "msteams_configs", |c| {
            inherit_http(&mut c.http_config, g);
            Ok(())
        })?;
        each(&mut self.msteamsv2_configs, "msteamsv2_configs", |c| {
            match &mut c.http_config {
                None => c.http_config = Some(g.http_config.clone()),
                // Only the proxy is inherited into a partial receiver block.
                Some(own) if own.proxy_url.is_none() => {
                    own.proxy_url = g.http_config.proxy_url.clone();
                }
                Some(_) => {}
            }
            Ok(())
        })?;
        each(&mut self.jira_configs, "jira_configs", |c| {
            inherit_http(&mut c.http_config, g);
            c.api_url = c.api_url.take().or_else(|| g.jira_api_url.clone());
            c.api_url
                .as_ref()
                .map(|_| ())
                .ok_or("no global Jira Cloud URL set".into())
        })?;
        each(&mut self.rocketchat_configs, "rocketchat_configs", |c| {
            inherit_http(&mut c.http_config, g);
            c.api_url = c.api_url.take().or_else(|| g.rocketchat_api_url.clone());
            c.token_id = c.token_id.take().or_else(|| g.rocketchat_token_id.clone());
            if c.token_id_file.is_empty() {
                c.token_id_file = g.rocketchat_token_id_file.clone();
            }
            if c.token_id.is_none() && c.token_id_file.is_empty() {
                return Err("no global Rocketchat TokenID set either inline or in a file".into());
            }
            c.token = c.token.take().or_else(|| g.rocketchat_token.clone());
            if c.token_file.is_empty() {
                c.token_file = g.rocketchat_token_file.clone();
            }
            if c.token.is_none() && c.token_file.is_empty() {
                return Err("no global Rocketchat Token set either inline or in a file".into());
            }
            Ok(())
        })?;
        each(&mut self.mattermost_configs, "mattermost_configs", |c| {
            inherit_http(&mut c.http_config, g);
            if c.webhook_url.is_none() && c.webhook_url_file.is_empty() {
                if g.mattermost_webhook_url.is_none() && g.mattermost_webhook_url_file.is_empty() {
                    return Err(
                        "missing webhook_url or webhook_url_file on mattermost_config".into(),
                    );
                }
                c.webhook_url = g.mattermost_webhook_url.clone();
                c.webhook_url_file = g.mattermost_webhook_url_file.clone();
            }
            Ok(())
        })
    }

    /// Every integration's own `http_config` block.
    pub(super) fn http_configs_mut(&mut self) -> impl Iterator<Item = &mut HttpClientConfig> {
        self.opsgenie_configs
            .iter_mut()
            .map(|c| &mut c.http_config)
            .chain(
                self.pagerduty_configs
                    .iter_mut()
                    .map(|c| &mut c.http_config),
            )
            .chain(self.pushover_configs.iter_mut().map(|c| &mut c.http_config))
            .chain(self.slack_configs.iter_mut().map(|c| &mut c.http_config))
            .chain(
                self.victorops_configs
                    .iter_mut()
                    .map(|c| &mut c.http_config),
            )
            .chain(self.webhook_configs.iter_mut().map(|c| &mut c.http_config))
            .chain(self.wechat_configs.iter_mut().map(|c| &mut c.http_config))
            .chain(self.sns_configs.iter_mut().map(|c| &mut c.http_config))
            .chain(self.telegram_configs.iter_mut().map(|c| &mut c.http_config))
            .chain(self.discord_configs.iter_mut().map(|c| &mut c.http_config))
            .chain(self.webex_configs.iter_mut().map(|c| &mut c.http_config))
            .chain(self.msteams_configs.iter_mut().map(|c| &mut c.http_config))
            .chain(
                self.msteamsv2_configs
                    .iter_mut()
                    .map(|c| &mut c.http_config),
            )
            .chain(self.jira_configs.iter_mut().map(|c| &mut c.http_config))
            .chain(
                self.rocketchat_configs
                    .iter_mut()
                    .map(|c| &mut c.http_config),
            )
            .chain(
                self.mattermost_configs
                    .iter_mut()
                    .map(|c| &mut c.http_config),
            )
            .chain(
                self.incidentio_configs
                    .iter_mut()
                    .map(|c| &mut c.http_config),
            )
            .flatten()
    }

    /// How many integrations the receiver has (a receiver with none only mutes).
    pub fn integration_count(&self) -> usize {
        self.discord_configs.len()
            + self.email_configs.len()
            + self.incidentio_configs.len()
            + self.pagerduty_configs.len()
            + self.slack_configs.len()
            + self.webhook_configs.len()
            + self.opsgenie_configs.len()
            + self.wechat_configs.len()
            + self.pushover_configs.len()
            + self.victorops_configs.len()
            + self.sns_configs.len()
            + self.telegram_configs.len()
            + self.webex_configs.len()
            + self.msteams_configs.len()
            + self.msteamsv2_configs.len()
            + self.jira_configs.len()
            + self.rocketchat_configs.len()
            + self.mattermost_configs.len()
    }
}

fn email_globals(c: &mut EmailConfig, g: &GlobalConfig) -> Result<(), String> {
    if c.tls_config.is_none() {
        c.tls_config = Some(g.smtp_tls_config.clone());
    }
    if c.smarthost.is_empty() {
        c.smarthost = g.smtp_smarthost.clone();
    }
    if c.smarthost.is_empty() {
        return Err("no global SMTP smarthost set".into());
    }
    if c.from.is_empty() {
        c.from = g.smtp_from.clone();
    }
    if c.from.is_empty() {
        return Err("no global SMTP from set".into());
    }
    if c.hello.is_empty() {
        c.hello = g.smtp_hello.clone();
    }
    if c.auth_username.is_empty() {
        c.auth_username = g.smtp_auth_username.clone();
    }
    if c.auth_password.is_empty() && c.auth_password_file.is_empty() {
        c.auth_password = g.smtp_auth_password.clone();
        c.auth_password_file = g.smtp_auth_password_file.clone();
    }
    if c.auth_secret.is_empty() && c.auth_secret_file.is_empty() {
        c.auth_secret = g.smtp_auth_secret.clone();
        c.auth_secret_file = g.smtp_auth_secret_file.clone();
    }
    if c.auth_identity.is_empty() {
        c.auth_identity = g.smtp_auth_identity.clone();
    }
    c.require_tls = c.require_tls.or(Some(g.smtp_require_tls));
    c.force_implicit_tls = c.force_implicit_tls.or(g.smtp_force_implicit_tls);
    Ok(())
}

fn slack_globals(c: &mut SlackConfig, g: &GlobalConfig) -> Result<(), String> {
    c.app_url = c.app_url.take().or_else(|| g.slack_app_url.clone());
    let Some(app_url) = c.app_url.clone() else {
        return Err("no global Slack App URL set".into());
    };
    let has_own_auth = c
        .http_config
        .as_ref()
        .is_some_and(|h| h.authorization.is_some());
    if c.app_token.is_empty() && c.app_token_file.is_empty() && !has_own_auth && c.api_url.is_none()
    {
        c.app_token = g.slack_app_token.clone();
        c.app_token_file = g.slack_app_token_file.clone();
    }
    if c.api_url.is_none() && c.api_url_file.is_empty() {
        c.api_url = g.slack_api_url.clone();
        c.api_url_file = g.slack_api_url_file.clone();
    }
    let has_token = !c.app_token.is_empty() || !c.app_token_file.is_empty();
    if c.api_url.is_none() && c.api_url_file.is_empty() && !has_token {
        return Err("no Slack API URL nor App token set either inline or in a file".into());
    }
    let http = c.http_config.get_or_insert_with(|| g.http_config.clone());
    if has_token {
        if http.authorization.is_some() {
            return Err("http authorization can't be set when using Slack App tokens".into());
        }
        http.authorization = Some(Authorization {
            kind: "Bearer".to_owned(),
            credentials: c.app_token.clone(),
            credentials_file: c.app_token_file.clone(),
        });
        c.api_url = Some(SecretUrl::from_url(app_url.0));
    }
    Ok(())
}
