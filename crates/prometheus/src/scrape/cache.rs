//! The per-target scrape cache: raw series text → (series ref, final labels), so a steady-state
//! scrape neither builds nor relabels label sets; which series the last two appends stored,
//! for staleness markers; and the metric metadata the target exposes.

use std::collections::HashMap;
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
pub(crate) struct ScrapeCache {
    /// Incremented after each successful (non-empty) scrape.
    iter: u32,
    /// Incremented after every append, failed scrapes included; never 0, so that a
    /// `tracked` of 0 means never tracked.
    serial: u32,
    /// Cache size after the last successful scrape, to bound growth over failing scrapes.
    successful_count: usize,
    // The maps below are probed once per scraped sample: a fast hasher matters (the keys are
    // scraped text, and a target flooding one bucket only slows its own scrapes).
    series: FastMap<Box<[u8]>, CacheEntry>,
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
            series: FastMap::default(),
            dropped: FastMap::default(),
            metadata,
        }
    }

    /// The current append's number, what [`CacheEntry::tracked`] is set to.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// The entry for series text `met`, and whether the same text came earlier in this
    /// scrape.
    pub fn get(&mut self, met: &[u8]) -> Option<(&mut CacheEntry, bool)> {
        let iter = self.iter;
        self.series.get_mut(met).map(|e| {
            let already_scraped = e.last_iter == iter;
            e.last_iter = iter;
            (e, already_scraped)
        })
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
        let entry = CacheEntry {
            series_ref,
            last_iter: self.iter,
            tracked: if tracked { self.serial } else { 0 },
            labels,
        };
        Some(self.series.entry(met.into()).insert_entry(entry).into_mut())
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
        for e in self.series.values() {
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
        let count = self.series.len() + self.dropped.len() + self.metadata.len();
        let mut forced = false;
        if flush {
            self.successful_count = count;
        } else if count > self.successful_count * 2 + 1000 {
            flush = true;
            forced = true;
        }
        if flush {
            let iter = self.iter;
            self.series.retain(|_, e| e.last_iter == iter);
            self.dropped.retain(|_, last| *last == iter);
            self.metadata
                .lock()
                .retain(|_, e| iter.wrapping_sub(e.last_iter) <= METADATA_KEEP_ITERATIONS);
            self.iter = self.iter.wrapping_add(1);
        }
        self.serial = self.serial.checked_add(1).unwrap_or(1);
        forced
    }
}
