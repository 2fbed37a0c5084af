//! The per-target scrape cache: raw series text → (series ref, final labels), so a steady-state
//! scrape neither builds nor relabels label sets; which series the last two appends stored,
//! for staleness markers; and the metric metadata the target exposes.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Mutex, PoisonError};

use foldhash::HashMap as FastMap;

use pm_common::model::{Labels, Metadata, MetricType};
use pm_storage::SeriesRef;

/// Metadata is kept this many successful scrapes after its family disappeared, as upstream.
const METADATA_KEEP_ITERATIONS: u32 = 10;

/// One cached series. Its counters are 32 bits: a target's cache holds an entry per exposed
/// series, so the entry's size counts per series, and the counters are only compared for
/// equality with the current or previous scrape's (they wrap after 2^32 scrapes, which no
/// entry outlives unseen).
pub(crate) struct CacheEntry {
    pub series_ref: SeriesRef,
    /// Scrape iteration in which the entry was last seen.
    pub last_iter: u32,
    /// The append (see [`ScrapeCache::serial`]) that last stored a staleness-tracked sample
    /// of this series: a series tracked in the previous append but not in this one gets a
    /// staleness marker. Kept on the entry so that tracking a sample is a store, not a
    /// map insert and a label-set clone.
    pub tracked: u32,
    pub labels: Labels,
    /// Where the series text is in [`ScrapeCache::keys`].
    key_start: usize,
    key_end: usize,
}

/// One metric family's metadata, as `/api/v1/targets/metadata` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricMetadata {
    /// `metric`: the family name.
    pub metric: String,
    /// `type`: `counter`, `gauge`, … (`unknown` when not given).
    pub metric_type: MetricType,
    /// `help`.
    pub help: String,
    /// `unit`.
    pub unit: String,
}

#[derive(Debug)]
struct MetaEntry {
    meta: Metadata,
    last_iter: u32,
}

/// The metadata of one target's families; shared between the scrape loop that fills it and
/// the API that reads it.
#[derive(Debug, Default)]
pub struct MetadataStore {
    entries: Mutex<HashMap<String, MetaEntry>>,
}

impl MetadataStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, MetaEntry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn get(&self, metric: &str) -> Option<MetricMetadata> {
        self.lock().get(metric).map(|e| to_public(metric, &e.meta))
    }

    /// All families, sorted by name.
    pub fn list(&self) -> Vec<MetricMetadata> {
        let mut out: Vec<_> = self
            .lock()
            .iter()
            .map(|(name, e)| to_public(name, &e.meta))
            .collect();
        out.sort_by(|a, b| a.metric.cmp(&b.metric));
        out
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Approximate bytes held, for `prometheus_target_metadata_cache_bytes` (upstream counts
    /// the name, help and unit lengths plus the type's).
    pub fn size_bytes(&self) -> usize {
        self.lock()
            .iter()
            .map(|(name, e)| {
                name.len()
                    + e.meta.help.len()
                    + e.meta.unit.len()
                    + e.meta.metric_type.as_str().len()
            })
            .sum()
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn update(&self, name: &[u8], iter: u32, f: impl FnOnce(&mut Metadata)) {
        let name = String::from_utf8_lossy(name);
        let mut entries = self.lock();
        let entry = match entries.get_mut(name.as_ref()) {
            Some(e) => e,
            None => entries.entry(name.into_owned()).or_insert(MetaEntry {
                meta: Metadata::default(),
                last_iter: iter,
            }),
        };
        f(&mut entry.meta);
        entry.last_iter = iter;
    }
}

fn to_public(name: &str, meta: &Metadata) -> MetricMetadata {
    MetricMetadata {
        metric: name.to_owned(),
        metric_type: meta.metric_type,
        help: meta.help.clone(),
        unit: meta.unit.clone(),
    }
}

/// Upstream's `scrapeCache`.
///
/// Entries are kept in the order the target first exposed them, their texts back to back in
/// one buffer, and a lookup first tries the entry after the previous one: targets expose
/// their series in the same order every scrape, so a steady-state scrape walks the entries
/// and texts sequentially instead of probing a hash table (and a separately allocated key)
/// at a random place per sample, which cost cache misses on a table last touched one scrape
/// interval ago. The hash index serves the rest.
pub(crate) struct ScrapeCache {
    /// Incremented after each successful (non-empty) scrape.
    iter: u32,
    /// Incremented after every append, failed scrapes included; never 0, so that a
    /// `tracked` of 0 means never tracked.
    serial: u32,
    /// Cache size after the last successful scrape, to bound growth over failing scrapes.
    successful_count: usize,
    entries: Vec<CacheEntry>,
    keys: Vec<u8>,
    /// Entry index by the hash of its text, the texts of colliding hashes in `conflicts`
    /// (a seeded hash, so a target cannot choose collisions; one only costs a second map).
    by_hash: FastMap<u64, usize>,
    conflicts: FastMap<Box<[u8]>, usize>,
    hasher: foldhash::fast::RandomState,
    /// The entry the next lookup tries first.
    next: usize,
    /// Series text that relabeling dropped, with the iteration last seen.
    dropped: FastMap<Box<[u8]>, u32>,
    pub metadata: std::sync::Arc<MetadataStore>,
}

impl ScrapeCache {
    pub fn new(metadata: std::sync::Arc<MetadataStore>) -> Self {
        ScrapeCache {
            iter: 0,
            serial: 1,
            successful_count: 0,
            entries: Vec::new(),
            keys: Vec::new(),
            by_hash: FastMap::default(),
            conflicts: FastMap::default(),
            hasher: foldhash::fast::RandomState::default(),
            next: 0,
            dropped: FastMap::default(),
            metadata,
        }
    }

    /// The current append's number, what [`CacheEntry::tracked`] is set to.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    fn key(&self, e: &CacheEntry) -> &[u8] {
        &self.keys[e.key_start..e.key_end]
    }

    fn find(&self, met: &[u8]) -> Option<usize> {
        if let Some(e) = self.entries.get(self.next)
            && self.key(e) == met
        {
            return Some(self.next);
        }
        self.lookup(self.hasher.hash_one(met), met)
    }

    fn lookup(&self, hash: u64, met: &[u8]) -> Option<usize> {
        match self.by_hash.get(&hash) {
            Some(&i) if self.key(&self.entries[i]) == met => Some(i),
            Some(_) => self.conflicts.get(met).copied(),
            None => None,
        }
    }

    fn index(&mut self, hash: u64, met: &[u8], i: usize) {
        match self.by_hash.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(i);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.conflicts.insert(met.into(), i);
            }
        }
    }

    /// The entry for series text `met`, and whether the same text came earlier in this
    /// scrape.
    pub fn get(&mut self, met: &[u8]) -> Option<(&mut CacheEntry, bool)> {
        let i = self.find(met)?;
        self.next = i + 1;
        let iter = self.iter;
        let e = &mut self.entries[i];
        let already_scraped = e.last_iter == iter;
        e.last_iter = iter;
        Some((e, already_scraped))
    }

    /// Caches a series stored by this append; `tracked` when its sample counts for
    /// staleness. Returns the entry, unless the ref is unknown (such a series is not cached).
    pub fn add_ref(
        &mut self,
        met: &[u8],
        series_ref: SeriesRef,
        labels: Labels,
        tracked: bool,
    ) -> Option<&CacheEntry> {
        if series_ref.is_unknown() {
            return None;
        }
        let i = match self.find(met) {
            Some(i) => i,
            None => {
                let i = self.entries.len();
                let key_start = self.keys.len();
                self.keys.extend_from_slice(met);
                self.entries.push(CacheEntry {
                    series_ref,
                    last_iter: 0,
                    tracked: 0,
                    labels: Labels::default(),
                    key_start,
                    key_end: self.keys.len(),
                });
                self.index(self.hasher.hash_one(met), met, i);
                i
            }
        };
        self.next = i + 1;
        let e = &mut self.entries[i];
        e.series_ref = series_ref;
        e.last_iter = self.iter;
        e.tracked = if tracked { self.serial } else { 0 };
        e.labels = labels;
        Some(e)
    }

    /// Keeps the entries seen in the current iteration, with their texts, in their order.
    fn retain_current(&mut self) {
        let iter = self.iter;
        if self.entries.iter().all(|e| e.last_iter == iter) {
            return;
        }
        let old_keys = std::mem::take(&mut self.keys);
        self.entries.retain(|e| e.last_iter == iter);
        self.keys = Vec::with_capacity(self.entries.iter().map(|e| e.key_end - e.key_start).sum());
        self.by_hash.clear();
        self.conflicts.clear();
        for i in 0..self.entries.len() {
            let e = &mut self.entries[i];
            let key = &old_keys[e.key_start..e.key_end];
            e.key_start = self.keys.len();
            self.keys.extend_from_slice(key);
            e.key_end = self.keys.len();
            self.index(self.hasher.hash_one(key), key, i);
        }
        self.entries.shrink_to(self.entries.len() * 2);
        self.by_hash.shrink_to(self.entries.len() * 2);
    }

    pub fn is_dropped(&mut self, met: &[u8]) -> bool {
        match self.dropped.get_mut(met) {
            Some(iter) => {
                *iter = self.iter;
                true
            }
            None => false,
        }
    }

    pub fn add_dropped(&mut self, met: &[u8]) {
        self.dropped.insert(met.into(), self.iter);
    }

    /// Calls `f` for every series tracked in the previous append but not in this one, until
    /// it returns false. Two texts of one label set (`a{x="1",y="2"}`, `a{y="2",x="1"}`) are
    /// two entries of the same series: a marker for one of them after the other was stored
    /// at the same time is rejected by the storage as a duplicate, as the caller expects.
    pub fn for_each_stale(&self, mut f: impl FnMut(SeriesRef, &Labels) -> bool) {
        let prev = match self.serial.wrapping_sub(1) {
            0 => u32::MAX,
            prev => prev,
        };
        for e in &self.entries {
            if e.tracked != 0 && e.tracked == prev && !f(e.series_ref, &e.labels) {
                break;
            }
        }
    }

    pub fn set_type(&self, name: &[u8], t: MetricType) {
        self.metadata.update(name, self.iter, |m| m.metric_type = t);
    }

    pub fn set_help(&self, name: &[u8], help: &str) {
        self.metadata.update(name, self.iter, |m| {
            if m.help != help {
                m.help = help.to_owned();
            }
        });
    }

    pub fn set_unit(&self, name: &[u8], unit: &str) {
        self.metadata.update(name, self.iter, |m| {
            if m.unit != unit {
                m.unit = unit.to_owned();
            }
        });
    }

    /// Ends a scrape. `flush` (after a successful scrape) forgets entries this scrape did not
    /// see; after failing scrapes the cache is flushed anyway once it doubled (plus 1000) since
    /// the last success, so varying labels of failing scrapes cannot grow it forever. Returns
    /// whether such a forced flush happened.
    pub fn iter_done(&mut self, mut flush: bool) -> bool {
        let count = self.entries.len() + self.dropped.len() + self.metadata.len();
        let mut forced = false;
        if flush {
            self.successful_count = count;
        } else if count > self.successful_count * 2 + 1000 {
            flush = true;
            forced = true;
        }
        if flush {
            self.retain_current();
            let iter = self.iter;
            self.dropped.retain(|_, last| *last == iter);
            self.metadata
                .lock()
                .retain(|_, e| iter.wrapping_sub(e.last_iter) <= METADATA_KEEP_ITERATIONS);
            self.iter = self.iter.wrapping_add(1);
        }
        self.serial = self.serial.checked_add(1).unwrap_or(1);
        self.next = 0;
        forced
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_with(keys: &[&str]) -> ScrapeCache {
        let mut cache = ScrapeCache::new(Default::default());
        for (i, k) in keys.iter().enumerate() {
            let labels = Labels::from_pairs([("__name__", *k)]);
            cache.add_ref(k.as_bytes(), SeriesRef(i as u64 + 1), labels, true);
        }
        cache.iter_done(true);
        cache
    }

    fn refs(cache: &mut ScrapeCache, keys: &[&str]) -> Vec<Option<u64>> {
        keys.iter()
            .map(|k| cache.get(k.as_bytes()).map(|(e, _)| e.series_ref.0))
            .collect()
    }

    #[test]
    fn entries_are_found_in_any_order_and_unseen_ones_flushed() {
        let mut cache = cache_with(&["a", "b", "c", "d"]);
        assert_eq!(
            refs(&mut cache, &["c", "a", "x", "d", "a"]),
            [Some(3), Some(1), None, Some(4), Some(1)]
        );
        assert!(cache.get(b"d").is_some_and(|(_, again)| again));
        cache.iter_done(true);
        // "b" was not seen: its entry and text are gone, the others keep their order.
        assert_eq!(cache.keys, b"acd");
        assert_eq!(
            refs(&mut cache, &["a", "b", "c", "d"]),
            [Some(1), None, Some(3), Some(4)]
        );
        let stale = cache.add_ref(b"b", SeriesRef(9), Labels::default(), true);
        assert_eq!(stale.map(|e| e.series_ref.0), Some(9));
        cache.iter_done(true);
        assert_eq!(refs(&mut cache, &["b", "a"]), [Some(9), Some(1)]);
    }

    #[test]
    fn texts_with_colliding_hashes_are_told_apart() {
        let mut cache = cache_with(&["a", "b"]);
        cache.by_hash.clear();
        cache.index(7, b"a", 0);
        cache.index(7, b"b", 1);
        assert_eq!(cache.lookup(7, b"a"), Some(0));
        assert_eq!(cache.lookup(7, b"b"), Some(1));
        assert_eq!(cache.lookup(7, b"c"), None);
        assert_eq!(cache.lookup(8, b"a"), None);
    }
}
