//! Small collectors over kernel counters: `edac` (memory controller error counts),
//! `schedstat` (per-CPU scheduler time), `watchdog` (`/sys/class/watchdog`) and `selinux`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter_family, gauge_family};
use crate::paths::{Paths, parse_go_int, read_trimmed, sorted_entries, sys_read};

/// An unsigned decimal attribute, as node_exporter's `readUintFromFile` reads it.
fn read_uint(path: &Path) -> Result<u64, CollectorError> {
    let s = read_trimmed(path)?;
    s.parse()
        .map_err(|_| CollectorError::parse(path, format!("not an unsigned integer: {s:?}")))
}

/// The entries of `dir` named `prefix` plus digits (`mc0`, `csrow12`), sorted by name as a
/// shell glob would list them.
fn numbered(dir: &Path, prefix: &str) -> Vec<(String, std::path::PathBuf)> {
    sorted_entries(dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, path)| {
            let n = name.strip_prefix(prefix)?;
            (n.bytes().next().is_some_and(|b| b.is_ascii_digit())).then(|| {
                let digits: String = n.chars().take_while(char::is_ascii_digit).collect();
                (digits, path)
            })
        })
        .collect()
}

struct Edac(Paths);

pub fn edac(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Edac(s.paths.clone())))
}

/// A DIMM label made into a label value as upstream does (`#` dropped, words separated).
fn dimm_label(csrow: &Path, channel: &str) -> String {
    match std::fs::read_to_string(csrow.join(format!("ch{channel}_dimm_label"))) {
        Ok(raw) => raw
            .trim()
            .replace('#', "")
            .replace("csrow", "_csrow")
            .replace("channel", "_channel"),
        Err(_) => "unknown".into(),
    }
}

impl Collector for Edac {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let mut ce = counter_family(
            "node_edac_correctable_errors_total",
            "Total correctable memory errors.",
        );
        let mut ue = counter_family(
            "node_edac_uncorrectable_errors_total",
            "Total uncorrectable memory errors.",
        );
        let mut row_ce = counter_family(
            "node_edac_csrow_correctable_errors_total",
            "Total correctable memory errors for this csrow.",
        );
        let mut row_ue = counter_family(
            "node_edac_csrow_uncorrectable_errors_total",
            "Total uncorrectable memory errors for this csrow.",
        );
        let mut ch_ce = counter_family(
            "node_edac_channel_correctable_errors_total",
            "Total correctable memory errors for this channel.",
        );
        let mut ch_ue = counter_family(
            "node_edac_channel_uncorrectable_errors_total",
            "Total uncorrectable memory errors for this channel.",
        );
        for (mc, dir) in numbered(&self.0.sys("devices/system/edac/mc"), "mc") {
            let c = mc.as_str();
            ce.push(
                &[("controller", c)],
                read_uint(&dir.join("ce_count"))? as f64,
            );
            let v = read_uint(&dir.join("ce_noinfo_count"))?;
            row_ce.push(&[("controller", c), ("csrow", "unknown")], v as f64);
            ue.push(
                &[("controller", c)],
                read_uint(&dir.join("ue_count"))? as f64,
            );
            let v = read_uint(&dir.join("ue_noinfo_count"))?;
            row_ue.push(&[("controller", c), ("csrow", "unknown")], v as f64);
            for (row, rdir) in numbered(&dir, "csrow") {
                let labels = [("controller", c), ("csrow", row.as_str())];
                row_ce.push(&labels, read_uint(&rdir.join("ce_count"))? as f64);
                row_ue.push(&labels, read_uint(&rdir.join("ue_count"))? as f64);
                for (name, path) in sorted_entries(&rdir)? {
                    let Some(channel) = name
                        .strip_prefix("ch")
                        .and_then(|n| n.strip_suffix("_ce_count"))
                        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                    else {
                        continue;
                    };
                    let label = dimm_label(&rdir, channel);
                    let labels = [
                        ("controller", c),
                        ("csrow", row.as_str()),
                        ("channel", channel),
                        ("dimm_label", label.as_str()),
                    ];
                    ch_ce.push(&labels, read_uint(&path)? as f64);
                    match read_uint(&rdir.join(format!("ch{channel}_ue_count"))) {
                        Ok(v) => ch_ue.push(&labels, v as f64),
                        Err(e) => tracing::debug!(err = %e, "couldn't get channel ue_count"),
                    }
                }
            }
        }
        for f in [ce, ue, row_ce, row_ue, ch_ce, ch_ue] {
            out.push(f.into_family());
        }
        Ok(())
    }
}

struct Schedstat(Paths);

pub fn schedstat(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Schedstat(s.paths.clone())))
}

static CPU_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"cpu(\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)")
        .expect("valid regex")
});

impl Collector for Schedstat {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.0.proc("schedstat");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CollectorError::NoData(
                    "schedstat file does not exist".into(),
                ));
            }
            Err(e) => return Err(CollectorError::io(path, e)),
        };
        let mut running = counter_family(
            "node_schedstat_running_seconds_total",
            "Number of seconds CPU spent running a process.",
        );
        let mut waiting = counter_family(
            "node_schedstat_waiting_seconds_total",
            "Number of seconds spent by processing waiting for this CPU.",
        );
        let mut slices = counter_family(
            "node_schedstat_timeslices_total",
            "Number of timeslices executed by CPU.",
        );
        for line in text.lines() {
            let Some(c) = CPU_LINE.captures(line) else {
                continue;
            };
            let num = |i: usize| c[i].parse::<u64>().ok();
            let (Some(run), Some(wait), Some(n)) = (num(8), num(9), num(10)) else {
                continue;
            };
            let labels = [("cpu", &c[1])];
            running.push(&labels, run as f64 / 1e9);
            waiting.push(&labels, wait as f64 / 1e9);
            slices.push(&labels, n as f64);
        }
        for f in [running, waiting, slices] {
            out.push(f.into_family());
        }
        Ok(())
    }
}

struct Watchdog(Paths);

pub fn watchdog(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Watchdog(s.paths.clone())))
}

/// Numeric attributes: file, metric suffix, help.
const WATCHDOG_NUMERIC: &[(&str, &str)] = &[
    ("access_cs0", "access_cs0"),
    ("bootstatus", "bootstatus"),
    ("fw_version", "fw_version"),
    ("nowayout", "nowayout"),
    ("pretimeout", "pretimeout_seconds"),
    ("timeleft", "timeleft_seconds"),
    ("timeout", "timeout_seconds"),
];

const WATCHDOG_TEXT: &[&str] = &[
    "options",
    "identity",
    "state",
    "status",
    "pretimeout_governor",
];

/// The attributes present for one watchdog; numbers must parse (Go base-0 syntax).
fn read_watchdog(dir: &Path) -> Result<HashMap<&'static str, String>, CollectorError> {
    let mut attrs = HashMap::new();
    let files = WATCHDOG_NUMERIC
        .iter()
        .map(|(f, _)| (*f, true))
        .chain(WATCHDOG_TEXT.iter().map(|f| (*f, false)));
    for (file, numeric) in files {
        let path = dir.join(file);
        match sys_read(&path) {
            Ok(v) => {
                if numeric && parse_go_int(&v).is_none() {
                    return Err(CollectorError::parse(path, format!("invalid number {v:?}")));
                }
                attrs.insert(file, v);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(CollectorError::io(path, e)),
        }
    }
    Ok(attrs)
}

impl Collector for Watchdog {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let entries = match sorted_entries(&self.0.sys("class/watchdog")) {
            Err(e) if e.is_no_data() => {
                return Err(CollectorError::NoData(
                    "Could not read watchdog stats".into(),
                ));
            }
            r => r?,
        };
        let mut numeric: Vec<_> = WATCHDOG_NUMERIC
            .iter()
            .map(|(file, suffix)| {
                gauge_family(
                    format!("node_watchdog_{suffix}"),
                    format!("Value of /sys/class/watchdog/<watchdog>/{file}"),
                )
            })
            .collect();
        let mut info = gauge_family(
            "node_watchdog_info",
            "Info of /sys/class/watchdog/<watchdog>",
        );
        for (name, dir) in entries {
            let attrs = read_watchdog(&dir)?;
            for (family, (file, _)) in numeric.iter_mut().zip(WATCHDOG_NUMERIC) {
                if let Some(v) = attrs.get(file).and_then(|v| parse_go_int(v)) {
                    family.push(&[("name", &name)], v as f64);
                }
            }
            let text = |k: &str| attrs.get(k).map_or("", String::as_str);
            info.push(
                &[
                    ("name", &name),
                    ("options", text("options")),
                    ("identity", text("identity")),
                    ("state", text("state")),
                    ("status", text("status")),
                    ("pretimeout_governor", text("pretimeout_governor")),
                ],
                1.0,
            );
        }
        out.extend(numeric.into_iter().map(|f| f.into_family()));
        out.push(info.into_family());
        Ok(())
    }
}

/// `selinux` reads the running system's SELinux state as go-selinux does: from the process's
/// own mount table and attributes, not through `--path.*`.
struct Selinux;

pub fn selinux(_: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Selinux))
}

/// Where selinuxfs is mounted, if it is.
fn selinuxfs_mount() -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        let sep = fields.iter().position(|f| *f == "-")?;
        (fields.get(sep + 1) == Some(&"selinuxfs"))
            .then(|| fields.get(4).map(|m| (*m).to_owned()))?
    })
}

/// SELinux is enabled when selinuxfs is mounted and this process runs under a label other
/// than the kernel's.
fn selinux_enabled(mount: Option<&str>) -> bool {
    mount.is_some()
        && ["/proc/thread-self/attr/current", "/proc/self/attr/current"]
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
            .is_some_and(|label| {
                let label = label.trim_end_matches(['\0', '\n']);
                !label.is_empty() && label != "kernel"
            })
}

/// `SELINUX=` of /etc/selinux/config: enforcing 1, permissive 0, else (disabled) -1.
fn selinux_config_mode(config: &str) -> f64 {
    let mode = config
        .lines()
        .filter_map(|l| l.trim().strip_prefix("SELINUX="))
        .next_back()
        .map(|v| v.trim().trim_matches('"'));
    match mode {
        Some("enforcing") => 1.0,
        Some("permissive") => 0.0,
        _ => -1.0,
    }
}

impl Collector for Selinux {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let mount = selinuxfs_mount();
        let help = "SELinux is enabled, 1 is true, 0 is false";
        if !selinux_enabled(mount.as_deref()) {
            crate::metric::gauge(out, "node_selinux_enabled", help, 0.0);
            return Ok(());
        }
        crate::metric::gauge(out, "node_selinux_enabled", help, 1.0);
        crate::metric::gauge(
            out,
            "node_selinux_config_mode",
            "Configured SELinux enforcement mode",
            selinux_config_mode(
                &std::fs::read_to_string("/etc/selinux/config").unwrap_or_default(),
            ),
        );
        let current = mount
            .map(|m| Path::new(&m).join("enforce"))
            .and_then(|p| read_trimmed(&p).ok())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(-1.0);
        crate::metric::gauge(
            out,
            "node_selinux_current_mode",
            "Current SELinux enforcement mode",
            current,
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selinux_config_modes() {
        assert_eq!(
            selinux_config_mode("# c\nSELINUX=enforcing\nSELINUXTYPE=targeted\n"),
            1.0
        );
        assert_eq!(selinux_config_mode("SELINUX=permissive\n"), 0.0);
        assert_eq!(selinux_config_mode("SELINUX=disabled\n"), -1.0);
        assert_eq!(selinux_config_mode(""), -1.0);
    }

    #[test]
    fn selinux_needs_selinuxfs() {
        assert!(!selinux_enabled(None));
    }
}
