//! Chat receivers: Slack, Mattermost, Rocket.Chat, Discord, Microsoft Teams, Webex, Telegram.

use pm_common::config::Secret;
use pm_common::config::http::HttpClientConfig;
use serde::{Deserialize, Serialize};

use super::{at_most_one, tmpl};
use crate::config::types::{GoDuration, HttpUrl, SecretUrl};

/// `webhook_url` / `webhook_url_file`: exactly one must be set.
fn one_webhook_url(url: &Option<SecretUrl>, file: &str) -> Result<(), String> {
    if url.is_none() && file.is_empty() {
        return Err("one of webhook_url or webhook_url_file must be configured".into());
    }
    at_most_one(url.is_some(), file, "webhook_url & webhook_url_file")
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<SecretUrl>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_url_file: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub app_token: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub app_token_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_url: Option<HttpUrl>,
    pub channel: String,
    pub username: String,
    pub color: String,
    pub title: String,
    pub title_link: String,
    pub pretext: String,
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message_text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<SlackField>,
    pub short_fields: bool,
    pub footer: String,
    pub fallback: String,
    pub callback_id: String,
    pub icon_emoji: String,
    pub icon_url: String,
    pub image_url: String,
    pub thumb_url: String,
    pub link_names: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mrkdwn_in: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<SlackAction>,
    pub update_message: bool,
    pub timeout: GoDuration,
}

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            send_resolved: false,
            http_config: None,
            api_url: None,
            api_url_file: String::new(),
            app_token: Secret::default(),
            app_token_file: String::new(),
            app_url: None,
            channel: String::new(),
            username: tmpl("slack.default.username"),
            color: tmpl("slack.default.color"),
            title: tmpl("slack.default.title"),
            title_link: tmpl("slack.default.titlelink"),
            pretext: tmpl("slack.default.pretext"),
            text: tmpl("slack.default.text"),
            message_text: String::new(),
            fields: Vec::new(),
            short_fields: false,
            footer: tmpl("slack.default.footer"),
            fallback: tmpl("slack.default.fallback"),
            callback_id: tmpl("slack.default.callbackid"),
            icon_emoji: tmpl("slack.default.iconemoji"),
            icon_url: tmpl("slack.default.iconurl"),
            image_url: String::new(),
            thumb_url: String::new(),
            link_names: false,
            mrkdwn_in: Vec::new(),
            actions: Vec::new(),
            update_message: false,
            timeout: GoDuration::default(),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackField {
    pub title: String,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackAction {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub style: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(rename = "confirm", skip_serializing_if = "Option::is_none")]
    pub confirm: Option<SlackConfirmationField>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackConfirmationField {
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ok_text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dismiss_text: String,
}

impl SlackConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        for field in &self.fields {
            if field.title.is_empty() {
                return Err("missing title in Slack field configuration".into());
            }
            if field.value.is_empty() {
                return Err("missing value in Slack field configuration".into());
            }
        }
        for action in &mut self.actions {
            if action.kind.is_empty() {
                return Err("missing type in Slack action configuration".into());
            }
            if action.text.is_empty() {
                return Err("missing text in Slack action configuration".into());
            }
            if action.confirm.as_ref().is_some_and(|c| c.text.is_empty()) {
                return Err("missing text in Slack confirmation configuration".into());
            }
            if !action.url.is_empty() {
                action.name.clear();
                action.value.clear();
                action.confirm = None;
            } else if action.name.is_empty() {
                return Err("missing name or url in Slack action configuration".into());
            }
        }
        at_most_one(
            self.api_url.is_some(),
            &self.api_url_file,
            "api_url & api_url_file",
        )?;
        at_most_one(
            !self.app_token.is_empty(),
            &self.app_token_file,
            "app_token & app_token_file",
        )?;
        let has_url = self.api_url.is_some() || !self.api_url_file.is_empty();
        let has_token = !self.app_token.is_empty() || !self.app_token_file.is_empty();
        if has_url && has_token {
            return Err(
                "at most one of api_url/api_url_file & app_token/app_token_file must be configured"
                    .into(),
            );
        }
        let api_url = self.api_url.as_ref().and_then(SecretUrl::expose);
        if self.update_message
            && api_url.map(url::Url::as_str) != Some("https://slack.com/api/chat.postMessage")
        {
            return Err("update_message can only be used with bot tokens. api_url must be set to https://slack.com/api/chat.postMessage".into());
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MattermostField {
    pub title: String,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MattermostAttachment {
    pub fallback: String,
    pub color: String,
    pub pretext: String,
    pub text: String,
    pub author_name: String,
    pub author_link: String,
    pub author_icon: String,
    pub title: String,
    pub title_link: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<MattermostField>,
    pub thumb_url: String,
    pub footer: String,
    pub footer_icon: String,
    pub image_url: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MattermostProps {
    pub card: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MattermostPriority {
    pub priority: String,
    pub requested_ack: bool,
    pub persistent_notifications: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MattermostConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<SecretUrl>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub webhook_url_file: String,
    pub channel: String,
    pub username: String,
    pub text: String,
    pub fallback: String,
    pub color: String,
    pub pretext: String,
    pub author_name: String,
    pub author_link: String,
    pub author_icon: String,
    pub title: String,
    pub title_link: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<MattermostField>,
    pub thumb_url: String,
    pub footer: String,
    pub footer_icon: String,
    pub image_url: String,
    pub icon_url: String,
    pub icon_emoji: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<MattermostAttachment>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub props: Option<MattermostProps>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<MattermostPriority>,
}

impl Default for MattermostConfig {
    fn default() -> Self {
        MattermostConfig {
            send_resolved: true,
            http_config: None,
            webhook_url: None,
            webhook_url_file: String::new(),
            channel: String::new(),
            username: tmpl("mattermost.default.username"),
            text: tmpl("mattermost.default.text"),
            fallback: tmpl("mattermost.default.fallback"),
            color: tmpl("mattermost.default.color"),
            pretext: String::new(),
            author_name: String::new(),
            author_link: String::new(),
            author_icon: String::new(),
            title: tmpl("mattermost.default.title"),
            title_link: tmpl("mattermost.default.titlelink"),
            fields: Vec::new(),
            thumb_url: String::new(),
            footer: String::new(),
            footer_icon: String::new(),
            image_url: String::new(),
            icon_url: String::new(),
            icon_emoji: String::new(),
            attachments: Vec::new(),
            kind: String::new(),
            props: None,
            priority: None,
        }
    }
}

impl MattermostConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        let fields = self
            .fields
            .iter()
            .chain(self.attachments.iter().flat_map(|a| &a.fields));
        for field in fields {
            if field.title.is_empty() {
                return Err("missing title in Mattermost field configuration".into());
            }
            if field.value.is_empty() {
                return Err("missing value in Mattermost field configuration".into());
            }
        }
        at_most_one(
            self.webhook_url.is_some(),
            &self.webhook_url_file,
            "webhook_url & webhook_url_file",
        )
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RocketchatAttachmentField {
    pub short: Option<bool>,
    pub title: String,
    pub value: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RocketchatAttachmentAction {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    pub url: String,
    pub image_url: String,
    pub is_webview: bool,
    pub webview_height_ratio: String,
    pub msg: String,
    pub msg_in_chat_window: bool,
    pub msg_processing_type: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RocketchatConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<HttpUrl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<Secret>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub token_id_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub token_file: String,
    pub channel: String,
    pub color: String,
    pub title: String,
    pub title_link: String,
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<RocketchatAttachmentField>,
    pub short_fields: bool,
    pub emoji: String,
    pub icon_url: String,
    pub image_url: String,
    pub thumb_url: String,
    pub link_names: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<RocketchatAttachmentAction>,
}

impl Default for RocketchatConfig {
    fn default() -> Self {
        RocketchatConfig {
            send_resolved: false,
            http_config: None,
            api_url: None,
            token_id: None,
            token_id_file: String::new(),
            token: None,
            token_file: String::new(),
            channel: String::new(),
            color: r#"{{ if eq .Status "firing" }}red{{ else }}green{{ end }}"#.to_owned(),
            title: tmpl("rocketchat.default.title"),
            title_link: tmpl("rocketchat.default.titlelink"),
            text: tmpl("rocketchat.default.text"),
            fields: Vec::new(),
            short_fields: false,
            emoji: tmpl("rocketchat.default.emoji"),
            icon_url: tmpl("rocketchat.default.iconurl"),
            image_url: String::new(),
            thumb_url: String::new(),
            link_names: false,
            actions: Vec::new(),
        }
    }
}

impl RocketchatConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        at_most_one(self.token.is_some(), &self.token_file, "token & token_file")?;
        at_most_one(
            self.token_id.is_some(),
            &self.token_id_file,
            "token_id & token_id_file",
        )
    }
}

/// Discord, Microsoft Teams (both generations): a webhook URL plus a few templates.
macro_rules! webhook_chat {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $default:expr),* $(,)? } $(extra { $($xfield:ident),* })?) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Deserialize, Serialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            pub send_resolved: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub http_config: Option<HttpClientConfig>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub webhook_url: Option<SecretUrl>,
            #[serde(skip_serializing_if = "String::is_empty")]
            pub webhook_url_file: String,
            $(pub $field: String,)*
            $($(
                #[serde(skip_serializing_if = "String::is_empty")]
                pub $xfield: String,
            )*)?
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    send_resolved: true,
                    http_config: None,
                    webhook_url: None,
                    webhook_url_file: String::new(),
                    $($field: $default,)*
                    $($($xfield: String::new(),)*)?
                }
            }
        }

        impl $name {
            pub(super) fn validate(&mut self) -> Result<(), String> {
                one_webhook_url(&self.webhook_url, &self.webhook_url_file)
            }
        }
    };
}

webhook_chat!(DiscordConfig {
    title: tmpl("discord.default.title"),
    message: tmpl("discord.default.message"),
} extra { content, username, avatar_url });

webhook_chat!(MsTeamsConfig {
    title: tmpl("msteams.default.title"),
    summary: tmpl("msteams.default.summary"),
    text: tmpl("msteams.default.text"),
});

webhook_chat!(MsTeamsV2Config {
    title: tmpl("msteamsv2.default.title"),
    text: tmpl("msteamsv2.default.text"),
});

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebexConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<HttpUrl>,
    pub message: String,
    pub room_id: String,
}

impl Default for WebexConfig {
    fn default() -> Self {
        WebexConfig {
            send_resolved: true,
            http_config: None,
            api_url: None,
            message: tmpl("webex.default.message"),
            room_id: String::new(),
        }
    }
}

impl WebexConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        if self.room_id.is_empty() {
            return Err("missing room_id on webex_config".into());
        }
        if self.http_config.as_ref().is_none_or(|h| {
            h.authorization.is_none() && h.bearer_token.is_empty() && h.bearer_token_file.is_empty()
        }) {
            return Err("missing webex_configs.http_config.authorization".into());
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<HttpUrl>,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub bot_token: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bot_token_file: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub chat_id: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub chat_id_file: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub message_thread_id: i64,
    pub message: String,
    pub disable_notifications: bool,
    pub parse_mode: String,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

impl Default for TelegramConfig {
    fn default() -> Self {
        TelegramConfig {
            send_resolved: true,
            http_config: None,
            api_url: None,
            bot_token: Secret::default(),
            bot_token_file: String::new(),
            chat_id: 0,
            chat_id_file: String::new(),
            message_thread_id: 0,
            message: tmpl("telegram.default.message"),
            disable_notifications: false,
            parse_mode: "HTML".to_owned(),
        }
    }
}

impl TelegramConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        at_most_one(
            !self.bot_token.is_empty(),
            &self.bot_token_file,
            "bot_token & bot_token_file",
        )?;
        if self.chat_id == 0 && self.chat_id_file.is_empty() {
            return Err("missing chat_id or chat_id_file on telegram_config".into());
        }
        at_most_one(
            self.chat_id != 0,
            &self.chat_id_file,
            "chat_id & chat_id_file",
        )?;
        if !matches!(
            self.parse_mode.as_str(),
            "" | "Markdown" | "MarkdownV2" | "HTML"
        ) {
            return Err("unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string".into());
        }
        Ok(())
    }
}
