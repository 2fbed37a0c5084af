//! The metric kinds: cheap-to-clone handles whose hot paths are single atomic operations.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use prost_types::Timestamp;

use super::atomic::AtomicF64;
use crate::expfmt::dto;

/// What a [`MetricVec`](super::MetricVec) needs from the kind of metric it holds.
pub trait MetricValue: Clone + Send + Sync + 'static {
    /// Settings shared by every child (e.g. histogram buckets).
    type Config: Send + Sync + 'static;

    fn metric_type() -> dto::MetricType;

    /// A fresh child at its zero value.
    fn create(config: &Self::Config) -> Self;

    /// Fills the value part of `metric` (labels are set by the caller).
    fn write_to(&self, metric: &mut dto::Metric);
}

/// `SystemTime` as a protobuf timestamp; times before the epoch are clamped to it.
pub(super) fn timestamp(t: SystemTime) -> Timestamp {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    Timestamp {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or_default(),
    }
}

/// A monotonically increasing value. Whole increments go to an integer counter so the common
/// `inc()` is one `fetch_add`; fractional ones to a float, as client_golang does.
#[derive(Clone, Debug)]
pub struct Counter(Arc<CounterCore>);

#[derive(Debug)]
struct CounterCore {
    whole: AtomicU64,
    fraction: AtomicF64,
    created: SystemTime,
}

impl Counter {
    pub fn inc(&self) {
        self.0.whole.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `v`. Counters never go down: negative and NaN increments are ignored (client_golang
    /// panics on them).
    pub fn inc_by(&self, v: f64) {
        if v.is_nan() || v < 0.0 {
            return;
        }
        // Whole increments that fit exactly in a u64 take the integer path.
        if v.fract() == 0.0 && v < u64::MAX as f64 {
            self.0.whole.fetch_add(v as u64, Ordering::Relaxed);
        } else {
            self.0.fraction.add(v);
        }
    }

    pub fn get(&self) -> f64 {
        self.0.whole.load(Ordering::Relaxed) as f64 + self.0.fraction.get()
    }
}

impl MetricValue for Counter {
    type Config = ();

    fn metric_type() -> dto::MetricType {
        dto::MetricType::Counter
    }

    fn create(_: &()) -> Self {
        Counter(Arc::new(CounterCore {
            whole: AtomicU64::new(0),
            fraction: AtomicF64::new(0.0),
            created: SystemTime::now(),
        }))
    }

    fn write_to(&self, metric: &mut dto::Metric) {
        metric.counter = Some(dto::Counter {
            value: Some(self.get()),
            exemplar: None,
            created_timestamp: Some(timestamp(self.0.created)),
        });
    }
}

/// A value that can go up and down.
#[derive(Clone, Debug)]
pub struct Gauge(Arc<AtomicF64>);

impl Gauge {
    pub fn set(&self, v: f64) {
        self.0.set(v);
    }

    pub fn inc(&self) {
        self.0.add(1.0);
    }

    pub fn dec(&self) {
        self.0.add(-1.0);
    }

    pub fn add(&self, v: f64) {
        self.0.add(v);
    }

    pub fn sub(&self, v: f64) {
        self.0.add(-v);
    }

    /// Sets the gauge to the current Unix time in seconds.
    pub fn set_to_current_time(&self) {
        let d = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        self.0.set(d.as_secs_f64());
    }

    pub fn get(&self) -> f64 {
        self.0.get()
    }
}

impl MetricValue for Gauge {
    type Config = ();

    fn metric_type() -> dto::MetricType {
        dto::MetricType::Gauge
    }

    fn create(_: &()) -> Self {
        Gauge(Arc::new(AtomicF64::new(0.0)))
    }

    fn write_to(&self, metric: &mut dto::Metric) {
        metric.gauge = Some(dto::Gauge {
            value: Some(self.get()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_mixes_whole_and_fractional_increments() {
        let c = Counter::create(&());
        c.inc();
        c.inc_by(2.0);
        c.inc_by(0.5);
        assert_eq!(c.get(), 3.5);
        let mut m = dto::Metric::default();
        c.write_to(&mut m);
        let written = m.counter.unwrap();
        assert_eq!(written.value, Some(3.5));
        assert!(written.created_timestamp.unwrap().seconds > 1_600_000_000);
    }

    #[test]
    fn gauge_moves_both_ways() {
        let g = Gauge::create(&());
        g.inc();
        g.add(2.5);
        g.dec();
        g.sub(0.5);
        assert_eq!(g.get(), 2.0);
        g.set(-7.0);
        assert_eq!(g.get(), -7.0);
        g.set_to_current_time();
        assert!(g.get() > 1_600_000_000.0);
    }
}
