//! `zoneinfo`: per-node, per-zone page statistics from /proc/zoneinfo.

use std::collections::BTreeMap;

use pm_common::metrics::ConstFamily;
use pm_common::metrics::ConstKind::{self, Counter, Gauge};

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::Out;
use crate::paths::{Paths, parse_go_int, read};

struct Zoneinfo(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Zoneinfo(s.paths.clone())))
}

/// The zone fields upstream reports: file key, metric suffix, kind and help text.
const FIELDS: [(&str, &str, ConstKind, &str); 34] = [
    (
        "nr_free_pages",
        "nr_free_pages",
        Gauge,
        "Total number of free pages in the zone",
    ),
    ("min", "min_pages", Gauge, "Zone watermark pages_min"),
    ("low", "low_pages", Gauge, "Zone watermark pages_low"),
    ("high", "high_pages", Gauge, "Zone watermark pages_high"),
    (
        "scanned",
        "scanned_pages",
        Gauge,
        "Pages scanned since last reclaim",
    ),
    (
        "spanned",
        "spanned_pages",
        Gauge,
        "Total pages spanned by the zone, including holes",
    ),
    (
        "present",
        "present_pages",
        Gauge,
        "Physical pages existing within the zone",
    ),
    (
        "managed",
        "managed_pages",
        Gauge,
        "Present pages managed by the buddy system",
    ),
    (
        "nr_active_anon",
        "nr_active_anon_pages",
        Gauge,
        "Number of anonymous pages recently more used",
    ),
    (
        "nr_inactive_anon",
        "nr_inactive_anon_pages",
        Gauge,
        "Number of anonymous pages recently less used",
    ),
    (
        "nr_isolated_anon",
        "nr_isolated_anon_pages",
        Gauge,
        "Temporary isolated pages from anon lru",
    ),
    (
        "nr_anon_pages",
        "nr_anon_pages",
        Gauge,
        "Number of anonymous pages currently used by the system",
    ),
    (
        "nr_anon_transparent_hugepages",
        "nr_anon_transparent_hugepages",
        Gauge,
        "Number of anonymous transparent huge pages currently used by the system",
    ),
    (
        "nr_active_file",
        "nr_active_file_pages",
        Gauge,
        "Number of active pages with file-backing",
    ),
    (
        "nr_inactive_file",
        "nr_inactive_file_pages",
        Gauge,
        "Number of inactive pages with file-backing",
    ),
    (
        "nr_isolated_file",
        "nr_isolated_file_pages",
        Gauge,
        "Temporary isolated pages from file lru",
    ),
    (
        "nr_file_pages",
        "nr_file_pages",
        Gauge,
        "Number of file pages",
    ),
    (
        "nr_slab_reclaimable",
        "nr_slab_reclaimable_pages",
        Gauge,
        "Number of reclaimable slab pages",
    ),
    (
        "nr_slab_unreclaimable",
        "nr_slab_unreclaimable_pages",
        Gauge,
        "Number of unreclaimable slab pages",
    ),
    (
        "nr_mlock_stack",
        "nr_mlock_stack_pages",
        Gauge,
        "mlock()ed pages found and moved off LRU",
    ),
    (
        "nr_kernel_stack",
        "nr_kernel_stacks",
        Gauge,
        "Number of kernel stacks",
    ),
    (
        "nr_mapped",
        "nr_mapped_pages",
        Gauge,
        "Number of mapped pages",
    ),
    ("nr_dirty", "nr_dirty_pages", Gauge, "Number of dirty pages"),
    (
        "nr_writeback",
        "nr_writeback_pages",
        Gauge,
        "Number of writeback pages",
    ),
    (
        "nr_unevictable",
        "nr_unevictable_pages",
        Gauge,
        "Number of unevictable pages",
    ),
    (
        "nr_shmem",
        "nr_shmem_pages",
        Gauge,
        "Number of shmem pages (included tmpfs/GEM pages)",
    ),
    (
        "nr_dirtied",
        "nr_dirtied_total",
        Counter,
        "Page dirtyings since bootup",
    ),
    (
        "nr_written",
        "nr_written_total",
        Counter,
        "Page writings since bootup",
    ),
    (
        "numa_hit",
        "numa_hit_total",
        Counter,
        "Allocated in intended node",
    ),
    (
        "numa_miss",
        "numa_miss_total",
        Counter,
        "Allocated in non intended node",
    ),
    (
        "numa_foreign",
        "numa_foreign_total",
        Counter,
        "Was intended here, hit elsewhere",
    ),
    (
        "numa_interleave",
        "numa_interleave_total",
        Counter,
        "Interleaver preferred this zone",
    ),
    (
        "numa_local",
        "numa_local_total",
        Counter,
        "Allocation from local node",
    ),
    (
        "numa_other",
        "numa_other_total",
        Counter,
        "Allocation from other node",
    ),
];

/// One zone: node, zone name, the known fields found (by index into [`FIELDS`]) and the
/// protection array.
#[derive(Debug, Default, PartialEq)]
struct Zone<'a> {
    node: &'a str,
    zone: &'a str,
    fields: BTreeMap<usize, i64>,
    protection: Vec<i64>,
}

/// `<digits>, zone <word>` anywhere in a line: the node and zone of the block.
fn node_zone(line: &str) -> Option<(&str, &str)> {
    let at = line.find(", zone")?;
    let node_start = line[..at]
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let node = &line[node_start..at];
    let rest = &line[at + ", zone".len()..];
    let trimmed = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if node.is_empty() || trimmed.len() == rest.len() {
        return None;
    }
    let end = trimmed
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(trimmed.len());
    (end > 0).then(|| (node, &trimmed[..end]))
}

/// `protection: (0, 2039, 31932)`; unparsable arrays are left out, as procfs does.
fn protection(line: &str) -> Option<Vec<i64>> {
    let values = line
        .split(':')
        .nth(1)?
        .replacen('(', "", 1)
        .replacen(')', "", 1);
    values.trim().split(", ").map(|v| v.parse().ok()).collect()
}

/// Splits the file into zone blocks (each begins at a line starting with `Node`).
fn parse(text: &str) -> Vec<Zone<'_>> {
    text.split("\nNode")
        .map(|block| {
            let mut zone = Zone::default();
            for line in block.split('\n') {
                if let Some((node, name)) = node_zone(line) {
                    (zone.node, zone.zone) = (node, name);
                    continue;
                }
                let parts: Vec<&str> = line.split_whitespace().collect();
                if parts.len() < 2 || parts[0] == "per-node" {
                    continue;
                }
                if parts[0] == "protection:" {
                    if let Some(p) = protection(line) {
                        zone.protection = p;
                    }
                } else if let Some(i) = FIELDS.iter().position(|f| f.0 == parts[0]) {
                    // An unparsable value reads as 0 in procfs.
                    zone.fields.insert(i, parse_go_int(parts[1]).unwrap_or(0));
                }
            }
            zone
        })
        .collect()
}

impl Collector for Zoneinfo {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.0.proc("zoneinfo");
        let text = read(&path)?;
        let mut families: BTreeMap<String, ConstFamily> = BTreeMap::new();
        let mut add = |name: String, kind, help: String, labels: &[(&str, &str)], v: f64| {
            families
                .entry(name.clone())
                .or_insert_with(|| ConstFamily::new(format!("node_zoneinfo_{name}"), help, kind))
                .push(labels, v);
        };
        for zone in parse(&text) {
            let labels = [("node", zone.node), ("zone", zone.zone)];
            for (&i, &v) in &zone.fields {
                let (_, suffix, kind, help) = FIELDS[i];
                add(suffix.into(), kind, help.into(), &labels, v as f64);
            }
            for (i, &v) in zone.protection.iter().enumerate() {
                add(
                    format!("protection_{i}"),
                    Gauge,
                    format!("Protection array {i}. field"),
                    &labels,
                    v as f64,
                );
            }
        }
        out.extend(families.into_values().map(ConstFamily::into_family));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_node_and_zone() {
        assert_eq!(node_zone("Node 0, zone      DMA"), Some(("0", "DMA")));
        assert_eq!(node_zone(" 12, zone Normal"), Some(("12", "Normal")));
        assert_eq!(node_zone("Node x, zone DMA"), None);
        assert_eq!(node_zone("  nr_free_pages 3"), None);
    }

    #[test]
    fn parses_blocks() {
        let text = "Node 0, zone      DMA\n  per-node stats\n      nr_inactive_anon 230981\n  \
                    pages free     2949\n        min      8\n        nr_free_pages 2949\n        \
                    protection: (0, 2039, 31932)\nNode 0, zone    DMA32\n  high 0x10\n  low bad\n  \
                    protection: (0, x)\n";
        let zones = parse(text);
        assert_eq!(zones.len(), 2);
        let dma = &zones[0];
        assert_eq!((dma.node, dma.zone), ("0", "DMA"));
        assert_eq!(dma.fields.len(), 3);
        assert_eq!(dma.fields[&0], 2949);
        assert_eq!(dma.protection, [0, 2039, 31932]);
        let dma32 = &zones[1];
        assert_eq!(dma32.zone, "DMA32");
        assert_eq!(dma32.fields[&3], 16);
        assert_eq!(dma32.fields[&2], 0);
        assert!(dma32.protection.is_empty());
    }
}
