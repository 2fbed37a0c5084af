//! Classic (bucketed) histograms.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use super::MetricsError;
use super::atomic::AtomicF64;
use super::value::{MetricValue, timestamp};
use crate::expfmt::dto;

/// client_golang's `DefBuckets`, tuned for request latencies in seconds.
pub const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// `count` buckets starting at `start`, each `width` above the previous.
pub fn linear_buckets(start: f64, width: f64, count: usize) -> Result<Vec<f64>, MetricsError> {
    if count < 1 {
        return Err(MetricsError::Buckets(
            "linear buckets need a positive count".into(),
        ));
    }
    Ok((0..count).map(|i| start + width * i as f64).collect())
}

/// `count` buckets starting at `start`, each `factor` times the previous.
pub fn exponential_buckets(
    start: f64,
    factor: f64,
    count: usize,
) -> Result<Vec<f64>, MetricsError> {
    if count < 1 || start <= 0.0 || factor <= 1.0 {
        return Err(MetricsError::Buckets(
            "exponential buckets need a positive count, a positive start and a factor above 1"
                .into(),
        ));
    }
    Ok(std::iter::successors(Some(start), |b| Some(b * factor))
        .take(count)
        .collect())
}

/// Checks that bounds strictly increase and drops a trailing `+Inf`, which every histogram has
/// implicitly.
pub(super) fn validate_buckets(buckets: &[f64]) -> Result<Arc<[f64]>, MetricsError> {
    let bounds = match buckets.split_last() {
        Some((last, rest)) if *last == f64::INFINITY => rest,
        _ => buckets,
    };
    if bounds.iter().any(|b| b.is_nan()) || bounds.windows(2).any(|w| w[0] >= w[1]) {
        return Err(MetricsError::Buckets(format!(
            "histogram buckets must be in increasing order: {bounds:?}"
        )));
    }
    Ok(bounds.into())
}

/// Observations counted into buckets with upper bounds (`le`). Observing is a binary search, one
/// `fetch_add` and one float add, all lock-free.
#[derive(Clone, Debug)]
pub struct Histogram(Arc<HistogramCore>);

#[derive(Debug)]
struct HistogramCore {
    bounds: Arc<[f64]>,
    /// Non-cumulative counts per bound, plus one for observations above the last bound.
    counts: Box<[AtomicU64]>,
    sum: AtomicF64,
    created: SystemTime,
}

impl Histogram {
    pub fn observe(&self, v: f64) {
        // First bound >= v, as Go's sort.SearchFloat64s; NaN lands in the +Inf bucket.
        let i = self
            .0
            .bounds
            .partition_point(|b| b.partial_cmp(&v).is_none_or(|o| o.is_lt()));
        self.0.counts[i].fetch_add(1, Ordering::Relaxed);
        self.0.sum.add(v);
    }

    /// Number of observations so far.
    pub fn count(&self) -> u64 {
        self.0
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    pub fn sum(&self) -> f64 {
        self.0.sum.get()
    }
}

impl MetricValue for Histogram {
    type Config = Arc<[f64]>;

    fn metric_type() -> dto::MetricType {
        dto::MetricType::Histogram
    }

    fn create(bounds: &Arc<[f64]>) -> Self {
        Histogram(Arc::new(HistogramCore {
            bounds: bounds.clone(),
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicF64::new(0.0),
            created: SystemTime::now(),
        }))
    }

    /// Counts are read once each, and the total is derived from them, so a concurrent
    /// observation can never make `_count` disagree with the `+Inf` bucket.
    fn write_to(&self, metric: &mut dto::Metric) {
        let core = &self.0;
        let mut cumulative = 0;
        let bucket = core
            .bounds
            .iter()
            .zip(core.counts.iter())
            .map(|(&le, c)| {
                cumulative += c.load(Ordering::Relaxed);
                dto::Bucket {
                    cumulative_count: Some(cumulative),
                    upper_bound: Some(le),
                    ..Default::default()
                }
            })
            .collect();
        let total = cumulative + core.counts[core.bounds.len()].load(Ordering::Relaxed);
        metric.histogram = Some(dto::Histogram {
            sample_count: Some(total),
            sample_sum: Some(core.sum.get()),
            bucket,
            created_timestamp: Some(timestamp(core.created)),
            ..Default::default()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_le_buckets() {
        let h = Histogram::create(&validate_buckets(&[1.0, 2.0, 5.0]).unwrap());
        for v in [0.5, 1.0, 1.5, 5.0, 7.0, f64::NAN] {
            h.observe(v);
        }
        let mut m = dto::Metric::default();
        h.write_to(&mut m);
        let written = m.histogram.unwrap();
        let counts: Vec<_> = written
            .bucket
            .iter()
            .map(|b| b.cumulative_count())
            .collect();
        assert_eq!(counts, [2, 3, 4]);
        assert_eq!(written.sample_count, Some(6));
        assert!(written.sample_sum().is_nan());
        assert_eq!(h.count(), 6);
    }

    #[test]
    fn bucket_validation_and_generators() {
        assert_eq!(&*validate_buckets(&[1.0, f64::INFINITY]).unwrap(), &[1.0]);
        assert!(validate_buckets(&[1.0, 1.0]).is_err());
        assert!(validate_buckets(&[2.0, 1.0]).is_err());
        assert_eq!(linear_buckets(1.0, 2.0, 3).unwrap(), [1.0, 3.0, 5.0]);
        assert_eq!(
            exponential_buckets(1.0, 2.0, 4).unwrap(),
            [1.0, 2.0, 4.0, 8.0]
        );
        assert!(exponential_buckets(0.0, 2.0, 4).is_err());
        assert!(linear_buckets(1.0, 1.0, 0).is_err());
    }
}
