//! The OpsGenie integration (Alert API v2): a firing group creates an alert whose alias is
//! the group key's hash, a resolved group closes it by that alias; `update_alerts` also
//! rewrites the message and description of an alert that already exists.

use std::sync::Arc;

use http::Method;
use pm_common::config::http::HttpClient;
use serde::Serialize;
use std::collections::BTreeMap;
use url::Url;

use super::NotifyError;
use super::post::{self, hash_key};
use super::stage::Job;
use crate::alert::{Alert, LabelSet};
use crate::config::receivers::OpsGenieConfig;
use crate::template::{Expander, Templates, data_value};

/// OpsGenie's limit for the alert message.
const MAX_MESSAGE_RUNES: usize = 130;

#[derive(Debug)]
pub struct OpsGenie {
    cfg: OpsGenieConfig,
    client: HttpClient,
    base: Url,
    templates: Arc<Templates>,
}

#[derive(Serialize)]
struct Create {
    alias: String,
    message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    details: BTreeMap<String, String>,
    source: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    responders: Vec<Responder>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    note: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    priority: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    entity: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    actions: Vec<String>,
}

#[derive(Serialize)]
struct Responder {
    #[serde(skip_serializing_if = "String::is_empty")]
    id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    username: String,
    #[serde(rename = "type")]
    kind: String,
}

/// One API call: method, path under `v2/alerts`, JSON body.
struct Call {
    method: Method,
    path: String,
    body: Vec<u8>,
}

/// A comma-separated config field as a list, blanks dropped.
fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

impl OpsGenie {
    pub fn new(
        cfg: &OpsGenieConfig,
        templates: Arc<Templates>,
        user_agent: &str,
    ) -> Result<Self, String> {
        let base = cfg.api_url.as_ref().ok_or("no OpsGenie API URL")?.0.clone();
        let http = cfg.http_config.clone().unwrap_or_default();
        Ok(OpsGenie {
            client: post::client(&http, "opsgenie", user_agent)?,
            base,
            templates,
            cfg: cfg.clone(),
        })
    }

    fn calls(
        &self,
        job: &Job,
        common: &LabelSet,
        t: &mut Expander<'_>,
        resolved: bool,
    ) -> Vec<Call> {
        let c = &self.cfg;
        let alias = hash_key(&job.group_key);
        if resolved {
            #[derive(Serialize)]
            struct Close {
                source: String,
            }
            let body = post::go_json(&Close {
                source: t.text(&c.source),
            });
            return vec![Call {
                method: Method::POST,
                path: format!("v2/alerts/{alias}/close?identifierType=alias"),
                body,
            }];
        }
        let (message, truncated) = post::truncate_runes(t.text(&c.message), MAX_MESSAGE_RUNES);
        if truncated {
            tracing::warn!(key = %job.group_key, max_runes = MAX_MESSAGE_RUNES, "Truncated OpsGenie message");
        }
        let mut responders = Vec::new();
        for r in &c.responders {
            let responder = Responder {
                id: t.text(&r.id),
                name: t.text(&r.name),
                username: t.text(&r.username),
                kind: t.text(&r.kind),
            };
            // `teams` names several teams at once.
            if responder.kind == "teams" {
                responders.extend(
                    split_list(&responder.name)
                        .into_iter()
                        .map(|name| Responder {
                            id: String::new(),
                            name,
                            username: String::new(),
                            kind: "team".into(),
                        }),
                );
            } else {
                responders.push(responder);
            }
        }
        // The common labels, then the configured details over them, as upstream.
        let mut details = common.clone();
        for (k, v) in &c.details {
            details.insert(k.clone(), t.text(v));
        }
        let create = Create {
            alias: alias.clone(),
            description: t.text(&c.description),
            details,
            source: t.text(&c.source),
            responders,
            tags: split_list(&t.text(&c.tags)),
            note: t.text(&c.note),
            priority: t.text(&c.priority),
            entity: t.text(&c.entity),
            actions: split_list(&t.text(&c.actions)),
            message,
        };
        let mut calls = vec![Call {
            method: Method::POST,
            path: "v2/alerts".into(),
            body: post::go_json(&create),
        }];
        if c.update_alerts {
            #[derive(Serialize)]
            struct Message<'a> {
                #[serde(skip_serializing_if = "str::is_empty")]
                message: &'a str,
            }
            #[derive(Serialize)]
            struct Description<'a> {
                #[serde(skip_serializing_if = "str::is_empty")]
                description: &'a str,
            }
            calls.push(Call {
                method: Method::PUT,
                path: format!("v2/alerts/{alias}/message?identifierType=alias"),
                body: post::go_json(&Message {
                    message: &create.message,
                }),
            });
            calls.push(Call {
                method: Method::PUT,
                path: format!("v2/alerts/{alias}/description?identifierType=alias"),
                body: post::go_json(&Description {
                    description: &create.description,
                }),
            });
        }
        calls
    }

    /// Makes the calls in order, with the `GenieKey` authorization; 429 answers are rate
    /// limits and retried, like 5xx.
    pub async fn notify(&self, job: &Job, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let data = job.data(alerts);
        let resolved = data.status == "resolved";
        let mut t = Expander::new(&self.templates, data_value(&data));
        let calls = self.calls(job, &data.common_labels, &mut t, resolved);
        t.finish()
            .map_err(|e| NotifyError::other(format!("templating error: {e}")))?;
        let key = if self.cfg.api_key_file.is_empty() {
            self.cfg.api_key.expose().to_owned()
        } else {
            post::read_secret(&self.cfg.api_key_file)?
        };
        let auth = [("Authorization", format!("GenieKey {key}"))];
        for call in calls {
            let url = self
                .base
                .join(&call.path)
                .map_err(|e| NotifyError::other(format!("OpsGenie URL: {e}")))?;
            let answer =
                post::send_json(&self.client, call.method, url, &auth, call.body, None).await?;
            NotifyError::check_status_retrying(answer.status, &[429])?;
        }
        Ok(())
    }
}
