//! The groups listing's encoded answers, kept while they are provably current.
//!
//! Encoding the full listing at 100,000 alerts takes far longer than sending it, so an answer
//! is kept, per query string, with a [`Stamp`] of everything it was computed from: the
//! runtime (config, route tree, dispatcher), the change counters of the dispatcher's groups,
//! the alert store (inhibition sources) and the silences, and the span of time over which
//! the clock alone changes nothing (until a shown alert resolves, an inhibiting alert stops
//! firing, or a silence starts or ends). A request is answered from the cache only when all
//! of these are unchanged; anything else encodes afresh.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use jiff::Timestamp;

use super::chunks::Chunks;
use super::listing::{GroupsAnswer, Reuse};
use crate::clock::earliest;
use crate::daemon::{App, Muting, Runtime};

/// Answers kept at most, and their total size beyond which the least recently used go (the
/// newest is always kept): a UI switching between a few filters stays cached, while the
/// memory cost stays near one full answer (44 MB at 100,000 alerts).
const MAX_ENTRIES: usize = 8;
const MAX_BYTES: usize = 64 << 20;

/// What a cached answer was computed from.
#[derive(Debug, Clone)]
struct Stamp {
    /// Weak, so a replaced config is not kept alive; its allocation is, so no later runtime
    /// can reuse the address.
    runtime: Weak<Runtime>,
    groups: u64,
    alerts: u64,
    silences: u64,
    /// The clock's time the answer was computed at.
    at: Timestamp,
    /// The answer is right for a clock in `at..until` (no end: `None`).
    until: Option<Timestamp>,
}

impl Stamp {
    /// Whether an answer computed under `self` is the answer under `now` (current counters
    /// and the runtime serving requests at that time).
    fn is_current(&self, now: &Stamp) -> bool {
        Weak::ptr_eq(&self.runtime, &now.runtime)
            && (self.groups, self.alerts, self.silences) == (now.groups, now.alerts, now.silences)
            && self.at <= now.at
            && self.until.is_none_or(|until| now.at < until)
    }
}

#[derive(Debug)]
struct Entry {
    query: String,
    stamp: Stamp,
    body: Chunks,
}

/// The cached groups answers, most recently used first.
#[derive(Debug, Default)]
pub struct GroupsCache {
    entries: Mutex<Vec<Entry>>,
}

/// The counters, read before the data they guard (see [`crate::generation`]).
fn counters(app: &App, runtime: &Arc<Runtime>, at: Timestamp) -> Stamp {
    Stamp {
        runtime: Arc::downgrade(runtime),
        groups: runtime.dispatcher.generation(),
        alerts: app.alerts.generation(),
        silences: app.silences.generation(),
        at,
        until: None,
    }
}

impl GroupsCache {
    /// The answer to `query`: the cached one while it is current, else `list`'s, which is
    /// then kept.
    pub(super) fn get_or_list(
        &self,
        app: &App,
        query: &str,
        list: impl FnOnce(&Muting<'_>, &Reuse) -> GroupsAnswer,
    ) -> Chunks {
        let runtime = app.runtime();
        let now = counters(app, &runtime, app.clock.now());
        if let Some(body) = self.lookup(query, &now) {
            return body;
        }
        // Counters first, then the data: a change racing with the listing leaves the answer
        // stamped older than the change, so it is never served after it.
        let alerts = app.alerts.generation();
        let silences = app.silences.generation();
        let muting = app.muting();
        let groups = muting.runtime.dispatcher.generation();
        let silences_until = app.silences.next_change(muting.now);
        let reuse = Reuse {
            query: query.into(),
            silences,
            alerts,
            silences_until,
        };
        let answer = list(&muting, &reuse);
        tracing::debug!(
            query,
            reused_groups = answer.reused,
            patched_groups = answer.patched,
            bytes = answer.body.len(),
            "groups answer encoded"
        );
        let until = earliest([answer.valid_until, silences_until]);
        let stamp = Stamp {
            runtime: Arc::downgrade(&muting.runtime),
            groups,
            alerts,
            silences,
            at: muting.now,
            until,
        };
        let body = answer.body;
        self.insert(query, stamp, body.clone());
        body
    }

    /// Drops every kept answer, ahead of a change that makes them all stale: their groups'
    /// parts are then the dispatcher's alone, and times rewritten into them by the change
    /// are written in place rather than into copies.
    pub fn forget_all(&self) {
        let stale =
            std::mem::take(&mut *self.entries.lock().unwrap_or_else(PoisonError::into_inner));
        // Freed once the lock is released.
        drop(stale);
    }

    fn lookup(&self, query: &str, now: &Stamp) -> Option<Chunks> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        // Answers of older states are (but for a clock set back) never current again: let
        // their memory go now.
        entries.retain(|e| e.stamp.is_current(now));
        let i = entries.iter().position(|e| e.query == query)?;
        let hit = entries.remove(i);
        let body = hit.body.clone();
        entries.insert(0, hit);
        Some(body)
    }

    fn insert(&self, query: &str, stamp: Stamp, body: Chunks) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|e| e.query != query);
        entries.insert(
            0,
            Entry {
                query: query.to_owned(),
                stamp,
                body,
            },
        );
        let mut total = 0;
        let mut keep = 0;
        for e in entries.iter() {
            total += e.body.len();
            if keep > 0 && (keep == MAX_ENTRIES || total > MAX_BYTES) {
                break;
            }
            keep += 1;
        }
        entries.truncate(keep);
    }
}
