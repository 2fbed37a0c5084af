//! Labelled families of one metric kind. An unlabelled metric is a vector with no label names,
//! so one collector type serves both.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use xxhash_rust::xxh64::Xxh64;

use super::histogram::{Histogram, validate_buckets};
use super::quantile::Objective;
use super::summary::Summary;
use super::value::{Counter, Gauge, MetricValue};
use super::{Collector, MetricsError};
use crate::expfmt::dto;
use crate::model::{BUCKET_LABEL, NameValidation, QUANTILE_LABEL, RESERVED_LABEL_PREFIX};

/// Name, help and constant labels of a metric family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opts {
    pub name: String,
    pub help: String,
    pub const_labels: Vec<(String, String)>,
}

impl Opts {
    pub fn new(name: impl Into<String>, help: impl Into<String>) -> Self {
        Opts {
            name: name.into(),
            help: help.into(),
            const_labels: Vec::new(),
        }
    }

    /// Adds a label with the same value on every child (e.g. `version` on `*_build_info`).
    pub fn const_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.const_labels.push((name.into(), value.into()));
        self
    }
}

pub type CounterVec = MetricVec<Counter>;
pub type GaugeVec = MetricVec<Gauge>;
pub type HistogramVec = MetricVec<Histogram>;
pub type SummaryVec = MetricVec<Summary>;

/// A family of children of kind `M`, one per combination of label values. Cloning shares it.
///
/// Looking up a child hashes its label values and takes a read lock; hot paths should look
/// their child up once and keep the returned handle, whose updates are lock-free.
#[derive(Clone)]
pub struct MetricVec<M: MetricValue> {
    inner: Arc<VecInner<M>>,
}

/// Children by hash of their label values; values that collide share a bucket.
type Children<M> = HashMap<u64, Vec<(Box<[String]>, M)>>;

struct VecInner<M: MetricValue> {
    name: String,
    help: String,
    const_labels: Vec<(String, String)>,
    label_names: Vec<String>,
    config: M::Config,
    children: RwLock<Children<M>>,
}

impl<M: MetricValue> std::fmt::Debug for MetricVec<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricVec")
            .field("name", &self.inner.name)
            .field("label_names", &self.inner.label_names)
            .finish_non_exhaustive()
    }
}

impl MetricVec<Counter> {
    pub fn new(opts: Opts, label_names: &[&str]) -> Result<Self, MetricsError> {
        Self::build(opts, label_names, ())
    }
}

impl MetricVec<Gauge> {
    pub fn new(opts: Opts, label_names: &[&str]) -> Result<Self, MetricsError> {
        Self::build(opts, label_names, ())
    }
}

impl MetricVec<Histogram> {
    /// `buckets` are the finite upper bounds, strictly increasing (see
    /// [`DEFAULT_BUCKETS`](super::DEFAULT_BUCKETS)); `le` cannot be a label name.
    pub fn new(opts: Opts, buckets: &[f64], label_names: &[&str]) -> Result<Self, MetricsError> {
        let bounds = validate_buckets(buckets)?;
        if label_names.contains(&BUCKET_LABEL)
            || opts.const_labels.iter().any(|(n, _)| n == BUCKET_LABEL)
        {
            return Err(MetricsError::ReservedLabel {
                metric: opts.name,
                label: BUCKET_LABEL.into(),
            });
        }
        Self::build(opts, label_names, bounds)
    }
}

impl MetricVec<Summary> {
    /// `objectives` are the quantiles every child reports; `quantile` cannot be a label name.
    pub fn new(
        opts: Opts,
        objectives: &[Objective],
        label_names: &[&str],
    ) -> Result<Self, MetricsError> {
        if label_names.contains(&QUANTILE_LABEL)
            || opts.const_labels.iter().any(|(n, _)| n == QUANTILE_LABEL)
        {
            return Err(MetricsError::ReservedLabel {
                metric: opts.name,
                label: QUANTILE_LABEL.into(),
            });
        }
        Self::build(opts, label_names, objectives.into())
    }
}

fn hash_values<S: AsRef<str>>(values: &[S]) -> u64 {
    let mut h = Xxh64::new(0);
    for v in values {
        h.update(v.as_ref().as_bytes());
        // 0xff never occurs in UTF-8, so ("a","b") and ("ab","") hash apart.
        h.update(&[0xff]);
    }
    h.digest()
}

impl<M: MetricValue> MetricVec<M> {
    fn build(opts: Opts, label_names: &[&str], config: M::Config) -> Result<Self, MetricsError> {
        let names = NameValidation::Utf8;
        if !names.is_valid_metric_name(&opts.name) {
            return Err(MetricsError::InvalidName(opts.name));
        }
        let mut seen: Vec<&str> = Vec::new();
        for label in opts
            .const_labels
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(label_names.iter().copied())
        {
            if !names.is_valid_label_name(label) || label.starts_with(RESERVED_LABEL_PREFIX) {
                return Err(MetricsError::InvalidLabel {
                    metric: opts.name,
                    label: label.into(),
                });
            }
            if seen.contains(&label) {
                return Err(MetricsError::DuplicateLabel {
                    metric: opts.name,
                    label: label.into(),
                });
            }
            seen.push(label);
        }
        Ok(MetricVec {
            inner: Arc::new(VecInner {
                name: opts.name,
                help: opts.help,
                const_labels: opts.const_labels,
                label_names: label_names.iter().map(|s| (*s).to_owned()).collect(),
                config,
                children: RwLock::new(HashMap::new()),
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The child for these label values (in label-name order), created on first use.
    ///
    /// # Panics
    /// When the number of values differs from the number of label names: that is a bug at the
    /// call site, like client_golang's `WithLabelValues`. Use
    /// [`get_metric_with_label_values`](Self::get_metric_with_label_values) for untrusted input.
    pub fn with_label_values(&self, values: &[&str]) -> M {
        match self.get_metric_with_label_values(values) {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    pub fn get_metric_with_label_values(&self, values: &[&str]) -> Result<M, MetricsError> {
        self.check_arity(values.len())?;
        let hash = hash_values(values);
        let matches = |(vals, _): &&(Box<[String]>, M)| {
            vals.iter().map(String::as_str).eq(values.iter().copied())
        };
        {
            let children = self
                .inner
                .children
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some((_, m)) = children
                .get(&hash)
                .and_then(|bucket| bucket.iter().find(matches))
            {
                return Ok(m.clone());
            }
        }
        let mut children = self
            .inner
            .children
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let bucket = children.entry(hash).or_default();
        if let Some((_, m)) = bucket.iter().find(matches) {
            return Ok(m.clone());
        }
        let m = M::create(&self.inner.config);
        bucket.push((values.iter().map(|s| (*s).to_owned()).collect(), m.clone()));
        Ok(m)
    }

    /// Deletes the child with these label values; `false` if there was none.
    pub fn remove_label_values(&self, values: &[&str]) -> Result<bool, MetricsError> {
        self.check_arity(values.len())?;
        let hash = hash_values(values);
        let mut children = self
            .inner
            .children
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(bucket) = children.get_mut(&hash) else {
            return Ok(false);
        };
        let before = bucket.len();
        bucket.retain(|(vals, _)| !vals.iter().map(String::as_str).eq(values.iter().copied()));
        let removed = bucket.len() != before;
        if bucket.is_empty() {
            children.remove(&hash);
        }
        Ok(removed)
    }

    /// Deletes every child.
    pub fn reset(&self) {
        self.inner
            .children
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn check_arity(&self, got: usize) -> Result<(), MetricsError> {
        let want = self.inner.label_names.len();
        if got != want {
            return Err(MetricsError::Cardinality {
                metric: self.inner.name.clone(),
                want,
                got,
            });
        }
        Ok(())
    }
}

impl<M: MetricValue> Collector for MetricVec<M> {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        let inner = &*self.inner;
        let children = inner
            .children
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut metric = Vec::with_capacity(children.values().map(Vec::len).sum());
        for (values, m) in children.values().flatten() {
            let mut label: Vec<dto::LabelPair> = inner
                .const_labels
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .chain(
                    inner
                        .label_names
                        .iter()
                        .map(String::as_str)
                        .zip(values.iter().map(String::as_str)),
                )
                .map(|(n, v)| dto::LabelPair {
                    name: Some(n.to_owned()),
                    value: Some(v.to_owned()),
                })
                .collect();
            label.sort_by(|a, b| a.name.cmp(&b.name));
            let mut written = dto::Metric {
                label,
                ..Default::default()
            };
            m.write_to(&mut written);
            metric.push(written);
        }
        out.push(dto::MetricFamily {
            name: Some(inner.name.clone()),
            help: Some(inner.help.clone()),
            r#type: Some(M::metric_type() as i32),
            metric,
            unit: None,
        });
    }
}
