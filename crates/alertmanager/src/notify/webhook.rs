//! The webhook integration: upstream's JSON message, version "4", POSTed to the configured URL.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use pm_common::config::http::{HttpClient, HttpClientConfig, HttpClientOptions};
use serde::Serialize;
use url::Url;

use super::NotifyError;
use super::data::Data;
use super::stage::Job;
use crate::alert::Alert;
use crate::config::receivers::WebhookConfig;

#[derive(Debug)]
enum Target {
    Url(Url),
    /// `url_file`: read at every notification, so a rotated secret takes effect at once.
    File(PathBuf),
}

#[derive(Debug)]
pub struct Webhook {
    client: HttpClient,
    target: Target,
    max_alerts: usize,
    timeout: Option<Duration>,
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
        user_agent: &str,
    ) -> Result<Self, String> {
        let target = if cfg.url_file.is_empty() {
            let url = cfg.url.0.expose();
            if url.contains("{{") {
                return Err("templated webhook URLs are not supported yet".into());
            }
            Target::Url(Url::parse(url).map_err(|e| format!("invalid webhook URL: {e}"))?)
        } else {
            Target::File(cfg.url_file.clone().into())
        };
        let http = cfg.http_config.as_ref().unwrap_or(global_http);
        let options = HttpClientOptions {
            user_agent: Some(user_agent.to_owned()),
        };
        let client =
            HttpClient::with_options(http, "webhook", &options).map_err(|e| e.to_string())?;
        Ok(Webhook {
            client,
            target,
            max_alerts: usize::try_from(cfg.max_alerts).unwrap_or(usize::MAX),
            timeout: (!cfg.timeout.0.is_zero()).then_some(cfg.timeout.0),
        })
    }

    fn url(&self) -> Result<Url, NotifyError> {
        match &self.target {
            Target::Url(u) => Ok(u.clone()),
            Target::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    NotifyError::other(format!("read url_file {}: {e}", path.display()))
                })?;
                Url::parse(text.trim())
                    .map_err(|e| NotifyError::other(format!("invalid URL in url_file: {e}")))
            }
        }
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
            .request(Method::POST, self.url()?)
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
