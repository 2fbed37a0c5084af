use pm_common::metrics::Registry;
use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::{Appendable, Queryable, SeriesRef};

use super::*;
use crate::block::testutil::collect;

pub(super) const H: i64 = 3600 * 1000;

pub(super) fn opts() -> DbOptions {
    DbOptions {
        retention_duration: 0,
        ..DbOptions::default()
    }
}

pub(super) fn labels(i: usize) -> Labels {
    Labels::from_pairs([("__name__", "m".to_owned()), ("i", format!("{i}"))])
}

/// One sample per minute for `series` series over `[from, to)`, value = timestamp in minutes.
pub(super) fn append(db: &Db, series: usize, from: i64, to: i64) {
    let mut app = db.appender();
    for t in (from..to).step_by(60_000) {
        for i in 0..series {
            app.append(SeriesRef::UNKNOWN, &labels(i), t, (t / 60_000) as f64)
                .unwrap();
        }
    }
    app.commit().unwrap();
}

pub(super) fn read(db: &Db, mint: i64, maxt: i64) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let q = db.querier(mint, maxt).unwrap();
    let all = Matcher::new(MatchType::Equal, "__name__", "m").unwrap();
    collect(q.select(true, None, &[all]))
}

pub(super) fn expected(series: usize, from: i64, to: i64) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let mut out: Vec<_> = (0..series)
        .map(|i| {
            let samples = (from..to)
                .step_by(60_000)
                .map(|t| (t, (t / 60_000) as f64))
                .collect();
            (labels(i), samples)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub(super) fn metric(registry: &Registry, name: &str) -> f64 {
    let families = registry.gather();
    let f = families
        .iter()
        .find(|f| f.name() == name)
        .unwrap_or_else(|| panic!("{name} missing"));
    let m = &f.metric[0];
    m.counter
        .as_ref()
        .map(|c| c.value())
        .or(m.gauge.as_ref().map(|g| g.value()))
        .unwrap()
}

#[test]
fn head_is_persisted_compacted_and_read_back_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new();
    let db = Db::open(dir.path(), opts(), &registry).unwrap();
    // 13 hours: the head keeps at least 1.5 ranges (3h), so 0-10h becomes five 2h blocks.
    append(&db, 3, 0, 13 * H);
    db.compact().unwrap();
    let ranges: Vec<(i64, i64, u32)> = db
        .blocks()
        .iter()
        .map(|b| {
            let m = b.meta();
            (m.min_time, m.max_time, m.compaction.level)
        })
        .collect();
    // Three 2h blocks filled the first 6h range and were merged; the second 6h range is not
    // complete yet.
    assert_eq!(
        ranges,
        [(0, 6 * H, 2), (6 * H, 8 * H, 1), (8 * H, 10 * H, 1)]
    );
    assert_eq!(db.head().min_time(), 10 * H);
    assert_eq!(read(&db, 0, 13 * H), expected(3, 0, 13 * H));
    assert_eq!(metric(&registry, "prometheus_tsdb_blocks_loaded"), 3.0);
    assert_eq!(metric(&registry, "prometheus_tsdb_compactions_total"), 6.0);
    assert_eq!(metric(&registry, "prometheus_tsdb_head_series"), 3.0);
    db.close().unwrap();

    let registry = Registry::new();
    let db = Db::open(dir.path(), opts(), &registry).unwrap();
    assert_eq!(db.blocks().len(), 3);
    assert_eq!(read(&db, 0, 13 * H), expected(3, 0, 13 * H));
    // Only the merged blocks and the three level-1 blocks are on disk, no leftovers.
    let mut entries = std::fs::read_dir(dir.path()).unwrap().count();
    entries -= 3; // wal/, chunks_head/ and lock
    assert_eq!(entries, 3);
}

#[test]
fn a_crash_between_block_write_and_head_truncation_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
        append(&db, 2, 0, 4 * H);
        // What the head compaction does, stopped before the head is truncated.
        let shared = &db.shared;
        let q = pm_storage::ChunkQueryable::chunk_querier(db.head(), 0, 2 * H - 1).unwrap();
        let set = pm_storage::ChunkQuerier::select(q.as_ref(), true, None, &[]);
        shared
            .compactor
            .write(db.dir(), set, 0, 2 * H)
            .unwrap()
            .unwrap();
        // The process dies here: no close, the lock file stays behind.
        std::mem::forget(db);
    }
    let db = Db::open(
        dir.path(),
        DbOptions {
            no_lockfile: true,
            ..opts()
        },
        &Registry::new(),
    )
    .unwrap();
    assert_eq!(db.blocks().len(), 1);
    assert_eq!(db.head().min_time(), 2 * H);
    assert_eq!(read(&db, 0, 4 * H), expected(2, 0, 4 * H));
    // Appends before the persisted range are now out of bounds.
    let mut app = db.appender();
    assert!(app.append(SeriesRef::UNKNOWN, &labels(0), H, 1.0).is_err());
}

#[test]
fn retention_by_time_deletes_old_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new();
    let o = DbOptions {
        retention_duration: 5 * H,
        max_block_duration: 2 * H,
        ..opts()
    };
    let db = Db::open(dir.path(), o, &registry).unwrap();
    append(&db, 1, 0, 13 * H);
    db.compact().unwrap();
    // Blocks end at 2h..10h; those ending more than 5h before the newest (10h) go.
    let ends: Vec<i64> = db.blocks().iter().map(|b| b.meta().max_time).collect();
    assert_eq!(ends, [6 * H, 8 * H, 10 * H]);
    // Each block cut from the head reloads the blocks: the 8h one dropped the 2h one, the 10h
    // one the 4h one.
    assert_eq!(
        metric(&registry, "prometheus_tsdb_time_retentions_total"),
        2.0
    );
    assert_eq!(read(&db, 0, 13 * H), expected(1, 4 * H, 13 * H));
}

#[test]
fn retention_by_size_keeps_the_newest_blocks_that_fit() {
    let dir = tempfile::tempdir().unwrap();
    let o = DbOptions {
        max_block_duration: 2 * H,
        ..opts()
    };
    let db = Db::open(dir.path(), o, &Registry::new()).unwrap();
    append(&db, 1, 0, 9 * H);
    db.compact().unwrap();
    assert_eq!(db.blocks().len(), 3);
    let block = db.blocks()[0].size();
    let head = super::maintenance::head_size(dir.path());
    db.close().unwrap();
    let o = DbOptions {
        max_bytes: (head + 2 * block + block / 2) as i64,
        ..o
    };
    let db = Db::open(dir.path(), o, &Registry::new()).unwrap();
    let starts: Vec<i64> = db.blocks().iter().map(|b| b.meta().min_time).collect();
    assert_eq!(starts, [2 * H, 4 * H]);
}

#[test]
fn a_second_open_of_a_locked_directory_fails() {
    let dir = tempfile::tempdir().unwrap();
    let _db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    let err = Db::open(dir.path(), opts(), &Registry::new())
        .err()
        .unwrap();
    assert!(matches!(err, DbError::Lock(_)), "{err}");
}

#[test]
fn background_compaction_persists_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    append(&db, 1, 0, 5 * H);
    let bg = db.start_background_compaction(std::time::Duration::from_millis(5));
    let mut waited = 0;
    while db.blocks().is_empty() && waited < 2000 {
        std::thread::sleep(std::time::Duration::from_millis(5));
        waited += 1;
    }
    drop(bg);
    assert_eq!(db.blocks().len(), 1);
    assert_eq!(read(&db, 0, 5 * H), expected(1, 0, 5 * H));
}

#[test]
fn blocks_after_the_first_are_aligned_to_the_block_range() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    // Scrapes one second past each minute: the first sample is at 1s.
    append(&db, 1, 1_000, 5 * H);
    db.compact().unwrap();
    assert_eq!(db.head().min_time(), 2 * H);
    append(&db, 1, 5 * H + 1_000, 7 * H);
    db.compact().unwrap();
    let ranges: Vec<(i64, i64)> = db
        .blocks()
        .iter()
        .map(|b| (b.meta().min_time, b.meta().max_time))
        .collect();
    assert_eq!(ranges, [(1_000, 2 * H), (2 * H, 4 * H)]);
}

#[test]
fn chunk_queries_merge_blocks_and_head() {
    use pm_storage::{ChunkQueryable, SeriesSetFromChunks};
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    append(&db, 2, 0, 5 * H);
    db.compact().unwrap();
    assert_eq!(db.blocks().len(), 1);
    let q = db.chunk_querier(0, 5 * H).unwrap();
    let all = Matcher::new(MatchType::Equal, "__name__", "m").unwrap();
    let set = q.select(false, None, std::slice::from_ref(&all));
    assert_eq!(
        collect(Box::new(SeriesSetFromChunks::new(set))),
        expected(2, 0, 5 * H)
    );
    let (values, _) = q.label_values("i", None, &[]).unwrap();
    assert_eq!(values, ["0", "1"]);
}

#[test]
fn appends_before_the_persisted_range_are_out_of_bounds_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    append(&db, 1, 0, 4 * H);
    db.compact().unwrap();
    // Empty the head entirely, then restart: the blocks still bound what the head accepts.
    db.head().truncate(5 * H).unwrap();
    db.close().unwrap();
    let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    assert_eq!(db.head().min_time(), i64::MAX);
    let mut app = db.appender();
    assert!(app.append(SeriesRef::UNKNOWN, &labels(0), H, 1.0).is_err());
    assert!(
        app.append(SeriesRef::UNKNOWN, &labels(0), 2 * H, 1.0)
            .is_ok()
    );
}

#[test]
fn wal_metrics_follow_writes_and_truncations() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new();
    let db = Db::open(dir.path(), opts(), &registry).unwrap();
    append(&db, 3, 0, 2 * H);
    let parts = metric(&registry, "prometheus_tsdb_wal_record_part_writes_total");
    assert!(parts >= 2.0, "series and samples records: {parts}");
    assert!(metric(&registry, "prometheus_tsdb_wal_page_flushes_total") >= 1.0);
    assert!(
        metric(
            &registry,
            "prometheus_tsdb_wal_record_parts_bytes_written_total"
        ) > 0.0
    );
    assert_eq!(
        metric(&registry, "prometheus_tsdb_wal_truncations_total"),
        0.0
    );
    append(&db, 3, 2 * H, 5 * H);
    db.compact().unwrap();
    assert_eq!(
        metric(&registry, "prometheus_tsdb_wal_truncations_total"),
        1.0
    );
    assert_eq!(
        metric(&registry, "prometheus_tsdb_checkpoint_creations_total"),
        1.0
    );
    // The truncation closed segment 0 (padding its page) and moved on to segment 1.
    assert_eq!(
        metric(&registry, "prometheus_tsdb_wal_segment_current"),
        1.0
    );
    assert!(metric(&registry, "prometheus_tsdb_wal_completed_pages_total") >= 1.0);
    assert_eq!(
        metric(&registry, "prometheus_tsdb_wal_storage_size_bytes"),
        super::maintenance::dir_size(&dir.path().join("wal")) as f64
    );
    assert_eq!(
        metric(&registry, "prometheus_tsdb_wal_corruptions_total"),
        0.0
    );
    let (_, text) = pm_common::metrics::render(&registry.gather(), None);
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("# TYPE prometheus_tsdb_wal_fsync_duration_seconds summary\n"),
        "{text}"
    );
    assert!(text.contains("prometheus_tsdb_wal_fsync_duration_seconds_count 1\n"));
    assert!(text.contains("prometheus_tsdb_wal_record_bytes_saved_total{compression=\"snappy\"}"));
}
