//! What a StatsD line turns into before mapping.

use pm_mapper::MetricType;

/// One parsed sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The metric name with tags removed, as sent.
    pub name: String,
    pub value: f64,
    /// Tags as label pairs (names already escaped), in arrival order without duplicates.
    pub labels: Vec<(String, String)>,
    pub kind: EventKind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventKind {
    Counter,
    /// `relative` for `+n`/`-n` values, which add to the gauge instead of setting it.
    Gauge {
        relative: bool,
    },
    /// Timers (in seconds), histograms and distributions. `count` is how many observations
    /// the sample stands for: upstream repeats a sampled observation `1/rate` times.
    Observer {
        count: u32,
    },
}

impl Event {
    pub fn metric_type(&self) -> MetricType {
        match self.kind {
            EventKind::Counter => MetricType::Counter,
            EventKind::Gauge { .. } => MetricType::Gauge,
            EventKind::Observer { .. } => MetricType::Observer,
        }
    }
}
