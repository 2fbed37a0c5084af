//! Summaries with quantiles over a sliding window, for the scrape manager's timing metrics
//! (pm-common's registry has no summary type; upstream uses client_golang's with a 10-minute
//! window and the objectives below).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use pm_common::expfmt::dto;
use pm_common::metrics::{Collector, Registry};

const OBJECTIVES: [f64; 5] = [0.01, 0.05, 0.5, 0.9, 0.99];
const MAX_AGE: Duration = Duration::from_secs(600);
/// Observations kept per child; older ones are forgotten first.
const MAX_OBSERVATIONS: usize = 2048;

#[derive(Default)]
struct Child {
    window: VecDeque<(Instant, f64)>,
    count: u64,
    sum: f64,
}

/// A summary with one label.
pub(crate) struct SummaryVec {
    name: &'static str,
    help: &'static str,
    label: &'static str,
    children: Mutex<HashMap<String, Child>>,
}

impl SummaryVec {
    pub fn register(
        registry: &Registry,
        name: &'static str,
        help: &'static str,
        label: &'static str,
    ) -> Arc<SummaryVec> {
        let s = Arc::new(SummaryVec {
            name,
            help,
            label,
            children: Mutex::default(),
        });
        registry.register(s.clone());
        s
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Child>> {
        self.children.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn observe(&self, label_value: &str, v: f64) {
        let now = Instant::now();
        let mut children = self.lock();
        let child = children.entry(label_value.to_owned()).or_default();
        child.count += 1;
        child.sum += v;
        child.window.push_back((now, v));
        while child.window.len() > MAX_OBSERVATIONS
            || child
                .window
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > MAX_AGE)
        {
            child.window.pop_front();
        }
    }

    pub fn remove(&self, label_value: &str) {
        self.lock().remove(label_value);
    }
}

impl Collector for SummaryVec {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        let now = Instant::now();
        let children = self.lock();
        if children.is_empty() {
            return;
        }
        let mut names: Vec<&String> = children.keys().collect();
        names.sort();
        let metric = names
            .into_iter()
            .map(|value| {
                let child = &children[value];
                let mut window: Vec<f64> = child
                    .window
                    .iter()
                    .filter(|(t, _)| now.duration_since(*t) <= MAX_AGE)
                    .map(|(_, v)| *v)
                    .collect();
                window.sort_by(f64::total_cmp);
                let quantile = OBJECTIVES
                    .iter()
                    .map(|&q| dto::Quantile {
                        quantile: Some(q),
                        value: Some(rank(&window, q)),
                    })
                    .collect();
                dto::Metric {
                    label: vec![dto::LabelPair {
                        name: Some(self.label.to_owned()),
                        value: Some(value.clone()),
                    }],
                    summary: Some(dto::Summary {
                        sample_count: Some(child.count),
                        sample_sum: Some(child.sum),
                        quantile,
                        created_timestamp: None,
                    }),
                    ..Default::default()
                }
            })
            .collect();
        out.push(dto::MetricFamily {
            name: Some(self.name.to_owned()),
            help: Some(self.help.to_owned()),
            r#type: Some(dto::MetricType::Summary as i32),
            metric,
            unit: None,
        });
    }
}

/// The `q` quantile of sorted values; NaN without observations, as client_golang reports.
fn rank(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_over_observations() {
        let registry = Registry::new();
        let s = SummaryVec::register(&registry, "x_seconds", "help", "interval");
        for i in 1..=100 {
            s.observe("15s", f64::from(i));
        }
        let families = registry.gather();
        let m = &families[0].metric[0];
        let summary = m.summary.as_ref().unwrap();
        assert_eq!(summary.sample_count, Some(100));
        assert_eq!(summary.sample_sum, Some(5050.0));
        let q: Vec<f64> = summary.quantile.iter().map(|q| q.value()).collect();
        assert_eq!(q, vec![1.0, 5.0, 50.0, 90.0, 99.0]);
        s.remove("15s");
        assert!(registry.gather().is_empty());
    }
}
