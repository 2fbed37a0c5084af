//! `diskstats`: block device I/O counters from `/proc/diskstats`, enriched with the udev
//! database (model, serial, file system, device mapper and ATA properties) and the queue's
//! rotational flag from sysfs.

use std::collections::HashMap;
use std::path::Path;

use pm_common::metrics::ConstFamily;

use crate::cli::{DeviceFilter, Settings};
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter_family, gauge_family};
use crate::paths::{Paths, read, read_trimmed};

/// Partitions and virtual devices whose counters duplicate their parent's.
const DEFAULT_EXCLUDE: &str = r"^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$";

/// Kernel block-layer ticks are milliseconds.
const SECONDS_PER_TICK: f64 = 1.0 / 1000.0;
/// `/proc/diskstats` counts 512-byte sectors whatever the device's block size.
const SECTOR_BYTES: f64 = 512.0;

/// The counters in `/proc/diskstats` column order: name, help, scale, whether a counter.
const STATS: &[(&str, &str, f64, bool)] = &[
    (
        "reads_completed_total",
        "The total number of reads completed successfully.",
        1.0,
        true,
    ),
    (
        "reads_merged_total",
        "The total number of reads merged.",
        1.0,
        true,
    ),
    (
        "read_bytes_total",
        "The total number of bytes read successfully.",
        SECTOR_BYTES,
        true,
    ),
    (
        "read_time_seconds_total",
        "The total number of seconds spent by all reads.",
        SECONDS_PER_TICK,
        true,
    ),
    (
        "writes_completed_total",
        "The total number of writes completed successfully.",
        1.0,
        true,
    ),
    (
        "writes_merged_total",
        "The number of writes merged.",
        1.0,
        true,
    ),
    (
        "written_bytes_total",
        "The total number of bytes written successfully.",
        SECTOR_BYTES,
        true,
    ),
    (
        "write_time_seconds_total",
        "This is the total number of seconds spent by all writes.",
        SECONDS_PER_TICK,
        true,
    ),
    (
        "io_now",
        "The number of I/Os currently in progress.",
        1.0,
        false,
    ),
    (
        "io_time_seconds_total",
        "Total seconds spent doing I/Os.",
        SECONDS_PER_TICK,
        true,
    ),
    (
        "io_time_weighted_seconds_total",
        "The weighted # of seconds spent doing I/Os.",
        SECONDS_PER_TICK,
        true,
    ),
    (
        "discards_completed_total",
        "The total number of discards completed successfully.",
        1.0,
        true,
    ),
    (
        "discards_merged_total",
        "The total number of discards merged.",
        1.0,
        true,
    ),
    (
        "discarded_sectors_total",
        "The total number of sectors discarded successfully.",
        1.0,
        true,
    ),
    (
        "discard_time_seconds_total",
        "This is the total number of seconds spent by all discards.",
        SECONDS_PER_TICK,
        true,
    ),
    (
        "flush_requests_total",
        "The total number of flush requests completed successfully",
        1.0,
        true,
    ),
    (
        "flush_requests_time_seconds_total",
        "This is the total number of seconds spent by all flush requests.",
        SECONDS_PER_TICK,
        true,
    ),
];

/// The udev properties exported as ATA gauges.
const ATA: &[(&str, &str, &str)] = &[
    (
        "ID_ATA_WRITE_CACHE",
        "ata_write_cache",
        "ATA disk has a write cache.",
    ),
    (
        "ID_ATA_WRITE_CACHE_ENABLED",
        "ata_write_cache_enabled",
        "ATA disk has its write cache enabled.",
    ),
    (
        "ID_ATA_ROTATION_RATE_RPM",
        "ata_rotation_rate_rpm",
        "ATA disk rotation rate in RPMs (0 for SSDs).",
    ),
];

struct Diskstats {
    paths: Paths,
    filter: DeviceFilter,
    /// False when the udev data directory is unreadable: no lookups per device then.
    udev: bool,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    let include = s.flags.diskstats_device_include.as_deref();
    let exclude = s
        .flags
        .diskstats_device_exclude
        .as_deref()
        .or(match include {
            Some(i) if !i.is_empty() => None,
            _ => Some(DEFAULT_EXCLUDE),
        });
    let udev = s.paths.udev_data.is_dir();
    if !udev {
        tracing::error!(
            path = %s.paths.udev_data.display(),
            "Failed to open directory, disabling udev device properties"
        );
    }
    Ok(Box::new(Diskstats {
        paths: s.paths.clone(),
        filter: DeviceFilter::new(
            ("collector.diskstats.device-include", include),
            ("collector.diskstats.device-exclude", exclude),
        )?,
        udev,
    }))
}

/// One line of `/proc/diskstats`: major, minor, name and 11, 15 or 17 counters.
struct Line<'a> {
    major: &'a str,
    minor: &'a str,
    device: &'a str,
    stats: Vec<f64>,
}

/// Parses the lines the kernel writes; like upstream, a line with fewer than the 11 classic
/// counters is skipped and a number that does not parse ends that line's counters.
fn parse(text: &str) -> Vec<Line<'_>> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let major = fields.next()?;
            let minor = fields.next()?;
            let device = fields.next()?;
            if major.parse::<u32>().is_err() || minor.parse::<u32>().is_err() {
                return None;
            }
            let stats: Vec<f64> = fields
                .take(STATS.len())
                .map_while(|f| f.parse::<u64>().ok().map(|v| v as f64))
                .collect();
            (stats.len() >= 11).then_some(Line {
                major,
                minor,
                device,
                stats,
            })
        })
        .collect()
}

/// The `E:` properties of a device in the udev database (`b<major>:<minor>`).
fn udev_properties(dir: &Path, major: &str, minor: &str) -> HashMap<String, String> {
    let path = dir.join(format!("b{major}:{minor}"));
    let Ok(text) = std::fs::read_to_string(&path) else {
        tracing::debug!(path = %path.display(), "Failed to parse udev info");
        return HashMap::new();
    };
    text.lines()
        .filter_map(|l| l.strip_prefix("E:")?.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

struct Families {
    info: ConstFamily,
    stats: Vec<ConstFamily>,
    filesystem: ConstFamily,
    device_mapper: ConstFamily,
    ata: Vec<ConstFamily>,
}

impl Families {
    fn new() -> Self {
        let name = |n: &str| format!("node_disk_{n}");
        Self {
            info: gauge_family(name("info"), "Info of /sys/block/<block_device>."),
            stats: STATS
                .iter()
                .map(|(n, help, _, is_counter)| {
                    if *is_counter {
                        counter_family(name(n), *help)
                    } else {
                        gauge_family(name(n), *help)
                    }
                })
                .collect(),
            filesystem: gauge_family(name("filesystem_info"), "Info about disk filesystem."),
            device_mapper: gauge_family(
                name("device_mapper_info"),
                "Info about disk device mapper.",
            ),
            ata: ATA
                .iter()
                .map(|(_, n, help)| gauge_family(name(n), *help))
                .collect(),
        }
    }

    fn into_out(self, out: &mut Out) {
        out.push(self.info.into_family());
        out.extend(self.stats.into_iter().map(ConstFamily::into_family));
        out.push(self.filesystem.into_family());
        out.push(self.device_mapper.into_family());
        out.extend(self.ata.into_iter().map(ConstFamily::into_family));
    }
}

impl Diskstats {
    /// "1" for a rotational queue, "0" otherwise, including when sysfs has no queue.
    fn rotational(&self, device: &str) -> &'static str {
        let path = self.paths.sys(&format!("block/{device}/queue/rotational"));
        match read_trimmed(&path).ok().and_then(|s| s.parse::<u64>().ok()) {
            Some(1) => "1",
            _ => "0",
        }
    }

    fn device(&self, f: &mut Families, line: &Line<'_>) {
        let dev = line.device;
        let udev = if self.udev {
            udev_properties(&self.paths.udev_data, line.major, line.minor)
        } else {
            HashMap::new()
        };
        let prop = |k: &str| udev.get(k).map_or("", String::as_str);
        let serial = ["SCSI_IDENT_SERIAL", "ID_SERIAL_SHORT", "ID_SERIAL"]
            .into_iter()
            .map(prop)
            .find(|s| !s.is_empty())
            .unwrap_or("");
        f.info.push(
            &[
                ("device", dev),
                ("major", line.major),
                ("minor", line.minor),
                ("path", prop("ID_PATH")),
                ("wwn", prop("ID_WWN")),
                ("model", prop("ID_MODEL")),
                ("serial", serial),
                ("revision", prop("ID_REVISION")),
                ("rotational", self.rotational(dev)),
            ],
            1.0,
        );
        for ((family, (_, _, scale, _)), v) in f.stats.iter_mut().zip(STATS).zip(&line.stats) {
            family.push(&[("device", dev)], v * scale);
        }
        let fs_type = prop("ID_FS_TYPE");
        if !fs_type.is_empty() {
            f.filesystem.push(
                &[
                    ("device", dev),
                    ("type", fs_type),
                    ("usage", prop("ID_FS_USAGE")),
                    ("uuid", prop("ID_FS_UUID")),
                    ("version", prop("ID_FS_VERSION")),
                ],
                1.0,
            );
        }
        let dm_name = prop("DM_NAME");
        if !dm_name.is_empty() {
            f.device_mapper.push(
                &[
                    ("device", dev),
                    ("name", dm_name),
                    ("uuid", prop("DM_UUID")),
                    ("vg_name", prop("DM_VG_NAME")),
                    ("lv_name", prop("DM_LV_NAME")),
                    ("lv_layer", prop("DM_LV_LAYER")),
                ],
                1.0,
            );
        }
        if !prop("ID_ATA").is_empty() {
            for (family, (key, _, _)) in f.ata.iter_mut().zip(ATA) {
                let Some(raw) = udev.get(*key) else { continue };
                match raw.parse::<f64>() {
                    Ok(v) => family.push(&[("device", dev)], v),
                    Err(e) => {
                        tracing::error!(attribute = key, err = %e, "Failed to parse ATA value")
                    }
                }
            }
        }
    }
}

impl Collector for Diskstats {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let text = read(&self.paths.proc("diskstats"))?;
        let mut families = Families::new();
        for line in parse(&text)
            .iter()
            .filter(|l| !self.filter.ignored(l.device))
        {
            self.device(&mut families, line);
        }
        families.into_out(out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_classic_and_extended_lines() {
        let lines = parse(
            "   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n 8 16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n 1 0 short 1 2 3\n",
        );
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].stats.len(), 11);
        assert_eq!(lines[1].stats.len(), 17);
        assert_eq!(lines[1].device, "sdb");
    }

    #[test]
    fn default_exclude_drops_partitions_only() {
        let s = Settings::with_paths(Paths::default());
        let f = DeviceFilter::new(
            ("i", s.flags.diskstats_device_include.as_deref()),
            ("e", Some(DEFAULT_EXCLUDE)),
        )
        .unwrap();
        assert!(f.ignored("sda1"));
        assert!(f.ignored("nvme0n1p2"));
        assert!(!f.ignored("nvme0n1"));
        assert!(!f.ignored("mmcblk0p1"));
        assert!(!f.ignored("dm-0"));
    }
}
