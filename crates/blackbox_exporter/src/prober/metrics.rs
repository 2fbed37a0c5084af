//! The metrics of one probe: a fresh registry per request, as upstream builds one per probe.

use std::collections::HashMap;
use std::sync::Mutex;

use pm_common::expfmt::dto;
use pm_common::metrics::{GaugeVec, Opts, Registry};

/// Gauges by name, created on first use; a probe sets each once or a few times.
#[derive(Debug, Default)]
pub struct ProbeMetrics {
    registry: Registry,
    gauges: Mutex<HashMap<&'static str, GaugeVec>>,
}

impl ProbeMetrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the unlabelled gauge `name`.
    pub fn set(&self, name: &'static str, help: &'static str, value: f64) {
        self.set_labelled(name, help, &[], &[], value);
    }

    /// Adds to the unlabelled gauge `name` (several phases sum into one series).
    pub fn add(&self, name: &'static str, help: &'static str, value: f64) {
        self.with(name, help, &[], |vec| vec.with_label_values(&[]).add(value));
    }

    /// Sets one series of the gauge `name`; all calls for a name pass the same label names.
    pub fn set_labelled(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[&str],
        values: &[&str],
        value: f64,
    ) {
        self.with(name, help, labels, |vec| {
            vec.with_label_values(values).set(value)
        });
    }

    /// Creates the gauge `name` with no series yet, so it is listed even when never set.
    pub fn declare(&self, name: &'static str, help: &'static str, labels: &[&str]) {
        self.with(name, help, labels, |_| {});
    }

    fn with(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[&str],
        f: impl FnOnce(&GaugeVec),
    ) {
        let mut gauges = self
            .gauges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let vec = gauges.entry(name).or_insert_with(|| {
            let vec = self
                .registry
                .gauge_vec(Opts::new(name, help), labels)
                .expect("probe metric names are static and distinct");
            if labels.is_empty() {
                // Upstream registers plain gauges up front: they show as 0 when never set.
                vec.with_label_values(&[]);
            }
            vec
        });
        f(vec);
    }

    pub fn gather(&self) -> Vec<dto::MetricFamily> {
        self.registry.gather()
    }
}
