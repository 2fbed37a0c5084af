//! The exporter's metric store: families by name, series by label set, each with its TTL.
//!
//! Upstream keeps a client_golang vector per family and label-name set, which costs about
//! 10 KiB per series. Here a series is a map entry holding its packed label set and a 16-byte
//! value (scalars inline, histograms and summaries boxed), so a counter or gauge series costs a
//! few hundred bytes, and `--statsd.max-series` bounds the total.

mod render;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use foldhash::{HashMap, HashMapExt};

use crate::summary::SummarySeries;

/// The metric kinds a family can have; one name holds one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
}

impl Kind {
    /// The `type` label of `statsd_exporter_metrics_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
        }
    }
}

/// Why an update was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The name (or one a histogram or summary would expose) has another kind.
    #[error("metric with name {0} is already registered")]
    Conflict(String),
    /// `--statsd.max-series` is reached and this series is new.
    #[error("series limit of {0} reached")]
    SeriesLimit(usize),
}

/// How a new histogram or summary series is built.
#[derive(Debug, Clone)]
pub enum Observer {
    Histogram(Arc<[f64]>),
    Summary(Arc<crate::summary::SummaryConfig>),
}

#[derive(Debug)]
pub(crate) enum Value {
    Scalar(f64),
    Histogram(Box<Histogram>),
    Summary(Box<SummarySeries>),
}

#[derive(Debug)]
pub(crate) struct Histogram {
    bounds: Arc<[f64]>,
    /// Per-bucket (not cumulative) counts; the last is the `+Inf` overflow.
    counts: Box<[u64]>,
    sum: f64,
}

impl Histogram {
    fn new(bounds: Arc<[f64]>) -> Self {
        let counts = vec![0; bounds.len() + 1].into_boxed_slice();
        Histogram {
            bounds,
            counts,
            sum: 0.0,
        }
    }

    fn observe(&mut self, v: f64, n: u32) {
        let i = self
            .bounds
            .iter()
            .position(|&b| v <= b)
            .unwrap_or(self.bounds.len());
        self.counts[i] += u64::from(n);
        self.sum += v * f64::from(n);
    }
}

#[derive(Debug)]
pub(crate) struct Series {
    pub(crate) value: Value,
    last_seen_ms: u64,
    /// 0: never expires.
    ttl_ms: u64,
}

#[derive(Debug)]
pub(crate) struct Family {
    pub(crate) kind: Kind,
    pub(crate) help: Box<str>,
    /// Label sets packed as `name 0xFF value 0xFF …`, sorted by name (0xFF never occurs in UTF-8).
    pub(crate) series: HashMap<Box<[u8]>, Series>,
    /// Hashes of the label-name sets seen, to count vectors as upstream does.
    label_sets: Vec<u64>,
}

/// All exported series.
#[derive(Debug)]
pub struct Store {
    families: HashMap<Box<str>, Family>,
    series: usize,
    max_series: usize,
}

/// One update, with the mapping's metadata.
#[derive(Debug)]
pub struct Update<'a> {
    pub name: &'a str,
    /// Sorted by name, names unique.
    pub labels: &'a [(String, String)],
    pub help: &'a str,
    pub ttl: Duration,
    /// Milliseconds on the exporter's clock.
    pub now_ms: u64,
}

/// What an update did, for `statsd_exporter_metrics_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Nothing,
    /// The first series of a new (name, label names) vector, as upstream counts metrics.
    Vector(Kind),
}

impl Store {
    /// `max_series` 0 means unlimited.
    pub fn new(max_series: usize) -> Self {
        Store {
            families: HashMap::new(),
            series: 0,
            max_series,
        }
    }

    /// The number of series held.
    pub fn series_count(&self) -> usize {
        self.series
    }

    pub fn counter_add(&mut self, u: &Update<'_>, v: f64) -> Result<Created, StoreError> {
        self.update(
            u,
            Kind::Counter,
            || Value::Scalar(0.0),
            |value| {
                if let Value::Scalar(x) = value {
                    *x += v;
                }
            },
        )
    }

    pub fn gauge(&mut self, u: &Update<'_>, v: f64, relative: bool) -> Result<Created, StoreError> {
        self.update(
            u,
            Kind::Gauge,
            || Value::Scalar(0.0),
            |value| {
                if let Value::Scalar(x) = value {
                    *x = if relative { *x + v } else { v };
                }
            },
        )
    }

    /// Records `n` observations of `v`; `observer` builds the series when it is new.
    pub fn observe(
        &mut self,
        u: &Update<'_>,
        kind: Kind,
        observer: impl FnOnce() -> Observer,
        v: f64,
        n: u32,
    ) -> Result<Created, StoreError> {
        let make = || match observer() {
            Observer::Histogram(bounds) => Value::Histogram(Box::new(Histogram::new(bounds))),
            Observer::Summary(config) => Value::Summary(Box::new(SummarySeries::new(config))),
        };
        self.update(u, kind, make, |value| match value {
            Value::Histogram(h) => h.observe(v, n),
            Value::Summary(s) => s.observe(v, n),
            Value::Scalar(_) => {}
        })
    }

    fn update(
        &mut self,
        u: &Update<'_>,
        kind: Kind,
        make: impl FnOnce() -> Value,
        apply: impl FnOnce(&mut Value),
    ) -> Result<Created, StoreError> {
        let key = pack(u.labels);
        let ttl_ms = u64::try_from(u.ttl.as_millis()).unwrap_or(u64::MAX);
        if let Some(family) = self.families.get_mut(u.name)
            && family.kind == kind
            && let Some(series) = family.series.get_mut(&key)
        {
            series.last_seen_ms = u.now_ms;
            series.ttl_ms = ttl_ms;
            apply(&mut series.value);
            return Ok(Created::Nothing);
        }
        self.check_conflicts(u.name, kind)?;
        if self.max_series > 0 && self.series >= self.max_series {
            return Err(StoreError::SeriesLimit(self.max_series));
        }
        let family = self
            .families
            .entry(u.name.into())
            .or_insert_with(|| Family {
                kind,
                help: u.help.into(),
                series: HashMap::new(),
                label_sets: Vec::new(),
            });
        let names_hash = label_names_hash(u.labels);
        let created = if family.label_sets.contains(&names_hash) {
            Created::Nothing
        } else {
            family.label_sets.push(names_hash);
            Created::Vector(kind)
        };
        let mut value = make();
        apply(&mut value);
        family.series.insert(
            key,
            Series {
                value,
                last_seen_ms: u.now_ms,
                ttl_ms,
            },
        );
        self.series += 1;
        Ok(created)
    }

    /// Upstream's collision rules, including their asymmetries: a counter or gauge named
    /// `x_sum`/`x_count`/`x_bucket` clashes with any non-counter `x`; a histogram `x` clashes
    /// with non-histograms named `x`, `x_sum`, `x_count`, `x_bucket`; a summary likewise without
    /// `_bucket`.
    fn check_conflicts(&self, name: &str, kind: Kind) -> Result<(), StoreError> {
        let other_kind = |n: &str, k: Kind| self.families.get(n).is_some_and(|f| f.kind != k);
        let conflict = match kind {
            Kind::Counter | Kind::Gauge => {
                other_kind(name, kind)
                    || ["_bucket", "_count", "_sum"]
                        .iter()
                        .filter_map(|s| name.strip_suffix(s))
                        .any(|base| other_kind(base, Kind::Counter))
            }
            Kind::Histogram => [
                name,
                &format!("{name}_sum"),
                &format!("{name}_count"),
                &format!("{name}_bucket"),
            ]
            .iter()
            .any(|n| other_kind(n, kind)),
            Kind::Summary => [name, &format!("{name}_sum"), &format!("{name}_count")]
                .iter()
                .any(|n| other_kind(n, kind)),
        };
        if conflict {
            return Err(StoreError::Conflict(name.to_owned()));
        }
        Ok(())
    }

    /// Drops series not updated within their TTL.
    pub fn remove_stale(&mut self, now_ms: u64) {
        let mut removed = 0;
        for family in self.families.values_mut() {
            family.series.retain(|_, s| {
                let keep = s.ttl_ms == 0 || s.last_seen_ms.saturating_add(s.ttl_ms) >= now_ms;
                removed += usize::from(!keep);
                keep
            });
        }
        // Upstream keeps empty vectors registered (they expose nothing); dropping the family
        // also frees its name for another kind, which upstream only allows after a restart.
        self.families.retain(|_, f| !f.series.is_empty());
        self.series -= removed;
    }
}

fn pack(labels: &[(String, String)]) -> Box<[u8]> {
    let mut key = Vec::with_capacity(labels.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (k, v) in labels {
        key.extend_from_slice(k.as_bytes());
        key.push(0xFF);
        key.extend_from_slice(v.as_bytes());
        key.push(0xFF);
    }
    key.into_boxed_slice()
}

fn label_names_hash(labels: &[(String, String)]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = foldhash::fast::FixedState::with_seed(0).build_hasher();
    for (k, _) in labels {
        h.write(k.as_bytes());
        h.write_u8(0xFF);
    }
    h.finish()
}
