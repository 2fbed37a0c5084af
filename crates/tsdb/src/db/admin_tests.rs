use pm_common::metrics::Registry;
use pm_common::model::{Labels, MatchType, Matcher};

use super::tests::{H, append, expected, labels, opts, read};
use super::*;
use crate::block::testutil::collect;

type Data = Vec<(Labels, Vec<(i64, f64)>)>;

/// `expected(series, from, to)` without series `i`'s samples in `[mint, maxt]`.
fn expected_without(series: usize, from: i64, to: i64, i: usize, mint: i64, maxt: i64) -> Data {
    let mut data = expected(series, from, to);
    for (l, samples) in &mut data {
        if *l == labels(i) {
            samples.retain(|(t, _)| *t < mint || *t > maxt);
        }
    }
    data
}

fn series_1() -> Matcher {
    Matcher::new(MatchType::Equal, "i", "1").unwrap()
}

/// Every sample stored in the blocks on disk, ignoring tombstones.
fn raw_block_samples(dir: &std::path::Path) -> Data {
    let mut out: Data = Vec::new();
    for b in crate::block::open_blocks(dir).unwrap() {
        let meta = b.meta();
        let q = crate::querier::BlockQuerier::new(
            std::sync::Arc::new(crate::index::IndexReader::open(b.dir().join("index")).unwrap()),
            std::sync::Arc::new(crate::chunks::ChunkReader::open(b.dir().join("chunks")).unwrap()),
            std::sync::Arc::default(),
            meta.min_time,
            meta.max_time - 1,
        );
        let all = Matcher::new(MatchType::Equal, "__name__", "m").unwrap();
        for (l, samples) in collect(pm_storage::Querier::select(&q, true, None, &[all])) {
            match out.iter_mut().find(|(o, _)| *o == l) {
                Some((_, s)) => s.extend(samples),
                None => out.push((l, samples)),
            }
        }
    }
    for (_, s) in &mut out {
        s.sort_by_key(|(t, _)| *t);
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn deletes_reach_blocks_and_head_survive_a_restart_and_are_cleaned_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    append(&db, 3, 0, 13 * H);
    db.compact().unwrap();
    assert_eq!(db.head().min_time(), 10 * H);
    // Across the blocks (ending at 10h) and into the head.
    let (mint, maxt) = (H, 11 * H);
    db.delete(mint, maxt, &[series_1()]).unwrap();
    let want = expected_without(3, 0, 13 * H, 1, mint, maxt);
    assert_eq!(read(&db, 0, 13 * H), want);
    db.close().unwrap();

    let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    assert_eq!(read(&db, 0, 13 * H), want, "after a restart");
    // The blocks still hold the samples; only their tombstones hide them.
    assert_eq!(raw_block_samples(dir.path()), expected(3, 0, 10 * H));

    db.clean_tombstones().unwrap();
    assert!(db.blocks().iter().all(|b| b.tombstones().is_empty()));
    assert_eq!(
        raw_block_samples(dir.path()),
        expected_without(3, 0, 10 * H, 1, mint, maxt)
    );
    assert_eq!(read(&db, 0, 13 * H), want);

    // The head's tombstones apply when it is persisted.
    append(&db, 3, 13 * H, 15 * H);
    db.compact().unwrap();
    assert_eq!(db.head().min_time(), 12 * H);
    assert_eq!(
        raw_block_samples(dir.path()),
        expected_without(3, 0, 12 * H, 1, mint, maxt)
    );
    assert_eq!(
        read(&db, 0, 15 * H),
        expected_without(3, 0, 15 * H, 1, mint, maxt)
    );
}

#[test]
fn a_block_deleted_entirely_is_removed_by_clean_tombstones() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    append(&db, 1, 0, 5 * H);
    db.compact().unwrap();
    assert_eq!(db.blocks().len(), 1);
    let all = Matcher::new(MatchType::Equal, "__name__", "m").unwrap();
    db.delete(0, 2 * H - 1, &[all]).unwrap();
    db.clean_tombstones().unwrap();
    assert!(db.blocks().is_empty());
    assert_eq!(read(&db, 0, 5 * H), expected(1, 2 * H, 5 * H));
    let blocks = crate::block::open_blocks(dir.path()).unwrap();
    assert!(blocks.is_empty());
}

#[test]
fn block_tombstones_are_clamped_to_the_series_range() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    append(&db, 2, 0, 5 * H);
    db.compact().unwrap();
    db.delete(i64::MIN, i64::MAX, &[series_1()]).unwrap();
    let block = &db.blocks()[0];
    let stones: Vec<_> = block
        .tombstones()
        .iter()
        .map(|(_, ivs)| ivs.to_vec())
        .collect();
    assert_eq!(
        stones,
        [vec![crate::tombstones::Interval {
            mint: 0,
            maxt: 2 * H - 60_000
        }]]
    );
    assert_eq!(block.meta().stats.num_tombstones, 1);
    // The head overlaps the range too: series 1 is gone entirely.
    let mut want = expected_without(2, 0, 5 * H, 1, i64::MIN, i64::MAX);
    want.retain(|(_, s)| !s.is_empty());
    assert_eq!(read(&db, 0, 5 * H), want);
}

#[test]
fn a_snapshot_opens_as_a_database_with_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let snap = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    append(&db, 3, 0, 13 * H);
    db.compact().unwrap();
    db.delete(H, 2 * H, &[series_1()]).unwrap();
    let want = read(&db, 0, 13 * H);

    let with_head = snap.path().join("full");
    db.snapshot(&with_head, true).unwrap();
    let blocks_only = snap.path().join("blocks");
    db.snapshot(&blocks_only, false).unwrap();
    // Hard links, not copies.
    let block = &db.blocks()[0];
    let ulid = block.meta().ulid.to_string();
    use std::os::unix::fs::MetadataExt;
    let index = std::fs::metadata(with_head.join(&ulid).join("index")).unwrap();
    assert_eq!(
        index.ino(),
        std::fs::metadata(block.dir().join("index")).unwrap().ino()
    );

    let copy = Db::open(&with_head, opts(), &Registry::new()).unwrap();
    assert_eq!(copy.blocks().len(), 4);
    let head_block = copy.blocks()[3].meta();
    assert_eq!(
        (head_block.min_time, head_block.max_time),
        (10 * H, 13 * H - 60_000 + 1)
    );
    assert_eq!(read(&copy, 0, 13 * H), want);
    let copy = Db::open(&blocks_only, opts(), &Registry::new()).unwrap();
    assert_eq!(read(&copy, 0, 13 * H), read(&db, 0, 10 * H - 1));

    assert!(matches!(
        db.snapshot(dir.path(), true),
        Err(DbError::SnapshotIntoDataDir)
    ));
}

#[test]
fn stats_report_the_head_in_upstream_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    append(&db, 3, 0, 3 * H);
    let status = db.stats("__name__", 10);
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "headStats": {
                "numSeries": 3,
                "numLabelPairs": 4,
                "chunkCount": 6,
                "minTime": 0,
                "maxTime": 3 * H - 60_000,
            },
            "seriesCountByMetricName": [{"name": "m", "value": 3}],
            "labelValueCountByLabelName": [
                {"name": "i", "value": 3},
                {"name": "__name__", "value": 1}
            ],
            "memoryInBytesByLabelName": [
                {"name": "__name__", "value": 3},
                {"name": "i", "value": 3}
            ],
            "seriesCountByLabelValuePair": [
                {"name": "__name__=m", "value": 3},
                {"name": "i=0", "value": 1},
                {"name": "i=1", "value": 1},
                {"name": "i=2", "value": 1}
            ],
        })
    );
}

#[test]
fn replay_progress_spans_the_segments_after_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let small = DbOptions {
        wal_segment_size: 64 * 1024,
        wal_compression: crate::wal::Compression::None,
        ..opts()
    };
    let db = Db::open(dir.path(), small, &Registry::new()).unwrap();
    // Checkpointed by the compaction, then more segments written after it.
    for hour in 0..4 {
        append(&db, 50, hour * H, (hour + 1) * H);
    }
    db.compact().unwrap();
    let half = H / 2;
    for n in 8..16 {
        append(&db, 50, n * half, (n + 1) * half);
    }
    db.close().unwrap();
    let segments = crate::wal::list_segments(&dir.path().join("wal")).unwrap();
    assert!(segments.len() >= 2, "{segments:?}");
    let checkpoint = crate::wal::checkpoint::last_checkpoint(&dir.path().join("wal"))
        .unwrap()
        .map(|(_, n)| n);
    assert!(checkpoint.is_some());
    let progress = std::sync::Arc::new(crate::head::WalReplayProgress::default());
    assert!(!progress.is_done());
    let db = Db::open_with_progress(dir.path(), small, &Registry::new(), progress.clone()).unwrap();
    assert!(progress.is_done());
    let want_min = checkpoint.map_or(segments[0], |n| n + 1);
    let last = *segments.last().unwrap();
    assert_eq!(
        db.replay_progress().status(),
        crate::head::WalReplayStatus {
            min: i64::from(want_min),
            max: i64::from(last),
            current: i64::from(last),
        }
    );
    assert_eq!(read(&db, 0, 8 * H), expected(50, 0, 8 * H));
}
