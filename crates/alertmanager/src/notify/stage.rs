//! The per-integration stages: de-duplication against the notification log, sending with
//! retries, and logging what was sent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::NotifyError;
use super::data::Data;
use super::integration::Integration;
use super::metrics::NotifyMetrics;
use super::nflog::{Entry, NotificationLog, ReceiverKey};
use crate::alert::{Alert, LabelSet};

/// Upstream's alert hash in the notification log: xxhash64 over the sorted label pairs, each
/// name and value followed by the byte 0xff.
pub fn hash_alert(labels: &LabelSet) -> u64 {
    let mut buf = Vec::with_capacity(labels.len() * 32);
    for (name, value) in labels {
        buf.extend_from_slice(name.as_bytes());
        buf.push(0xff);
        buf.extend_from_slice(value.as_bytes());
        buf.push(0xff);
    }
    xxhash_rust::xxh64::xxh64(&buf, 0)
}

/// Upstream's de-duplication rule: send when a firing alert was not notified before, when
/// everything resolved after something was notified firing, when (with `send_resolved`) a
/// resolution was not notified yet, or when the repeat interval passed.
pub fn needs_update(
    entry: Option<&Entry>,
    firing: &[u64],
    resolved: &[u64],
    send_resolved: bool,
    repeat: Duration,
    now: Timestamp,
) -> bool {
    let Some(entry) = entry else {
        return !firing.is_empty();
    };
    if !entry.firing_contains_all(firing) {
        return true;
    }
    if firing.is_empty() {
        // Clears the firing alerts from the log even without send_resolved; alerts that
        // fired and resolved between two flushes were never seen, so need no message.
        return !entry.firing.is_empty();
    }
    if send_resolved && !entry.resolved_contains_all(resolved) {
        return true;
    }
    let repeat = jiff::SignedDuration::try_from(repeat).unwrap_or(jiff::SignedDuration::MAX);
    entry.timestamp < now.saturating_sub(repeat).unwrap_or(Timestamp::MIN)
}

/// What one integration needs to notify a flushed group.
#[derive(Debug)]
pub struct Job {
    pub group_key: Arc<str>,
    pub receiver: String,
    pub group_labels: LabelSet,
    pub alerts: Vec<Arc<Alert>>,
    pub at: Timestamp,
    pub repeat: Duration,
    pub external_url: String,
    /// Retries stop here (upstream's context deadline: the group interval, at least 10s).
    pub deadline: Instant,
}

impl Job {
    /// The notification data for these alerts of the group.
    pub fn data(&self, alerts: &[Arc<Alert>]) -> Data {
        Data::new(
            &self.receiver,
            &self.group_labels,
            alerts,
            self.at,
            &self.external_url,
        )
    }
}

/// Runs de-duplication, sending with retries and the log update for one integration.
pub async fn run(
    job: &Job,
    integration: &Integration,
    nflog: &NotificationLog,
    metrics: &NotifyMetrics,
) -> Result<(), NotifyError> {
    let (mut firing, mut resolved) = (Vec::new(), Vec::new());
    for alert in &job.alerts {
        let hash = hash_alert(&alert.labels);
        if alert.resolved_at(job.at) {
            resolved.push(hash);
        } else {
            firing.push(hash);
        }
    }
    let key = ReceiverKey {
        group_name: job.receiver.clone(),
        integration: integration.name,
        idx: integration.idx,
    };
    metrics.nflog_queries.inc();
    let queried = std::time::Instant::now();
    let entry = nflog.query(&job.group_key, &key);
    metrics
        .nflog_query_duration
        .observe(queried.elapsed().as_secs_f64());
    if !needs_update(
        entry.as_ref(),
        &firing,
        &resolved,
        integration.send_resolved,
        job.repeat,
        job.at,
    ) {
        return Ok(());
    }
    // Without send_resolved, resolved alerts are not sent, and a group with only resolved
    // alerts sends nothing; the log still records the resolution.
    let sent: Vec<Arc<Alert>> = if integration.send_resolved {
        job.alerts.clone()
    } else {
        job.alerts
            .iter()
            .filter(|a| !a.resolved_at(job.at))
            .cloned()
            .collect()
    };
    if !sent.is_empty() {
        metrics
            .notifications
            .with_label_values(&[integration.name])
            .inc();
        if let Err(err) = send_with_retries(job, integration, &sent, metrics).await {
            metrics
                .failed
                .with_label_values(&[integration.name, err.reason])
                .inc();
            return Err(err);
        }
    }
    nflog.log(
        &job.group_key,
        &key,
        Entry {
            timestamp: job.at,
            firing,
            resolved,
        },
        job.at,
    );
    Ok(())
}

/// Upstream's backoff: 500ms growing by half each time, ±50% jitter, at most a minute apart.
fn backoff(attempt: u32) -> Duration {
    let base = 0.5 * 1.5f64.powi(attempt.min(20) as i32);
    let mut bytes = [0u8; 4];
    let jitter = match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    };
    Duration::from_secs_f64((base * (0.5 + jitter)).min(60.0))
}

async fn send_with_retries(
    job: &Job,
    integration: &Integration,
    alerts: &[Arc<Alert>],
    metrics: &NotifyMetrics,
) -> Result<(), NotifyError> {
    let name = [integration.name];
    let mut attempt = 0;
    loop {
        let started = Instant::now();
        metrics.requests.with_label_values(&name).inc();
        let sent =
            tokio::time::timeout_at(job.deadline.into(), integration.notify(job, alerts)).await;
        metrics
            .latency
            .with_label_values(&name)
            .observe(started.elapsed().as_secs_f64());
        let err = match sent {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(err)) => err,
            Err(_) => NotifyError {
                retry: false,
                reason: "contextCanceledOrDeadlineExceeded",
                message: "notification deadline exceeded".into(),
            },
        };
        metrics.requests_failed.with_label_values(&name).inc();
        tracing::debug!(
            receiver = %job.receiver, integration = integration.name, attempt, err = %err,
            "notify attempt failed"
        );
        let wait = backoff(attempt);
        if !err.retry || Instant::now() + wait >= job.deadline {
            tracing::error!(
                receiver = %job.receiver, integration = integration.name, attempts = attempt + 1,
                err = %err, "Notify for alerts failed"
            );
            return Err(err);
        }
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn entry(firing: &[u64], resolved: &[u64]) -> Entry {
        Entry {
            timestamp: "2026-01-01T00:00:00Z".parse().unwrap(),
            firing: firing.to_vec(),
            resolved: resolved.to_vec(),
        }
    }

    #[test]
    fn dedup_follows_upstreams_rules() {
        let soon: Timestamp = "2026-01-01T00:10:00Z".parse().unwrap();
        let late: Timestamp = "2026-01-01T01:00:01Z".parse().unwrap();
        let e = entry(&[1, 2], &[]);
        assert!(needs_update(None, &[1], &[], false, HOUR, soon));
        assert!(
            !needs_update(None, &[], &[1], true, HOUR, soon),
            "only resolved"
        );
        assert!(
            needs_update(Some(&e), &[1, 3], &[], false, HOUR, soon),
            "new"
        );
        assert!(!needs_update(Some(&e), &[1], &[2], false, HOUR, soon));
        assert!(needs_update(Some(&e), &[1], &[2], true, HOUR, soon));
        assert!(
            needs_update(Some(&e), &[], &[1, 2], false, HOUR, soon),
            "all resolved"
        );
        assert!(!needs_update(
            Some(&entry(&[], &[1])),
            &[],
            &[1],
            true,
            HOUR,
            soon
        ));
        assert!(!needs_update(Some(&e), &[1, 2], &[], true, HOUR, soon));
        assert!(
            needs_update(Some(&e), &[1, 2], &[], true, HOUR, late),
            "repeat"
        );
    }

    #[test]
    fn alert_hash_is_xxhash64_of_the_label_pairs() {
        let labels = LabelSet::from([("a".to_owned(), "b".to_owned())]);
        assert_eq!(
            hash_alert(&labels),
            xxhash_rust::xxh64::xxh64(b"a\xffb\xff", 0)
        );
        assert_eq!(hash_alert(&LabelSet::new()), 0xef46_db37_51d8_e999);
    }
}
