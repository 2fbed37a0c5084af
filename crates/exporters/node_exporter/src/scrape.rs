//! One scrape: every selected collector runs on a small pool of threads, each timed, and a
//! failing collector only reports `node_scrape_collector_success 0`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use pm_common::expfmt::dto::MetricFamily;

use crate::cli::Settings;
use crate::collector::{COLLECTORS, Collector};
use crate::error::ConfigError;
use crate::metric::gauge_family;

/// Why a `collect[]`/`exclude[]` selection cannot be served; the text is upstream's.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("missing collector: {0}")]
    Missing(String),
    #[error("disabled collector: {0}")]
    Disabled(String),
}

/// The enabled collectors, built once at start-up.
pub struct NodeCollector {
    collectors: Vec<(&'static str, Box<dyn Collector>)>,
    workers: usize,
}

impl std::fmt::Debug for NodeCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.collectors.iter().map(|(n, _)| *n).collect();
        f.debug_struct("NodeCollector")
            .field("collectors", &names)
            .finish()
    }
}

impl NodeCollector {
    pub fn new(settings: &Settings) -> Result<Self, ConfigError> {
        let mut collectors = Vec::new();
        for reg in COLLECTORS {
            if settings.enabled.contains(reg.name) {
                collectors.push((reg.name, (reg.build)(settings)?));
            }
        }
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
        Ok(Self {
            collectors,
            workers,
        })
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.collectors.iter().map(|(n, _)| *n)
    }

    /// Which collectors a request selects: all, only `collect`, or all but `exclude`.
    pub fn select(&self, collect: &[String], exclude: &[String]) -> Result<Vec<bool>, FilterError> {
        let mut chosen = vec![collect.is_empty(); self.collectors.len()];
        for (names, value) in [(collect, true), (exclude, false)] {
            for name in names {
                let Some(i) = self.collectors.iter().position(|(n, _)| n == name) else {
                    return Err(if COLLECTORS.iter().any(|r| r.name == name) {
                        FilterError::Disabled(name.clone())
                    } else {
                        FilterError::Missing(name.clone())
                    });
                };
                chosen[i] = value;
            }
        }
        Ok(chosen)
    }

    /// Runs the chosen collectors and returns their families plus the per-collector
    /// duration and success gauges (unsorted; the registry sorts and merges).
    pub fn scrape(&self, chosen: &[bool]) -> Vec<MetricFamily> {
        let jobs: Vec<usize> = (0..self.collectors.len()).filter(|&i| chosen[i]).collect();
        let next = AtomicUsize::new(0);
        let results = Mutex::new(Vec::with_capacity(jobs.len()));
        let run = || {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = jobs.get(k) else { break };
                let (name, collector) = &self.collectors[i];
                let start = Instant::now();
                let mut out = Vec::new();
                let ok = match collector.update(&mut out) {
                    Ok(()) => true,
                    Err(e) if e.is_no_data() => {
                        tracing::debug!(name, err = %e, "collector returned no data");
                        false
                    }
                    Err(e) => {
                        tracing::error!(name, err = %e, "collector failed");
                        false
                    }
                };
                let elapsed = start.elapsed().as_secs_f64();
                results
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((*name, elapsed, ok, out));
            }
        };
        let workers = self.workers.min(jobs.len());
        if workers <= 1 {
            run();
        } else {
            std::thread::scope(|s| {
                for _ in 1..workers {
                    s.spawn(run);
                }
                run();
            });
        }
        let results = results
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut duration = gauge_family(
            "node_scrape_collector_duration_seconds",
            "node_exporter: Duration of a collector scrape.",
        );
        let mut success = gauge_family(
            "node_scrape_collector_success",
            "node_exporter: Whether a collector succeeded.",
        );
        let mut families = Vec::new();
        for (name, elapsed, ok, out) in results {
            duration.push(&[("collector", name)], elapsed);
            success.push(&[("collector", name)], if ok { 1.0 } else { 0.0 });
            families.extend(out);
        }
        families.push(duration.into_family());
        families.push(success.into_family());
        families
    }
}
