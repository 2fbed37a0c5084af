//! Summaries as client_golang's: count and sum since start, and quantiles over a sliding
//! window, ten minutes by default. Upstream daemons expose several
//! (`prometheus_engine_query_duration_seconds`, `prometheus_target_interval_length_seconds`,
//! `pushgateway_http_push_duration_seconds`, …), and their quantile values should move as
//! upstream's do, so the window and the estimator are client_golang's: `age_buckets` streams
//! started `max_age / age_buckets` apart, every observation going into all of them, the oldest
//! answering queries until its time is up.
//!
//! client_golang also batches observations in a buffer of `BufCap` before they reach the
//! streams; the batch is flushed before any read and before any rotation, so its size changes
//! nothing a reader sees, and observations here go straight into the streams.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use super::quantile::{Objective, Stream};
use super::value::{MetricValue, timestamp};
use crate::expfmt::dto;

/// client_golang's `DefMaxAge`.
pub const MAX_AGE: Duration = Duration::from_secs(600);
/// client_golang's `DefAgeBuckets`.
pub const AGE_BUCKETS: u32 = 5;

/// How long observations count towards the quantiles (client_golang's `MaxAge`), in how
/// many steps they age out (`AgeBuckets`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SummaryWindow {
    pub max_age: Duration,
    pub age_buckets: u32,
}

impl SummaryWindow {
    /// A window as client_golang builds one from its options: zero means the default.
    pub fn new(max_age: Duration, age_buckets: u32) -> Self {
        Self {
            max_age: if max_age.is_zero() { MAX_AGE } else { max_age },
            age_buckets: if age_buckets == 0 {
                AGE_BUCKETS
            } else {
                age_buckets
            },
        }
    }

    /// The lifetime of one stream; never zero, so that rotation always advances.
    fn step(self) -> Duration {
        (self.max_age / self.age_buckets.max(1)).max(Duration::from_nanos(1))
    }
}

impl Default for SummaryWindow {
    fn default() -> Self {
        Self::new(MAX_AGE, AGE_BUCKETS)
    }
}

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
    /// A series tracking `objectives` over `window` (the [`MetricValue`] constructor uses
    /// the default window).
    pub fn with_window(objectives: &Arc<[Objective]>, window: SummaryWindow) -> Self {
        Summary(Arc::new(SummaryCore {
            window: Mutex::new(Window::new(objectives.clone(), window, Instant::now())),
            created: SystemTime::now(),
        }))
    }

    pub fn observe(&self, value: f64) {
        self.window().observe(value, Instant::now());
    }

    /// Observes each of `values` as of now, taking the lock once: for a caller that times
    /// many small steps (the Alertmanager times every alert of a posted batch), one lock per
    /// observation was a contended mutex per item.
    pub fn observe_all(&self, values: impl IntoIterator<Item = f64>) {
        let mut window = self.window();
        let now = Instant::now();
        for value in values {
            window.observe(value, now);
        }
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
        Self::with_window(objectives, SummaryWindow::default())
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
    /// How long each stream lives before it is reset.
    step: Duration,
    /// When the head stream is reset.
    head_expires: Instant,
    count: u64,
    sum: f64,
}

impl Window {
    fn new(objectives: Arc<[Objective]>, window: SummaryWindow, now: Instant) -> Self {
        let step = window.step();
        Self {
            streams: (0..window.age_buckets.max(1))
                .map(|_| Stream::new(&objectives))
                .collect(),
            objectives,
            head: 0,
            step,
            head_expires: now + step,
            count: 0,
            sum: 0.0,
        }
    }

    /// Resets and rotates away every head stream whose time is up (a long idle period resets
    /// each of them once). As in client_golang, a stream's time is up only strictly after its
    /// expiry, and the expiry moves on in whole steps until it is no longer passed.
    fn rotate(&mut self, now: Instant) {
        if now <= self.head_expires {
            return;
        }
        let late = (now - self.head_expires).as_nanos();
        let step = self.step.as_nanos();
        let steps = (late - 1) / step + 1;
        for _ in 0..steps.min(self.streams.len() as u128) {
            self.streams[self.head].reset();
            self.head = (self.head + 1) % self.streams.len();
        }
        let advance = Duration::from_nanos(u64::try_from(steps * step).unwrap_or(u64::MAX));
        self.head_expires = self
            .head_expires
            .checked_add(advance)
            .unwrap_or(now + self.step);
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
        let mut w = Window::new(OBJECTIVES.into(), SummaryWindow::default(), start);
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
    fn a_short_window_forgets_old_observations() {
        let start = Instant::now();
        let window = SummaryWindow::new(Duration::from_secs(1), 2);
        let mut w = Window::new(OBJECTIVES.into(), window, start);
        w.observe(1.0, start);
        // Past half a second, the second stream takes over; it saw the first observation.
        let second = start + Duration::from_millis(600);
        w.observe(2.0, second);
        assert_eq!(quantiles(&w.summary(second)), [1.0, 1.0, 2.0]);
        // Its time is up only strictly after its expiry.
        let expiry = start + Duration::from_millis(1000);
        assert_eq!(quantiles(&w.summary(expiry)), [1.0, 1.0, 2.0]);
        let later = start + Duration::from_millis(1001);
        assert_eq!(quantiles(&w.summary(later)), [2.0; 3]);
        // A second after the last observation nothing is left, but count and sum are.
        let s = w.summary(start + Duration::from_millis(1501));
        assert!(quantiles(&s).iter().all(|q| q.is_nan()));
        assert_eq!((s.sample_count(), s.sample_sum()), (2, 3.0));
    }

    #[test]
    fn observing_all_at_once_counts_each_value() {
        let one_by_one = Summary::with_window(&OBJECTIVES.into(), SummaryWindow::default());
        let batched = Summary::with_window(&OBJECTIVES.into(), SummaryWindow::default());
        for v in 1..=10 {
            one_by_one.observe(f64::from(v));
        }
        batched.observe_all((1..=10).map(f64::from));
        let now = Instant::now();
        let (a, b) = (
            one_by_one.window().summary(now),
            batched.window().summary(now),
        );
        assert_eq!((b.sample_count(), b.sample_sum()), (10, 55.0));
        assert_eq!(quantiles(&a), quantiles(&b));
        assert_eq!(quantiles(&b), [1.0, 5.0, 9.0]);
    }

    #[test]
    fn zero_options_mean_client_golang_defaults() {
        assert_eq!(
            SummaryWindow::new(Duration::ZERO, 0),
            SummaryWindow {
                max_age: MAX_AGE,
                age_buckets: AGE_BUCKETS
            }
        );
        assert_eq!(SummaryWindow::default().step(), Duration::from_secs(120));
        // More buckets than nanoseconds still rotates.
        assert_eq!(
            SummaryWindow::new(Duration::from_nanos(3), 10).step(),
            Duration::from_nanos(1)
        );
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
