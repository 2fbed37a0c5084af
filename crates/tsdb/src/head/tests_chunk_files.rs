//! The head with its chunk files: full chunks leave memory, replay takes them from the files,
//! truncation deletes them.

use pm_common::model::Labels;
use pm_storage::{Appendable, SeriesRef};

use super::series::ChunkData;
use super::tests::dump;
use super::*;

/// `n` samples 15s apart for three series, committed ten at a time.
fn fill(h: &Head, from: i64, n: i64) {
    for batch in (0..n).collect::<Vec<_>>().chunks(10) {
        let mut app = Appendable::appender(h);
        for &i in batch {
            for job in ["a", "b", "c"] {
                let l = Labels::from_pairs([("__name__", "up"), ("job", job)]);
                let t = from + i * 15_000;
                app.append(SeriesRef::UNKNOWN, &l, t, (t / 1000) as f64)
                    .unwrap();
            }
        }
        app.commit().unwrap();
    }
}

fn chunk_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir.join("chunks_head"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn full_chunks_leave_memory_and_replay_takes_them_from_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _) = Head::open(dir.path(), HeadOptions::default()).unwrap();
    // 1000 samples: eight chunks closed per series, the ninth open.
    fill(&h, 0, 1000);
    for s in h.inner.series.all() {
        let d = s.lock();
        assert_eq!(d.closed.len(), 8);
        assert!(
            d.closed
                .iter()
                .all(|c| matches!(c.data, ChunkData::Disk(_)))
        );
    }
    let before = dump(&h);
    assert_eq!(before.len(), 3);
    assert_eq!(before[0].1.len(), 1000);
    h.close().unwrap();
    drop(h);
    assert_eq!(chunk_files(dir.path()), ["000001"]);

    let (h, stats) = Head::open(dir.path(), HeadOptions::default()).unwrap();
    assert_eq!(stats.mmapped_chunks, 24);
    assert_eq!(stats.mmapped_samples_skipped, 3 * 960);
    assert_eq!(dump(&h), before);
    assert_eq!((h.min_time(), h.max_time()), (0, 999 * 15_000));
    // Appends continue the series after the replayed samples.
    fill(&h, 1000 * 15_000, 10);
    assert_eq!(dump(&h)[0].1.len(), 1010);
    assert_eq!(h.stats().mmap_chunk_corruptions.load(Ordering::Relaxed), 0);
}

#[test]
fn a_damaged_chunk_file_is_deleted_and_the_wal_fills_the_gap() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _) = Head::open(dir.path(), HeadOptions::default()).unwrap();
    fill(&h, 0, 500);
    let before = dump(&h);
    h.close().unwrap();
    drop(h);
    let file = dir.path().join("chunks_head/000001");
    let mut raw = std::fs::read(&file).unwrap();
    let mid = raw.len() / 2;
    raw[mid] ^= 0xFF;
    std::fs::write(&file, raw).unwrap();

    let (h, stats) = Head::open(dir.path(), HeadOptions::default()).unwrap();
    assert_eq!(stats.mmapped_chunks, 0);
    assert_eq!(dump(&h), before);
    assert_eq!(h.stats().mmap_chunk_corruptions.load(Ordering::Relaxed), 1);
}

#[test]
fn truncation_deletes_chunk_files_of_dropped_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _) = Head::open(dir.path(), HeadOptions::default()).unwrap();
    // Two hours, then a truncation cuts a new file, then two more hours.
    fill(&h, 0, 480);
    h.truncate(0).unwrap();
    fill(&h, 480 * 15_000, 480);
    assert_eq!(chunk_files(dir.path()), ["000001", "000002"]);
    h.truncate(DEFAULT_CHUNK_RANGE).unwrap();
    assert_eq!(chunk_files(dir.path()), ["000002"]);
    let got = dump(&h);
    assert_eq!(got[0].1.first().unwrap().0, DEFAULT_CHUNK_RANGE);
    assert_eq!(got[0].1.len(), 480);
}
