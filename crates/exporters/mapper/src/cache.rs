//! A bounded cache of mapping results (hits and misses), so that steady traffic skips the
//! FSM and regexes. Its size is fixed by `--statsd.cache-size`; eviction is least recently
//! used (`lru`) or an arbitrary entry (`random`), as upstream's `--statsd.cache-type`.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use foldhash::HashMap;
use pm_common::metrics::{Counter, Gauge, MetricsError, Opts, Registry};

use crate::config::MetricType;
use crate::mapper::{Mapped, MetricMapper};

/// Eviction policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheType {
    Lru,
    Random,
}

impl std::str::FromStr for CacheType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "lru" => Ok(CacheType::Lru),
            "random" => Ok(CacheType::Random),
            other => Err(format!("unsupported cache type {other:?}")),
        }
    }
}

/// Upstream's `statsd_metric_mapper_cache_*` metrics (graphite_exporter shares the names).
#[derive(Debug, Clone)]
pub struct CacheMetrics {
    length: Gauge,
    gets: Counter,
    hits: Counter,
}

impl CacheMetrics {
    pub fn register(registry: &Registry) -> Result<Self, MetricsError> {
        Ok(CacheMetrics {
            length: registry.gauge(Opts::new(
                "statsd_metric_mapper_cache_length",
                "The count of unique metrics currently cached.",
            ))?,
            gets: registry.counter(Opts::new(
                "statsd_metric_mapper_cache_gets_total",
                "The count of total metric cache gets.",
            ))?,
            hits: registry.counter(Opts::new(
                "statsd_metric_mapper_cache_hits_total",
                "The count of total metric cache hits.",
            ))?,
        })
    }
}

type Cached = Option<Arc<Mapped>>;

const NIL: usize = usize::MAX;

#[derive(Debug)]
struct Slot {
    metric_type: MetricType,
    key: Box<str>,
    value: Cached,
    prev: usize,
    next: usize,
}

/// Slots in a doubly linked recency list (head = most recent), indexed by name per type.
#[derive(Debug)]
struct Store {
    index: [HashMap<Box<str>, usize>; 3],
    slots: Vec<Slot>,
    head: usize,
    tail: usize,
    capacity: usize,
    policy: CacheType,
}

impl Store {
    fn new(capacity: usize, policy: CacheType) -> Self {
        Store {
            index: Default::default(),
            slots: Vec::new(),
            head: NIL,
            tail: NIL,
            capacity,
            policy,
        }
    }

    fn clear(&mut self) {
        *self = Store::new(self.capacity, self.policy);
    }

    fn unlink(&mut self, i: usize) {
        let (prev, next) = (self.slots[i].prev, self.slots[i].next);
        match prev {
            NIL => self.head = next,
            p => self.slots[p].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.slots[n].prev = prev,
        }
    }

    fn push_front(&mut self, i: usize) {
        self.slots[i].prev = NIL;
        self.slots[i].next = self.head;
        if self.head != NIL {
            self.slots[self.head].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    fn get(&mut self, key: &str, metric_type: MetricType) -> Option<Cached> {
        let i = *self.index[metric_type.index()].get(key)?;
        if self.policy == CacheType::Lru && self.head != i {
            self.unlink(i);
            self.push_front(i);
        }
        Some(self.slots[i].value.clone())
    }

    fn add(&mut self, key: &str, metric_type: MetricType, value: Cached) {
        if let Some(&i) = self.index[metric_type.index()].get(key) {
            self.slots[i].value = value;
            return;
        }
        let slot = Slot {
            metric_type,
            key: key.into(),
            value,
            prev: NIL,
            next: NIL,
        };
        let i = if self.slots.len() < self.capacity {
            self.slots.push(slot);
            self.slots.len() - 1
        } else {
            // Full: reuse the least recent slot (for `random`, recency is never updated, so this
            // is the oldest insertion, an arbitrary victim as far as lookups are concerned).
            let victim = self.tail;
            self.unlink(victim);
            let old = std::mem::replace(&mut self.slots[victim], slot);
            self.index[old.metric_type.index()].remove(&old.key);
            victim
        };
        self.index[metric_type.index()].insert(key.into(), i);
        self.push_front(i);
    }

    fn len(&self) -> usize {
        self.slots.len()
    }
}

/// A [`MetricMapper`] behind a lock, with a result cache; the unit both exporters use, so
/// that a reload swaps the config and empties the cache in one step.
#[derive(Debug)]
pub struct CachedMapper {
    mapper: RwLock<Arc<MetricMapper>>,
    cache: Option<(Mutex<Store>, Option<CacheMetrics>)>,
}

impl CachedMapper {
    /// `size` 0 disables caching, as upstream.
    pub fn new(
        mapper: MetricMapper,
        size: usize,
        policy: CacheType,
        metrics: Option<CacheMetrics>,
    ) -> Self {
        CachedMapper {
            mapper: RwLock::new(Arc::new(mapper)),
            cache: (size > 0).then(|| (Mutex::new(Store::new(size, policy)), metrics)),
        }
    }

    /// The current config.
    pub fn mapper(&self) -> Arc<MetricMapper> {
        Arc::clone(&self.mapper.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Installs a new config and forgets every cached result.
    pub fn replace(&self, mapper: MetricMapper) {
        let mut current = self.mapper.write().unwrap_or_else(PoisonError::into_inner);
        *current = Arc::new(mapper);
        if let Some((store, metrics)) = &self.cache {
            store.lock().unwrap_or_else(PoisonError::into_inner).clear();
            if let Some(m) = metrics {
                m.length.set(0.0);
            }
        }
    }

    /// Maps `metric`, from the cache when possible.
    pub fn get_mapping(&self, metric: &str, metric_type: MetricType) -> Option<Arc<Mapped>> {
        let mapper = self.mapper.read().unwrap_or_else(PoisonError::into_inner);
        let Some((store, metrics)) = &self.cache else {
            return mapper.get_mapping(metric, metric_type).map(Arc::new);
        };
        if let Some(m) = metrics {
            m.gets.inc();
        }
        if let Some(hit) = store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(metric, metric_type)
        {
            if let Some(m) = metrics {
                m.hits.inc();
            }
            return hit;
        }
        let result = mapper.get_mapping(metric, metric_type).map(Arc::new);
        let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
        store.add(metric, metric_type, result.clone());
        if let Some(m) = metrics {
            m.length.set(store.len() as f64);
        }
        result
    }
}
