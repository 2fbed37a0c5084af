//! The webhook integration: upstream's JSON message, version "4", POSTed to the configured URL.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use pm_common::config::http::{HttpClient, HttpClientConfig};
use serde::Serialize;
use url::Url;

use super::NotifyError;
use super::data::Data;
use super::post::{self, Target};
use super::stage::Job;
use crate::alert::Alert;
use crate::config::receivers::WebhookConfig;
use crate::template::{Templates, data_value};

#[derive(Debug)]
pub struct Webhook {
    client: HttpClient,
    target: Target,
    max_alerts: usize,
    timeout: Option<Duration>,
    templates: Arc<Templates>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Message<'a> {
    #[serde(flatten)]
    data: &'a Data,
    version: &'static str,
    group_key: &'a str,
    truncated_alerts: usize,
}

impl Webhook {
    pub fn new(
        cfg: &WebhookConfig,
        global_http: &HttpClientConfig,
        templates: Arc<Templates>,
        user_agent: &str,
    ) -> Result<Self, String> {
        let target = if cfg.url_file.is_empty() {
            let url = cfg.url.0.expose();
            if url.contains("{{") {
                Target::Template(url.to_owned())
            } else {
                Target::Url(Url::parse(url).map_err(|e| format!("invalid webhook URL: {e}"))?)
            }
        } else {
            Target::File(cfg.url_file.clone().into())
        };
        let http = cfg.http_config.as_ref().unwrap_or(global_http);
        Ok(Webhook {
            client: post::client(http, "webhook", user_agent)?,
            target,
            max_alerts: usize::try_from(cfg.max_alerts).unwrap_or(usize::MAX),
            timeout: (!cfg.timeout.0.is_zero()).then_some(cfg.timeout.0),
            templates,
        })
    }

    /// Sends the message; a 5xx answer or a transport error may be retried, other non-2xx
    /// answers are final, as upstream. `max_alerts` cuts the list before the data is built,
    /// so the common labels and the status describe the alerts sent.
    pub async fn notify(&self, job: &Job, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let mut truncated = 0;
        let mut alerts = alerts;
        if self.max_alerts != 0 && alerts.len() > self.max_alerts {
            truncated = alerts.len() - self.max_alerts;
            alerts = &alerts[..self.max_alerts];
        }
        let data = job.data(alerts);
        let message = Message {
            data: &data,
            version: "4",
            group_key: &job.group_key,
            truncated_alerts: truncated,
        };
        let body = serde_json::to_vec(&message).expect("the message serializes");
        let mut request = self
            .client
            .request(
                Method::POST,
                self.target.url(&self.templates, &data_value(&data))?,
            )
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(t) = self.timeout {
            request = request.timeout(t);
        }
        let response = self
            .client
            .send(request)
            .await
            .map_err(|e| NotifyError::retryable_other(e.to_string()))?;
        NotifyError::check_status(response.status())
    }
}
