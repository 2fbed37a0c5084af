//! Blocks interoperate with upstream: promtool lists and dumps blocks we write, and blocks
//! promtool creates read back through our block querier.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::Querier;
use pm_tsdb::block::{VecChunkSeriesSet, open_blocks, write_block};

const PROMTOOL: &str = "/usr/bin/promtool";

/// Whether promtool is there; without it the test fails under `PM_REQUIRE_UPSTREAM`, else skips.
fn have_promtool(test: &str) -> bool {
    if Path::new(PROMTOOL).exists() {
        return true;
    }
    assert!(
        std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
        "{PROMTOOL} is missing and PM_REQUIRE_UPSTREAM is set"
    );
    println!("SKIP {test}: {PROMTOOL} not installed");
    false
}

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
    if !have_promtool("promtool_lists_and_dumps_our_blocks") {
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
    if !have_promtool("blocks_created_by_promtool_read_back") {
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
