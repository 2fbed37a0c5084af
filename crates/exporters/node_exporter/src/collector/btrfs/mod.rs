//! `btrfs`: Btrfs filesystems from `/sys/fs/btrfs/<uuid>` (allocation by block group type and
//! RAID profile, commit statistics, device sizes), and for mounted ones per-device sizes and
//! error counters asked of the kernel through ioctls on the mount point.

mod ioctl;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use pm_common::metrics::ConstFamily;

use crate::cli::Settings;
use crate::collector::Collector;
use crate::collector::filesystem::mounts;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter_family, gauge_family};
use crate::paths::{Paths, sorted_entries, sys_read};

/// Reads an attribute; absent reads as empty, as upstream's reader treats it.
fn text(dir: &Path, rel: &str) -> Result<String, CollectorError> {
    let path = dir.join(rel);
    match sys_read(&path) {
        Ok(v) => Ok(v),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(CollectorError::io(path, e)),
    }
}

/// Reads a numeric attribute; absent or unparsable reads as zero, as upstream's reader does.
fn number(dir: &Path, rel: &str) -> Result<u64, CollectorError> {
    Ok(text(dir, rel)?.parse().unwrap_or(0))
}

/// How many bytes of raw space a RAID profile uses per byte of data.
fn ratio(profile: &str, devices: usize) -> f64 {
    let n = devices as f64;
    match profile {
        "single" | "raid0" => 1.0,
        "dup" | "raid1" | "raid10" => 2.0,
        "raid1c3" => 3.0,
        "raid1c4" => 4.0,
        "raid5" => n / (n - 1.0),
        "raid6" => n / (n - 2.0),
        _ => 0.0,
    }
}

/// `commit_stats`: commits, last, max and total commit milliseconds.
fn parse_commit_stats(text: &str) -> Result<[u64; 4], String> {
    let mut out = [0; 4];
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [name, value] = parts[..] else {
            return Err(format!("invalid commit_stats line {line:?}"));
        };
        let value: u64 = value
            .parse()
            .map_err(|e| format!("error parsing commit_stats line: {e}"))?;
        let slot = match name {
            "commits" => 0,
            "last_commit_ms" => 1,
            "max_commit_ms" => 2,
            "total_commit_ms" => 3,
            _ => continue,
        };
        out[slot] = value;
    }
    Ok(out)
}

/// The families, in upstream's emission order.
struct Families {
    info: ConstFamily,
    global_rsv: ConstFamily,
    commits: ConstFamily,
    last_commit: ConstFamily,
    max_commit: ConstFamily,
    commit_seconds: ConstFamily,
    reserved: ConstFamily,
    used: ConstFamily,
    size: ConstFamily,
    ratio: ConstFamily,
    device_size: ConstFamily,
    device_unused: ConstFamily,
    device_errors: ConstFamily,
}

impl Families {
    fn new() -> Self {
        let g = |n: &str, h: &str| gauge_family(format!("node_btrfs_{n}"), h);
        Families {
            info: g("info", "Filesystem information"),
            global_rsv: g("global_rsv_size_bytes", "Size of global reserve."),
            commits: counter_family(
                "node_btrfs_commits_total",
                "The total number of commits that have occurred.",
            ),
            last_commit: g(
                "last_commit_seconds",
                "Duration of the most recent commit, in seconds.",
            ),
            max_commit: g(
                "max_commit_seconds",
                "Duration of the slowest commit, in seconds.",
            ),
            commit_seconds: counter_family(
                "node_btrfs_commit_seconds_total",
                "Sum of the duration of all commits, in seconds.",
            ),
            reserved: g("reserved_bytes", "Amount of space reserved for a data type"),
            used: g("used_bytes", "Amount of used space by a layout/data type"),
            size: g(
                "size_bytes",
                "Amount of space allocated for a layout/data type",
            ),
            ratio: g(
                "allocation_ratio",
                "Data allocation ratio for a layout/data type",
            ),
            device_size: g(
                "device_size_bytes",
                "Size of a device that is part of the filesystem.",
            ),
            device_unused: g(
                "device_unused_bytes",
                "Unused bytes unused on a device that is part of the filesystem.",
            ),
            device_errors: counter_family(
                "node_btrfs_device_errors_total",
                "Errors reported for the device",
            ),
        }
    }

    fn filesystem(&mut self, dir: &Path, mounted: &Mounted) -> Result<(), CollectorError> {
        let devices = sorted_entries(&dir.join("devices"))?;
        let mut uuid = text(dir, "metadata_uuid")?;
        if uuid.is_empty() {
            uuid = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        let fs = [("uuid", uuid.as_str())];
        let label = text(dir, "label")?;
        self.info.push(&[("uuid", &uuid), ("label", &label)], 1.0);
        let rsv = number(dir, "allocation/global_rsv_size")?;
        self.global_rsv.push(&fs, rsv as f64);
        let path = dir.join("commit_stats");
        let commits = match std::fs::read_to_string(&path) {
            Ok(t) => parse_commit_stats(&t).map_err(|r| CollectorError::parse(&path, r))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => [0; 4],
            Err(e) => return Err(CollectorError::io(path, e)),
        };
        self.commits.push(&fs, commits[0] as f64);
        self.last_commit.push(&fs, commits[1] as f64 / 1000.0);
        self.max_commit.push(&fs, commits[2] as f64 / 1000.0);
        self.commit_seconds.push(&fs, commits[3] as f64 / 1000.0);
        for kind in ["data", "metadata", "system"] {
            let alloc = dir.join("allocation").join(kind);
            let labels = [("uuid", uuid.as_str()), ("block_group_type", kind)];
            self.reserved
                .push(&labels, number(&alloc, "bytes_reserved")? as f64);
            for (profile, profile_dir) in profiles(&alloc)? {
                let labels = [
                    ("uuid", uuid.as_str()),
                    ("block_group_type", kind),
                    ("mode", profile.as_str()),
                ];
                self.used
                    .push(&labels, number(&profile_dir, "used_bytes")? as f64);
                self.size
                    .push(&labels, number(&profile_dir, "total_bytes")? as f64);
                self.ratio.push(&labels, ratio(&profile, devices.len()));
            }
        }
        // The kernel's filesystem id is matched without dashes, as upstream does.
        if let Some(ioctl_devices) = mounted.get(&uuid.replace('-', "")) {
            self.ioctl_devices(&uuid, ioctl_devices);
            return Ok(());
        }
        for (device, _) in &devices {
            // `size` counts 512-byte sectors.
            let sectors = number(dir, &format!("devices/{device}/size"))?;
            self.device_size.push(
                &[("uuid", &uuid), ("device", device)],
                (sectors * 512) as f64,
            );
        }
        Ok(())
    }

    fn ioctl_devices(&mut self, uuid: &str, devices: &[ioctl::Device]) {
        for dev in devices {
            // `/dev/sda` → `sda`, the name the sysfs fallback uses.
            let name = dev.path.rsplit('/').next().unwrap_or_default();
            let dev_uuid = format_uuid(&dev.uuid);
            let labels = [
                ("uuid", uuid),
                ("device", name),
                ("btrfs_dev_uuid", &dev_uuid),
            ];
            self.device_size.push(&labels, dev.total_bytes as f64);
            self.device_unused
                .push(&labels, dev.total_bytes.wrapping_sub(dev.bytes_used) as f64);
            for (kind, count) in ERROR_TYPES.iter().zip(dev.errors) {
                self.device_errors.push(
                    &[
                        ("uuid", uuid),
                        ("type", kind),
                        ("device", name),
                        ("btrfs_dev_uuid", &dev_uuid),
                    ],
                    count as f64,
                );
            }
        }
    }

    fn into_families(self) -> [ConstFamily; 13] {
        [
            self.info,
            self.global_rsv,
            self.commits,
            self.last_commit,
            self.max_commit,
            self.commit_seconds,
            self.reserved,
            self.used,
            self.size,
            self.ratio,
            self.device_size,
            self.device_unused,
            self.device_errors,
        ]
    }
}

/// The RAID profile directories of an allocation directory (`single`, `raid1`, …); an absent
/// allocation directory has none.
fn profiles(alloc: &Path) -> Result<Vec<(String, PathBuf)>, CollectorError> {
    let entries = match sorted_entries(alloc) {
        Err(e) if e.is_no_data() => return Ok(Vec::new()),
        r => r?,
    };
    Ok(entries
        .into_iter()
        .filter(|(_, p)| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()))
        .collect())
}

/// The kernel's names of the per-device error counters, in its order.
const ERROR_TYPES: [&str; 5] = ["write", "read", "flush", "corruption", "generation"];

/// A UUID in its usual text form; all zeroes reads `<zero>`, as upstream's library prints it.
fn format_uuid(id: &[u8; 16]) -> String {
    if id.iter().all(|&b| b == 0) {
        return "<zero>".into();
    }
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The devices of each mounted filesystem by kernel filesystem id (hex, no dashes).
type Mounted = HashMap<String, Vec<ioctl::Device>>;

/// Asks every mounted Btrfs filesystem for its devices, once per filesystem. A mount point
/// that cannot be opened or asked is skipped (another mount of the same filesystem may
/// work), and logged at debug level as upstream does.
fn mounted(paths: &Paths) -> Result<Mounted, CollectorError> {
    let mut done: HashSet<String> = HashSet::new();
    let mut out = Mounted::new();
    for mount in mounts(paths)?.into_iter().filter(|m| m.fs_type == "btrfs") {
        if done.contains(&mount.source) {
            continue;
        }
        let path = paths.root(&mount.mount_point);
        let fs = match ioctl::Mounted::open(&path) {
            Ok(fs) => fs,
            Err(e) => {
                tracing::debug!(mountPoint = %path.display(), err = %e, "Error inspecting btrfs mountpoint");
                continue;
            }
        };
        let info = match fs.info() {
            Ok(info) => info,
            Err(e) => {
                tracing::debug!(mountPoint = %path.display(), err = %e, "Error querying btrfs filesystem");
                continue;
            }
        };
        let fsid: String = info.fsid.iter().map(|b| format!("{b:02x}")).collect();
        if out.contains_key(&fsid) {
            continue;
        }
        match fs.devices(&info) {
            Ok(devices) => {
                done.insert(mount.source);
                out.insert(fsid, devices);
            }
            Err(e) => {
                tracing::debug!(mountPoint = %path.display(), err = %e, "Error querying btrfs device stats");
            }
        }
    }
    Ok(out)
}

struct Btrfs(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Btrfs(s.paths.clone())))
}

impl Collector for Btrfs {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let filesystems = match sorted_entries(&self.0.sys("fs/btrfs")) {
            Err(e) if e.is_no_data() => Vec::new(),
            r => r?,
        };
        // Filesystems are the `*-*` entries (their UUIDs); `features` is not one.
        let filesystems: Vec<_> = filesystems
            .into_iter()
            .filter(|(n, _)| n.contains('-'))
            .collect();
        let mounted = if filesystems.is_empty() {
            Mounted::new()
        } else {
            mounted(&self.0).unwrap_or_else(|e| {
                tracing::debug!(err = %e, "Error querying btrfs device stats with ioctl");
                Mounted::new()
            })
        };
        let mut families = Families::new();
        for (_, dir) in &filesystems {
            families.filesystem(dir, &mounted)?;
        }
        out.extend(families.into_families().map(|f| f.into_family()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_and_commit_stats_as_upstream() {
        assert_eq!(ratio("raid5", 4), 4.0 / 3.0);
        assert_eq!(ratio("raid6", 4), 2.0);
        assert_eq!(ratio("dup", 1), 2.0);
        assert_eq!(ratio("unknown", 3), 0.0);
        assert_eq!(
            parse_commit_stats("commits 5\nlast_commit_ms 1000\nnew_field 9\n"),
            Ok([5, 1000, 0, 0])
        );
        assert!(parse_commit_stats("commits\n").is_err());
        assert!(parse_commit_stats("commits x\n").is_err());
    }

    #[test]
    fn uuids_print_as_upstream() {
        let id = [
            0x70, 0xe4, 0xce, 0xa0, 0x4c, 0xb2, 0x4f, 0x78, 0x9b, 0x86, 0xc4, 0x94, 0x6b, 0x74,
            0x69, 0xc8,
        ];
        assert_eq!(format_uuid(&id), "70e4cea0-4cb2-4f78-9b86-c4946b7469c8");
        assert_eq!(format_uuid(&[0; 16]), "<zero>");
    }
}
