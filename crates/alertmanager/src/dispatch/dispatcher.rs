//! The dispatcher: routes each stored alert into its aggregation groups and decides when each
//! group notifies, following upstream's timing:
//!
//! * a new group waits `group_wait` before its first notification, unless an alert in it
//!   started more than `group_wait` ago (then it notifies at once);
//! * after that, it is flushed every `group_interval`; whether a flush actually sends is
//!   decided by the notification pipeline (something changed, or `repeat_interval` passed);
//! * resolved alerts are dropped once a flush carrying them succeeded, and an empty group goes.
//!
//! Groups live in shards behind their own locks and timers in one min-heap, so ingestion never
//! waits for a pass over all groups: a flush pass touches only the groups that are due.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hashbrown::hash_map::EntryRef;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;

use super::RouteTree;
use super::fragment::Fragment;
use super::group::{Flush, Group, GroupId, GroupLookup, group_key};
use crate::alert::Alert;
use crate::api::model::TimeTexts;
use crate::generation::Generation;

const SHARDS: usize = 64;

/// How many group versions an [`IngestBatch`] takes from the shared sequence at once; the
/// ones it does not use are skipped (versions need only be unique).
const VERSION_BLOCK: u64 = 64;

/// Keyed with SipHash (std's `RandomState`, a random key per shard): the grouping labels come
/// from clients, and a keyed hash keeps them from choosing colliding groups.
type Shard = hashbrown::HashMap<Arc<GroupId>, Group, RandomState>;

/// Timers as a min-heap of (when, which group); entries made stale by a re-arm are skipped.
type Timers = BinaryHeap<Reverse<(Timestamp, Arc<GroupId>)>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn after(t: Timestamp, d: std::time::Duration) -> Timestamp {
    t.saturating_add(SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX))
        .unwrap_or(Timestamp::MAX)
}

#[derive(Debug)]
pub struct Dispatcher {
    tree: Arc<RouteTree>,
    /// Upstream's route keys, computed once per node.
    route_keys: Vec<String>,
    shards: Vec<Mutex<Shard>>,
    /// Picks a group's shard. A fast seeded hash: colliding groups could at worst crowd one
    /// shard's lock, and each shard's map keeps its own keyed hash.
    hasher: foldhash::fast::RandomState,
    timers: Mutex<Timers>,
    groups: AtomicUsize,
    /// Counts changes to the groups' alerts (timers and flush flags are not counted).
    generation: Generation,
    /// The next [`Group::version`].
    versions: AtomicU64,
    /// Woken when a timer earlier than every other one is set.
    wake: Notify,
}

impl Dispatcher {
    pub fn new(tree: Arc<RouteTree>) -> Self {
        Dispatcher {
            route_keys: (0..tree.len()).map(|id| tree.key(id)).collect(),
            tree,
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: foldhash::fast::RandomState::default(),
            timers: Mutex::default(),
            groups: AtomicUsize::new(0),
            generation: Generation::default(),
            versions: AtomicU64::new(1),
            wake: Notify::new(),
        }
    }

    pub fn tree(&self) -> &RouteTree {
        &self.tree
    }

    /// The shard of a group, by its [`GroupId`] or a [`GroupLookup`] (which hash alike).
    fn shard(&self, id: &(impl Hash + ?Sized)) -> &Mutex<Shard> {
        &self.shards[(self.hasher.hash_one(id) as usize) % SHARDS]
    }

    fn schedule(&self, at: Timestamp, id: Arc<GroupId>) {
        let mut timers = lock(&self.timers);
        let earliest = timers.peek().is_none_or(|Reverse((t, _))| at < *t);
        timers.push(Reverse((at, id)));
        drop(timers);
        if earliest {
            self.wake.notify_one();
        }
    }

    /// Adds a stored alert (new or updated) to every group its routes put it in.
    pub fn ingest(&self, alert: &Arc<Alert>, now: Timestamp) {
        self.batch().ingest(alert, now);
    }

    /// Ingests several alerts as [`Self::ingest`] does, counted as changed once, when the
    /// batch is dropped, and with group versions taken from the shared sequence a block at a
    /// time: per alert, both were writes to one cache line shared by every ingesting thread.
    pub fn batch(&self) -> IngestBatch<'_> {
        IngestBatch {
            dispatcher: self,
            routes: Vec::new(),
            versions: 0..0,
            texts: TimeTexts::default(),
        }
    }

    /// The next version from `block`, which is refilled from the shared sequence when empty.
    fn take_version(&self, block: &mut Range<u64>) -> u64 {
        block.next().unwrap_or_else(|| {
            let start = self.versions.fetch_add(VERSION_BLOCK, Ordering::Relaxed);
            *block = start + 1..start + VERSION_BLOCK;
            start
        })
    }

    /// Takes the groups whose timer fired at or before `now`, re-arming each for
    /// `group_interval` later. Every returned flush must be handed back to [`Self::finish`].
    pub fn due(&self, now: Timestamp) -> Vec<Flush> {
        let mut out = Vec::new();
        loop {
            let (at, id) = {
                let mut timers = lock(&self.timers);
                match timers.peek() {
                    Some(Reverse((at, _))) if *at <= now => {}
                    _ => break,
                }
                let Some(Reverse(entry)) = timers.pop() else {
                    break;
                };
                entry
            };
            let mut shard = lock(self.shard(&id));
            let Some(group) = shard.get_mut(&id) else {
                continue;
            };
            if group.next_flush != at {
                continue;
            }
            if group.in_flight {
                group.flush_pending = true;
                continue;
            }
            let interval = self.tree.node(id.route).opts.group_interval;
            group.in_flight = true;
            group.has_flushed = true;
            group.next_flush = after(now, interval);
            let next = group.next_flush;
            let alerts: Vec<Arc<Alert>> = group.sorted().cloned().collect();
            out.push(Flush {
                id: Arc::clone(&id),
                key: Arc::clone(&group.key),
                at: now,
                alerts,
            });
            drop(shard);
            self.schedule(next, id);
        }
        out
    }

    /// Ends a flush: on success the resolved alerts it carried go, and an empty group with
    /// them. A timer that fired meanwhile flushes again right away.
    pub fn finish(&self, flush: &Flush, success: bool, now: Timestamp) {
        let mut shard = lock(self.shard(&flush.id));
        let Some(group) = shard.get_mut(&flush.id) else {
            return;
        };
        group.in_flight = false;
        if success && group.drop_sent_resolved(&flush.alerts, flush.at) {
            group.changed(self.next_version());
            self.generation.bump();
        }
        if group.alerts.is_empty() {
            shard.remove(&flush.id);
            drop(shard);
            self.groups.fetch_sub(1, Ordering::Relaxed);
            self.generation.bump();
            return;
        }
        if std::mem::take(&mut group.flush_pending) {
            group.next_flush = now;
            drop(shard);
            self.schedule(now, Arc::clone(&flush.id));
        }
    }

    fn next_version(&self) -> u64 {
        self.versions.fetch_add(1, Ordering::Relaxed)
    }

    /// Keeps a listing's encoding of the group `id` if its alerts are still those of
    /// `version`.
    pub fn keep_fragment(&self, id: &GroupId, version: u64, fragment: Fragment) {
        if let Some(group) = lock(self.shard(id)).get_mut(id)
            && group.version == version
        {
            group.fragment = Some(fragment);
        }
    }

    /// When the earliest timer fires, if any group exists.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        lock(&self.timers).peek().map(|Reverse((t, _))| *t)
    }

    /// Resolves when a timer earlier than the previous earliest one was set.
    pub async fn changed(&self) {
        self.wake.notified().await;
    }

    /// Wakes a task waiting in [`Self::changed`] (e.g. because this dispatcher was replaced).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Counts every change to the groups' alerts (see [`Generation`]).
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    pub fn group_count(&self) -> usize {
        self.groups.load(Ordering::Relaxed)
    }

    /// Calls `f` with every group and its alerts, one shard locked at a time: `f` runs under
    /// that shard's lock, so it should only pick what it needs (ingestion into the same shard
    /// waits meanwhile).
    pub fn for_each_group(&self, mut f: impl FnMut(&Arc<GroupId>, GroupAlerts<'_>)) {
        for shard in 0..SHARDS {
            self.for_each_group_in(shard, &mut f);
        }
    }

    /// How many shards [`Self::for_each_group_in`] takes: a listing can walk them one at a
    /// time (or several threads at once) and finish each shard's groups while their alerts
    /// are still in the CPU's caches.
    pub fn shard_count(&self) -> usize {
        SHARDS
    }

    /// Calls `f` with every group of one shard (`shard < shard_count()`) under its lock.
    pub fn for_each_group_in(
        &self,
        shard: usize,
        mut f: impl FnMut(&Arc<GroupId>, GroupAlerts<'_>),
    ) {
        for (id, group) in lock(&self.shards[shard]).iter_mut() {
            f(id, GroupAlerts { id, group });
        }
    }

    /// Keeps a listing's encodings of groups of one shard (see [`Self::keep_fragment`]),
    /// taking its lock once.
    pub fn keep_fragments_in(
        &self,
        shard: usize,
        kept: impl IntoIterator<Item = (Arc<GroupId>, u64, Fragment)>,
    ) {
        let mut groups = lock(&self.shards[shard]);
        for (id, version, fragment) in kept {
            if let Some(group) = groups.get_mut(&id)
                && group.version == version
            {
                group.fragment = Some(fragment);
            }
        }
    }

    /// Calls `f` with the group `id` and its alerts if that group exists, under its shard's
    /// lock: a listing that knows the one group it wants need not walk the others.
    pub fn with_group(&self, id: &GroupId, f: impl FnOnce(&Arc<GroupId>, GroupAlerts<'_>)) {
        let mut shard = lock(self.shard(id));
        let Some((key, _)) = shard.get_key_value(id) else {
            return;
        };
        let key = Arc::clone(key);
        if let Some(group) = shard.get_mut(id) {
            f(&key, GroupAlerts { id: &key, group });
        }
    }
}

/// Alerts being ingested by one caller; see [`Dispatcher::batch`].
#[derive(Debug)]
pub struct IngestBatch<'d> {
    dispatcher: &'d Dispatcher,
    /// Scratch space for each alert's routes.
    routes: Vec<usize>,
    /// Versions taken from the shared sequence and not used yet.
    versions: Range<u64>,
    /// For rewriting re-sent alerts' times in their groups' kept fragments.
    texts: TimeTexts,
}

impl IngestBatch<'_> {
    /// [`Dispatcher::ingest`], but the change is counted when the batch ends.
    pub fn ingest(&mut self, alert: &Arc<Alert>, now: Timestamp) {
        let d = self.dispatcher;
        self.routes.clear();
        d.tree.matches_into(
            &|n| alert.labels.get(n).map(String::as_str),
            &mut self.routes,
        );
        for &route in &self.routes {
            let opts = &d.tree.node(route).opts;
            let lookup = GroupLookup::new(route, &alert.labels, opts);
            let mut shard = lock(d.shard(&lookup));
            let (group, new) = match shard.entry_ref(&lookup) {
                EntryRef::Occupied(entry) => (entry.into_mut(), None),
                EntryRef::Vacant(entry) => {
                    let id = Arc::new(lookup.to_id());
                    d.groups.fetch_add(1, Ordering::Relaxed);
                    let key = group_key(&d.route_keys[route], &id.labels);
                    let group = Group::new(key, route, after(now, opts.group_wait));
                    (entry.insert_with_key(Arc::clone(&id), group), Some(id))
                }
            };
            let mut timer = new.as_ref().map(|_| group.next_flush);
            let version = d.take_version(&mut self.versions);
            match group.insert(Arc::clone(alert)) {
                Some(old) => group.alert_replaced(version, &old, alert, now, &mut self.texts),
                None => group.changed(version),
            }
            // An alert that has waited long enough already need not wait for the group.
            if !group.has_flushed
                && after(alert.starts_at, opts.group_wait) < now
                && group.next_flush > now
            {
                group.next_flush = now;
                timer = Some(now);
            }
            if let Some(at) = timer {
                // Rarely an existing group's: only its first old alert re-arms it.
                let id = new.or_else(|| shard.get_key_value(&lookup).map(|(id, _)| Arc::clone(id)));
                drop(shard);
                if let Some(id) = id {
                    d.schedule(at, id);
                }
            }
        }
    }
}

/// Counts the batch's changes (after them, as [`Generation`] requires), also on unwinding.
impl Drop for IngestBatch<'_> {
    fn drop(&mut self) {
        self.dispatcher.generation.bump();
    }
}

/// The alerts of one group, seen under its shard's lock.
#[derive(Debug)]
pub struct GroupAlerts<'a> {
    id: &'a GroupId,
    group: &'a mut Group,
}

impl GroupAlerts<'_> {
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Arc<Alert>> {
        self.group.alerts.values()
    }

    /// The group's route.
    pub fn route(&self) -> usize {
        self.group.route
    }

    /// Changes with every change to the group's alerts (see [`Dispatcher::keep_fragment`]).
    pub fn version(&self) -> u64 {
        self.group.version
    }

    /// The last encoding a listing kept of this group, if its alerts did not change since
    /// (but for times rewritten in it), with its `until` right for a listing at `now`.
    pub fn fragment(&mut self, now: Timestamp) -> Option<&Fragment> {
        let fragment = self.group.fragment.as_mut()?;
        fragment.refresh_until(now);
        Some(fragment)
    }

    /// Takes the encoding a listing is about to replace: the kept one (which did not suit
    /// this listing) or the one the last change to the alerts dropped. The listing patches
    /// its times if only they changed; else, once no earlier answer shares it, its buffer
    /// can take the new encoding without a fresh allocation.
    pub fn take_replaced(&mut self) -> Option<Fragment> {
        let kept = self.group.fragment.take();
        kept.or_else(|| self.group.replaced.take())
    }

    /// The group's key in the groups answer's order ([`crate::api::model::label_set_key`]
    /// of its labels), computed on first need: a group's labels never change.
    pub fn order_key(&mut self) -> &Arc<[u8]> {
        let id = self.id;
        self.group
            .order_key
            .get_or_insert_with(|| crate::api::model::label_set_key(&id.labels).into())
    }

    /// The end of the group's part of the groups answer (after its alerts: its labels and
    /// receiver), written by `encode` on first need: it never changes, and writing it for
    /// each of 10,000 groups was ~5 % of a listing after every alert changed.
    pub fn tail(&mut self, encode: impl FnOnce(&GroupId) -> Arc<[u8]>) -> &Arc<[u8]> {
        let id = self.id;
        self.group.tail.get_or_insert_with(|| encode(id))
    }

    /// The alerts in upstream's order (by `job`, `instance`, then labels); the first call
    /// after the group's alerts came, went or changed labels sorts them.
    pub fn sorted(&mut self) -> impl ExactSizeIterator<Item = &Arc<Alert>> {
        self.group.sorted()
    }

    /// Whether some alert may have the label `name` with `value`; `false` means none has.
    /// The first call after the group changed reads every alert's labels.
    pub fn may_have_label(&mut self, name: &str, value: &str) -> bool {
        self.group.may_have_label(name, value)
    }
}
