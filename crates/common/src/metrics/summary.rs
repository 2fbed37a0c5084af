//! Summaries as client_golang's default ones: count and sum since start, and quantiles over a
//! sliding ten-minute window. Upstream daemons expose several (`prometheus_engine_query_duration_seconds`,
//! `prometheus_target_interval_length_seconds`, `pushgateway_http_push_duration_seconds`, …),
//! and their quantile values should move as upstream's do, so the window and the estimator are
//! client_golang's: [`AGE_BUCKETS`] streams started `MAX_AGE / AGE_BUCKETS` apart, every
//! observation going into all of them, the oldest answering queries until its time is up.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use super::quantile::{Objective, Stream};
use super::value::{MetricValue, timestamp};
use crate::expfmt::dto;

/// client_golang's `DefMaxAge`.
pub const MAX_AGE: Duration = Duration::from_secs(600);
/// client_golang's `DefAgeBuckets`.
pub const AGE_BUCKETS: u32 = 5;

/// Shorthand for an objective: the quantile `quantile` within ± `epsilon` in rank.
pub const fn objective(quantile: f64, epsilon: f64) -> Objective {
    Objective { quantile, epsilon }
}

/// One summary series; clones share it.
#[derive(Clone, Debug)]
pub struct Summary(Arc<SummaryCore>);

#[derive(Debug)]
struct SummaryCore {
    window: Mutex<Window>,
    created: SystemTime,
}

impl Summary {
    pub fn observe(&self, value: f64) {
        self.window().observe(value, Instant::now());
    }

    fn window(&self) -> std::sync::MutexGuard<'_, Window> {
        self.0.window.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl MetricValue for Summary {
    /// The objectives every child tracks.
    type Config = Arc<[Objective]>;

    fn metric_type() -> dto::MetricType {
        dto::MetricType::Summary
    }

    fn create(objectives: &Arc<[Objective]>) -> Self {
        Summary(Arc::new(SummaryCore {
            window: Mutex::new(Window::new(objectives.clone(), Instant::now())),
            created: SystemTime::now(),
        }))
    }

    fn write_to(&self, metric: &mut dto::Metric) {
        let mut summary = self.window().summary(Instant::now());
        summary.created_timestamp = Some(timestamp(self.0.created));
        metric.summary = Some(summary);
    }
}

/// The observations of one series.
#[derive(Debug)]
struct Window {
    objectives: Arc<[Objective]>,
    streams: Vec<Stream>,
    head: usize,
    /// When the head stream is reset.
    head_expires: Instant,
    count: u64,
    sum: f64,
}

impl Window {
    fn new(objectives: Arc<[Objective]>, now: Instant) -> Self {
        Self {
            streams: (0..AGE_BUCKETS).map(|_| Stream::new(&objectives)).collect(),
            objectives,
            head: 0,
            head_expires: now + MAX_AGE / AGE_BUCKETS,
            count: 0,
            sum: 0.0,
        }
    }

    /// Resets and rotates away every head stream whose time is up (a long idle period resets
    /// each of them once).
    fn rotate(&mut self, now: Instant) {
        let Some(late) = now.checked_duration_since(self.head_expires) else {
            return;
        };
        let step = MAX_AGE / AGE_BUCKETS;
        let expired = u32::try_from(late.as_nanos() / step.as_nanos() + 1).unwrap_or(u32::MAX);
        for _ in 0..expired.min(AGE_BUCKETS) {
            self.streams[self.head].reset();
            self.head = (self.head + 1) % self.streams.len();
        }
        self.head_expires =
            now + step - Duration::from_nanos((late.as_nanos() % step.as_nanos()) as u64);
    }

    fn observe(&mut self, value: f64, now: Instant) {
        self.rotate(now);
        for stream in &mut self.streams {
            stream.insert(value);
        }
        self.count += 1;
        self.sum += value;
    }

    /// The summary as of `now`; a quantile of an empty window is NaN, as client_golang has it.
    fn summary(&mut self, now: Instant) -> dto::Summary {
        self.rotate(now);
        let head = &mut self.streams[self.head];
        let quantile = self
            .objectives
            .iter()
            .map(|o| dto::Quantile {
                quantile: Some(o.quantile),
                value: Some(if head.count() == 0 {
                    f64::NAN
                } else {
                    head.query(o.quantile)
                }),
            })
            .collect();
        dto::Summary {
            sample_count: Some(self.count),
            sample_sum: Some(self.sum),
            quantile,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJECTIVES: [Objective; 3] = [
        objective(0.1, 0.01),
        objective(0.5, 0.05),
        objective(0.9, 0.01),
    ];

    fn quantiles(s: &dto::Summary) -> Vec<f64> {
        s.quantile.iter().map(|q| q.value()).collect()
    }

    #[test]
    fn quantiles_cover_the_last_ten_minutes() {
        let start = Instant::now();
        let mut w = Window::new(OBJECTIVES.into(), start);
        for v in 1..=10 {
            w.observe(f64::from(v), start);
        }
        let s = w.summary(start);
        assert_eq!(quantiles(&s), [1.0, 5.0, 9.0]);
        assert_eq!((s.sample_count(), s.sample_sum()), (10, 55.0));
        // Five minutes on, a new value joins the old ones.
        let later = start + Duration::from_secs(300);
        w.observe(100.0, later);
        assert_eq!(quantiles(&w.summary(later)), [2.0, 6.0, 10.0]);
        // After ten minutes only the later observation is left in the head stream.
        let much_later = start + Duration::from_secs(601);
        assert_eq!(quantiles(&w.summary(much_later)), [100.0, 100.0, 100.0]);
        // Long idle: everything ages out, count and sum stay.
        let idle = start + Duration::from_secs(7200);
        let s = w.summary(idle);
        assert!(quantiles(&s).iter().all(|q| q.is_nan()));
        assert_eq!(s.sample_count(), 11);
    }

    #[test]
    fn a_registered_vec_exposes_one_series_per_label_value() {
        let registry = super::super::Registry::new();
        let v = registry
            .summary_vec(super::super::Opts::new("s", "h"), &OBJECTIVES, &["method"])
            .unwrap();
        assert!(
            registry.gather().is_empty(),
            "no family before the first observation"
        );
        v.with_label_values(&["put"]).observe(2.0);
        v.with_label_values(&["post"]).observe(3.0);
        let families = registry.gather();
        assert_eq!(families[0].r#type(), dto::MetricType::Summary);
        let labels: Vec<&str> = families[0]
            .metric
            .iter()
            .map(|m| m.label[0].value())
            .collect();
        assert_eq!(labels, ["post", "put"]);
        assert_eq!(
            quantiles(families[0].metric[1].summary.as_ref().unwrap()),
            [2.0; 3]
        );
    }
}
