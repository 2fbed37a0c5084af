//! Remote write plugged into the daemon: once the database is open, a queue per
//! `remote_write` entry tails its WAL; reloads restart the queues whose config changed; the
//! stop flushes them (bounded by `--storage.remote.flush-deadline`) before the database
//! closes.

use std::sync::{Arc, Mutex, PoisonError};

use super::{OnStop, OnStorage, Plugins, Reloader, Services};
use crate::config::Config;
use crate::remote::queue::metrics::RemoteMetrics;
use crate::remote::write_storage::WriteStorage;

/// Empty until the storage opens and again after the stop.
type Slot = Arc<Mutex<Option<Arc<WriteStorage>>>>;

fn get(slot: &Slot) -> Option<Arc<WriteStorage>> {
    slot.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// The plugins that make the daemon remote-write.
pub fn plugins() -> Plugins {
    let slot: Slot = Arc::default();
    let start: OnStorage = {
        let slot = slot.clone();
        Box::new(move |services: &Services<'_>| {
            let metrics = match RemoteMetrics::register(services.registry) {
                Ok(m) => m,
                Err(e) => {
                    tracing::error!(err = %e, "registering remote storage metrics");
                    return;
                }
            };
            let storage = WriteStorage::new(
                services.flags.tsdb_path.join("wal"),
                metrics,
                services.flags.remote_flush_deadline,
            );
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(storage));
        })
    };
    let reloader: Reloader = {
        let slot = slot.clone();
        Box::new(move |cfg: &Config| {
            let Some(storage) = get(&slot) else {
                return Ok(());
            };
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(storage.apply_config(cfg))
            })
        })
    };
    let stop: OnStop = {
        let slot = slot.clone();
        Box::new(move || {
            Box::pin(async move {
                let storage = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
                if let Some(storage) = storage {
                    storage.stop().await;
                }
            })
        })
    };
    Plugins {
        reloaders: vec![("remote_storage", reloader)],
        on_storage: vec![start],
        on_stop: vec![stop],
        ..Plugins::default()
    }
}
