//! Finding series: the striped label-hash map and ref map, and the in-memory postings.

use std::collections::BTreeMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use foldhash::HashMap as FastMap;
use pm_common::model::{Labels, Matcher};

use super::series::MemSeries;

/// Stripes of the series maps: two scrape loops rarely touch the same stripe.
const STRIPES: usize = 64;

/// The maps are probed on every append (by reference) or series creation (by label hash):
/// their keys are integers the head assigns or computes, so a fast hasher is safe.
///
/// Label hashes almost never collide, so the series of a hash is held directly in `by_hash`
/// and only the rare further series with the same hash go to `conflicts` (as upstream's
/// `seriesHashmap`): a `Vec` per hash would cost an allocation and ~60 bytes per series.
#[derive(Default)]
struct Stripe {
    by_hash: FastMap<u64, Arc<MemSeries>>,
    conflicts: FastMap<u64, Vec<Arc<MemSeries>>>,
    by_ref: FastMap<u64, Arc<MemSeries>>,
}

impl Stripe {
    fn find(&self, hash: u64, labels: &Labels) -> Option<&Arc<MemSeries>> {
        match self.by_hash.get(&hash) {
            Some(s) if s.labels == *labels => Some(s),
            Some(_) => self
                .conflicts
                .get(&hash)?
                .iter()
                .find(|s| s.labels == *labels),
            None => None,
        }
    }

    fn insert(&mut self, hash: u64, series: Arc<MemSeries>) {
        match self.by_hash.entry(hash) {
            Entry::Vacant(e) => {
                e.insert(series);
            }
            Entry::Occupied(_) => self.conflicts.entry(hash).or_default().push(series),
        }
    }

    fn remove(&mut self, hash: u64, r: u64) {
        if self.by_hash.get(&hash).is_some_and(|s| s.r == r) {
            // A conflicting series with the same hash takes the freed place.
            match self.conflicts.get_mut(&hash).and_then(Vec::pop) {
                Some(next) => {
                    self.by_hash.insert(hash, next);
                }
                None => {
                    self.by_hash.remove(&hash);
                }
            }
        } else if let Some(v) = self.conflicts.get_mut(&hash) {
            v.retain(|s| s.r != r);
        }
        if self.conflicts.get(&hash).is_some_and(Vec::is_empty) {
            self.conflicts.remove(&hash);
        }
    }
}

/// All series of the head, by labels and by reference.
pub(crate) struct SeriesMap {
    stripes: Vec<RwLock<Stripe>>,
}

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

impl SeriesMap {
    pub(crate) fn new() -> Self {
        SeriesMap {
            stripes: (0..STRIPES).map(|_| RwLock::default()).collect(),
        }
    }

    fn stripe(&self, key: u64) -> &RwLock<Stripe> {
        &self.stripes[(key % STRIPES as u64) as usize]
    }

    pub(crate) fn by_ref(&self, r: u64) -> Option<Arc<MemSeries>> {
        read(self.stripe(r)).by_ref.get(&r).cloned()
    }

    pub(crate) fn by_labels(&self, hash: u64, labels: &Labels) -> Option<Arc<MemSeries>> {
        read(self.stripe(hash)).find(hash, labels).cloned()
    }

    /// Returns the series with `labels`, creating it with reference `new_ref()` when missing;
    /// the flag says whether it was created.
    pub(crate) fn get_or_create(
        &self,
        hash: u64,
        labels: &Labels,
        new_ref: impl FnOnce() -> u64,
    ) -> (Arc<MemSeries>, bool) {
        if let Some(s) = self.by_labels(hash, labels) {
            return (s, false);
        }
        let mut stripe = write(self.stripe(hash));
        if let Some(s) = stripe.find(hash, labels) {
            return (s.clone(), false);
        }
        let series = Arc::new(MemSeries::new(new_ref(), labels.clone()));
        stripe.insert(hash, series.clone());
        drop(stripe);
        write(self.stripe(series.r))
            .by_ref
            .insert(series.r, series.clone());
        (series, true)
    }

    pub(crate) fn remove(&self, series: &MemSeries) {
        let hash = series.labels.hash_value();
        write(self.stripe(hash)).remove(hash, series.r);
        write(self.stripe(series.r)).by_ref.remove(&series.r);
    }

    /// Every series, in no particular order.
    pub(crate) fn all(&self) -> Vec<Arc<MemSeries>> {
        let mut out = Vec::new();
        for s in &self.stripes {
            out.extend(read(s).by_ref.values().cloned());
        }
        out
    }
}

/// Label name → value → references of the series carrying it, sorted.
#[derive(Default)]
pub(crate) struct Postings {
    map: BTreeMap<String, BTreeMap<String, Vec<u64>>>,
}

impl Postings {
    pub(crate) fn add(&mut self, r: u64, labels: &Labels) {
        for l in labels.iter() {
            let refs = self
                .map
                .entry(l.name.to_owned())
                .or_default()
                .entry(l.value.to_owned())
                .or_default();
            // References grow, so this is a push except after replaying a checkpoint.
            if let Err(i) = refs.binary_search(&r) {
                refs.insert(i, r);
            }
        }
    }

    pub(crate) fn remove(&mut self, r: u64, labels: &Labels) {
        for l in labels.iter() {
            let Some(values) = self.map.get_mut(l.name) else {
                continue;
            };
            if let Some(refs) = values.get_mut(l.value) {
                if let Ok(i) = refs.binary_search(&r) {
                    refs.remove(i);
                }
                if refs.is_empty() {
                    values.remove(l.value);
                }
            }
            if values.is_empty() {
                self.map.remove(l.name);
            }
        }
    }

    /// Candidate references for `matchers`: the union of the postings of the values one
    /// matcher that needs its label accepts, or every series when none does. Callers still
    /// check each candidate against all matchers.
    pub(crate) fn candidates(&self, matchers: &[Matcher]) -> Option<Vec<u64>> {
        // An equality matcher is the most selective to start from.
        let m = matchers
            .iter()
            .filter(|m| !m.matches_empty())
            .min_by_key(|m| m.match_type() != pm_common::model::MatchType::Equal)?;
        let Some(values) = self.map.get(m.name()) else {
            return Some(Vec::new());
        };
        let mut refs: Vec<u64> = values
            .iter()
            .filter(|(v, _)| m.matches(v))
            .flat_map(|(_, r)| r.iter().copied())
            .collect();
        refs.sort_unstable();
        refs.dedup();
        Some(refs)
    }

    /// Every label name with its values and their series.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &BTreeMap<String, Vec<u64>>)> {
        self.map.iter().map(|(n, v)| (n.as_str(), v))
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    pub(crate) fn values(&self, name: &str) -> impl Iterator<Item = &str> {
        self.map
            .get(name)
            .into_iter()
            .flat_map(|v| v.keys().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(r: u64, value: &str) -> Arc<MemSeries> {
        Arc::new(MemSeries::new(r, Labels::from_pairs([("a", value)])))
    }

    #[test]
    fn series_with_colliding_hashes_are_kept_apart() {
        let mut stripe = Stripe::default();
        let (a, b, c) = (series(1, "a"), series(2, "b"), series(3, "c"));
        for s in [&a, &b, &c] {
            stripe.insert(7, s.clone());
        }
        for s in [&a, &b, &c] {
            assert_eq!(stripe.find(7, &s.labels).map(|s| s.r), Some(s.r));
        }
        assert!(stripe.find(8, &a.labels).is_none());
        // Removing the directly held series promotes a conflicting one.
        stripe.remove(7, 1);
        assert!(stripe.find(7, &a.labels).is_none());
        assert_eq!(stripe.find(7, &b.labels).map(|s| s.r), Some(2));
        assert_eq!(stripe.find(7, &c.labels).map(|s| s.r), Some(3));
        stripe.remove(7, 2);
        stripe.remove(7, 3);
        assert!(stripe.by_hash.is_empty() && stripe.conflicts.is_empty());
    }
}
