//! `ksmd`: kernel same-page merging statistics from /sys/kernel/mm/ksm.

use std::io;

use pm_common::metrics::ConstKind;

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, single};
use crate::paths::{Paths, read_u64};

struct Ksmd(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Ksmd(s.paths.clone())))
}

/// Each file, its metric, kind, help text (the kernel's KSM documentation) and the factor
/// to its unit.
const FILES: &[(&str, &str, ConstKind, &str, f64)] = &[
    (
        "full_scans",
        "full_scans_total",
        ConstKind::Counter,
        "How many times all mergeable areas have been scanned.",
        1.0,
    ),
    (
        "general_profit",
        "general_profit_bytes",
        ConstKind::Gauge,
        "How effective is KSM. ksm_saved_pages * sizeof(page) - (all_rmap_items) * sizeof(rmap_item)",
        1.0,
    ),
    (
        "merge_across_nodes",
        "merge_across_nodes",
        ConstKind::Gauge,
        "Specifies if pages from different NUMA nodes can be merged.",
        1.0,
    ),
    (
        "pages_shared",
        "pages_shared",
        ConstKind::Gauge,
        "How many shared pages are being used.",
        1.0,
    ),
    (
        "pages_sharing",
        "pages_sharing",
        ConstKind::Gauge,
        "How many more sites are sharing them i.e. how much saved.",
        1.0,
    ),
    (
        "pages_to_scan",
        "pages_to_scan",
        ConstKind::Gauge,
        "How many pages to scan before ksmd goes to sleep.",
        1.0,
    ),
    (
        "pages_unshared",
        "pages_unshared",
        ConstKind::Gauge,
        "How many pages unique but repeatedly checked for merging.",
        1.0,
    ),
    (
        "pages_volatile",
        "pages_volatile",
        ConstKind::Gauge,
        "How many pages changing too fast to be placed in a tree.",
        1.0,
    ),
    (
        "run",
        "run",
        ConstKind::Gauge,
        "The status of ksmd. stopped = 0, running = 1",
        1.0,
    ),
    (
        "sleep_millisecs",
        "sleep_seconds",
        ConstKind::Gauge,
        "How many seconds ksmd should sleep before next scan.",
        0.001,
    ),
];

impl Collector for Ksmd {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let dir = self.0.sys("kernel/mm/ksm");
        for (file, metric, kind, help, factor) in FILES {
            let v = match read_u64(&dir.join(file)) {
                Ok(v) => v,
                // Older kernels lack some of the files (general_profit came in 6.1).
                Err(CollectorError::Io { source, .. })
                    if source.kind() == io::ErrorKind::NotFound =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            };
            single(
                out,
                *kind,
                format!("node_ksmd_{metric}"),
                help,
                v as f64 * factor,
            );
        }
        Ok(())
    }
}
