//! A summary metric with the quantiles over a sliding ten-minute window, as client_golang's
//! default summary reports them (`prometheus_engine_query_duration_seconds`). pm-common's
//! registry has no summary type, so the engine brings this collector.
//!
//! Observations go into five age buckets of two minutes each; the quantiles come from the
//! buckets younger than ten minutes. Each bucket keeps at most [`BUCKET_CAPACITY`] values,
//! chosen by reservoir sampling, so memory stays bounded whatever the query rate while the
//! quantile estimates stay unbiased. Count and sum cover every observation since start.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use pm_common::expfmt::dto;

/// client_golang's `DefObjectives` as the engine configures them.
pub(crate) const QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];
const MAX_AGE: Duration = Duration::from_secs(600);
const AGE_BUCKETS: u32 = 5;
const BUCKET_CAPACITY: usize = 500;

/// One summary series.
#[derive(Debug)]
pub(crate) struct WindowedSummary {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    count: u64,
    sum: f64,
    /// Newest last; each with the time it opened.
    buckets: Vec<Bucket>,
    /// xorshift state for the reservoir.
    rng: u64,
}

#[derive(Debug)]
struct Bucket {
    opened: Instant,
    /// Observations offered to this bucket, kept or not.
    seen: u64,
    values: Vec<f64>,
}

impl WindowedSummary {
    pub fn new() -> Self {
        WindowedSummary {
            state: Mutex::new(State {
                count: 0,
                sum: 0.0,
                buckets: Vec::new(),
                rng: 0x9E37_79B9_7F4A_7C15,
            }),
        }
    }

    pub fn observe(&self, v: f64) {
        self.observe_at(v, Instant::now());
    }

    fn observe_at(&self, v: f64, now: Instant) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.count += 1;
        s.sum += v;
        let width = MAX_AGE / AGE_BUCKETS;
        if s.buckets
            .last()
            .is_none_or(|b| now.duration_since(b.opened) >= width)
        {
            s.buckets.retain(|b| now.duration_since(b.opened) < MAX_AGE);
            s.buckets.push(Bucket {
                opened: now,
                seen: 0,
                values: Vec::new(),
            });
        }
        let draw = s.next_random();
        let bucket = s.buckets.last_mut().expect("pushed above");
        bucket.seen += 1;
        if bucket.values.len() < BUCKET_CAPACITY {
            bucket.values.push(v);
        } else {
            let slot = (draw % bucket.seen) as usize;
            if slot < BUCKET_CAPACITY {
                bucket.values[slot] = v;
            }
        }
    }

    /// The summary as a metric with `labels`: count, sum and the window's quantiles (NaN when
    /// nothing was observed within the window, as client_golang).
    pub fn metric(&self, labels: Vec<dto::LabelPair>) -> dto::Metric {
        self.metric_at(labels, Instant::now())
    }

    fn metric_at(&self, labels: Vec<dto::LabelPair>, now: Instant) -> dto::Metric {
        let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut values: Vec<f64> = s
            .buckets
            .iter()
            .filter(|b| now.duration_since(b.opened) < MAX_AGE)
            .flat_map(|b| b.values.iter().copied())
            .collect();
        values.sort_by(f64::total_cmp);
        let quantile = QUANTILES
            .iter()
            .map(|&q| dto::Quantile {
                quantile: Some(q),
                value: Some(rank(&values, q)),
            })
            .collect();
        dto::Metric {
            label: labels,
            summary: Some(dto::Summary {
                sample_count: Some(s.count),
                sample_sum: Some(s.sum),
                quantile,
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

impl State {
    fn next_random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }
}

/// The `q` quantile of sorted `values` by nearest rank.
fn rank(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let i = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1;
    values[i]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quantiles(m: &dto::Metric) -> Vec<f64> {
        let s = m.summary.as_ref().unwrap();
        s.quantile.iter().map(|q| q.value.unwrap()).collect()
    }

    #[test]
    fn quantiles_cover_the_last_ten_minutes_and_totals_everything() {
        let s = WindowedSummary::new();
        let t0 = Instant::now();
        for i in 1..=100 {
            s.observe_at(i as f64, t0);
        }
        let m = s.metric_at(Vec::new(), t0);
        assert_eq!(quantiles(&m), [50.0, 90.0, 99.0]);
        // Eleven minutes later the old observations left the window.
        let later = t0 + Duration::from_secs(660);
        s.observe_at(1000.0, later);
        let m = s.metric_at(Vec::new(), later);
        assert_eq!(quantiles(&m), [1000.0, 1000.0, 1000.0]);
        let summary = m.summary.unwrap();
        assert_eq!(summary.sample_count, Some(101));
        assert_eq!(summary.sample_sum, Some(6050.0));
        let empty = WindowedSummary::new().metric_at(Vec::new(), t0);
        assert!(quantiles(&empty).iter().all(|v| v.is_nan()));
    }

    #[test]
    fn a_busy_bucket_keeps_a_bounded_sample() {
        let s = WindowedSummary::new();
        let t0 = Instant::now();
        for i in 0..10_000 {
            s.observe_at(f64::from(i % 100), t0);
        }
        let state = s.state.lock().unwrap();
        assert_eq!(state.buckets[0].values.len(), BUCKET_CAPACITY);
        assert_eq!(state.buckets[0].seen, 10_000);
        drop(state);
        let median = quantiles(&s.metric_at(Vec::new(), t0))[0];
        assert!((30.0..70.0).contains(&median), "median {median}");
    }
}
