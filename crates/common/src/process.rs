//! Metrics about the running process itself: upstream's `process_*` family (as client_golang's
//! process collector reports them on Linux) and the `<daemon>_build_info` gauge.
//!
//! Names, help texts and types match upstream's so that dashboards and alerts written for the
//! Go daemons keep working.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::expfmt::dto;
use crate::metrics::Collector;

impl Collector for ProcessCollector {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        Self::collect(self, out)
    }
}

/// Kernel clock ticks per second as `/proc` reports them (`USER_HZ`): fixed at 100 by the
/// Linux ABI on every architecture Prometheus ships for.
const USER_HZ: f64 = 100.0;

/// Collects the `process_*` metrics of a process from `/proc`: this process, or (for exporters
/// with a `--<x>.pid-file` flag) the process whose PID a file names, as client_golang's process
/// collector does with a PID function and a namespace.
///
/// A metric whose source cannot be read (another OS, a restricted `/proc`, a missing pid file)
/// is left out rather than reported as zero; upstream does the same.
#[derive(Debug)]
pub struct ProcessCollector {
    target: Target,
    /// `process_`, or `<namespace>_process_`.
    prefix: String,
    /// This process's start time depends on the boot time and never changes: read once.
    own_start_time: OnceLock<Option<f64>>,
}

#[derive(Debug)]
enum Target {
    Own,
    /// Re-read on every scrape, so that a restarted process is followed.
    PidFile(PathBuf),
}

impl Default for ProcessCollector {
    fn default() -> Self {
        Self::new()
    }
}

impl ProcessCollector {
    /// This process, as `process_*`.
    pub fn new() -> Self {
        Self {
            target: Target::Own,
            prefix: "process_".to_owned(),
            own_start_time: OnceLock::new(),
        }
    }

    /// The process named by `pid_file`, as `<namespace>_process_*`.
    pub fn for_pid_file(namespace: &str, pid_file: impl Into<PathBuf>) -> Self {
        Self {
            target: Target::PidFile(pid_file.into()),
            prefix: format!("{namespace}_process_"),
            own_start_time: OnceLock::new(),
        }
    }

    /// Appends the families to `out` (the collector protocol of the metrics registry).
    pub fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        let dir = match &self.target {
            Target::Own => PathBuf::from("/proc/self"),
            Target::PidFile(file) => match read_pid(file) {
                Some(pid) => PathBuf::from(format!("/proc/{pid}")),
                None => return,
            },
        };
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
        let name = |suffix: &str| format!("{}{suffix}", self.prefix);
        let stat = read("stat");
        let stat = stat.as_deref().and_then(Stat::parse);
        if let Some(stat) = &stat {
            out.push(counter(
                &name("cpu_seconds_total"),
                "Total user and system CPU time spent in seconds.",
                (stat.utime + stat.stime) as f64 / USER_HZ,
            ));
        }
        if let Ok(fds) = std::fs::read_dir(dir.join("fd")) {
            // The directory handle being read is itself one of the entries, as upstream counts.
            out.push(gauge(
                &name("open_fds"),
                "Number of open file descriptors.",
                fds.count() as f64,
            ));
        }
        let limits = read("limits");
        let limit = |row| limits.as_deref().and_then(|l| soft_limit(l, row));
        if let Some(max) = limit("Max open files") {
            out.push(gauge(
                &name("max_fds"),
                "Maximum number of open file descriptors.",
                max,
            ));
        }
        if let Some(stat) = &stat {
            out.push(gauge(
                &name("virtual_memory_bytes"),
                "Virtual memory size in bytes.",
                stat.vsize as f64,
            ));
        }
        if let Some(max) = limit("Max address space") {
            out.push(gauge(
                &name("virtual_memory_max_bytes"),
                "Maximum amount of virtual memory available in bytes.",
                max,
            ));
        }
        if let Some(rss) = read("status").as_deref().and_then(resident_bytes) {
            out.push(gauge(
                &name("resident_memory_bytes"),
                "Resident memory size in bytes.",
                rss,
            ));
        }
        let start = match self.target {
            Target::Own => *self
                .own_start_time
                .get_or_init(|| start_time(stat.as_ref())),
            Target::PidFile(_) => start_time(stat.as_ref()),
        };
        if let Some(start) = start {
            out.push(gauge(
                &name("start_time_seconds"),
                "Start time of the process since unix epoch in seconds.",
                start,
            ));
        }
        if let Some((rx, tx)) = read("net/dev").as_deref().and_then(net_totals) {
            out.push(counter(
                &name("network_receive_bytes_total"),
                "Number of bytes received by the process over the network.",
                rx,
            ));
            out.push(counter(
                &name("network_transmit_bytes_total"),
                "Number of bytes sent by the process over the network.",
                tx,
            ));
        }
    }
}

/// The PID in a pid file; an unreadable or malformed file is logged, as upstream logs it.
fn read_pid(file: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| tracing::warn!(file = %file.display(), err = %e, "can't read pid file"))
        .ok()?;
    text.trim()
        .parse()
        .map_err(|e| tracing::warn!(file = %file.display(), err = %e, "can't parse pid file"))
        .ok()
}

/// Boot time plus the process's start in ticks since boot.
fn start_time(stat: Option<&Stat>) -> Option<f64> {
    let boot = std::fs::read_to_string("/proc/stat").ok()?;
    let btime: f64 = boot
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(btime + stat?.starttime as f64 / USER_HZ)
}

/// The fields of `/proc/<pid>/stat` used here (see proc(5)).
#[derive(Debug, PartialEq)]
struct Stat {
    utime: u64,
    stime: u64,
    starttime: u64,
    vsize: u64,
}

impl Stat {
    fn parse(text: &str) -> Option<Self> {
        // The command name (field 2) is parenthesised and may contain spaces and parentheses:
        // the fields that follow start after the last ')'.
        let rest = &text[text.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // `fields[0]` is field 3 (state); field n is at index n - 3.
        let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
        Some(Self {
            utime: field(14)?,
            stime: field(15)?,
            starttime: field(22)?,
            vsize: field(23)?,
        })
    }
}

/// The soft value of a `/proc/<pid>/limits` row; `unlimited` is reported as the largest u64, the
/// way upstream's procfs library does (hence the familiar 1.8446744073709552e+19).
fn soft_limit(limits: &str, name: &str) -> Option<f64> {
    let row = limits.lines().find(|l| l.starts_with(name))?;
    let soft = row[name.len()..].split_whitespace().next()?;
    if soft == "unlimited" {
        Some(u64::MAX as f64)
    } else {
        soft.parse::<u64>().ok().map(|v| v as f64)
    }
}

/// `VmRSS` of `/proc/<pid>/status`: the same page count as `rss` in `/proc/<pid>/stat`, already
/// multiplied by the page size (which needs no system call here).
fn resident_bytes(status: &str) -> Option<f64> {
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .strip_suffix("kB")?;
    Some(kb.trim().parse::<f64>().ok()? * 1024.0)
}

/// Received and transmitted bytes summed over every interface of the process's network
/// namespace, as upstream reports them.
fn net_totals(dev: &str) -> Option<(f64, f64)> {
    let mut totals = None;
    for line in dev.lines().skip(2) {
        let (_, counters) = line.split_once(':')?;
        let fields: Vec<&str> = counters.split_whitespace().collect();
        let rx: f64 = fields.first()?.parse().ok()?;
        let tx: f64 = fields.get(8)?.parse().ok()?;
        let (r, t) = totals.get_or_insert((0.0, 0.0));
        *r += rx;
        *t += tx;
    }
    Some(totals.unwrap_or((0.0, 0.0)))
}

/// `<daemon>_build_info{branch,goarch,goos,goversion,revision,tags,version} 1`, labelled like
/// the Go daemons' version collector. `goversion` carries the Rust compiler version (when the
/// build provides it as `PM_RUSTC_VERSION`), `goos`/`goarch` Rust's names for the target.
pub fn build_info_family(
    daemon: &str,
    version: &str,
    revision: &str,
    branch: &str,
) -> dto::MetricFamily {
    let rust_version = option_env!("PM_RUSTC_VERSION").unwrap_or("unknown");
    // In label-name order, as upstream's encoder would sort them anyway.
    let label = [
        ("branch", branch),
        ("goarch", go_arch()),
        ("goos", std::env::consts::OS),
        ("goversion", rust_version),
        ("revision", revision),
        ("tags", "unknown"),
        ("version", version),
    ]
    .into_iter()
    .map(|(name, value)| dto::LabelPair {
        name: Some(name.to_owned()),
        value: Some(value.to_owned()),
    })
    .collect();
    let mut family = gauge(
        &format!("{daemon}_build_info"),
        &format!(
            "A metric with a constant '1' value labeled by version, revision, branch, goversion from which {daemon} was built, and the goos and goarch for the build."
        ),
        1.0,
    );
    family.metric[0].label = label;
    family
}

/// [`build_info_family`] as a registry collector, for a daemon built from this workspace.
#[derive(Debug, Clone, Copy)]
pub struct BuildInfo {
    daemon: &'static str,
    version: &'static str,
}

impl BuildInfo {
    /// `daemon`'s build info at `version` (its `CARGO_PKG_VERSION`); revision and branch are
    /// not recorded by our builds, so they read `unknown` as in an untagged Go build.
    pub fn new(daemon: &'static str, version: &'static str) -> Self {
        Self { daemon, version }
    }
}

impl Collector for BuildInfo {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        out.push(build_info_family(
            self.daemon,
            self.version,
            "unknown",
            "unknown",
        ));
    }
}

/// Go's architecture names, which dashboards filter on (`amd64`, not `x86_64`).
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        other => other,
    }
}

fn family(name: &str, help: &str, kind: dto::MetricType, metric: dto::Metric) -> dto::MetricFamily {
    dto::MetricFamily {
        name: Some(name.to_owned()),
        help: Some(help.to_owned()),
        r#type: Some(kind as i32),
        metric: vec![metric],
        unit: None,
    }
}

fn gauge(name: &str, help: &str, value: f64) -> dto::MetricFamily {
    let metric = dto::Metric {
        gauge: Some(dto::Gauge { value: Some(value) }),
        ..Default::default()
    };
    family(name, help, dto::MetricType::Gauge, metric)
}

fn counter(name: &str, help: &str, value: f64) -> dto::MetricFamily {
    let metric = dto::Metric {
        counter: Some(dto::Counter {
            value: Some(value),
            ..Default::default()
        }),
        ..Default::default()
    };
    family(name, help, dto::MetricType::Counter, metric)
}

#[cfg(test)]
mod tests;
