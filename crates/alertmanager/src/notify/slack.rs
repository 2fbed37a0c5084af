//! The Slack integration: an incoming-webhook (or `chat.postMessage`) message with one
//! attachment, every text field rendered from the config's templates.

use std::sync::Arc;
use std::time::Duration;

use pm_common::config::http::HttpClient;
use serde::Serialize;

use super::NotifyError;
use super::post::{self, Target};
use super::stage::Job;
use crate::alert::Alert;
use crate::config::receivers::{SlackAction, SlackConfig};
use crate::template::{Expander, Templates, data_value};

/// Slack's documented limit for attachment titles.
const MAX_TITLE_RUNES: usize = 1024;

#[derive(Debug)]
pub struct Slack {
    cfg: SlackConfig,
    client: HttpClient,
    target: Target,
    templates: Arc<Templates>,
    timeout: Option<Duration>,
}

#[derive(Serialize)]
struct Message {
    #[serde(skip_serializing_if = "String::is_empty")]
    channel: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    icon_emoji: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    icon_url: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    link_names: bool,
    attachments: [Attachment; 1],
}

#[derive(Serialize)]
struct Attachment {
    #[serde(skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    title_link: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pretext: String,
    text: String,
    fallback: String,
    callback_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<Field>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    actions: Vec<Action>,
    #[serde(skip_serializing_if = "String::is_empty")]
    image_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    thumb_url: String,
    footer: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    color: String,
    mrkdwn_in: Vec<String>,
}

#[derive(Serialize)]
struct Field {
    #[serde(skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    value: String,
    short: bool,
}

#[derive(Serialize)]
struct Action {
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    style: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirm: Option<Confirm>,
}

#[derive(Serialize)]
struct Confirm {
    #[serde(skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    ok_text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    dismiss_text: String,
}

impl Slack {
    pub fn new(
        cfg: &SlackConfig,
        templates: Arc<Templates>,
        user_agent: &str,
    ) -> Result<Self, String> {
        let target = match cfg.api_url.as_ref() {
            Some(url) => Target::Url(
                url.expose()
                    .cloned()
                    .ok_or("the Slack API URL is the <secret> placeholder")?,
            ),
            None => Target::File(cfg.api_url_file.clone().into()),
        };
        let http = cfg.http_config.clone().unwrap_or_default();
        Ok(Slack {
            client: post::client(&http, "slack", user_agent)?,
            target,
            templates,
            timeout: (!cfg.timeout.0.is_zero()).then_some(cfg.timeout.0),
            cfg: cfg.clone(),
        })
    }

    fn message(&self, t: &mut Expander<'_>) -> Message {
        let c = &self.cfg;
        let (title, truncated) = post::truncate_runes(t.text(&c.title), MAX_TITLE_RUNES);
        if truncated {
            tracing::warn!(max_runes = MAX_TITLE_RUNES, "Truncated Slack title");
        }
        let fields = c
            .fields
            .iter()
            .map(|f| Field {
                title: t.text(&f.title),
                value: t.text(&f.value),
                short: f.short.unwrap_or(c.short_fields),
            })
            .collect();
        let actions = c.actions.iter().map(|a| action(a, t)).collect();
        let mrkdwn_in = if c.mrkdwn_in.is_empty() {
            ["fallback", "pretext", "text"].map(String::from).to_vec()
        } else {
            c.mrkdwn_in.clone()
        };
        let attachment = Attachment {
            title,
            title_link: t.text(&c.title_link),
            pretext: t.text(&c.pretext),
            text: t.text(&c.text),
            fallback: t.text(&c.fallback),
            callback_id: t.text(&c.callback_id),
            fields,
            actions,
            image_url: t.text(&c.image_url),
            thumb_url: t.text(&c.thumb_url),
            footer: t.text(&c.footer),
            color: t.text(&c.color),
            mrkdwn_in,
        };
        Message {
            channel: t.text(&c.channel),
            username: t.text(&c.username),
            icon_emoji: t.text(&c.icon_emoji),
            icon_url: t.text(&c.icon_url),
            link_names: c.link_names,
            attachments: [attachment],
        }
    }

    /// Sends the message. Besides the status, Slack's answer body tells success: `ok` from an
    /// incoming webhook, `{"ok": true}` from the Web API; anything else is a final error.
    pub async fn notify(&self, job: &Job, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let data = data_value(&job.data(alerts));
        let mut t = Expander::new(&self.templates, data.clone());
        let message = self.message(&mut t);
        t.finish().map_err(|e| NotifyError::other(e.to_string()))?;
        let answer = post::post_json(
            &self.client,
            self.target.url(&self.templates, &data)?,
            &[],
            post::go_json(&message),
            self.timeout,
        )
        .await?;
        let channel = &message.channel;
        NotifyError::check_status(answer.status)
            .map_err(|e| e.context(&format!("channel {channel:?}")))?;
        check_body(&answer.content_type, &answer.body)
            .map_err(|e| e.context(&format!("channel {channel:?}")))
    }
}

fn action(a: &SlackAction, t: &mut Expander<'_>) -> Action {
    Action {
        kind: t.text(&a.kind),
        text: t.text(&a.text),
        url: t.text(&a.url),
        style: t.text(&a.style),
        name: t.text(&a.name),
        value: t.text(&a.value),
        confirm: a.confirm.as_ref().map(|c| Confirm {
            title: t.text(&c.title),
            text: t.text(&c.text),
            ok_text: t.text(&c.ok_text),
            dismiss_text: t.text(&c.dismiss_text),
        }),
    }
}

fn check_body(content_type: &str, body: &[u8]) -> Result<(), NotifyError> {
    if content_type.starts_with("application/json") {
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(default)]
            ok: bool,
            #[serde(default)]
            error: String,
        }
        let answer: Answer = serde_json::from_slice(body).map_err(|e| NotifyError {
            retry: true,
            ..NotifyError::client(format!(
                "could not unmarshal JSON response {:?}: {e}",
                String::from_utf8_lossy(body)
            ))
        })?;
        if !answer.ok {
            return Err(NotifyError::client(format!(
                "error response from Slack: {}",
                answer.error
            )));
        }
    } else if body != b"ok" {
        return Err(NotifyError::client(format!(
            "received an error response from Slack: {}",
            String::from_utf8_lossy(body)
        )));
    }
    Ok(())
}
