//! The metric store: the latest push per group, the indexes that make the consistency check
//! incremental, and a per-family text rendering cache for `/metrics`.
//!
//! Upstream checks a push by gathering every stored metric with the push applied, which makes
//! each push cost O(everything stored). Here the same refusals come from two indexes kept in
//! step with the groups (the type of each family name, the hash of each stored series), so a
//! push costs O(its own size).

mod check;
mod compact;
mod family;
pub mod persist;
mod render;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};

use jiff::Timestamp;
use pm_common::expfmt::dto;

pub use check::CheckError;
pub use compact::{FamilyMeta, StoredFamily};
pub use family::{OwnFamilies, series_hash};
use render::RenderCache;
pub use render::sort_metrics;

use crate::grouping::{GroupingLabels, group_key};

pub const PUSH_TIME_METRIC: &str = "push_time_seconds";
pub const PUSH_TIME_HELP: &str =
    "Last Unix time when changing this group in the Pushgateway succeeded.";
pub const PUSH_FAILURE_METRIC: &str = "push_failure_time_seconds";
pub const PUSH_FAILURE_HELP: &str =
    "Last Unix time when changing this group in the Pushgateway failed.";

/// The metrics pushed under one grouping key.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub labels: GroupingLabels,
    /// Sorted by name, including `push_time_seconds` and `push_failure_time_seconds`. A sorted
    /// vector rather than a map: a group holds few families and is looked up by name rarely.
    families: Vec<StoredFamily>,
}

impl Group {
    /// A group of `families`; of two with the same name the later stands.
    pub fn new(labels: GroupingLabels, families: Vec<StoredFamily>) -> Self {
        let mut group = Self {
            labels,
            families: Vec::with_capacity(families.len()),
        };
        for family in families {
            group.insert(family);
        }
        group
    }

    /// The families, sorted by name.
    pub fn families(&self) -> &[StoredFamily] {
        &self.families
    }

    pub fn get(&self, name: &str) -> Option<&StoredFamily> {
        self.position(name).ok().map(|i| &self.families[i])
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.families.binary_search_by(|f| f.name().cmp(name))
    }

    /// Adds or replaces the family of that name, returning the replaced one.
    fn insert(&mut self, family: StoredFamily) -> Option<StoredFamily> {
        match self.position(family.name()) {
            Ok(i) => Some(std::mem::replace(&mut self.families[i], family)),
            Err(i) => {
                self.families.insert(i, family);
                None
            }
        }
    }

    /// Whether the last change succeeded: the push time is not older than the failure time.
    pub fn last_push_successful(&self) -> bool {
        let value = |name: &str| {
            self.get(name)
                .and_then(|f| f.metrics().into_iter().next())
                .and_then(|m| m.gauge)
                .map_or(0.0, |g| g.value())
        };
        value(PUSH_TIME_METRIC) >= value(PUSH_FAILURE_METRIC)
    }
}

/// A push: the families of a request body for one group.
#[derive(Debug, Clone)]
pub struct Push {
    pub labels: GroupingLabels,
    pub families: Vec<dto::MetricFamily>,
    /// PUT replaces the whole group, POST only the families pushed.
    pub replace: bool,
    pub time: Timestamp,
}

/// What the store knows about a family name across groups.
#[derive(Debug)]
struct NameEntry {
    /// The type of the first group that stored the name; a consistent store has only one.
    r#type: i32,
    /// The number of groups holding a family of this name.
    groups: u32,
    /// The interned descriptions in use under this name (usually one; more when groups push
    /// different help texts).
    metas: Vec<Arc<FamilyMeta>>,
}

#[derive(Debug, Default)]
struct Inner {
    /// By grouping key; ordered, as `/metrics` merges groups in key order.
    groups: BTreeMap<String, Group>,
    names: HashMap<Box<str>, NameEntry>,
    /// Hashes of every stored series (name and labels), for duplicate detection across groups.
    series: HashSet<u64>,
    /// Bumped on every change, so the persister knows when there is something to write.
    generation: u64,
}

#[derive(Debug)]
pub struct Store {
    inner: RwLock<Inner>,
    cache: Mutex<RenderCache>,
    own: OwnFamilies,
    check: bool,
}

impl Store {
    /// `own` describes the daemon's own families (pushes must agree with their types);
    /// `check` is false under `--push.disable-consistency-check`.
    pub fn new(own: OwnFamilies, check: bool) -> Self {
        Self {
            inner: RwLock::default(),
            cache: Mutex::default(),
            own,
            check,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, RenderCache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies a push, or refuses it leaving everything but the group's failure time unchanged.
    pub fn push(&self, mut push: Push) -> Result<(), CheckError> {
        let key = group_key(&push.labels);
        let mut inner = self.write();
        let checked = check::prepare(&mut push.families, &push.labels).and_then(|()| {
            if self.check {
                check::check(&inner, &self.own, &key, &push)
            } else {
                Ok(())
            }
        });
        let mut dirty = Vec::new();
        match &checked {
            Ok(()) => inner.apply(key, push, &mut dirty),
            Err(_) => inner.fail(key, &push.labels, push.time, &mut dirty),
        }
        inner.generation += 1;
        drop(inner);
        self.cache().invalidate(dirty);
        checked
    }

    /// Removes the group, if any.
    pub fn delete(&self, labels: &GroupingLabels) {
        let mut inner = self.write();
        let Some(group) = inner.groups.remove(&group_key(labels)) else {
            return;
        };
        let mut dirty = Vec::new();
        for stored in group.families {
            dirty.push(stored.name().to_owned());
            inner.release(stored);
        }
        inner.generation += 1;
        drop(inner);
        self.cache().invalidate(dirty);
    }

    /// Removes every group at once: the lock is held only to swap in an empty store.
    pub fn wipe(&self) {
        let old = {
            let mut inner = self.write();
            let generation = inner.generation + 1;
            let old = std::mem::take(&mut *inner);
            inner.generation = generation;
            old
        };
        self.cache().clear();
        // Freeing a large store takes a while: neither the lock nor the request waits for it.
        let freed = std::thread::Builder::new()
            .name("pushgateway-wipe".into())
            .spawn(move || drop(old));
        if let Err(e) = freed {
            tracing::warn!(err = %e, "could not start a thread to free wiped groups");
        }
    }

    /// The number of groups.
    pub fn len(&self) -> usize {
        self.read().groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of every group, sorted by grouping key (for the API, the UI and persistence).
    /// Cheap: the stored metrics are shared, not copied.
    pub fn groups(&self) -> Vec<Group> {
        self.read().groups.values().cloned().collect()
    }

    /// The change counter: equal values mean nothing changed in between.
    pub fn generation(&self) -> u64 {
        self.read().generation
    }

    /// Adds `groups` to the store (used once, when loading the persistence file).
    pub fn restore(&self, groups: Vec<Group>) {
        let mut inner = self.write();
        for group in groups {
            let families = group
                .families
                .into_iter()
                .map(|stored| {
                    let metrics = stored.metrics();
                    inner.admit(stored, &metrics)
                })
                .collect();
            let group = Group::new(group.labels, families);
            inner.groups.insert(group_key(&group.labels), group);
        }
        drop(inner);
        self.cache().clear();
    }
}

impl Inner {
    fn apply(&mut self, key: String, push: Push, dirty: &mut Vec<String>) {
        let Push {
            labels,
            families,
            replace,
            time,
        } = push;
        let mut group = self
            .groups
            .remove(&key)
            .unwrap_or_else(|| Group::new(labels.clone(), Vec::new()));
        if replace {
            let (keep, old): (Vec<_>, Vec<_>) = std::mem::take(&mut group.families)
                .into_iter()
                .partition(|f| f.name() == PUSH_TIME_METRIC || f.name() == PUSH_FAILURE_METRIC);
            group.families = keep;
            for stored in old {
                dirty.push(stored.name().to_owned());
                self.release(stored);
            }
        }
        let mut incoming: Vec<dto::MetricFamily> = families
            .into_iter()
            .filter(|f| f.name() != PUSH_TIME_METRIC)
            .collect();
        incoming.push(family::timestamp_gauge(
            PUSH_TIME_METRIC,
            PUSH_TIME_HELP,
            &labels,
            Some(time),
        ));
        if group.get(PUSH_FAILURE_METRIC).is_none()
            && !incoming.iter().any(|f| f.name() == PUSH_FAILURE_METRIC)
        {
            incoming.push(family::timestamp_gauge(
                PUSH_FAILURE_METRIC,
                PUSH_FAILURE_HELP,
                &labels,
                None,
            ));
        }
        for family in incoming {
            self.store(&mut group, Some(time), &family, dirty);
        }
        self.groups.insert(key, group);
    }

    /// Records a refused push: the group (created if new) gets a failure time, and a zero push
    /// time when it has none yet.
    fn fail(
        &mut self,
        key: String,
        labels: &GroupingLabels,
        time: Timestamp,
        dirty: &mut Vec<String>,
    ) {
        let mut group = self
            .groups
            .remove(&key)
            .unwrap_or_else(|| Group::new(labels.clone(), Vec::new()));
        let failure =
            family::timestamp_gauge(PUSH_FAILURE_METRIC, PUSH_FAILURE_HELP, labels, Some(time));
        self.store(&mut group, Some(time), &failure, dirty);
        if group.get(PUSH_TIME_METRIC).is_none() {
            let zero = family::timestamp_gauge(PUSH_TIME_METRIC, PUSH_TIME_HELP, labels, None);
            self.store(&mut group, Some(time), &zero, dirty);
        }
        self.groups.insert(key, group);
    }

    /// Puts `family` into `group` in compact form, replacing the family of that name.
    fn store(
        &mut self,
        group: &mut Group,
        timestamp: Option<Timestamp>,
        family: &dto::MetricFamily,
        dirty: &mut Vec<String>,
    ) {
        let stored = self.admit(StoredFamily::new(timestamp, family), &family.metric);
        if let Some(old) = group.insert(stored) {
            self.release(old);
        }
        dirty.push(family.name().to_owned());
    }

    /// Indexes a family entering the store (its `metrics`, decoded) and gives it the interned
    /// description equal to its own.
    fn admit(&mut self, stored: StoredFamily, metrics: &[dto::Metric]) -> StoredFamily {
        let meta = stored.meta();
        for metric in metrics {
            self.series.insert(series_hash(&meta.name, metric));
        }
        let entry = self.names.entry(meta.name.clone()).or_insert(NameEntry {
            r#type: meta.metric_type(),
            groups: 0,
            metas: Vec::new(),
        });
        entry.groups += 1;
        match entry.metas.iter().find(|m| ***m == **meta) {
            Some(shared) => stored.reshared(shared.clone()),
            None => {
                entry.metas.push(meta.clone());
                stored
            }
        }
    }

    /// Unindexes and drops a family leaving the store.
    fn release(&mut self, stored: StoredFamily) {
        let name = stored.name();
        for metric in stored.metrics() {
            self.series.remove(&series_hash(name, &metric));
        }
        let Some(entry) = self.names.get_mut(name) else {
            return;
        };
        entry.groups -= 1;
        if entry.groups == 0 {
            self.names.remove(name);
            return;
        }
        let meta = stored.meta().clone();
        drop(stored);
        // The entry's own reference and `meta` are the last ones: no family uses it any more.
        if Arc::strong_count(&meta) == 2 {
            entry.metas.retain(|m| !Arc::ptr_eq(m, &meta));
        }
    }
}
