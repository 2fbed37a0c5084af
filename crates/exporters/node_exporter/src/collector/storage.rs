//! Storage device classes: `nvme` (controllers and namespaces from `/sys/class/nvme`) and
//! `tapestats` (SCSI tape drive counters from `/sys/class/scsi_tape`).

use std::path::Path;

use regex::Regex;

use crate::cli::{Settings, regex_flag};
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter_family, gauge_family};
use crate::paths::{Paths, sorted_entries, sys_read};

fn attr(path: &Path) -> Result<String, CollectorError> {
    sys_read(path).map_err(|e| CollectorError::io(path, e))
}

struct Nvme(Paths);

pub fn nvme(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Nvme(s.paths.clone())))
}

/// The namespace id of a `nvme<ctrl>n<ns>` directory name (the first such run in it).
fn namespace_id(name: &str) -> Option<&str> {
    let mut rest = name;
    while let Some(i) = rest.find("nvme") {
        let after = &rest[i + 4..];
        let ctrl = after.bytes().take_while(u8::is_ascii_digit).count();
        if ctrl > 0 && after[ctrl..].starts_with('n') {
            let ns = &after[ctrl + 1..];
            let len = ns.bytes().take_while(u8::is_ascii_digit).count();
            if len > 0 {
                return Some(&ns[..len]);
            }
        }
        rest = after;
    }
    None
}

impl Collector for Nvme {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let devices = match sorted_entries(&self.0.sys("class/nvme")) {
            Err(e) if e.is_no_data() => {
                return Err(CollectorError::NoData("nvme statistics not found".into()));
            }
            r => r?,
        };
        let mut info = gauge_family(
            "node_nvme_info",
            "Non-numeric data from /sys/class/nvme/<device>, value is always 1.",
        );
        let mut ns_info = gauge_family(
            "node_nvme_namespace_info",
            "Information about NVMe namespaces. Value is always 1",
        );
        let mut capacity = gauge_family(
            "node_nvme_namespace_capacity_bytes",
            "Capacity of the NVMe namespace in bytes. Computed as namespace_size * namespace_logical_block_size",
        );
        let mut size = gauge_family(
            "node_nvme_namespace_size_bytes",
            "Size of the NVMe namespace in bytes. Available in /sys/class/nvme/<device>/<namespace>/size",
        );
        let mut used = gauge_family(
            "node_nvme_namespace_used_bytes",
            "Used space of the NVMe namespace in bytes. Available in /sys/class/nvme/<device>/<namespace>/nuse",
        );
        let mut block = gauge_family(
            "node_nvme_namespace_logical_block_size_bytes",
            "Logical block size of the NVMe namespace in bytes. Usually 4Kb. Available in /sys/class/nvme/<device>/<namespace>/queue/logical_block_size",
        );
        for (device, dir) in devices {
            let [fw, model, serial, state, cntlid] =
                ["firmware_rev", "model", "serial", "state", "cntlid"].map(|f| attr(&dir.join(f)));
            info.push(
                &[
                    ("device", &device),
                    ("firmware_revision", &fw?),
                    ("model", &model?),
                    ("serial", &serial?),
                    ("state", &state?),
                    ("cntlid", &cntlid?),
                ],
                1.0,
            );
            for (name, ns_dir) in sorted_entries(&dir)? {
                let Some(nsid) = namespace_id(&name) else {
                    continue;
                };
                let number = |f: &str| -> Result<u64, CollectorError> {
                    Ok(attr(&ns_dir.join(f))?.parse().unwrap_or(0))
                };
                let nuse = number("nuse")?;
                let blocks = number("size")?;
                let lbs = number("queue/logical_block_size")?;
                let ana = sys_read(&ns_dir.join("ana_state")).unwrap_or_else(|_| "unknown".into());
                let labels = [("device", device.as_str()), ("nsid", nsid)];
                ns_info.push(
                    &[("device", &device), ("nsid", nsid), ("ana_state", &ana)],
                    1.0,
                );
                let bytes = blocks.wrapping_mul(lbs) as f64;
                capacity.push(&labels, bytes);
                size.push(&labels, bytes);
                used.push(&labels, nuse.wrapping_mul(lbs) as f64);
                block.push(&labels, lbs as f64);
            }
        }
        for f in [info, ns_info, capacity, size, used, block] {
            out.push(f.into_family());
        }
        Ok(())
    }
}

struct Tapestats {
    paths: Paths,
    ignored: Option<Regex>,
}

pub fn tapestats(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Tapestats {
        paths: s.paths.clone(),
        ignored: regex_flag(
            "collector.tapestats.ignored-devices",
            Some(&s.flags.tapestats_ignored),
        )?,
    }))
}

/// The `stats/` files in output order: file, metric suffix, help, nanoseconds, counter.
const TAPE: &[(&str, &str, &str, bool, bool)] = &[
    (
        "in_flight",
        "io_now",
        "The number of I/Os currently outstanding to this device.",
        false,
        false,
    ),
    (
        "io_ns",
        "io_time_seconds_total",
        "The amount of time spent waiting for all I/O to complete (including read and write). This includes tape movement commands such as seeking between file or set marks and implicit tape movement such as when rewind on close tape devices are used.",
        true,
        true,
    ),
    (
        "other_cnt",
        "io_others_total",
        "The number of I/Os issued to the tape drive other than read or write commands. The time taken to complete these commands uses the following calculation io_time_seconds_total-read_time_seconds_total-write_time_seconds_total",
        false,
        true,
    ),
    (
        "read_byte_cnt",
        "read_bytes_total",
        "The number of bytes read from the tape drive.",
        false,
        true,
    ),
    (
        "read_cnt",
        "reads_completed_total",
        "The number of read requests issued to the tape drive.",
        false,
        true,
    ),
    (
        "read_ns",
        "read_time_seconds_total",
        "The amount of time spent waiting for read requests to complete.",
        true,
        true,
    ),
    (
        "resid_cnt",
        "residual_total",
        "The number of times during a read or write we found the residual amount to be non-zero. This should mean that a program is issuing a read larger thean the block size on tape. For write not all data made it to tape.",
        false,
        true,
    ),
    (
        "write_byte_cnt",
        "written_bytes_total",
        "The number of bytes written to the tape drive.",
        false,
        true,
    ),
    (
        "write_cnt",
        "writes_completed_total",
        "The number of write requests issued to the tape drive.",
        false,
        true,
    ),
    (
        "write_ns",
        "write_time_seconds_total",
        "The amount of time spent waiting for write requests to complete.",
        true,
        true,
    ),
];

fn is_tape(name: &str) -> bool {
    name.strip_prefix("st")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

impl Collector for Tapestats {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let tapes = match sorted_entries(&self.paths.sys("class/scsi_tape")) {
            Err(e) if e.is_no_data() => {
                return Err(CollectorError::NoData("scsi_tape stats not found".into()));
            }
            r => r?,
        };
        let mut families: Vec<_> = TAPE
            .iter()
            .map(|(_, suffix, help, _, counter)| {
                let name = format!("node_tape_{suffix}");
                if *counter {
                    counter_family(name, *help)
                } else {
                    gauge_family(name, *help)
                }
            })
            .collect();
        for (name, dir) in tapes.iter().filter(|(n, _)| is_tape(n)) {
            let mut values = [0u64; 10];
            for (file, path) in sorted_entries(&dir.join("stats"))? {
                let v = attr(&path)?;
                let Some(i) = TAPE.iter().position(|(f, ..)| *f == file) else {
                    continue;
                };
                values[i] = v
                    .parse()
                    .map_err(|_| CollectorError::parse(&path, format!("invalid number {v:?}")))?;
            }
            if self.ignored.as_ref().is_some_and(|r| r.is_match(name)) {
                tracing::debug!(device = name, "Ignoring device");
                continue;
            }
            for ((family, (_, _, _, ns, _)), v) in families.iter_mut().zip(TAPE).zip(values) {
                let v = if *ns {
                    v as f64 * 0.000000001
                } else {
                    v as f64
                };
                family.push(&[("device", name)], v);
            }
        }
        out.extend(families.into_iter().map(|f| f.into_family()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_ids() {
        assert_eq!(namespace_id("nvme0n1"), Some("1"));
        assert_eq!(namespace_id("ng0nvme12n3"), Some("3"));
        assert_eq!(namespace_id("nvme0"), None);
        assert_eq!(namespace_id("device"), None);
    }

    #[test]
    fn tape_names() {
        assert!(is_tape("st0"));
        assert!(!is_tape("nst0"));
        assert!(!is_tape("st0a"));
    }
}
