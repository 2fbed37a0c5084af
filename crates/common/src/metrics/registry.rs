//! The registry every daemon exposes on `/metrics`.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use super::MetricsError;
use super::histogram::Histogram;
use super::quantile::Objective;
use super::summary::Summary;
use super::value::{Counter, Gauge};
use super::vec::{CounterVec, GaugeVec, HistogramVec, Opts, SummaryVec};
use crate::expfmt::dto;

/// Anything that contributes metric families at gather time: the built-in metric vectors, or
/// values computed on demand (process statistics, storage sizes).
pub trait Collector: Send + Sync {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>);
}

/// A set of collectors. Cloning shares it.
#[derive(Clone, Default)]
pub struct Registry {
    collectors: Arc<RwLock<Vec<Arc<dyn Collector>>>>,
    /// Names of the metrics registered through the typed helpers, to refuse duplicates.
    names: Arc<Mutex<HashSet<String>>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self
            .collectors
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("Registry").field("collectors", &n).finish()
    }
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a collector. Families of the same name from several collectors are merged at
    /// gather time.
    pub fn register(&self, collector: Arc<dyn Collector>) {
        self.collectors
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(collector);
    }

    fn register_named(
        &self,
        name: &str,
        collector: Arc<dyn Collector>,
    ) -> Result<(), MetricsError> {
        let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        if !names.insert(name.to_owned()) {
            return Err(MetricsError::AlreadyRegistered(name.to_owned()));
        }
        self.register(collector);
        Ok(())
    }

    /// Creates and registers an unlabelled counter.
    pub fn counter(&self, opts: Opts) -> Result<Counter, MetricsError> {
        Ok(self.counter_vec(opts, &[])?.with_label_values(&[]))
    }

    pub fn counter_vec(
        &self,
        opts: Opts,
        label_names: &[&str],
    ) -> Result<CounterVec, MetricsError> {
        let v = CounterVec::new(opts, label_names)?;
        self.register_named(v.name(), Arc::new(v.clone()))?;
        Ok(v)
    }

    /// Creates and registers an unlabelled gauge.
    pub fn gauge(&self, opts: Opts) -> Result<Gauge, MetricsError> {
        Ok(self.gauge_vec(opts, &[])?.with_label_values(&[]))
    }

    pub fn gauge_vec(&self, opts: Opts, label_names: &[&str]) -> Result<GaugeVec, MetricsError> {
        let v = GaugeVec::new(opts, label_names)?;
        self.register_named(v.name(), Arc::new(v.clone()))?;
        Ok(v)
    }

    /// Creates and registers an unlabelled histogram.
    pub fn histogram(&self, opts: Opts, buckets: &[f64]) -> Result<Histogram, MetricsError> {
        Ok(self
            .histogram_vec(opts, buckets, &[])?
            .with_label_values(&[]))
    }

    pub fn histogram_vec(
        &self,
        opts: Opts,
        buckets: &[f64],
        label_names: &[&str],
    ) -> Result<HistogramVec, MetricsError> {
        let v = HistogramVec::new(opts, buckets, label_names)?;
        self.register_named(v.name(), Arc::new(v.clone()))?;
        Ok(v)
    }

    /// Creates and registers an unlabelled summary.
    pub fn summary(&self, opts: Opts, objectives: &[Objective]) -> Result<Summary, MetricsError> {
        Ok(self
            .summary_vec(opts, objectives, &[])?
            .with_label_values(&[]))
    }

    pub fn summary_vec(
        &self,
        opts: Opts,
        objectives: &[Objective],
        label_names: &[&str],
    ) -> Result<SummaryVec, MetricsError> {
        let v = SummaryVec::new(opts, objectives, label_names)?;
        self.register_named(v.name(), Arc::new(v.clone()))?;
        Ok(v)
    }

    /// Collects every family, as client_golang's `Gather`: families sorted by name, metrics
    /// within a family sorted by label values, empty families dropped. Same-named families are
    /// merged when their types agree; a conflicting one is dropped with a warning.
    pub fn gather(&self) -> Vec<dto::MetricFamily> {
        let mut collected = Vec::new();
        for c in self
            .collectors
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            c.collect(&mut collected);
        }
        // A stable sort keeps registration order among same-named families for the merge.
        collected.sort_by(|a, b| a.name.cmp(&b.name));
        let mut families: Vec<dto::MetricFamily> = Vec::with_capacity(collected.len());
        for mf in collected {
            match families.last_mut() {
                Some(last) if last.name == mf.name => {
                    if last.r#type == mf.r#type {
                        last.metric.extend(mf.metric);
                    } else {
                        tracing::warn!(
                            family = mf.name(),
                            "dropping metric family collected with a conflicting type"
                        );
                    }
                }
                _ => families.push(mf),
            }
        }
        families.retain(|mf| !mf.metric.is_empty());
        families.iter_mut().for_each(normalize);
        families
    }
}

/// Orders a gathered family's labels by name and its metrics as client_golang does.
pub(super) fn normalize(mf: &mut dto::MetricFamily) {
    for m in &mut mf.metric {
        m.label.sort_by(|a, b| a.name.cmp(&b.name));
    }
    mf.metric.sort_by(compare_metrics);
}

/// client_golang's metric order: fewer labels first, then label values pairwise, then timestamp
/// with missing timestamps last.
fn compare_metrics(a: &dto::Metric, b: &dto::Metric) -> Ordering {
    a.label
        .len()
        .cmp(&b.label.len())
        .then_with(|| {
            a.label
                .iter()
                .map(|l| l.value())
                .cmp(b.label.iter().map(|l| l.value()))
        })
        .then_with(|| match (a.timestamp_ms, b.timestamp_ms) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
}
