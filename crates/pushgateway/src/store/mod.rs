//! The metric store: the latest push per group, the indexes that make the consistency check
//! incremental, and a per-family text rendering cache for `/metrics`.
//!
//! Upstream checks a push by gathering every stored metric with the push applied, which makes
//! each push cost O(everything stored). Here the same refusals come from two indexes kept in
//! step with the groups (the type of each family name, the hash of each stored series), so a
//! push costs O(its own size).

mod check;
mod family;
pub mod persist;
mod render;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError, RwLock, RwLockReadGuard};

use jiff::Timestamp;
use pm_common::expfmt::dto;

pub use check::CheckError;
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

/// One family of one group, with the time of the push that stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFamily {
    pub timestamp: Option<Timestamp>,
    pub family: dto::MetricFamily,
}

/// The metrics pushed under one grouping key.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub labels: GroupingLabels,
    /// By family name, including `push_time_seconds` and `push_failure_time_seconds`.
    pub families: HashMap<String, StoredFamily>,
}

impl Group {
    fn new(labels: GroupingLabels) -> Self {
        Self {
            labels,
            families: HashMap::new(),
        }
    }

    /// Whether the last change succeeded: the push time is not older than the failure time.
    pub fn last_push_successful(&self) -> bool {
        let value = |name: &str| {
            self.families
                .get(name)
                .and_then(|f| f.family.metric.first())
                .and_then(|m| m.gauge.as_ref())
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

#[derive(Debug, Default)]
struct Inner {
    groups: HashMap<String, Group>,
    /// Family name to (type, number of groups holding it); a consistent store has one type.
    types: HashMap<String, (i32, u32)>,
    /// Hashes of every stored series (name and labels), for duplicate detection across groups.
    series: HashSet<u64>,
    /// Bumped on every change, so the persister knows when there is something to write.
    generation: u64,
}

/// The store shared by the handlers, the `/metrics` renderer and the persister.
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
        for (name, stored) in group.families {
            inner.unindex(&stored.family);
            dirty.push(name);
        }
        inner.generation += 1;
        drop(inner);
        self.cache().invalidate(dirty);
    }

    /// Removes every group at once.
    pub fn wipe(&self) {
        let old = {
            let mut inner = self.write();
            let generation = inner.generation + 1;
            let old = std::mem::take(&mut *inner);
            inner.generation = generation;
            old
        };
        self.cache().clear();
        // Freeing a large store takes a while; do it outside the lock.
        drop(old);
    }

    /// The number of groups.
    pub fn len(&self) -> usize {
        self.read().groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of every group, sorted by grouping key (for the API, the UI and persistence).
    pub fn groups(&self) -> Vec<Group> {
        let inner = self.read();
        let mut keys: Vec<&String> = inner.groups.keys().collect();
        keys.sort();
        keys.into_iter().map(|k| inner.groups[k].clone()).collect()
    }

    /// The change counter: equal values mean nothing changed in between.
    pub fn generation(&self) -> u64 {
        self.read().generation
    }

    /// Replaces the whole content (used once, when loading the persistence file).
    pub fn restore(&self, groups: Vec<Group>) {
        let mut inner = self.write();
        for group in groups {
            for stored in group.families.values() {
                inner.index(&stored.family);
            }
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
            .unwrap_or_else(|| Group::new(labels.clone()));
        if replace {
            let old: Vec<String> = group
                .families
                .keys()
                .filter(|n| *n != PUSH_TIME_METRIC && *n != PUSH_FAILURE_METRIC)
                .cloned()
                .collect();
            for name in old {
                if let Some(stored) = group.families.remove(&name) {
                    self.unindex(&stored.family);
                }
                dirty.push(name);
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
        if !group.families.contains_key(PUSH_FAILURE_METRIC)
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
            self.index(&family);
            let name = family.name().to_owned();
            let stored = StoredFamily {
                timestamp: Some(time),
                family,
            };
            if let Some(old) = group.families.insert(name.clone(), stored) {
                self.unindex(&old.family);
            }
            dirty.push(name);
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
            .unwrap_or_else(|| Group::new(labels.clone()));
        let failure =
            family::timestamp_gauge(PUSH_FAILURE_METRIC, PUSH_FAILURE_HELP, labels, Some(time));
        let mut incoming = vec![(Some(time), failure)];
        if !group.families.contains_key(PUSH_TIME_METRIC) {
            let zero = family::timestamp_gauge(PUSH_TIME_METRIC, PUSH_TIME_HELP, labels, None);
            incoming.push((Some(time), zero));
        }
        for (timestamp, family) in incoming {
            self.index(&family);
            let name = family.name().to_owned();
            if let Some(old) = group
                .families
                .insert(name.clone(), StoredFamily { timestamp, family })
            {
                self.unindex(&old.family);
            }
            dirty.push(name);
        }
        self.groups.insert(key, group);
    }

    fn index(&mut self, family: &dto::MetricFamily) {
        let entry = self
            .types
            .entry(family.name().to_owned())
            .or_insert((family.r#type.unwrap_or_default(), 0));
        entry.1 += 1;
        for metric in &family.metric {
            self.series.insert(series_hash(family.name(), metric));
        }
    }

    fn unindex(&mut self, family: &dto::MetricFamily) {
        if let Some(entry) = self.types.get_mut(family.name()) {
            entry.1 -= 1;
            if entry.1 == 0 {
                self.types.remove(family.name());
            }
        }
        for metric in &family.metric {
            self.series.remove(&series_hash(family.name(), metric));
        }
    }
}
