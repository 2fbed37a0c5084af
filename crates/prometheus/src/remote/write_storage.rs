//! The daemon's remote-write side: one [`QueueManager`] per `remote_write` entry, kept across
//! reloads while its config (and the external labels) stay the same.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use pm_common::model::Labels;

use super::queue::metrics::RemoteMetrics;
use super::queue::{QueueManager, config_hash};
use crate::config::Config;

pub struct WriteStorage {
    wal_dir: PathBuf,
    metrics: RemoteMetrics,
    flush_deadline: Duration,
    queues: Mutex<HashMap<u64, QueueManager>>,
}

impl WriteStorage {
    pub fn new(wal_dir: PathBuf, metrics: RemoteMetrics, flush_deadline: Duration) -> Self {
        WriteStorage {
            wal_dir,
            metrics,
            flush_deadline,
            queues: Mutex::new(HashMap::new()),
        }
    }

    /// Starts the queues `cfg` adds or changes and stops those it drops or changes.
    pub async fn apply_config(&self, cfg: &Config) -> Result<(), String> {
        let external = Labels::from_pairs(cfg.global.external_labels.clone());
        let wanted: Vec<(u64, &crate::config::RemoteWriteConfig)> = cfg
            .remote_write
            .iter()
            .map(|rw| (config_hash(rw, &external), rw))
            .collect();
        let (stale, mut errors) = {
            let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
            let keys: Vec<u64> = queues.keys().copied().collect();
            let stale: Vec<QueueManager> = keys
                .into_iter()
                .filter(|k| !wanted.iter().any(|(h, _)| h == k))
                .filter_map(|k| queues.remove(&k))
                .collect();
            let mut errors = Vec::new();
            for (hash, rw) in &wanted {
                if queues.contains_key(hash) {
                    continue;
                }
                match QueueManager::start(rw, &external, &self.wal_dir, &self.metrics) {
                    Ok(q) => {
                        queues.insert(*hash, q);
                    }
                    Err(e) => errors.push(e),
                }
            }
            (stale, errors)
        };
        for q in stale {
            let (name, url) = (q.name().to_owned(), q.url().to_owned());
            q.stop(self.flush_deadline).await;
            self.metrics.remove(&name, &url);
        }
        match errors.len() {
            0 => Ok(()),
            _ => Err(errors.remove(0)),
        }
    }

    /// Stops every queue, flushing within the flush deadline.
    pub async fn stop(&self) {
        let queues: Vec<QueueManager> = self
            .queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, q)| q)
            .collect();
        for q in queues {
            q.stop(self.flush_deadline).await;
        }
    }
}
