//! `stat`: kernel and system statistics from /proc/stat.

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter, counter_family, gauge};
use crate::paths::{Paths, read};

struct Stat {
    paths: Paths,
    softirq: bool,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Stat {
        paths: s.paths.clone(),
        softirq: s.stat_softirq,
    }))
}

/// The softirq vectors in the order /proc/stat lists them after the total.
const VECTORS: [&str; 10] = [
    "hi",
    "timer",
    "net_tx",
    "net_rx",
    "block",
    "block_iopoll",
    "tasklet",
    "sched",
    "hrtimer",
    "rcu",
];

impl Collector for Stat {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.paths.proc("stat");
        let text = read(&path)?;
        let first = |key: &str| -> Result<f64, CollectorError> {
            text.lines()
                .find_map(|l| {
                    let mut f = l.split_whitespace();
                    (f.next() == Some(key)).then(|| f.next()).flatten()
                })
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| CollectorError::parse(&path, format!("missing {key}")))
        };
        counter(
            out,
            "node_intr_total",
            "Total number of interrupts serviced.",
            first("intr")?,
        );
        counter(
            out,
            "node_context_switches_total",
            "Total number of context switches.",
            first("ctxt")?,
        );
        counter(
            out,
            "node_forks_total",
            "Total number of forks.",
            first("processes")?,
        );
        gauge(
            out,
            "node_boot_time_seconds",
            "Node boot time, in unixtime.",
            first("btime")?,
        );
        gauge(
            out,
            "node_procs_running",
            "Number of processes in runnable state.",
            first("procs_running")?,
        );
        gauge(
            out,
            "node_procs_blocked",
            "Number of processes blocked waiting for I/O to complete.",
            first("procs_blocked")?,
        );
        if self.softirq {
            let line = text
                .lines()
                .find(|l| l.starts_with("softirq "))
                .ok_or_else(|| CollectorError::parse(&path, "missing softirq"))?;
            let mut f = counter_family("node_softirqs_total", "Number of softirq calls.");
            for (vector, v) in VECTORS.iter().zip(line.split_whitespace().skip(2)) {
                let v: f64 = v
                    .parse()
                    .map_err(|_| CollectorError::parse(&path, format!("invalid softirq {v:?}")))?;
                f.push(&[("vector", vector)], v);
            }
            out.push(f.into_family());
        }
        Ok(())
    }
}
