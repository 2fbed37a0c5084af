use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::{Appender, Queryable, SeriesRef, ValueType};

use super::*;
use crate::record::{self, Record};
use crate::wal::LogReader;

const WINDOW: i64 = 60_000;

fn opts(window: i64) -> HeadOptions {
    HeadOptions {
        out_of_order_time_window: window,
        ..HeadOptions::default()
    }
}

fn series(i: usize) -> Labels {
    Labels::from_pairs([("__name__", "ooo".to_owned()), ("i", i.to_string())])
}

fn commit(h: &Head, samples: &[(usize, i64, f64)]) {
    let mut app = h.appender();
    for &(i, t, v) in samples {
        app.append(SeriesRef::UNKNOWN, &series(i), t, v).unwrap();
    }
    Box::new(app).commit().unwrap();
}

/// The float sample timestamps in the log at `dir`.
fn logged_times(dir: &Path) -> Vec<i64> {
    let mut reader = LogReader::open(dir, 0..=u32::MAX).unwrap();
    let mut out = Vec::new();
    while let Some(rec) = reader.next_record().unwrap() {
        if let Record::Samples(s) = record::decode(rec).unwrap() {
            out.extend(s.iter().map(|s| s.t));
        }
    }
    out
}

/// Series 0's samples as (time, value).
fn samples(h: &Head) -> Vec<(i64, f64)> {
    let q = h.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(MatchType::Equal, "i", "0").unwrap();
    let mut set = q.select(true, None, &[m]);
    let s = set.next().unwrap();
    let mut it = s.iter();
    let mut out = Vec::new();
    while it.next() == ValueType::Float {
        out.push(it.at());
    }
    out
}

#[test]
fn out_of_order_samples_go_to_the_wbl_and_are_replayed_after_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _) = Head::open(dir.path(), opts(WINDOW)).unwrap();
    commit(&h, &[(0, 100_000, 1.0), (1, 100_000, 1.0)]);
    commit(&h, &[(0, 90_000, 2.0), (1, 110_000, 3.0), (0, 95_000, 4.0)]);
    h.close().unwrap();
    drop(h);

    assert_eq!(
        logged_times(&dir.path().join("wal")),
        [100_000, 100_000, 110_000]
    );
    assert_eq!(logged_times(&dir.path().join("wbl")), [90_000, 95_000]);

    let want = [(90_000, 2.0), (95_000, 4.0), (100_000, 1.0)];
    let (h, stats) = Head::open(dir.path(), opts(WINDOW)).unwrap();
    assert_eq!(stats.samples, 5);
    assert_eq!(samples(&h), want);
    drop(h);
    // The log is replayed even with out-of-order ingestion now off: nothing acknowledged is
    // dropped.
    let (h, _) = Head::open(dir.path(), opts(0)).unwrap();
    assert_eq!(samples(&h), want);
}

#[test]
fn without_a_window_there_is_no_wbl() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _) = Head::open(dir.path(), opts(0)).unwrap();
    commit(&h, &[(0, 100_000, 1.0)]);
    h.close().unwrap();
    assert!(!dir.path().join("wbl").exists());
    assert!(h.wbl_metrics().is_none());
}

#[test]
fn truncation_keeps_only_live_out_of_order_samples_in_the_wbl() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _) = Head::open(dir.path(), opts(WINDOW)).unwrap();
    commit(&h, &[(0, 200_000, 1.0)]);
    commit(&h, &[(0, 150_000, 2.0), (0, 180_000, 3.0)]);
    h.truncate(160_000).unwrap();
    assert_eq!(logged_times(&dir.path().join("wbl")), [180_000]);
    // Only the rewritten segment is left.
    assert_eq!(
        crate::wal::list_segments(&dir.path().join("wbl"))
            .unwrap()
            .len(),
        1
    );
    h.close().unwrap();
    drop(h);
    let (h, _) = Head::open(dir.path(), opts(WINDOW)).unwrap();
    assert_eq!(samples(&h), [(180_000, 3.0), (200_000, 1.0)]);
}

#[test]
fn in_order_truncation_keeps_out_of_order_samples() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _) = Head::open(dir.path(), opts(WINDOW)).unwrap();
    commit(&h, &[(0, 200_000, 1.0)]);
    commit(&h, &[(0, 150_000, 2.0)]);
    h.truncate_in_order(160_000).unwrap();
    assert_eq!(samples(&h), [(150_000, 2.0), (200_000, 1.0)]);
    assert_eq!(h.min_time(), 150_000);
    assert_eq!(logged_times(&dir.path().join("wbl")), [150_000]);
}
