//! The `prometheus_tsdb_wal_*` and checkpoint families, under upstream's names and help texts.

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
fn fsync_summary(m: &WalMetrics) -> dto::MetricFamily {
    dto::MetricFamily {
        name: Some("prometheus_tsdb_wal_fsync_duration_seconds".into()),
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
    let Some(m) = db.head.wal_metrics() else {
        return;
    };
    out.push(fsync_summary(m));
    counter(
        out,
        "prometheus_tsdb_wal_page_flushes_total",
        "Total number of page flushes.",
        &m.page_flushes,
    );
    counter(
        out,
        "prometheus_tsdb_wal_completed_pages_total",
        "Total number of completed pages.",
        &m.completed_pages,
    );
    counter(
        out,
        "prometheus_tsdb_wal_truncations_failed_total",
        "Total number of write log truncations that failed.",
        &m.truncations_failed,
    );
    counter(
        out,
        "prometheus_tsdb_wal_truncations_total",
        "Total number of write log truncations attempted.",
        &m.truncations,
    );
    counter(
        out,
        "prometheus_tsdb_wal_writes_failed_total",
        "Total number of write log writes that failed.",
        &m.writes_failed,
    );
    counter(
        out,
        "prometheus_tsdb_wal_record_part_writes_total",
        "Total number of record parts written before flushing.",
        &m.record_part_writes,
    );
    counter(
        out,
        "prometheus_tsdb_wal_record_parts_bytes_written_total",
        "Total number of record part bytes written before flushing, including CRC and compression headers.",
        &m.record_parts_bytes,
    );
    if db.opts.wal_compression == Compression::Snappy {
        out.push(
            ConstFamily::new(
                "prometheus_tsdb_wal_record_bytes_saved_total",
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
        "prometheus_tsdb_wal_segment_current",
        "Write log segment index that TSDB is currently writing to.",
        ConstKind::Gauge,
        m.segment_current.load(Ordering::Relaxed) as f64,
    );
    push(
        out,
        "prometheus_tsdb_wal_storage_size_bytes",
        "Size of the write log directory.",
        ConstKind::Gauge,
        dir_size(&db.dir.join("wal")) as f64,
    );
}
