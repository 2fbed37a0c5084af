//! Blocks interoperate with upstream: promtool lists and dumps blocks we write (also after
//! vertical compaction, and a whole data directory after head compaction), and blocks promtool
//! creates read back through our block querier.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use pm_common::metrics::Registry;
use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::{Appendable, Querier, SeriesRef};
use pm_tsdb::block::{Block, VecChunkSeriesSet, open_blocks, write_block};
use pm_tsdb::compact::Compactor;
use pm_tsdb::db::{Db, DbOptions};

const PROMTOOL: &str = "/usr/bin/promtool";

fn promtool(args: &[&str]) -> String {
    let out = Command::new(PROMTOOL).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "promtool {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

type Samples = Vec<(i64, f64)>;
type Data = Vec<(Labels, Samples)>;

fn sample_data() -> Data {
    (0..30)
        .map(|i| {
            let labels = Labels::from_pairs([
                (
                    "__name__",
                    if i % 3 == 0 { "requests_total" } else { "temp" }.to_owned(),
                ),
                ("instance", format!("host-{i:02}")),
                ("job", "node".to_owned()),
            ]);
            let samples = (0..400)
                .map(|s| {
                    (
                        1_000 + s * 15_000,
                        (i * s) as f64 + if i % 2 == 0 { 0.5 } else { 0.0 },
                    )
                })
                .collect();
            (labels, samples)
        })
        .collect()
}

/// All series of all blocks in `dir`, samples concatenated across blocks.
fn read_all(dir: &Path) -> BTreeMap<Labels, Vec<(i64, f64)>> {
    let all = Matcher::new(MatchType::Regexp, "__name__", ".+").unwrap();
    let mut out: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
    for block in open_blocks(dir).unwrap() {
        let mut set = Querier::select(
            &block.querier(i64::MIN, i64::MAX),
            true,
            None,
            std::slice::from_ref(&all),
        );
        while let Some(s) = set.next() {
            let mut it = s.iter();
            let samples = out.entry(s.labels().clone()).or_default();
            while it.next().is_some() {
                samples.push(it.at());
            }
            assert!(it.err().is_none(), "{:?}", it.err());
        }
        assert!(set.err().is_none(), "{:?}", set.err());
    }
    out
}

#[test]
fn promtool_lists_and_dumps_our_blocks() {
    if !pm_testsupport::upstream_binary(PROMTOOL) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = sample_data();
    let maxt = 1_000 + 400 * 15_000;
    let mut set = VecChunkSeriesSet::new(data.clone()).unwrap();
    let ulid = write_block(dir.path(), 1_000, maxt, &mut set).unwrap();

    let list = promtool(&["tsdb", "list", dir.path().to_str().unwrap()]);
    let row: Vec<&str> = list
        .lines()
        .find(|l| l.starts_with(&ulid.to_string()))
        .unwrap_or_else(|| panic!("block {ulid} not listed:\n{list}"))
        .split_whitespace()
        .collect();
    // ULID, min time, max time, duration, samples, chunks, series, size.
    assert_eq!(row[1], "1000", "{list}");
    assert_eq!(row[2], maxt.to_string(), "{list}");
    assert_eq!(row[4], (30 * 400).to_string(), "{list}");
    assert_eq!(row[5], (30 * 4).to_string(), "{list}");
    assert_eq!(row[6], "30", "{list}");

    // promtool 2.42's dump opens the head too and fails without a WAL directory.
    std::fs::create_dir(dir.path().join("wal")).unwrap();
    let dump = promtool(&["tsdb", "dump", dir.path().to_str().unwrap()]);
    let mut want = Vec::new();
    let mut sorted = data;
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (labels, samples) in &sorted {
        for (t, v) in samples {
            want.push(format!("{labels} {v} {t}"));
        }
    }
    let got: Vec<&str> = dump.lines().collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
}

#[test]
fn blocks_created_by_promtool_read_back() {
    if !pm_testsupport::upstream_binary(PROMTOOL) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = sample_data();
    // OpenMetrics input, timestamps in seconds; one family after another.
    let mut text = String::new();
    let mut by_name: BTreeMap<&str, Vec<&(Labels, Samples)>> = BTreeMap::new();
    for s in &data {
        by_name
            .entry(s.0.get("__name__").unwrap())
            .or_default()
            .push(s);
    }
    for (name, series) in &by_name {
        text.push_str(&format!("# TYPE {name} gauge\n"));
        for (labels, samples) in series {
            // OpenMetrics allows no spaces inside the label set.
            let pairs: Vec<String> = labels
                .without_metric_name()
                .iter()
                .map(|l| format!("{}=\"{}\"", l.name, l.value))
                .collect();
            let sel = format!("{{{}}}", pairs.join(","));
            for (t, v) in samples {
                text.push_str(&format!("{name}{sel} {v} {}.{:03}\n", t / 1000, t % 1000));
            }
        }
    }
    text.push_str("# EOF\n");
    let input = dir.path().join("input.om");
    std::fs::write(&input, text).unwrap();
    let out = dir.path().join("data");
    std::fs::create_dir(&out).unwrap();
    promtool(&[
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        input.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);

    let got = read_all(&out);
    let want: BTreeMap<Labels, Vec<(i64, f64)>> = data.into_iter().collect();
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);
}

/// promtool's `tsdb dump` lines for `data`: series in label order, samples in time order.
fn dump_lines(mut data: Data) -> Vec<String> {
    data.sort_by(|a, b| a.0.cmp(&b.0));
    data.iter()
        .flat_map(|(labels, samples)| {
            samples
                .iter()
                .map(move |(t, v)| format!("{labels} {v} {t}"))
        })
        .collect()
}

/// `promtool tsdb list` rows: (min time, max time, samples, series) per block.
fn list_rows(dir: &Path) -> Vec<(i64, i64, u64, u64)> {
    let list = promtool(&["tsdb", "list", dir.to_str().unwrap()]);
    let mut rows: Vec<_> = list
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[4].parse().unwrap(),
                f[6].parse().unwrap(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn promtool_reads_vertically_compacted_blocks() {
    if !pm_testsupport::upstream_binary(PROMTOOL) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = sample_data();
    // Two overlapping blocks: even samples in one, odd ones (plus a repeat) in the other.
    let half = |keep: fn(usize) -> bool| -> Data {
        data.iter()
            .map(|(l, s)| {
                let s = s
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| keep(*i))
                    .map(|(_, s)| *s)
                    .collect();
                (l.clone(), s)
            })
            .collect()
    };
    let maxt = 1_000 + 400 * 15_000;
    let even = half(|i| i % 2 == 0);
    let odd = half(|i| i % 2 == 1 || i == 0);
    let mut blocks = Vec::new();
    for part in [even, odd] {
        let mut set = VecChunkSeriesSet::new(part).unwrap();
        let ulid = write_block(dir.path(), 1_000, maxt, &mut set).unwrap();
        blocks.push(Arc::new(
            Block::open(dir.path().join(ulid.to_string())).unwrap(),
        ));
    }
    let compactor = Compactor::new(vec![2 * 3600 * 1000]).unwrap();
    assert_eq!(compactor.plan(dir.path()).unwrap().len(), 2);
    let ulid = compactor.compact(dir.path(), &blocks).unwrap().unwrap();
    for b in &blocks {
        std::fs::remove_dir_all(b.dir()).unwrap();
    }
    assert_eq!(list_rows(dir.path()), [(1_000, maxt, 30 * 400, 30)]);
    let meta = pm_tsdb::block::BlockMeta::read(&dir.path().join(ulid.to_string())).unwrap();
    assert_eq!(meta.compaction.level, 2);

    std::fs::create_dir(dir.path().join("wal")).unwrap();
    let dump = promtool(&["tsdb", "dump", dir.path().to_str().unwrap()]);
    assert_eq!(dump.lines().collect::<Vec<_>>(), dump_lines(data));
}

const H: i64 = 3600 * 1000;

/// Five series `m{i="0".."4"}`, one sample a minute over 13 hours.
fn thirteen_hours() -> Data {
    (0..5)
        .map(|i| {
            (
                Labels::from_pairs([("__name__", "m".to_owned()), ("i", format!("{i}"))]),
                (0..13 * 60)
                    .map(|m| (m * 60_000, (m * i as i64) as f64))
                    .collect(),
            )
        })
        .collect()
}

/// A database in `dir` holding `data`, compacted: blocks up to 10h, the rest in the head.
fn compacted_db(dir: &Path, data: &Data) -> Db {
    let opts = DbOptions {
        retention_duration: 0,
        ..DbOptions::default()
    };
    let db = Db::open(dir, opts, &Registry::new()).unwrap();
    let mut app = db.appender();
    for (l, samples) in data {
        for &(t, v) in samples {
            app.append(SeriesRef::UNKNOWN, l, t, v).unwrap();
        }
    }
    app.commit().unwrap();
    db.compact().unwrap();
    db
}

#[test]
fn promtool_reads_a_db_after_head_compaction() {
    if !pm_testsupport::upstream_binary(PROMTOOL) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = thirteen_hours();
    compacted_db(dir.path(), &data).close().unwrap();

    // Blocks: 0-6h (merged from three 2h blocks), 6-8h, 8-10h; 10-13h stays in the WAL.
    let per_hour = 5 * 60;
    assert_eq!(
        list_rows(dir.path()),
        [
            (0, 6 * H, 6 * per_hour, 5),
            (6 * H, 8 * H, 2 * per_hour, 5),
            (8 * H, 10 * H, 2 * per_hour, 5)
        ]
    );
    // The dump reads the blocks and replays our WAL (snappy-compressed, with a checkpoint).
    let dump = promtool(&["tsdb", "dump", dir.path().to_str().unwrap()]);
    assert_eq!(dump.lines().collect::<Vec<_>>(), dump_lines(data));
}

#[test]
fn promtool_reads_deletions_and_snapshots() {
    if !pm_testsupport::upstream_binary(PROMTOOL) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let snap = tempfile::tempdir().unwrap();
    let mut data = thirteen_hours();
    let db = compacted_db(dir.path(), &data);
    // Deleted in a block (tombstones file) and in the head (WAL tombstones record).
    let (mint, maxt) = (H, 11 * H);
    let one = Matcher::new(MatchType::Equal, "i", "1").unwrap();
    db.delete(mint, maxt, &[one]).unwrap();
    for (l, samples) in &mut data {
        if l.get("i") == Some("1") {
            samples.retain(|(t, _)| *t < mint || *t > maxt);
        }
    }
    let snapshot = snap.path().join("20261126T000000Z-0123456789abcdef");
    db.snapshot(&snapshot, true).unwrap();
    db.close().unwrap();

    let per_hour = 5 * 60;
    let listed = list_rows(&snapshot);
    assert_eq!(listed.len(), 4, "{listed:?}");
    // The head block holds 10h to the last sample (13h - 1m), its max time one past it, with
    // series 1's samples up to 11h deleted.
    assert_eq!(
        listed[3],
        (10 * H, 13 * H - 60_000 + 1, 3 * per_hour - 61, 5)
    );
    std::fs::create_dir(snapshot.join("wal")).unwrap();
    let dump = promtool(&["tsdb", "dump", snapshot.to_str().unwrap()]);
    assert_eq!(dump.lines().collect::<Vec<_>>(), dump_lines(data.clone()));
    // promtool replays our WAL's tombstones record too.
    let dump = promtool(&["tsdb", "dump", dir.path().to_str().unwrap()]);
    assert_eq!(dump.lines().collect::<Vec<_>>(), dump_lines(data));
}

/// An out-of-order sample older than the newest block survives a restart (write-behind log)
/// and is persisted by the next head compaction: promtool lists the blocks with it and dumps
/// it in place.
#[test]
fn promtool_reads_out_of_order_data_persisted_by_compaction() {
    if !pm_testsupport::upstream_binary(PROMTOOL) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let opts = || DbOptions {
        retention_duration: 0,
        out_of_order_time_window: 4 * H,
        ..DbOptions::default()
    };
    let mut data = thirteen_hours();
    let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    let mut app = db.appender();
    for (l, samples) in &data {
        for &(t, v) in samples {
            app.append(SeriesRef::UNKNOWN, l, t, v).unwrap();
        }
    }
    app.commit().unwrap();
    db.compact().unwrap();
    let late = 9 * H + 30_000;
    let mut app = db.appender();
    app.append(SeriesRef::UNKNOWN, &data[2].0, late, -1.0)
        .unwrap();
    app.commit().unwrap();
    db.close().unwrap();
    let at = data[2].1.partition_point(|s| s.0 < late);
    data[2].1.insert(at, (late, -1.0));
    assert!(dir.path().join("wbl").is_dir());

    let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    db.compact().unwrap();
    db.close().unwrap();
    let rows = list_rows(dir.path());
    let in_blocks: u64 = rows.iter().map(|r| r.2).sum();
    assert_eq!(in_blocks, 10 * 60 * 5 + 1, "{rows:?}");
    let dump = promtool(&["tsdb", "dump", dir.path().to_str().unwrap()]);
    assert_eq!(dump.lines().collect::<Vec<_>>(), dump_lines(data));
}

/// Out-of-order samples still in the head are in our write-behind log only; promtool's dump
/// (which opens the head read-only, replaying `wal/` and then `wbl/`) returns them in place.
#[test]
fn promtool_replays_our_write_behind_log() {
    if !pm_testsupport::upstream_binary(PROMTOOL) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        retention_duration: 0,
        out_of_order_time_window: H,
        ..DbOptions::default()
    };
    let db = Db::open(dir.path(), opts, &Registry::new()).unwrap();
    let mut data: Data = thirteen_hours()
        .into_iter()
        .map(|(l, s)| {
            (
                l,
                s.into_iter()
                    .filter(|(t, _)| t % (2 * 60_000) == 0)
                    .collect(),
            )
        })
        .collect();
    let mut app = db.appender();
    for (l, samples) in &data {
        for &(t, v) in samples.iter().filter(|(t, _)| *t < 2 * H) {
            app.append(SeriesRef::UNKNOWN, l, t, v).unwrap();
        }
    }
    app.commit().unwrap();
    // Every other minute was skipped: those samples now come out of order.
    let mut app = db.appender();
    for (l, samples) in &mut data {
        samples.retain(|(t, _)| *t < 2 * H);
        for t in (H..2 * H).step_by(120_000).map(|t| t + 60_000) {
            app.append(SeriesRef::UNKNOWN, l, t, -1.0).unwrap();
            samples.push((t, -1.0));
        }
        samples.sort_by_key(|s| s.0);
    }
    app.commit().unwrap();
    db.close().unwrap();
    let wbl = dir.path().join("wbl").join("00000000");
    assert!(std::fs::metadata(wbl).unwrap().len() > 0);
    let dump = promtool(&["tsdb", "dump", dir.path().to_str().unwrap()]);
    assert_eq!(dump.lines().collect::<Vec<_>>(), dump_lines(data));
}
