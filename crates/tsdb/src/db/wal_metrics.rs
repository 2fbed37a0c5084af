//! The `prometheus_tsdb_wal_*`, `prometheus_tsdb_out_of_order_wbl_*` and checkpoint families,
//! under upstream's names and help texts.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use pm_common::expfmt::dto;
use pm_common::metrics::{ConstFamily, ConstKind};

use super::Shared;
use super::maintenance::dir_size;
use crate::wal::{Compression, WalMetrics};

fn push(out: &mut Vec<dto::MetricFamily>, name: &str, help: &str, kind: ConstKind, v: f64) {
    out.push(
        ConstFamily::new(name, help, kind)
            .with(&[], v)
            .into_family(),
    );
}

fn counter(out: &mut Vec<dto::MetricFamily>, name: &str, help: &str, v: &AtomicU64) {
    let v = v.load(Ordering::Relaxed) as f64;
    push(out, name, help, ConstKind::Counter, v);
}

/// Upstream's fsync summary has quantile objectives; this one reports count and sum only.
fn fsync_summary(name: &str, m: &WalMetrics) -> dto::MetricFamily {
    dto::MetricFamily {
        name: Some(name.into()),
        help: Some("Duration of write log fsync.".into()),
        r#type: Some(dto::MetricType::Summary as i32),
        metric: vec![dto::Metric {
            summary: Some(dto::Summary {
                sample_count: Some(m.fsyncs.load(Ordering::Relaxed)),
                sample_sum: Some(m.fsync_seconds()),
                ..Default::default()
            }),
            ..Default::default()
        }],
        unit: None,
    }
}

pub(super) fn collect(db: &Shared, out: &mut Vec<dto::MetricFamily>) {
    let hs = db.head.stats();
    counter(
        out,
        "prometheus_tsdb_wal_corruptions_total",
        "Total number of WAL corruptions.",
        &hs.wal_corruptions,
    );
    counter(
        out,
        "prometheus_tsdb_checkpoint_creations_total",
        "Total number of checkpoint creations attempted.",
        &hs.checkpoint_creations,
    );
    counter(
        out,
        "prometheus_tsdb_checkpoint_creations_failed_total",
        "Total number of checkpoint creations that failed.",
        &hs.checkpoint_creations_failed,
    );
    let compression = db.opts.wal_compression;
    if let Some(m) = db.head.wal_metrics() {
        log_families(
            out,
            "prometheus_tsdb_wal_",
            m,
            &db.dir.join("wal"),
            compression,
        );
    }
    if let Some(m) = db.head.wbl_metrics() {
        let prefix = "prometheus_tsdb_out_of_order_wbl_";
        log_families(out, prefix, m, &db.dir.join("wbl"), compression);
    }
}

/// One log's families (the WAL's or the write-behind log's: upstream registers the same set
/// under each prefix).
fn log_families(
    out: &mut Vec<dto::MetricFamily>,
    prefix: &str,
    m: &WalMetrics,
    dir: &Path,
    compression: Compression,
) {
    let name = |suffix: &str| format!("{prefix}{suffix}");
    out.push(fsync_summary(&name("fsync_duration_seconds"), m));
    let counters = [
        (
            "page_flushes_total",
            "Total number of page flushes.",
            &m.page_flushes,
        ),
        (
            "completed_pages_total",
            "Total number of completed pages.",
            &m.completed_pages,
        ),
        (
            "truncations_failed_total",
            "Total number of write log truncations that failed.",
            &m.truncations_failed,
        ),
        (
            "truncations_total",
            "Total number of write log truncations attempted.",
            &m.truncations,
        ),
        (
            "writes_failed_total",
            "Total number of write log writes that failed.",
            &m.writes_failed,
        ),
        (
            "record_part_writes_total",
            "Total number of record parts written before flushing.",
            &m.record_part_writes,
        ),
        (
            "record_parts_bytes_written_total",
            "Total number of record part bytes written before flushing, including CRC and compression headers.",
            &m.record_parts_bytes,
        ),
    ];
    for (suffix, help, v) in counters {
        counter(out, &name(suffix), help, v);
    }
    if compression == Compression::Snappy {
        out.push(
            ConstFamily::new(
                name("record_bytes_saved_total"),
                "Total number of bytes saved by the optional record compression. Use this metric to learn about the effectiveness compression.",
                ConstKind::Counter,
            )
            .with(
                &[("compression", "snappy")],
                m.record_bytes_saved.load(Ordering::Relaxed) as f64,
            )
            .into_family(),
        );
    }
    push(
        out,
        &name("segment_current"),
        "Write log segment index that TSDB is currently writing to.",
        ConstKind::Gauge,
        m.segment_current.load(Ordering::Relaxed) as f64,
    );
    push(
        out,
        &name("storage_size_bytes"),
        "Size of the write log directory.",
        ConstKind::Gauge,
        dir_size(dir) as f64,
    );
}
