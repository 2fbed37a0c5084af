//! The alert store: every alert by fingerprint, split into shards behind their own locks so
//! that ingestion contends only with work on the same shard, and a GC or a listing never holds
//! more than one shard at a time.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, PoisonError, RwLock};

use jiff::Timestamp;

use super::{Alert, Fingerprint};
use crate::generation::Generation;

const SHARDS: usize = 32;

#[derive(Debug)]
pub struct AlertStore {
    shards: Vec<RwLock<HashMap<Fingerprint, Arc<Alert>>>>,
    generation: Generation,
}

impl Default for AlertStore {
    fn default() -> Self {
        AlertStore {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            generation: Generation::default(),
        }
    }
}

/// Alerts being stored by one caller; see [`AlertStore::batch`].
#[derive(Debug)]
pub struct PutBatch<'s> {
    store: &'s AlertStore,
}

impl PutBatch<'_> {
    /// [`AlertStore::put`], but the change is counted when the batch ends.
    pub fn put(&mut self, alert: Alert, now: Timestamp) -> Arc<Alert> {
        self.store.insert(alert, now)
    }
}

/// Counts the batch's changes (after them, as [`Generation`] requires), also on unwinding.
impl Drop for PutBatch<'_> {
    fn drop(&mut self) {
        self.store.generation.bump();
    }
}

impl AlertStore {
    fn shard(&self, fp: Fingerprint) -> &RwLock<HashMap<Fingerprint, Arc<Alert>>> {
        // The fingerprint is already a good hash; its low bits spread evenly.
        &self.shards[(fp.0 as usize) % SHARDS]
    }

    /// Stores an alert, merging it into a stored one with the same labels when their activity
    /// ranges overlap; returns what is stored now.
    pub fn put(&self, alert: Alert, now: Timestamp) -> Arc<Alert> {
        self.batch().put(alert, now)
    }

    /// Stores several alerts as [`Self::put`] does, counted as changed once, when the batch
    /// is dropped: a bump per alert was a write to one shared cache line per alert from every
    /// ingesting thread.
    pub fn batch(&self) -> PutBatch<'_> {
        PutBatch { store: self }
    }

    fn insert(&self, alert: Alert, now: Timestamp) -> Arc<Alert> {
        let mut shard = self
            .shard(alert.fingerprint)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        match shard.entry(alert.fingerprint) {
            Entry::Occupied(mut entry) => {
                let old = entry.get();
                let stored = if old.overlaps(&alert) {
                    old.merge(alert, now)
                } else {
                    alert
                };
                old.hand_on_json(&stored);
                let stored = Arc::new(stored);
                entry.insert(Arc::clone(&stored));
                stored
            }
            Entry::Vacant(entry) => Arc::clone(entry.insert(Arc::new(alert))),
        }
    }

    /// Counts every change to the stored alerts (see [`Generation`]).
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    pub fn get(&self, fp: Fingerprint) -> Option<Arc<Alert>> {
        self.shard(fp)
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&fp)
            .cloned()
    }

    /// Every stored alert, resolved ones included, in no particular order. Each shard is
    /// locked only while its entries are copied.
    pub fn snapshot(&self) -> Vec<Arc<Alert>> {
        let mut out = Vec::with_capacity(self.len());
        for shard in &self.shards {
            out.extend(
                shard
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .values()
                    .cloned(),
            );
        }
        out
    }

    /// Calls `f` with every stored alert, resolved ones included, in no particular order,
    /// holding one shard's read lock at a time (ingestion into the others goes on).
    pub fn for_each(&self, mut f: impl FnMut(&Arc<Alert>)) {
        for shard in &self.shards {
            shard
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .for_each(&mut f);
        }
    }

    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops alerts resolved at `now`, one shard at a time; returns how many went.
    pub fn gc(&self, now: Timestamp) -> usize {
        let mut removed = 0;
        for shard in &self.shards {
            let mut shard = shard.write().unwrap_or_else(PoisonError::into_inner);
            let before = shard.len();
            shard.retain(|_, a| !a.resolved_at(now));
            removed += before - shard.len();
        }
        if removed > 0 {
            self.generation.bump();
        }
        removed
    }
}
