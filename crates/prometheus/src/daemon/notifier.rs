//! The notifier plugged into the daemon: the `notify` discovery manager finds Alertmanagers
//! for each `alerting.alertmanagers` entry (sets `config-0`, `config-1`, … as upstream), the
//! [`Notifier`] sends what the rule manager hands to its [`AlertSink`], both follow config
//! reloads, and at shutdown the queue is drained (or dropped) before the database closes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use pm_common::expfmt::dto;
use pm_common::metrics::{Collector, MetricsError, Registry};
use pm_discovery::{Manager, ManagerOptions, SdConfig};
use tokio::task::JoinHandle;

use super::{Flags, OnStop, OnStorage, Plugins, Reloader, Services};
use crate::config::Config;
use crate::notifier::{AlertSink, Notifier, NotifierOptions};
use crate::web::api::v1::alertmanagers::AlertmanagersSource;

/// How long the stop may take beyond the drain timeout: the batch in flight when the stop
/// came finishes first.
const STOP_GRACE: Duration = Duration::from_secs(15);

struct Running {
    discovery: Manager,
    notifier: JoinHandle<()>,
}

#[derive(Clone, Default)]
struct Slot(Arc<Mutex<Option<Running>>>);

impl Slot {
    fn lock(&self) -> MutexGuard<'_, Option<Running>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The notifier's metrics live in a registry of their own, created with it before the
/// daemon's registry is handed out; the daemon's registry gathers them through this.
struct Forward(Registry);

impl Collector for Forward {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        out.extend(self.0.gather());
    }
}

/// The plugins that send alerts to Alertmanagers, and the sink the rule manager sends its
/// alerts to. The sink takes alerts at once; they go out once the database is open and the
/// config applied.
pub fn plugins(flags: &Flags) -> Result<(Plugins, Arc<dyn AlertSink>), MetricsError> {
    let registry = Registry::new();
    let options = NotifierOptions {
        queue_capacity: flags.notification_queue_capacity,
        max_batch_size: flags.notification_batch_size(),
        drain_on_shutdown: flags.drain_notifications(),
        ..NotifierOptions::default()
    };
    let stop_limit = options.drain_timeout + STOP_GRACE;
    let notifier = Notifier::new(options, &registry)?;
    let slot = Slot::default();

    let start: OnStorage = {
        let slot = slot.clone();
        let notifier = notifier.clone();
        Box::new(move |services: &Services<'_>| {
            services.registry.register(Arc::new(Forward(registry)));
            let discovery = Manager::new(
                "notify",
                services.discovery_metrics.clone(),
                ManagerOptions::default(),
            );
            let run = notifier.run(discovery.subscribe());
            *slot.lock() = Some(Running {
                discovery,
                notifier: run,
            });
        })
    };
    let notify_reloader: Reloader = {
        let notifier = notifier.clone();
        Box::new(move |cfg: &Config| notifier.apply_config(cfg).map_err(|e| e.to_string()))
    };
    let discovery_reloader: Reloader = {
        let slot = slot.clone();
        Box::new(move |cfg: &Config| {
            if let Some(running) = slot.lock().as_ref() {
                running.discovery.apply_config(discovery_configs(cfg));
            }
            Ok(())
        })
    };
    let stop: OnStop = {
        let notifier = notifier.clone();
        Box::new(move || {
            Box::pin(async move {
                let Some(Running {
                    discovery,
                    notifier: run,
                }) = slot.lock().take()
                else {
                    return;
                };
                tracing::info!("Stopping notify discovery manager...");
                drop(discovery);
                notifier.stop();
                let abort = run.abort_handle();
                match tokio::time::timeout(stop_limit, run).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(err = %e, "notifier task failed"),
                    Err(_) => {
                        abort.abort();
                        tracing::error!(
                            remaining = notifier.queue_len(),
                            "notifier did not stop in time; remaining notifications are lost"
                        );
                    }
                }
            })
        })
    };
    let plugins = Plugins {
        reloaders: vec![
            ("notify", notify_reloader),
            ("notify_sd", discovery_reloader),
        ],
        alertmanagers: Some(Arc::new(notifier.clone()) as Arc<dyn AlertmanagersSource>),
        on_storage: vec![start],
        on_stop: vec![stop],
        ..Plugins::default()
    };
    Ok((plugins, Arc::new(notifier)))
}

/// Each Alertmanager set's discovery configs, keyed as the notifier keys the sets.
/// Mechanisms accepted in config but not implemented discover nothing and are reported.
fn discovery_configs(cfg: &Config) -> HashMap<String, Vec<SdConfig>> {
    cfg.alerting
        .alertmanagers
        .iter()
        .enumerate()
        .map(|(i, am)| {
            let key = format!("config-{i}");
            for unsupported in &am.service_discovery.unsupported {
                tracing::warn!(
                    config = %key,
                    mechanism = unsupported.key(),
                    "service discovery mechanism not supported yet; it discovers no Alertmanagers"
                );
            }
            (key, am.service_discovery.sd_configs())
        })
        .collect()
}
