//! Discovery and scraping plugged into the daemon: the `scrape` discovery manager feeds the
//! scrape manager, which appends to the TSDB; both follow config reloads, the scrape manager
//! backs the targets and metadata APIs, and both stop before the database closes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use pm_discovery::{Manager, ManagerOptions, SdConfig};

use super::{Plugins, Reloader};
use crate::config::{Config, ScrapeConfig};
use crate::scrape::{ScrapeManager, ScrapeManagerOptions, TargetHealth};
use crate::web::api::v1::targets::{
    ActiveTarget, DroppedTarget, Health, TargetMetadata, TargetsSource,
};

/// The running subsystems, from the database's opening to the daemon's stop.
struct Running {
    scrape: ScrapeManager,
    discovery: Manager,
    /// Applies discovery's snapshots to the scrape manager; ends when the manager stops.
    sync: tokio::task::JoinHandle<()>,
}

/// Shared between the daemon's hooks: empty until the storage opens and again after the stop,
/// so that nothing here still holds the database when it closes.
#[derive(Clone, Default)]
struct Slot(Arc<Mutex<Option<Running>>>);

impl Slot {
    fn lock(&self) -> MutexGuard<'_, Option<Running>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn scrape(&self) -> Option<ScrapeManager> {
        self.lock().as_ref().map(|r| r.scrape.clone())
    }
}

/// The plugins that make the daemon scrape: discovery, the scrape manager and their APIs.
pub fn plugins() -> Plugins {
    let slot = Slot::default();
    let start = {
        let slot = slot.clone();
        Box::new(move |services: &super::Services<'_>| {
            let registry = services.registry;
            let scrape = match ScrapeManager::new(
                services.db.clone(),
                ScrapeManagerOptions::default(),
                registry,
            ) {
                Ok(m) => m,
                Err(e) => {
                    tracing::error!(err = %e, "registering scrape metrics");
                    return;
                }
            };
            let discovery = Manager::new(
                "scrape",
                services.discovery_metrics.clone(),
                ManagerOptions::default(),
            );
            let rx = discovery.subscribe();
            let runner = scrape.clone();
            let sync = tokio::spawn(async move { runner.run(rx).await });
            *slot.lock() = Some(Running {
                scrape,
                discovery,
                sync,
            });
        }) as super::OnStorage
    };
    let scrape_reloader: Reloader = {
        let slot = slot.clone();
        Box::new(move |cfg: &Config| {
            let Some(scrape) = slot.scrape() else {
                return Ok(());
            };
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(scrape.apply_config(cfg))
            })
            .map_err(|e| e.to_string())
        })
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
    let stop = {
        let slot = slot.clone();
        Box::new(move || {
            Box::pin(async move {
                let running = slot.lock().take();
                if let Some(Running {
                    scrape,
                    discovery,
                    sync,
                }) = running
                {
                    drop(discovery);
                    scrape.stop().await;
                    if let Err(e) = sync.await {
                        tracing::error!(err = %e, "scrape sync task failed");
                    }
                }
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        }) as super::OnStop
    };
    Plugins {
        reloaders: vec![
            ("scrape", scrape_reloader),
            ("scrape_sd", discovery_reloader),
        ],
        targets: Some(Arc::new(slot) as Arc<dyn TargetsSource>),
        on_storage: vec![start],
        on_stop: vec![stop],
        ..Plugins::default()
    }
}

/// Every job's discovery configs, as the manager runs them. Mechanisms accepted in config
/// but not implemented discover nothing; they are reported once per (re)load.
fn discovery_configs(cfg: &Config) -> HashMap<String, Vec<SdConfig>> {
    cfg.all_scrape_configs()
        .map(|job| (job.settings.job_name.clone(), job_configs(job)))
        .collect()
}

fn job_configs(job: &ScrapeConfig) -> Vec<SdConfig> {
    for unsupported in &job.service_discovery.unsupported {
        tracing::warn!(
            job = %job.settings.job_name,
            mechanism = unsupported.key(),
            "service discovery mechanism not supported yet; it discovers no targets"
        );
    }
    job.service_discovery.sd_configs()
}

impl TargetsSource for Slot {
    fn active_targets(&self) -> Vec<ActiveTarget> {
        let Some(scrape) = self.scrape() else {
            return Vec::new();
        };
        scrape
            .active_targets()
            .into_values()
            .flatten()
            .map(|t| ActiveTarget {
                discovered_labels: t.discovered_labels,
                labels: t.labels,
                scrape_pool: t.scrape_pool,
                global_url: t.scrape_url.clone(),
                scrape_url: t.scrape_url,
                last_error: t.last_error,
                last_scrape: t
                    .last_scrape
                    .and_then(|s| jiff::Timestamp::try_from(s).ok()),
                last_scrape_duration: t.last_scrape_duration.as_secs_f64(),
                health: match t.health {
                    TargetHealth::Up => Health::Up,
                    TargetHealth::Down => Health::Down,
                    TargetHealth::Unknown => Health::Unknown,
                },
                scrape_interval: t.scrape_interval,
                scrape_timeout: t.scrape_timeout,
            })
            .collect()
    }

    fn dropped_targets(&self) -> Vec<DroppedTarget> {
        let Some(scrape) = self.scrape() else {
            return Vec::new();
        };
        scrape
            .dropped_targets()
            .into_values()
            .flatten()
            .map(|t| DroppedTarget {
                discovered_labels: t.discovered_labels,
                scrape_pool: t.scrape_pool,
            })
            .collect()
    }

    fn dropped_target_counts(&self) -> BTreeMap<String, usize> {
        self.scrape()
            .map(|s| s.dropped_target_counts())
            .unwrap_or_default()
    }

    fn metadata(&self) -> Vec<TargetMetadata> {
        let Some(scrape) = self.scrape() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for t in scrape.active_targets().into_values().flatten() {
            let target = t.target.labels();
            for m in t.target.metadata().list() {
                out.push(TargetMetadata {
                    target: target.clone(),
                    metric: m.metric,
                    kind: m.metric_type,
                    help: m.help,
                    unit: m.unit,
                });
            }
        }
        out
    }
}
