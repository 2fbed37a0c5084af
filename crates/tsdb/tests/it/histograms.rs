//! Native histograms through the whole database: appended to the head, persisted in blocks by
//! head compaction, replayed from the WAL, and read by upstream's promtool.

use std::path::Path;
use std::process::Command;

use pm_common::metrics::Registry;
use pm_common::model::{
    CounterResetHint, FloatHistogram, Histogram, Labels, MatchType, Matcher, Span,
};
use pm_storage::{Appendable, Queryable, SeriesRef, ValueType};
use pm_tsdb::db::{Db, DbOptions};

const PROMTOOL: &str = "/usr/bin/promtool";
const H: i64 = 3_600_000;

/// (labels, timestamp, value as a float histogram) of everything in the database.
type Dump = Vec<(Labels, i64, FloatHistogram)>;

/// A counter histogram that gains buckets over time and resets every five hours.
fn counter(i: i64) -> Histogram {
    let n = 2 + (i % 300) / 60; // 2..=6 buckets: new buckets force recoding
    let k = (i % 300) as u64 + 1;
    let deltas: Vec<i64> = (0..n).map(|j| if j == 0 { k as i64 } else { 0 }).collect();
    Histogram {
        schema: 1,
        zero_threshold: 0.001,
        zero_count: k,
        count: k * (n as u64 + 1),
        sum: k as f64 * 0.25,
        positive_spans: vec![Span {
            offset: -1,
            length: n as u32,
        }],
        positive_deltas: deltas,
        ..Histogram::default()
    }
}

/// A gauge float histogram going up and down.
fn gauge(i: i64) -> FloatHistogram {
    let v = ((i * 37) % 11) as f64 + 0.5;
    FloatHistogram {
        counter_reset_hint: CounterResetHint::Gauge,
        schema: 0,
        count: 3.0 * v,
        sum: v,
        positive_spans: vec![Span {
            offset: 0,
            length: 3,
        }],
        positive_buckets: vec![v, v, v],
        ..FloatHistogram::default()
    }
}

fn labels(name: &str) -> Labels {
    Labels::from_pairs([("__name__", name), ("job", "hist")])
}

/// 13 hours of one sample a minute for the two series.
fn fill(db: &Db) {
    let mut app = db.appender();
    for i in 0..13 * 60 {
        let t = i * 60_000;
        app.append_histogram(SeriesRef::UNKNOWN, &labels("c"), t, Some(&counter(i)), None)
            .unwrap();
        app.append_histogram(SeriesRef::UNKNOWN, &labels("g"), t, None, Some(&gauge(i)))
            .unwrap();
    }
    app.commit().unwrap();
}

fn dump(db: &Db) -> Dump {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let all = Matcher::new(MatchType::Regexp, "__name__", ".+").unwrap();
    let mut set = q.select(true, None, &[all]);
    let mut out = Vec::new();
    while let Some(s) = set.next() {
        let mut it = s.iter();
        loop {
            match it.next() {
                ValueType::None => break,
                ValueType::Float => panic!("a float in {}", s.labels()),
                _ => {
                    let mut fh = FloatHistogram::default();
                    let t = it.at_float_histogram(&mut fh);
                    // Hints depend on where chunks start; compare values only.
                    fh.counter_reset_hint = CounterResetHint::Unknown;
                    out.push((s.labels().clone(), t, fh.compacted()));
                }
            }
        }
        assert!(it.err().is_none(), "{:?}", it.err());
    }
    assert!(set.err().is_none(), "{:?}", set.err());
    out
}

fn want() -> Dump {
    let mut out = Vec::new();
    for i in 0..13 * 60 {
        out.push((labels("c"), i * 60_000, counter(i).to_float().compacted()));
    }
    for i in 0..13 * 60 {
        let mut g = gauge(i);
        g.counter_reset_hint = CounterResetHint::Unknown;
        out.push((labels("g"), i * 60_000, g.compacted()));
    }
    out
}

fn open(dir: &Path) -> Db {
    let opts = DbOptions {
        retention_duration: 0,
        ..DbOptions::default()
    };
    Db::open(dir, opts, &Registry::new()).unwrap()
}

#[test]
fn histograms_survive_compaction_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    fill(&db);
    assert_eq!(dump(&db), want(), "from the head");
    db.compact().unwrap();
    assert!(!db.blocks().is_empty(), "head compaction wrote blocks");
    assert!(db.blocks().iter().all(|b| b.meta().max_time <= 10 * H));
    assert_eq!(dump(&db), want(), "from blocks and the head");
    db.close().unwrap();
    let db = open(dir.path());
    assert_eq!(dump(&db), want(), "after the WAL replay");
    db.close().unwrap();
}

fn promtool(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(PROMTOOL).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn promtool_reads_histogram_blocks() {
    if !pm_testsupport::upstream_binary(PROMTOOL) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    fill(&db);
    db.compact().unwrap();
    db.close().unwrap();
    let (ok, list, err) = promtool(&["tsdb", "list", dir.path().to_str().unwrap()]);
    assert!(ok, "{err}");
    // ULID, min time, max time, duration, samples, chunks, series, size.
    let rows: Vec<Vec<String>> = list
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect();
    assert!(!rows.is_empty(), "{list}");
    let samples: u64 = rows.iter().map(|r| r[4].parse::<u64>().unwrap()).sum();
    let covered = rows
        .iter()
        .map(|r| r[2].parse::<i64>().unwrap())
        .max()
        .unwrap();
    assert_eq!(samples, 2 * (covered / 60_000) as u64, "{list}");
    assert!(rows.iter().all(|r| r[6] == "2"), "{list}");
    let (ok, analyze, err) = promtool(&["tsdb", "analyze", dir.path().to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(analyze.contains("\nSeries: 2\n"), "{analyze}");
    // Debian's promtool 2.42 reads the blocks and replays our WAL, but its dump prints float
    // samples only.
    let (ok, dump, err) = promtool(&["tsdb", "dump", dir.path().to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(dump, "");
}
