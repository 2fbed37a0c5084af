//! A summary vector with client_golang's default sliding window: quantiles over the last
//! `MAX_AGE`, kept as `AGE_BUCKETS` streams started `MAX_AGE / AGE_BUCKETS` apart. Every
//! observation goes into all streams; the oldest ("head") one answers queries and is reset and
//! moved to the back when its time is up, so it always covers between 8 and 10 minutes.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use pm_common::expfmt::dto;
use pm_common::metrics::Collector;

use super::quantile::{Stream, Target};

const MAX_AGE: Duration = Duration::from_secs(600);
const AGE_BUCKETS: u32 = 5;

/// The objectives the Pushgateway gives its push summaries.
pub const OBJECTIVES: [Target; 3] = [
    Target {
        quantile: 0.1,
        epsilon: 0.01,
    },
    Target {
        quantile: 0.5,
        epsilon: 0.05,
    },
    Target {
        quantile: 0.9,
        epsilon: 0.01,
    },
];

/// The observations of one label value.
#[derive(Debug)]
struct Window {
    streams: Vec<Stream>,
    head: usize,
    /// When the head stream is reset.
    head_expires: Instant,
    count: u64,
    sum: f64,
}

impl Window {
    fn new(now: Instant) -> Self {
        Self {
            streams: (0..AGE_BUCKETS).map(|_| Stream::new(&OBJECTIVES)).collect(),
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
        let quantile = OBJECTIVES
            .iter()
            .map(|t| dto::Quantile {
                quantile: Some(t.quantile),
                value: Some(if head.count() == 0 {
                    f64::NAN
                } else {
                    head.query(t.quantile)
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

/// A summary by one label (`method`), with the quantiles of `OBJECTIVES`.
#[derive(Debug)]
pub struct SummaryVec {
    name: &'static str,
    help: &'static str,
    label: &'static str,
    windows: Mutex<BTreeMap<String, Window>>,
}

impl SummaryVec {
    pub fn new(name: &'static str, help: &'static str, label: &'static str) -> Self {
        Self {
            name,
            help,
            label,
            windows: Mutex::default(),
        }
    }

    pub fn observe(&self, label_value: &str, value: f64) {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        match windows.get_mut(label_value) {
            Some(window) => window.observe(value, now),
            None => {
                let mut window = Window::new(now);
                window.observe(value, now);
                windows.insert(label_value.to_owned(), window);
            }
        }
    }
}

impl Collector for SummaryVec {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.is_empty() {
            return;
        }
        out.push(dto::MetricFamily {
            name: Some(self.name.to_owned()),
            help: Some(self.help.to_owned()),
            r#type: Some(dto::MetricType::Summary as i32),
            metric: windows
                .iter_mut()
                .map(|(value, window)| dto::Metric {
                    label: vec![dto::LabelPair {
                        name: Some(self.label.to_owned()),
                        value: Some(value.clone()),
                    }],
                    summary: Some(window.summary(now)),
                    ..Default::default()
                })
                .collect(),
            unit: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quantiles(s: &dto::Summary) -> Vec<f64> {
        s.quantile.iter().map(|q| q.value()).collect()
    }

    #[test]
    fn quantiles_cover_the_last_ten_minutes() {
        let start = Instant::now();
        let mut w = Window::new(start);
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
    fn collects_one_metric_per_label_value() {
        let v = SummaryVec::new("s", "h", "method");
        let mut out = Vec::new();
        v.collect(&mut out);
        assert!(out.is_empty(), "no family before the first observation");
        v.observe("put", 2.0);
        v.observe("post", 3.0);
        v.collect(&mut out);
        let labels: Vec<&str> = out[0].metric.iter().map(|m| m.label[0].value()).collect();
        assert_eq!(labels, ["post", "put"]);
        assert_eq!(
            quantiles(out[0].metric[1].summary.as_ref().unwrap()),
            [2.0; 3]
        );
    }
}
