//! `mdadm`: Linux software RAID state from `/proc/mdstat` (disks, sync progress) and
//! `/sys/block/md*/md` (configured and degraded disks).

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family};
use crate::paths::{Paths, sorted_entries, sys_read};

static STATUS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d+) blocks .*\[(\d+)/(\d+)\] \[([U_]+)\]").expect("valid regex")
});
static RECOVERY_BLOCKS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\((\d+/\d+)\)").expect("valid regex"));
static RECOVERY_PCT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"= (.+)%").expect("valid regex"));
static RECOVERY_FINISH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"finish=(.+)min").expect("valid regex"));
static RECOVERY_SPEED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"speed=(.+)[A-Z]").expect("valid regex"));

/// One array of `/proc/mdstat`.
#[derive(Debug, PartialEq)]
struct MdStat {
    name: String,
    state: String,
    active: i64,
    total: i64,
    failed: i64,
    spare: i64,
    blocks: i64,
    synced: i64,
}

/// Active, total and size from an array's first two lines.
fn status(device_line: &str, status_line: &str) -> Result<(i64, i64, i64), String> {
    let size = status_line
        .split_whitespace()
        .next()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| format!("Unexpected statusline {status_line:?}"))?;
    if device_line.contains("raid0") || device_line.contains("linear") {
        let total = device_line.matches('[').count() as i64;
        return Ok((total, total, size));
    }
    if device_line.contains("inactive") {
        return Ok((0, 0, size));
    }
    let c = STATUS
        .captures(status_line)
        .ok_or_else(|| format!("Could not find all substring matches {status_line}"))?;
    let total = c[2].parse().map_err(|_| format!("total {:?}", &c[2]))?;
    let active = c[3].parse().map_err(|_| format!("active {:?}", &c[3]))?;
    Ok((active, total, size))
}

/// Blocks synced from a recovery/resync/check line; the other fields must parse, too.
fn recovery_synced(line: &str) -> Result<i64, String> {
    let blocks = RECOVERY_BLOCKS
        .captures(line)
        .ok_or_else(|| format!("Unexpected recoveryLine blocks {line}"))?;
    let (done, _) = blocks[1].split_once('/').unwrap_or((&blocks[1], ""));
    let done = done
        .parse()
        .map_err(|_| format!("Unable to parse recovery blocks synced {:?}", &blocks[1]))?;
    for (re, what) in [
        (&*RECOVERY_PCT, "percentage"),
        (&*RECOVERY_FINISH, "est. finish time"),
        (&*RECOVERY_SPEED, "speed"),
    ] {
        let c = re
            .captures(line)
            .ok_or_else(|| format!("Unexpected recoveryLine matching {what}: {line}"))?;
        c[1].trim()
            .parse::<f64>()
            .map_err(|_| format!("Error parsing float ({what}) from recoveryLine {line:?}"))?;
    }
    Ok(done)
}

fn parse_mdstat(text: &str) -> Result<Vec<MdStat>, String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut known = HashSet::new();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() || line.starts_with(' ') || line.starts_with("unused") {
            continue;
        }
        if known.is_empty()
            && let Some(rest) = line.strip_prefix("Personalities : ")
        {
            for word in rest.split_whitespace() {
                known.insert(word.get(1..word.len().saturating_sub(1)).unwrap_or(""));
            }
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 3 {
            return Err(format!("Expected 3+ lines, got {line:?}"));
        }
        let name = fields[0];
        let mut state = fields[2].to_owned();
        if lines.len() <= i + 3 {
            return Err(format!("Too few lines for md device: {name:?}"));
        }
        let failed = line.matches("(F)").count() as i64;
        let spare = line.matches("(S)").count() as i64;
        let (active, total, size) = status(line, lines[i + 1])?;
        let sync_idx = if lines[i + 2].contains("bitmap") {
            i + 3
        } else {
            i + 2
        };
        let sync = lines[sync_idx];
        let mut synced = size;
        let activity = [
            ("recovery", "recovering"),
            ("reshape", "reshaping"),
            ("check", "checking"),
            ("resync", "resyncing"),
        ]
        .into_iter()
        .find(|(word, _)| sync.contains(word));
        if let Some((_, s)) = activity {
            state = s.to_owned();
            synced = if sync.contains("PENDING") || sync.contains("DELAYED") {
                0
            } else {
                recovery_synced(sync)
                    .map_err(|e| format!("Cannot parse sync line in md device {name:?}: {e}"))?
            };
        }
        out.push(MdStat {
            name: name.to_owned(),
            state,
            active,
            total,
            failed,
            spare,
            blocks: size,
            synced,
        });
    }
    Ok(out)
}

struct Mdadm(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Mdadm(s.paths.clone())))
}

/// `raid_disks` and `degraded` of each array under `/sys/block/md*/md`.
fn sysfs_arrays(paths: &Paths) -> Result<Vec<(String, Option<u64>, u64)>, CollectorError> {
    let mut out = Vec::new();
    for (name, dir) in sorted_entries(&paths.sys("block"))? {
        let md = dir.join("md");
        if !name.starts_with("md") || !md.exists() {
            continue;
        }
        let attr = |f: &str| {
            let p = md.join(f);
            sys_read(&p).map_err(|e| CollectorError::io(p, e))
        };
        let level = attr("level")?;
        attr("array_state")?;
        attr("metadata_version")?;
        let disks = match level.as_str() {
            "" | "container" | "imsm" | "ddf" => None,
            _ => {
                let raw = attr("raid_disks")?;
                let first = raw.split(' ').next().unwrap_or("");
                raw.parse().ok().or_else(|| first.parse().ok())
            }
        };
        attr("uuid")?;
        let degraded = match level.as_str() {
            "raid1" | "raid4" | "raid5" | "raid6" | "raid10" => {
                let raw = attr("degraded")?;
                raw.parse()
                    .map_err(|_| CollectorError::parse(md.join("degraded"), raw))?
            }
            _ => 0,
        };
        out.push((name, disks, degraded));
    }
    Ok(out)
}

impl Collector for Mdadm {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.0.proc("mdstat");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CollectorError::NoData(
                    "Not collecting mdstat, file does not exist".into(),
                ));
            }
            Err(e) => return Err(CollectorError::io(path, e)),
        };
        let stats = parse_mdstat(&text).map_err(|r| CollectorError::parse(&path, r))?;
        let mut required =
            gauge_family("node_md_disks_required", "Total number of disks of device.");
        let mut disks = gauge_family(
            "node_md_disks",
            "Number of active/failed/spare disks of device.",
        );
        let mut state = gauge_family("node_md_state", "Indicates the state of md-device.");
        let mut blocks = gauge_family("node_md_blocks", "Total number of blocks on device.");
        let mut synced = gauge_family(
            "node_md_blocks_synced",
            "Number of blocks synced on device.",
        );
        for md in &stats {
            let dev = md.name.as_str();
            required.push(&[("device", dev)], md.total as f64);
            for (s, v) in [
                ("active", md.active),
                ("failed", md.failed),
                ("spare", md.spare),
            ] {
                disks.push(&[("device", dev), ("state", s)], v as f64);
            }
            for (label, source) in [
                ("active", "active"),
                ("inactive", "inactive"),
                ("recovering", "recovering"),
                ("resync", "resyncing"),
                ("check", "checking"),
            ] {
                let v = if md.state == source { 1.0 } else { 0.0 };
                state.push(&[("device", dev), ("state", label)], v);
            }
            blocks.push(&[("device", dev)], md.blocks as f64);
            synced.push(&[("device", dev)], md.synced as f64);
        }
        for f in [required, disks, state, blocks, synced] {
            out.push(f.into_family());
        }
        let arrays = match sysfs_arrays(&self.0) {
            Err(e) if e.is_no_data() => {
                return Err(CollectorError::NoData(
                    "Not collecting mdraids, file does not exist".into(),
                ));
            }
            r => r?,
        };
        let mut raid_disks = gauge_family("node_md_raid_disks", "Number of raid disks on device.");
        let mut degraded = gauge_family("node_md_degraded", "Number of degraded disks on device.");
        for (dev, n, d) in &arrays {
            if let Some(n) = n {
                raid_disks.push(&[("device", dev)], *n as f64);
            }
            degraded.push(&[("device", dev)], *d as f64);
        }
        out.push(raid_disks.into_family());
        out.push(degraded.into_family());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arrays_with_recovery_and_bitmap() {
        let text = "Personalities : [raid1] [raid6]\n\
md0 : active raid1 sdb1[1] sda1[0](F) sdc1[2](S)\n      100 blocks [2/1] [U_]\n      bitmap: 0/1 pages\n      [=>...]  recovery = 12.6% (20/100) finish=1.0min speed=100K/sec\n\n\
md1 : inactive sdd[0](S)\n      50 blocks\n\n\n";
        let md = parse_mdstat(text).unwrap();
        assert_eq!(md.len(), 2);
        assert_eq!(md[0].state, "recovering");
        assert_eq!(
            (md[0].active, md[0].total, md[0].failed, md[0].spare),
            (1, 2, 1, 1)
        );
        assert_eq!((md[0].blocks, md[0].synced), (100, 20));
        assert_eq!(md[1].state, "inactive");
        assert_eq!((md[1].active, md[1].total, md[1].blocks), (0, 0, 50));
    }
}
