//! Rule evaluation plugged into the daemon: the rule manager starts once the database is open,
//! follows the config's `rule_files` on every reload (a bad rule file fails the reload and the
//! old rules keep running), backs the rules and alerts APIs, and stops before the database
//! closes.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use pm_common::model::Labels;

use super::{Flags, OnStop, OnStorage, Plugins, Reloader, Services};
use crate::config::Config;
use crate::notifier::AlertSink;
use crate::rules::rulefmt::ParseOptions;
use crate::rules::{Group, Manager, ManagerOptions, RuleMetrics};
use crate::web::api::v1::rules::RulesSource;

/// The rule manager, from the database's opening to the daemon's stop.
#[derive(Clone, Default)]
struct Slot(Arc<Mutex<Option<Manager>>>);

impl Slot {
    fn lock(&self) -> MutexGuard<'_, Option<Manager>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn manager(&self) -> Option<Manager> {
        self.lock().clone()
    }
}

impl RulesSource for Slot {
    fn rule_groups(&self) -> Vec<Arc<Group>> {
        self.manager().map(|m| m.groups()).unwrap_or_default()
    }
}

/// The plugins that make the daemon evaluate rules; alerts go to `sink` (`None`: they are
/// evaluated and shown in the API but not sent).
pub fn plugins(sink: Option<Arc<dyn AlertSink>>) -> Plugins {
    let slot = Slot::default();
    let start: OnStorage = {
        let slot = slot.clone();
        Box::new(move |services: &Services<'_>| {
            let metrics = match RuleMetrics::register(services.registry) {
                Ok(m) => m,
                Err(e) => {
                    tracing::error!(err = %e, "registering rule metrics");
                    return;
                }
            };
            let flags = services.flags;
            let manager = Manager::new(ManagerOptions {
                queryable: services.queryable.clone(),
                appendable: services.db.clone(),
                engine: services.engine.clone(),
                sink,
                external_url: external_url(flags),
                resend_delay: flags.rules_resend_delay,
                outage_tolerance: flags.rules_outage_tolerance,
                for_grace_period: flags.rules_for_grace_period,
                metrics,
                parse: ParseOptions {
                    parser: services.engine.options().parser,
                    ..ParseOptions::default()
                },
            });
            tracing::info!("Starting rule manager...");
            *slot.lock() = Some(manager);
        })
    };
    let reloader: Reloader = {
        let slot = slot.clone();
        Box::new(move |cfg: &Config| {
            let Some(manager) = slot.manager() else {
                return Ok(());
            };
            let external_labels = Labels::from_pairs(
                cfg.global
                    .external_labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            );
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(manager.update(
                    cfg.global.evaluation_interval.as_std(),
                    &cfg.rule_files,
                    &external_labels,
                    cfg.global.rule_query_offset.as_std(),
                ))
            })
            .map_err(|e| e.to_string())
        })
    };
    let stop: OnStop = {
        let slot = slot.clone();
        Box::new(move || {
            Box::pin(async move {
                let manager = slot.lock().take();
                if let Some(manager) = manager {
                    manager.stop().await;
                }
            })
        })
    };
    Plugins {
        reloaders: vec![("rules", reloader)],
        rules: Some(Arc::new(slot) as Arc<dyn RulesSource>),
        on_storage: vec![start],
        on_stop: vec![stop],
        ..Plugins::default()
    }
}

/// The server's URL as alerts link back to it: `--web.external-url` without a trailing
/// slash, else `http://<hostname>:<listen port>` as upstream derives it.
pub fn external_url(flags: &Flags) -> String {
    if !flags.external_url.is_empty() {
        return flags.external_url.trim_end_matches('/').to_owned();
    }
    let listen = flags
        .web
        .listen_addresses
        .first()
        .map_or("0.0.0.0:9090", String::as_str);
    let port = listen.rsplit_once(':').map_or("9090", |(_, p)| p);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("http://{host}:{port}")
}
