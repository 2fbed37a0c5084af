//! Concurrent scrapes with the same selection share collections, group-commit style.
//!
//! Upstream runs one full collection per request and caches nothing, so a scrape never sees
//! values read before it arrived. We keep that guarantee while sharing work: at most one
//! collection per selection runs at a time, and every request that arrives while it runs
//! waits for the *next* one, which starts after all of them arrived and answers them all.
//! Under a burst of `c` concurrent scrapes this does about one collection per `c` requests and
//! bounds the memory of in-flight collections to one per selection.
//!
//! A collection that hangs (a `statfs` on a dead NFS server) must not hang every later scrape:
//! once a run has taken longer than the stall bound, the next batch starts its own run
//! beside it, as upstream's independent scrapes would.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

/// The result of one collection, handed to every request of its batch; `None` until it is
/// ready.
type Slot<V> = watch::Sender<Option<V>>;

/// The state of one selection's collections.
struct Lane<V> {
    /// The batch gathering requests for the collection after the running one.
    next: Option<Slot<V>>,
}

/// Shares collections among concurrent requests for the same key.
pub struct Coalescer<K, V> {
    /// A key is present while a collection for it runs.
    lanes: Mutex<HashMap<K, Lane<V>>>,
    /// How long a run may take before the requests waiting behind it start their own.
    stall: Duration,
}

impl<K, V> std::fmt::Debug for Coalescer<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coalescer")
            .field("stall", &self.stall)
            .finish_non_exhaustive()
    }
}

impl<K, V> Coalescer<K, V>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new(stall: Duration) -> Self {
        Self {
            lanes: Mutex::new(HashMap::new()),
            stall,
        }
    }

    /// The result of a run of `collect` (on the blocking pool) that starts after this call;
    /// `None` if that run panicked. `collect` must depend on `key` only: a run started for
    /// one request answers every request for the same key that waits with it.
    pub async fn get<F>(self: &Arc<Self>, key: K, collect: F) -> Option<V>
    where
        F: Fn() -> V + Send + Sync + 'static,
    {
        let mut rx = {
            let mut lanes = self.lock();
            match lanes.entry(key.clone()) {
                Entry::Occupied(mut lane) => lane
                    .get_mut()
                    .next
                    .get_or_insert_with(|| watch::channel(None).0)
                    .subscribe(),
                Entry::Vacant(lane) => {
                    lane.insert(Lane { next: None });
                    let (slot, rx) = watch::channel(None);
                    tokio::spawn(Arc::clone(self).drive(key, slot, Arc::new(collect)));
                    rx
                }
            }
        };
        // A sender dropped without a value means the run panicked.
        let ready = rx.wait_for(Option::is_some).await.ok()?;
        ready.clone()
    }

    /// Runs collections for `key` until no request waits for another one.
    async fn drive<F>(self: Arc<Self>, key: K, first: Slot<V>, collect: Arc<F>)
    where
        F: Fn() -> V + Send + Sync + 'static,
    {
        let mut slot = first;
        loop {
            let run = Arc::clone(&collect);
            // The run answers its batch itself, so a stalled one can be left behind; if it
            // panics, the dropped slot tells its waiters.
            let task = tokio::task::spawn_blocking(move || {
                slot.send_replace(Some(run()));
            });
            match tokio::time::timeout(self.stall, task).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(err = %e, "collection task failed"),
                Err(_) => tracing::warn!(
                    stall = ?self.stall,
                    "collection still running; the scrapes waiting behind it start their own"
                ),
            }
            let mut lanes = self.lock();
            let Some(lane) = lanes.get_mut(&key) else {
                return;
            };
            match lane.next.take() {
                Some(next) => slot = next,
                None => {
                    lanes.remove(&key);
                    return;
                }
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, Lane<V>>> {
        self.lanes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests;
