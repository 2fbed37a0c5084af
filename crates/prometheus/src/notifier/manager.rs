//! The [`Notifier`]: upstream's notification manager. Alerts are relabeled and queued on
//! [`AlertSink::send`]; a sender task drains the queue in batches while a second task applies
//! discovery's Alertmanager sets, so neither starves the other.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use pm_common::metrics::{MetricsError, Registry};
use pm_common::model::Labels;
use pm_common::relabel::RelabelConfig;
use pm_discovery::TargetSets;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::metrics::NotifierMetrics;
use super::queue::Queue;
use super::send;
use super::set::{AlertmanagerSet, ClientError};
use super::{Alert, AlertSink};
use crate::config::Config;

/// How the notifier runs; the daemon fills it from its flags.
#[derive(Debug, Clone)]
pub struct NotifierOptions {
    /// `--alertmanager.notification-queue-capacity`.
    pub queue_capacity: usize,
    /// `--alertmanager.notification-batch-size`: alerts per request.
    pub max_batch_size: usize,
    /// `--alertmanager.drain-notification-queue-on-shutdown`.
    pub drain_on_shutdown: bool,
    /// Upstream drains without a limit; here draining stops after this long and what is
    /// left counts as dropped, so a dead Alertmanager cannot hold a shutdown for minutes.
    pub drain_timeout: Duration,
    pub user_agent: String,
}

impl Default for NotifierOptions {
    fn default() -> Self {
        NotifierOptions {
            queue_capacity: 10_000,
            max_batch_size: 256,
            drain_on_shutdown: true,
            drain_timeout: Duration::from_secs(30),
            user_agent: format!("Prometheus/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Why a config could not be applied; the notifier keeps the previous one.
#[derive(Debug, thiserror::Error)]
pub enum NotifierError {
    #[error("alertmanager config {key}: {source}")]
    Client {
        key: String,
        #[source]
        source: ClientError,
    },
}

/// What `Send` does to every alert before queueing it.
#[derive(Default)]
struct Relabeling {
    external_labels: Labels,
    rules: Vec<RelabelConfig>,
}

/// The Alertmanager sets of the current config, keyed `config-N` by position as upstream.
pub(crate) type Sets = Arc<Vec<(String, Arc<AlertmanagerSet>)>>;

pub(crate) struct Inner {
    pub options: NotifierOptions,
    pub metrics: Arc<NotifierMetrics>,
    queue: Mutex<Queue>,
    /// A stored permit means "the queue may have alerts": one signal however many pushes.
    more: Notify,
    relabeling: RwLock<Relabeling>,
    sets: RwLock<Sets>,
    stop: watch::Sender<bool>,
}

impl Inner {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn sets(&self) -> Sets {
        self.sets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn queue_len(&self) -> usize {
        self.queue().len()
    }

    fn next_batch(&self) -> Vec<Alert> {
        let mut queue = self.queue();
        let batch = queue.next_batch(self.options.max_batch_size);
        self.metrics.queue_length.set(queue.len() as f64);
        batch
    }

    async fn send_one_batch(&self) {
        let alerts = self.next_batch();
        if !send::send_all(self, &alerts).await {
            self.metrics.dropped.inc_by(alerts.len() as f64);
        }
    }

    fn count_discovered(&self, sets: &Sets) {
        let n: usize = sets.iter().map(|(_, s)| s.discovered().active.len()).sum();
        self.metrics.alertmanagers_discovered.set(n as f64);
    }

    /// Applies a discovery snapshot to the sets it names.
    fn reload(&self, targets: &TargetSets) {
        let sets = self.sets();
        for (key, groups) in targets {
            match sets.iter().find(|(k, _)| k == key) {
                Some((_, set)) => set.sync(groups, &self.metrics),
                None => {
                    tracing::error!(err = %format!("invalid id:{key}"), "couldn't sync alert manager set");
                }
            }
        }
        self.count_discovered(&sets);
    }
}

/// Sends alerts to Alertmanagers. Cheap to clone; clones share the queue and the sets.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

impl Notifier {
    /// A notifier with no Alertmanagers yet ([`Notifier::apply_config`] gives them), its
    /// metrics registered in `registry`.
    pub fn new(options: NotifierOptions, registry: &Registry) -> Result<Notifier, MetricsError> {
        let metrics = Arc::new(NotifierMetrics::register(registry)?);
        metrics.queue_capacity.set(options.queue_capacity as f64);
        let (stop, _) = watch::channel(false);
        Ok(Notifier {
            inner: Arc::new(Inner {
                queue: Mutex::new(Queue::new(options.queue_capacity)),
                options,
                metrics,
                more: Notify::new(),
                relabeling: RwLock::default(),
                sets: RwLock::default(),
                stop,
            }),
        })
    }

    /// Takes the external labels, `alert_relabel_configs` and Alertmanager sets of `config`.
    /// A set whose settings did not change keeps its discovered Alertmanagers. On error
    /// nothing changes.
    pub fn apply_config(&self, config: &Config) -> Result<(), NotifierError> {
        let inner = &self.inner;
        let old = inner.sets();
        let mut sets = Vec::with_capacity(config.alerting.alertmanagers.len());
        for (i, am) in config.alerting.alertmanagers.iter().enumerate() {
            let key = format!("config-{i}");
            let set =
                AlertmanagerSet::new(am.clone(), &inner.options.user_agent).map_err(|source| {
                    NotifierError::Client {
                        key: key.clone(),
                        source,
                    }
                })?;
            if let Some((_, previous)) = old.iter().find(|(_, s)| s.config == *am) {
                set.adopt(previous);
            }
            sets.push((key, Arc::new(set)));
        }
        *inner
            .relabeling
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Relabeling {
            external_labels: Labels::from_pairs(&config.global.external_labels),
            rules: config.alerting.alert_relabel_configs.clone(),
        };
        let sets = Arc::new(sets);
        *inner.sets.write().unwrap_or_else(PoisonError::into_inner) = sets.clone();
        inner.count_discovered(&sets);
        Ok(())
    }

    /// Starts sending, with Alertmanagers from `targets` (the "notify" discovery manager's
    /// snapshots). The task ends after [`Notifier::stop`], once the queue is drained or
    /// dropped as the options say.
    pub fn run(&self, targets: watch::Receiver<Arc<TargetSets>>) -> JoinHandle<()> {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let updates = tokio::spawn(update_loop(inner.clone(), targets));
            send_loop(&inner).await;
            drain(&inner).await;
            if let Err(e) = updates.await {
                tracing::error!(err = %e, "Alertmanager target update task failed");
            }
            tracing::info!("Notification manager stopped");
        })
    }

    /// Asks the tasks of [`Notifier::run`] to stop; safe to call more than once.
    pub fn stop(&self) {
        tracing::info!("Stopping notification manager...");
        self.inner.stop.send_replace(true);
    }

    /// The URLs of the active Alertmanagers, set by set in config order.
    pub fn alertmanagers(&self) -> Vec<String> {
        self.urls(|d| &d.active)
    }

    /// The URLs of the Alertmanagers `relabel_configs` dropped, built from their labels
    /// before relabeling.
    pub fn dropped_alertmanagers(&self) -> Vec<String> {
        self.urls(|d| &d.dropped)
    }

    fn urls(
        &self,
        which: fn(&super::set::Discovered) -> &Vec<super::AlertmanagerTarget>,
    ) -> Vec<String> {
        let sets = self.inner.sets();
        let mut out = Vec::new();
        for (_, set) in sets.iter() {
            out.extend(which(&set.discovered()).iter().map(|am| am.url()));
        }
        out
    }

    /// Applies a discovery snapshot at once, as the task of [`Notifier::run`] does.
    #[cfg(test)]
    pub(crate) fn reload(&self, targets: &TargetSets) {
        self.inner.reload(targets);
    }

    /// Alerts waiting to be sent.
    pub fn queue_len(&self) -> usize {
        self.inner.queue_len()
    }
}

impl AlertSink for Notifier {
    /// Adds external labels (an alert's own label wins), applies `alert_relabel_configs`
    /// (dropped alerts are not counted, as upstream), then queues what is left.
    fn send(&self, alerts: Vec<Alert>) {
        let inner = &self.inner;
        let alerts = {
            let relabeling = inner
                .relabeling
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            send::relabel_alerts(&relabeling.rules, &relabeling.external_labels, alerts)
        };
        if alerts.is_empty() {
            return;
        }
        let overflow = {
            let mut queue = inner.queue();
            let overflow = queue.push(alerts);
            inner.metrics.queue_length.set(queue.len() as f64);
            overflow
        };
        if overflow.batch > 0 {
            tracing::warn!(
                num_dropped = overflow.batch,
                "Alert batch larger than queue capacity, dropping alerts"
            );
            inner.metrics.dropped.inc_by(overflow.batch as f64);
        }
        if overflow.queued > 0 {
            tracing::warn!(
                num_dropped = overflow.queued,
                "Alert notification queue full, dropping alerts"
            );
            inner.metrics.dropped.inc_by(overflow.queued as f64);
        }
        inner.more.notify_one();
    }
}

/// Sends batches while alerts are queued, until asked to stop; a stop request wins over
/// sending more (the batch in flight completes).
async fn send_loop(inner: &Inner) {
    let stopped = stop_requested(inner.stop.subscribe());
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            biased;
            () = &mut stopped => return,
            () = inner.more.notified() => {
                inner.send_one_batch().await;
                if inner.queue_len() > 0 {
                    inner.more.notify_one();
                }
            }
        }
    }
}

/// Applies every discovery snapshot until asked to stop.
async fn update_loop(inner: Arc<Inner>, mut targets: watch::Receiver<Arc<TargetSets>>) {
    let stopped = stop_requested(inner.stop.subscribe());
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            biased;
            () = &mut stopped => return,
            changed = targets.changed() => {
                if changed.is_err() {
                    // Discovery is gone: nothing more comes before the stop.
                    break;
                }
                let snapshot = targets.borrow_and_update().clone();
                inner.reload(&snapshot);
            }
        }
    }
    stopped.await;
}

/// Resolves once [`Notifier::stop`] has been called (or the notifier is gone).
async fn stop_requested(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// At shutdown: sends what is queued (within the drain timeout) or drops it, as configured.
async fn drain(inner: &Inner) {
    if !inner.options.drain_on_shutdown {
        let n = inner.queue().clear();
        inner.metrics.queue_length.set(0.0);
        if n > 0 {
            tracing::warn!(
                count = n,
                "Draining remaining notifications on shutdown is disabled, and some notifications have been dropped"
            );
            inner.metrics.dropped.inc_by(n as f64);
        }
        return;
    }
    tracing::info!("Draining any remaining notifications...");
    let deadline = tokio::time::Instant::now() + inner.options.drain_timeout;
    while inner.queue_len() > 0 {
        let alerts = inner.next_batch();
        let sent = tokio::time::timeout_at(deadline, send::send_all(inner, &alerts)).await;
        if sent != Ok(true) {
            inner.metrics.dropped.inc_by(alerts.len() as f64);
        }
        if sent.is_err() {
            let n = inner.queue().clear();
            inner.metrics.queue_length.set(0.0);
            inner.metrics.dropped.inc_by(n as f64);
            tracing::warn!(
                count = n + alerts.len(),
                "Draining notifications timed out; the rest were dropped"
            );
            return;
        }
    }
    tracing::info!("Remaining notifications drained");
}
