//! Posting one batch to every Alertmanager of every set, concurrently.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use pm_common::config::http::HttpClient;
use pm_common::model::{Labels, LabelsBuilder};
use pm_common::relabel::{self, RelabelConfig};
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use tokio::task::JoinSet;

use super::Alert;
use super::encode::encode_alerts;
use super::manager::Inner;

/// Adds the labels of `external` an alert lacks, then applies `rules`; alerts a rule drops
/// are left out.
pub(crate) fn relabel_alerts(
    rules: &[RelabelConfig],
    external: &Labels,
    alerts: Vec<Alert>,
) -> Vec<Alert> {
    if rules.is_empty() && external.is_empty() {
        return alerts;
    }
    let mut lb = LabelsBuilder::new(Labels::default());
    alerts
        .into_iter()
        .filter_map(|mut alert| {
            lb.reset(alert.labels.clone());
            for l in external.iter() {
                if alert.labels.get_or_empty(l.name).is_empty() {
                    lb.set(l.name, l.value);
                }
            }
            if !relabel::process_builder(&mut lb, rules) {
                return None;
            }
            alert.labels = lb.labels();
            Some(alert)
        })
        .collect()
}

/// Sends `alerts` to every Alertmanager. True when every set that had something to send
/// reached at least one of its Alertmanagers (so no Alertmanagers at all is a success, as
/// upstream); otherwise the caller counts the batch as dropped.
pub(crate) async fn send_all(inner: &Inner, alerts: &[Alert]) -> bool {
    if alerts.is_empty() {
        return true;
    }
    let begin = Instant::now();
    let sets = inner.sets();
    let mut shared_payload: Option<Bytes> = None;
    let mut covered: Vec<Option<bool>> = vec![None; sets.len()];
    let mut requests = JoinSet::new();
    for (index, (_, set)) in sets.iter().enumerate() {
        let urls: Vec<String> = set.discovered().active.iter().map(|am| am.url()).collect();
        if urls.is_empty() {
            continue;
        }
        let rules = &set.config.settings.alert_relabel_configs;
        let (payload, count) = if rules.is_empty() {
            let payload = shared_payload
                .get_or_insert_with(|| Bytes::from(encode_alerts(alerts)))
                .clone();
            (payload, alerts.len())
        } else {
            let relabeled = relabel_alerts(rules, &Labels::default(), alerts.to_vec());
            if relabeled.is_empty() {
                continue;
            }
            (Bytes::from(encode_alerts(&relabeled)), relabeled.len())
        };
        covered[index] = Some(false);
        let timeout: Duration = set.config.settings.timeout.into();
        for url in urls {
            let client = set.client.clone();
            let payload = payload.clone();
            let metrics = Arc::clone(&inner.metrics);
            requests.spawn(async move {
                let result = send_one(&client, &url, payload, timeout).await;
                let m = &metrics;
                if let Err(err) = &result {
                    tracing::error!(alertmanager = %url, count, %err, "Error sending alerts");
                    m.errors.with_label_values(&[&url]).inc_by(count as f64);
                }
                m.latency
                    .with_label_values(&[&url])
                    .observe(begin.elapsed().as_secs_f64());
                m.sent.with_label_values(&[&url]).inc_by(count as f64);
                (index, result.is_ok())
            });
        }
    }
    while let Some(done) = requests.join_next().await {
        match done {
            Ok((index, true)) => covered[index] = Some(true),
            Ok((_, false)) => {}
            Err(e) => tracing::error!(err = %e, "Alertmanager request task failed"),
        }
    }
    covered.iter().all(|c| *c != Some(false))
}

/// Why one POST failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    #[error("parse {url:?}: {source}")]
    Url {
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error("Post {url:?}: {source}")]
    Request {
        url: String,
        #[source]
        source: pm_common::config::http::HttpClientError,
    },
    #[error("bad response status {0}")]
    Status(String),
}

async fn send_one(
    client: &HttpClient,
    url: &str,
    payload: Bytes,
    timeout: Duration,
) -> Result<(), SendError> {
    let target = url::Url::parse(url).map_err(|source| SendError::Url {
        url: url.to_owned(),
        source,
    })?;
    let request = client
        .request(Method::POST, target)
        .header(CONTENT_TYPE, "application/json")
        .timeout(timeout)
        .body(payload);
    let response = client
        .send(request)
        .await
        .map_err(|source| SendError::Request {
            url: url.to_owned(),
            source,
        })?;
    let status = response.status();
    // Read the body so the connection can be reused.
    let _ = response.bytes().await;
    if !status.is_success() {
        return Err(SendError::Status(format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or_default()
        )));
    }
    Ok(())
}
