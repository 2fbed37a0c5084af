//! `--haproxy.pid-file`: the standard process metrics of another process (HAProxy), named
//! `<namespace>_process_*` as client_golang's process collector with a PID function reports
//! them.
//!
//! pm-common's `ProcessCollector` reads only `/proc/self`; this reads `/proc/<pid>` for a PID
//! re-read from the file on every scrape, so a restarted HAProxy is followed.

use std::path::PathBuf;

use pm_common::expfmt::dto::MetricFamily;
use pm_common::metrics::{Collector, ConstFamily, ConstKind};

/// Ticks per second of the times in `/proc/<pid>/stat` (`USER_HZ`, fixed by the Linux ABI).
const USER_HZ: f64 = 100.0;

#[derive(Debug)]
pub struct PidFileCollector {
    namespace: String,
    pid_file: PathBuf,
    proc_root: PathBuf,
}

impl PidFileCollector {
    pub fn new(namespace: impl Into<String>, pid_file: impl Into<PathBuf>) -> Self {
        Self {
            namespace: namespace.into(),
            pid_file: pid_file.into(),
            proc_root: PathBuf::from("/proc"),
        }
    }

    fn pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(&self.pid_file)
            .map_err(|e| {
                tracing::warn!(file = %self.pid_file.display(), err = %e, "can't read pid file")
            })
            .ok()?;
        text.trim()
            .parse()
            .map_err(|e| {
                tracing::warn!(file = %self.pid_file.display(), err = %e, "can't parse pid file")
            })
            .ok()
    }

    fn push(&self, out: &mut Vec<MetricFamily>, kind: ConstKind, name: &str, help: &str, v: f64) {
        out.push(
            ConstFamily::new(format!("{}_process_{name}", self.namespace), help, kind)
                .with(&[], v)
                .into_family(),
        );
    }
}

impl Collector for PidFileCollector {
    /// Metrics whose source is unreadable are left out (upstream fails the whole scrape).
    fn collect(&self, out: &mut Vec<MetricFamily>) {
        let Some(pid) = self.pid() else { return };
        let dir = self.proc_root.join(pid.to_string());
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
        let stat = read("stat").as_deref().and_then(Stat::parse);
        if let Some(s) = &stat {
            self.push(
                out,
                ConstKind::Counter,
                "cpu_seconds_total",
                "Total user and system CPU time spent in seconds.",
                (s.utime + s.stime) as f64 / USER_HZ,
            );
        }
        if let Ok(fds) = std::fs::read_dir(dir.join("fd")) {
            self.push(
                out,
                ConstKind::Gauge,
                "open_fds",
                "Number of open file descriptors.",
                fds.count() as f64,
            );
        }
        let limits = read("limits");
        let limit = |name| limits.as_deref().and_then(|l| soft_limit(l, name));
        if let Some(max) = limit("Max open files") {
            self.push(
                out,
                ConstKind::Gauge,
                "max_fds",
                "Maximum number of open file descriptors.",
                max,
            );
        }
        if let Some(s) = &stat {
            self.push(
                out,
                ConstKind::Gauge,
                "virtual_memory_bytes",
                "Virtual memory size in bytes.",
                s.vsize as f64,
            );
        }
        if let Some(max) = limit("Max address space") {
            self.push(
                out,
                ConstKind::Gauge,
                "virtual_memory_max_bytes",
                "Maximum amount of virtual memory available in bytes.",
                max,
            );
        }
        if let Some(rss) = read("status").as_deref().and_then(resident_bytes) {
            self.push(
                out,
                ConstKind::Gauge,
                "resident_memory_bytes",
                "Resident memory size in bytes.",
                rss,
            );
        }
        let btime = std::fs::read_to_string(self.proc_root.join("stat"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("btime "))?
                    .trim()
                    .parse::<f64>()
                    .ok()
            });
        if let (Some(s), Some(btime)) = (&stat, btime) {
            self.push(
                out,
                ConstKind::Gauge,
                "start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                btime + s.starttime as f64 / USER_HZ,
            );
        }
    }
}

/// The `/proc/<pid>/stat` fields used (proc(5)).
#[derive(Debug, PartialEq)]
struct Stat {
    utime: u64,
    stime: u64,
    starttime: u64,
    vsize: u64,
}

impl Stat {
    fn parse(text: &str) -> Option<Self> {
        // The command name may hold spaces and parentheses: fields resume after the last ')'.
        let fields: Vec<&str> = text[text.rfind(')')? + 1..].split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
        Some(Self {
            utime: field(14)?,
            stime: field(15)?,
            starttime: field(22)?,
            vsize: field(23)?,
        })
    }
}

/// A soft limit from `/proc/<pid>/limits`; `unlimited` is the largest u64, as upstream.
fn soft_limit(limits: &str, name: &str) -> Option<f64> {
    let row = limits.lines().find(|l| l.starts_with(name))?;
    match row[name.len()..].split_whitespace().next()? {
        "unlimited" => Some(u64::MAX as f64),
        soft => soft.parse::<u64>().ok().map(|v| v as f64),
    }
}

fn resident_bytes(status: &str) -> Option<f64> {
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .strip_suffix("kB")?;
    Some(kb.trim().parse::<f64>().ok()? * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_process_named_in_the_pid_file() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("haproxy.pid");
        std::fs::write(&pid_file, format!("{}\n", std::process::id())).unwrap();
        let mut out = Vec::new();
        PidFileCollector::new("haproxy", &pid_file).collect(&mut out);
        let names: Vec<_> = out.iter().map(|f| f.name().to_owned()).collect();
        for want in [
            "haproxy_process_cpu_seconds_total",
            "haproxy_process_open_fds",
            "haproxy_process_max_fds",
            "haproxy_process_virtual_memory_bytes",
            "haproxy_process_resident_memory_bytes",
            "haproxy_process_start_time_seconds",
        ] {
            assert!(
                names.iter().any(|n| n == want),
                "{want} missing from {names:?}"
            );
        }
    }

    #[test]
    fn missing_pid_file_gives_nothing() {
        let mut out = Vec::new();
        PidFileCollector::new("haproxy", "/nonexistent/haproxy.pid").collect(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn stat_with_parentheses_in_the_name() {
        let s = Stat::parse("1 (a) b) S 0 0 0 0 0 0 0 0 0 0 7 3 0 0 0 0 0 0 99 4096 0").unwrap();
        assert_eq!((s.utime, s.stime, s.starttime, s.vsize), (7, 3, 99, 4096));
    }
}
