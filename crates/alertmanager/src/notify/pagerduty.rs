//! The PagerDuty integration: Events API v2 (`routing_key`), or the v1 generic events API
//! when a `service_key` is configured. The group key's hash is the de-duplication key, so a
//! resolve closes the incident its trigger opened.

use std::sync::Arc;
use std::time::Duration;

use pm_common::config::http::HttpClient;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use url::Url;

use super::NotifyError;
use super::post::{self, hash_key};
use super::stage::Job;
use crate::alert::Alert;
use crate::config::receivers::PagerdutyConfig;
use crate::template::{Expander, Templates, data_value};

/// The v1 API's only endpoint (upstream ignores `url` for v1).
const V1_URL: &str = "https://events.pagerduty.com/generic/2010-04-15/create_event.json";
const MAX_SUMMARY_RUNES: usize = 1024;
/// PagerDuty refuses larger events; custom details are dropped to fit, as upstream.
const MAX_EVENT_BYTES: usize = 512_000;
const TOO_LARGE: &str =
    "Custom details have been removed because the original event exceeds the maximum size of 512KB";

#[derive(Debug)]
pub struct Pagerduty {
    cfg: PagerdutyConfig,
    client: HttpClient,
    url: Url,
    v1: bool,
    templates: Arc<Templates>,
    timeout: Option<Duration>,
}

#[derive(Serialize, Default)]
struct Message {
    #[serde(skip_serializing_if = "String::is_empty")]
    routing_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    service_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    dedup_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    incident_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    event_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    event_action: String,
    payload: Option<Payload>,
    #[serde(skip_serializing_if = "String::is_empty")]
    client: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    client_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Map<String, Json>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<Image>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<Link>,
}

#[derive(Serialize)]
struct Payload {
    summary: String,
    source: String,
    severity: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    class: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    component: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    group: String,
    #[serde(skip_serializing_if = "Map::is_empty")]
    custom_details: Map<String, Json>,
}

#[derive(Serialize)]
struct Image {
    src: String,
    alt: String,
    href: String,
}

#[derive(Serialize)]
struct Link {
    href: String,
    text: String,
}

impl Pagerduty {
    pub fn new(
        cfg: &PagerdutyConfig,
        templates: Arc<Templates>,
        user_agent: &str,
    ) -> Result<Self, String> {
        let v1 = !cfg.service_key.is_empty() || !cfg.service_key_file.is_empty();
        let url = if v1 {
            Url::parse(V1_URL).expect("valid URL")
        } else {
            cfg.url.as_ref().ok_or("no PagerDuty URL")?.0.clone()
        };
        let http = cfg.http_config.clone().unwrap_or_default();
        Ok(Pagerduty {
            client: post::client(&http, "pagerduty", user_agent)?,
            url,
            v1,
            templates,
            timeout: (!cfg.timeout.0.is_zero()).then_some(cfg.timeout.0),
            cfg: cfg.clone(),
        })
    }

    fn key(&self, inline: &str, file: &str) -> Result<String, NotifyError> {
        if file.is_empty() {
            Ok(inline.to_owned())
        } else {
            post::read_secret(file)
        }
    }

    fn message(
        &self,
        job: &Job,
        t: &mut Expander<'_>,
        resolved: bool,
    ) -> Result<Message, NotifyError> {
        let c = &self.cfg;
        let details = render_details(&c.details, t);
        let (summary, truncated) = post::truncate_runes(t.text(&c.description), MAX_SUMMARY_RUNES);
        if truncated {
            tracing::warn!(key = %job.group_key, max_runes = MAX_SUMMARY_RUNES, "Truncated PagerDuty summary");
        }
        let dedup = hash_key(&job.group_key);
        let message = if self.v1 {
            let key = self.key(c.service_key.expose(), &c.service_key_file)?;
            Message {
                service_key: t.text(&key),
                event_type: if resolved { "resolve" } else { "trigger" }.into(),
                incident_key: dedup,
                description: summary,
                client: if resolved {
                    String::new()
                } else {
                    t.text(&c.client)
                },
                client_url: if resolved {
                    String::new()
                } else {
                    t.text(&c.client_url)
                },
                details: Some(details),
                ..Message::default()
            }
        } else {
            let key = self.key(c.routing_key.expose(), &c.routing_key_file)?;
            let severity = if c.severity.is_empty() {
                "error"
            } else {
                &c.severity
            };
            let source = if c.source.is_empty() {
                &c.client
            } else {
                &c.source
            };
            Message {
                client: t.text(&c.client),
                client_url: t.text(&c.client_url),
                routing_key: t.text(&key),
                event_action: if resolved { "resolve" } else { "trigger" }.into(),
                dedup_key: dedup,
                images: c
                    .images
                    .iter()
                    .map(|i| Image {
                        src: t.text(&i.src),
                        alt: t.text(&i.alt),
                        href: t.text(&i.href),
                    })
                    .filter(|i| !i.src.is_empty())
                    .collect(),
                links: c
                    .links
                    .iter()
                    .map(|l| Link {
                        href: t.text(&l.href),
                        text: t.text(&l.text),
                    })
                    .filter(|l| !l.href.is_empty())
                    .collect(),
                payload: Some(Payload {
                    summary,
                    source: t.text(source),
                    severity: t.text(severity),
                    class: t.text(&c.class),
                    component: t.text(&c.component),
                    group: t.text(&c.group),
                    custom_details: details,
                }),
                ..Message::default()
            }
        };
        Ok(message)
    }

    /// Sends a trigger, or a resolve once every alert of the group resolved. 429 (v2) and
    /// 403 (v1) answers are rate limits and retried, like 5xx.
    pub async fn notify(&self, job: &Job, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let data = job.data(alerts);
        let resolved = data.status == "resolved";
        let mut t = Expander::new(&self.templates, data_value(&data));
        let mut message = self.message(job, &mut t, resolved)?;
        let kind = if self.v1 { "v1" } else { "v2" };
        t.finish().map_err(|e| {
            NotifyError::other(format!("failed to template PagerDuty {kind} message: {e}"))
        })?;
        if self.v1 && message.service_key.is_empty() {
            return Err(NotifyError::other("service key cannot be empty"));
        }
        if !self.v1 && message.routing_key.is_empty() {
            return Err(NotifyError::other("routing key cannot be empty"));
        }
        let mut body = post::go_json(&message);
        if body.len() > MAX_EVENT_BYTES {
            tracing::warn!(
                size = body.len(),
                limit = MAX_EVENT_BYTES,
                "Truncated PagerDuty details"
            );
            let error = Map::from_iter([("error".to_owned(), Json::from(TOO_LARGE))]);
            match &mut message.payload {
                Some(p) if !self.v1 => p.custom_details = error,
                _ => message.details = Some(error),
            }
            body = post::go_json(&message);
        }
        let answer =
            post::post_json(&self.client, self.url.clone(), &[], body, self.timeout).await?;
        let retry_codes: &[u16] = if self.v1 { &[403] } else { &[429] };
        NotifyError::check_status_retrying(answer.status, retry_codes).map_err(|e| {
            match error_details(answer.status.as_u16(), &answer.body) {
                Some(details) => e.context(&details),
                None => e,
            }
        })
    }
}

/// PagerDuty explains a 400 in its body.
fn error_details(status: u16, body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(default)]
        message: String,
        #[serde(default)]
        errors: Vec<String>,
    }
    if status != 400 {
        return None;
    }
    let a: Answer = serde_json::from_slice(body).ok()?;
    Some(format!("{}: {}", a.message, a.errors.join(",")))
}

/// Upstream's `DeepCopyWithTemplate` over `details`: strings (keys too) are rendered, and a
/// rendered string that reads as YAML other than a plain string becomes that value, so
/// `{{ .Alerts.Firing | toJson }}` sends a list and `{{ len .Alerts }}` a number.
fn render_details(
    details: &std::collections::BTreeMap<String, Json>,
    t: &mut Expander<'_>,
) -> Map<String, Json> {
    details
        .iter()
        .map(|(k, v)| (t.text(k), render_value(v, t)))
        .collect()
}

fn render_value(v: &Json, t: &mut Expander<'_>) -> Json {
    match v {
        Json::String(s) => {
            let rendered = t.text(s);
            match serde_norway::from_str::<Json>(&rendered) {
                Ok(Json::String(_)) | Err(_) => Json::String(rendered),
                Ok(parsed) => render_value(&parsed, t),
            }
        }
        Json::Array(items) => items.iter().map(|i| render_value(i, t)).collect(),
        Json::Object(m) => m
            .iter()
            .map(|(k, v)| (t.text(k), render_value(v, t)))
            .collect(),
        other => other.clone(),
    }
}
