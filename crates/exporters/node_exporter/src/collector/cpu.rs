//! `cpu`: per-CPU time from /proc/stat, optional /proc/cpuinfo details, thermal throttle
//! counters and isolated CPUs from sysfs.

use std::collections::BTreeMap;

use regex::Regex;

use crate::cli::{Settings, regex_flag};
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter_family, gauge_family};
use crate::paths::{Paths, read, read_trimmed, sorted_entries};

/// `USER_HZ`: /proc/stat counts in hundredths of a second on every Linux architecture.
const USER_HZ: f64 = 100.0;

struct Cpu {
    paths: Paths,
    guest: bool,
    info: bool,
    flags_include: Option<Regex>,
    bugs_include: Option<Regex>,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Cpu {
        paths: s.paths.clone(),
        guest: s.cpu_guest,
        info: s.cpu_info,
        flags_include: regex_flag(
            "collector.cpu.info.flags-include",
            s.flags.cpu_flags_include.as_deref(),
        )?,
        bugs_include: regex_flag(
            "collector.cpu.info.bugs-include",
            s.flags.cpu_bugs_include.as_deref(),
        )?,
    }))
}

impl Collector for Cpu {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        if self.info {
            self.update_info(out)?;
        }
        self.update_stat(out)?;
        self.update_throttles(out)?;
        self.update_isolated(out);
        Ok(())
    }
}

impl Cpu {
    fn update_stat(&self, out: &mut Out) -> Result<(), CollectorError> {
        const MODES: [&str; 8] = [
            "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
        ];
        let path = self.paths.proc("stat");
        let text = read(&path)?;
        let mut seconds = counter_family(
            "node_cpu_seconds_total",
            "Seconds the CPUs spent in each mode.",
        );
        let mut guest = counter_family(
            "node_cpu_guest_seconds_total",
            "Seconds the CPUs spent in guests (VMs) for each mode.",
        );
        for line in text.lines() {
            let mut fields = line.split_whitespace();
            let Some(cpu) = fields.next().and_then(|f| f.strip_prefix("cpu")) else {
                continue;
            };
            if cpu.is_empty() {
                continue;
            }
            let values: Vec<f64> = fields
                .map(|f| {
                    f.parse::<u64>().map(|v| v as f64 / USER_HZ).map_err(|_| {
                        CollectorError::parse(&path, format!("invalid cpu field {f:?}"))
                    })
                })
                .collect::<Result<_, _>>()?;
            for (mode, v) in MODES.iter().zip(&values) {
                seconds.push(&[("cpu", cpu), ("mode", mode)], *v);
            }
            if self.guest {
                let g = values.get(8).copied().unwrap_or_default();
                let gn = values.get(9).copied().unwrap_or_default();
                guest.push(&[("cpu", cpu), ("mode", "user")], g);
                guest.push(&[("cpu", cpu), ("mode", "nice")], gn);
            }
        }
        out.push(seconds.into_family());
        if self.guest {
            out.push(guest.into_family());
        }
        Ok(())
    }

    fn update_info(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.paths.proc("cpuinfo");
        let text = read(&path)?;
        let mut info = gauge_family("node_cpu_info", "CPU information from /proc/cpuinfo.");
        let mut freq = gauge_family(
            "node_cpu_frequency_hertz",
            "CPU frequency in hertz from /proc/cpuinfo.",
        );
        let mut first: Option<BTreeMap<&str, &str>> = None;
        for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
            let fields: BTreeMap<&str, &str> = block
                .lines()
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect();
            let get = |k: &str| fields.get(k).copied().unwrap_or("");
            info.push(
                &[
                    ("package", get("physical id")),
                    ("core", get("core id")),
                    ("cpu", get("processor")),
                    ("vendor", get("vendor_id")),
                    ("family", get("cpu family")),
                    ("model", get("model")),
                    ("model_name", get("model name")),
                    ("microcode", get("microcode")),
                    ("stepping", get("stepping")),
                    ("cachesize", get("cache size")),
                ],
                1.0,
            );
            if let Ok(mhz) = get("cpu MHz").parse::<f64>() {
                freq.push(
                    &[
                        ("package", get("physical id")),
                        ("core", get("core id")),
                        ("cpu", get("processor")),
                    ],
                    mhz * 1e6,
                );
            }
            if first.is_none() {
                first = Some(fields);
            }
        }
        out.push(info.into_family());
        out.push(freq.into_family());
        let first = first.unwrap_or_default();
        for (field, name, label, help, filter) in [
            (
                "flags",
                "node_cpu_flag_info",
                "flag",
                "The `flags` field of CPU information from /proc/cpuinfo taken from the first core.",
                &self.flags_include,
            ),
            (
                "bugs",
                "node_cpu_bug_info",
                "bug",
                "The `bugs` field of CPU information from /proc/cpuinfo taken from the first core.",
                &self.bugs_include,
            ),
        ] {
            let Some(filter) = filter else { continue };
            let mut family = gauge_family(name, help);
            let values = first.get(field).copied().unwrap_or("");
            for v in values.split_whitespace().filter(|v| filter.is_match(v)) {
                family.push(&[(label, v)], 1.0);
            }
            out.push(family.into_family());
        }
        Ok(())
    }

    fn update_throttles(&self, out: &mut Out) -> Result<(), CollectorError> {
        let dir = self.paths.sys("devices/system/cpu");
        let Ok(entries) = sorted_entries(&dir) else {
            return Ok(());
        };
        let mut cores: BTreeMap<(String, String), f64> = BTreeMap::new();
        let mut packages: BTreeMap<String, f64> = BTreeMap::new();
        for (name, path) in entries {
            let is_cpu = name
                .strip_prefix("cpu")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if !is_cpu {
                continue;
            }
            let (Ok(package), Ok(core)) = (
                read_trimmed(&path.join("topology/physical_package_id")),
                read_trimmed(&path.join("topology/core_id")),
            ) else {
                continue;
            };
            let throttle = path.join("thermal_throttle");
            let count = |file: &str| {
                read_trimmed(&throttle.join(file))
                    .ok()
                    .and_then(|v| v.parse::<f64>().ok())
            };
            if let Some(v) = count("core_throttle_count") {
                cores.entry((package.clone(), core)).or_insert(v);
            }
            if let Some(v) = count("package_throttle_count") {
                packages.entry(package).or_insert(v);
            }
        }
        if !cores.is_empty() {
            let mut f = counter_family(
                "node_cpu_core_throttles_total",
                "Number of times this CPU core has been throttled.",
            );
            for ((package, core), v) in &cores {
                f.push(&[("package", package), ("core", core)], *v);
            }
            out.push(f.into_family());
        }
        if !packages.is_empty() {
            let mut f = counter_family(
                "node_cpu_package_throttles_total",
                "Number of times this CPU package has been throttled.",
            );
            for (package, v) in &packages {
                f.push(&[("package", package)], *v);
            }
            out.push(f.into_family());
        }
        Ok(())
    }

    fn update_isolated(&self, out: &mut Out) {
        let Ok(list) = read_trimmed(&self.paths.sys("devices/system/cpu/isolated")) else {
            return;
        };
        let Some(cpus) = parse_cpu_list(&list) else {
            return;
        };
        let mut f = gauge_family(
            "node_cpu_isolated",
            "Whether each core is isolated, information from /sys/devices/system/cpu/isolated.",
        );
        for cpu in cpus {
            f.push(&[("cpu", &cpu.to_string())], 1.0);
        }
        out.push(f.into_family());
    }
}

/// A kernel CPU list such as `1,3-5,9`.
fn parse_cpu_list(s: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("1,3-5,9"), Some(vec![1, 3, 4, 5, 9]));
        assert_eq!(parse_cpu_list(""), Some(vec![]));
        assert_eq!(parse_cpu_list("x"), None);
    }
}
