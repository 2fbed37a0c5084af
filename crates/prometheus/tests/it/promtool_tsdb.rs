//! `promtool tsdb` end to end: blocks created from OpenMetrics by our binary and by Debian's
//! upstream promtool (2.42) are listed and dumped by both, and every dump must be identical.

use pm_testsupport::{run, run_ok as ok, upstream_binary};

const OURS: &str = env!("CARGO_BIN_EXE_promtool");
const UPSTREAM: &str = "/usr/bin/promtool";

/// Three block ranges (samples at 0h-5h), series written out of order, a counter family,
/// special values, escaped label values.
const INPUT: &str = r#"# HELP http_requests Requests.
# TYPE http_requests counter
http_requests_total{code="200",path="/a"} 1 0
http_requests_total{code="200",path="/a"} 5 3600
http_requests_total{code="500",path="/a"} 2 60
http_requests_total{code="200",path="/a"} 7 7300.5
http_requests_total{code="200",path="/a"} 9 18000
# TYPE temp gauge
temp{room="q\"uote\\d"} -1.5e-7 120
temp{room="q\"uote\\d"} NaN 180
temp{room="q\"uote\\d"} +Inf 240
temp{room="x"} 1e+21 7200
# EOF
"#;

const EXPECTED_DUMP: &str = r#"{__name__="http_requests_total", code="200", path="/a"} 1 0
{__name__="http_requests_total", code="200", path="/a"} 5 3600000
{__name__="http_requests_total", code="200", path="/a"} 7 7300500
{__name__="http_requests_total", code="200", path="/a"} 9 18000000
{__name__="http_requests_total", code="500", path="/a"} 2 60000
{__name__="temp", room="q\"uote\\d"} -1.5e-07 120000
{__name__="temp", room="q\"uote\\d"} NaN 180000
{__name__="temp", room="q\"uote\\d"} +Inf 240000
{__name__="temp", room="x"} 1e+21 7200000
"#;

fn imported(bin: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.om"), INPUT).unwrap();
    ok(
        bin,
        &["tsdb", "create-blocks-from", "openmetrics", "in.om", "data"],
        dir.path(),
    );
    dir
}

/// The list table without the columns that legitimately differ between writers (ULID, size).
fn list_columns(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<String> = l.split_whitespace().map(str::to_owned).collect();
            cells[1..5].to_vec()
        })
        .collect()
}

#[test]
fn created_blocks_are_listed_and_dumped() {
    let dir = imported(OURS);
    let list = ok(OURS, &["tsdb", "list", "data"], dir.path());
    assert!(
        list.starts_with("BLOCK ULID                  MIN TIME     MAX TIME     DURATION     NUM SAMPLES  NUM CHUNKS   NUM SERIES   SIZE\n"),
        "{list}"
    );
    assert_eq!(
        list_columns(&list),
        [
            ["0", "3600001", "1h0m0.001s", "6"],
            ["7200000", "7300501", "1m40.501s", "2"],
            ["18000000", "18000001", "1ms", "1"],
        ]
    );
    assert_eq!(
        ok(OURS, &["tsdb", "dump", "data"], dir.path()),
        EXPECTED_DUMP
    );
    let selected = ok(
        OURS,
        &[
            "tsdb",
            "dump",
            "--min-time=100000",
            "--max-time=7200000",
            "--match=temp",
            "--match={code=\"500\"}",
            "data",
        ],
        dir.path(),
    );
    assert_eq!(
        selected,
        "{__name__=\"temp\", room=\"q\\\"uote\\\\d\"} -1.5e-07 120000\n{__name__=\"temp\", room=\"q\\\"uote\\\\d\"} NaN 180000\n{__name__=\"temp\", room=\"q\\\"uote\\\\d\"} +Inf 240000\n{__name__=\"temp\", room=\"x\"} 1e+21 7200000\n"
    );
}

#[test]
fn dump_openmetrics_round_trips() {
    let dir = imported(OURS);
    let om = ok(
        OURS,
        &[
            "tsdb",
            "dump-openmetrics",
            "--match=http_requests_total",
            "data",
        ],
        dir.path(),
    );
    assert_eq!(
        om,
        "http_requests_total{code=\"200\",path=\"/a\"} 1 0.000\nhttp_requests_total{code=\"200\",path=\"/a\"} 5 3600.000\nhttp_requests_total{code=\"200\",path=\"/a\"} 7 7300.500\nhttp_requests_total{code=\"200\",path=\"/a\"} 9 18000.000\nhttp_requests_total{code=\"500\",path=\"/a\"} 2 60.000\n# EOF\n"
    );
    std::fs::write(dir.path().join("again.om"), &om).unwrap();
    ok(
        OURS,
        &[
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--quiet",
            "again.om",
            "again",
        ],
        dir.path(),
    );
    let dumped = ok(OURS, &["tsdb", "dump", "again"], dir.path());
    let expected: String = EXPECTED_DUMP
        .lines()
        .filter(|l| l.starts_with("{__name__=\"http"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(dumped, expected);
}

#[test]
fn bad_input_fails_with_upstreams_wording() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.om"), "a 1\n# EOF\n").unwrap();
    let r = run(
        OURS,
        &["tsdb", "create-blocks-from", "openmetrics", "in.om", "out"],
        dir.path(),
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "getting min and max timestamp: expected timestamp for series {__name__=\"a\"}, got none\n"
    );
    let r = run(OURS, &["tsdb", "list", "missing"], dir.path());
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("missing"), "{}", r.stderr);
}

#[test]
fn upstream_and_ours_read_each_others_blocks() {
    let Some(upstream) = upstream_binary(UPSTREAM).then_some(UPSTREAM) else {
        return;
    };
    let ours = imported(OURS);
    let theirs = imported(upstream);
    for dir in [ours.path(), theirs.path()] {
        // 2.42 replays the head's WAL and fails without one.
        std::fs::create_dir_all(dir.join("data/wal")).unwrap();
        let ours_dump = ok(OURS, &["tsdb", "dump", "data"], dir);
        let their_dump = ok(upstream, &["tsdb", "dump", "data"], dir);
        assert_eq!(ours_dump, their_dump, "dumps of {}", dir.display());
        assert_eq!(ours_dump, EXPECTED_DUMP);
        let ours_list = ok(OURS, &["tsdb", "list", "data"], dir);
        let their_list = ok(upstream, &["tsdb", "list", "data"], dir);
        assert_eq!(list_columns(&ours_list), list_columns(&their_list));
        let ours_table: Vec<&str> = ours_list.lines().collect();
        let their_table: Vec<&str> = their_list.lines().collect();
        // Same ULIDs and sizes when reading the same directory.
        assert_eq!(ours_table, their_table, "lists of {}", dir.display());
    }
    let ours_list = ok(OURS, &["tsdb", "list", "data"], ours.path());
    let their_list = ok(upstream, &["tsdb", "list", "data"], theirs.path());
    assert_eq!(list_columns(&ours_list), list_columns(&their_list));
}

/// Two hours of a counter family whose series start and stop at different times (churn),
/// and a gauge with a long label value, for `tsdb analyze`.
fn churning_input() -> String {
    let mut lines = vec!["# TYPE http_requests counter".to_owned()];
    for i in 0..240 {
        let t = i * 30;
        for code in ["200", "500", "404"] {
            for inst in 0..3 {
                if (code == "404" && i > 150) || (inst == 2 && i < 100) {
                    continue;
                }
                lines.push(format!(
                    "http_requests_total{{code=\"{code}\",instance=\"host-{inst}.example.com:9100\",job=\"api\"}} {} {t}",
                    i * 3 + inst
                ));
            }
        }
    }
    lines.push("# TYPE temp gauge".into());
    for i in 0..240 {
        for room in ["kitchen", "a-very-long-room-name"] {
            if room == "kitchen" && i > 200 {
                continue;
            }
            lines.push(format!("temp{{room=\"{room}\"}} {} {}", 20 + i % 5, i * 30));
        }
    }
    lines.push("# EOF\n".into());
    lines.join("\n")
}

/// Each section's rows ordered as ours are: by figure, largest first, then by name (upstream
/// leaves the order of ties to Go's map iteration).
fn sorted_sections(output: &str) -> String {
    let sections: Vec<String> = output
        .trim_end()
        .split("\n\n")
        .enumerate()
        .map(|(i, section)| {
            let mut lines: Vec<&str> = section.lines().collect();
            if i > 0 {
                lines[1..].sort_by_key(|row| {
                    let (n, key) = row.split_once(' ').unwrap();
                    (std::cmp::Reverse(n.parse::<u64>().unwrap()), key.to_owned())
                });
            }
            lines.join("\n")
        })
        .collect();
    format!("{}\n", sections.join("\n\n"))
}

#[test]
fn analyze_matches_upstream_on_both_writers_blocks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.om"), churning_input()).unwrap();
    let upstream = upstream_binary(UPSTREAM).then_some(UPSTREAM);
    let writers: Vec<&str> = std::iter::once(OURS).chain(upstream).collect();
    for writer in writers {
        let data = format!("data-{}", if writer == OURS { "ours" } else { "theirs" });
        ok(
            writer,
            &[
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "-q",
                "in.om",
                &data,
            ],
            dir.path(),
        );
        // 2.42 replays the head's WAL and fails without one.
        std::fs::create_dir_all(dir.path().join(&data).join("wal")).unwrap();
        let ours = ok(OURS, &["tsdb", "analyze", "--limit=100", &data], dir.path());
        assert_eq!(ours, sorted_sections(&ours), "{ours}");
        assert!(ours.contains("\nTotal Series: 11\nLabel names: 5\nPostings (unique label pairs): 11\nPostings entries (total label pairs): 40\n\nLabel pairs most involved in churning:\n2 __name__=http_requests_total\n2 job=api\n1 code=404\n"), "{ours}");
        assert!(
            ours.ends_with("\nHighest cardinality metric names:\n9 http_requests_total\n2 temp\n"),
            "{ours}"
        );
        let Some(upstream) = upstream else { continue };
        let theirs = ok(
            upstream,
            &["tsdb", "analyze", "--limit=100", &data],
            dir.path(),
        );
        // 3.x renamed the series count line.
        let theirs = theirs.replacen("\nSeries: ", "\nTotal Series: ", 1);
        assert_eq!(ours, sorted_sections(&theirs), "{writer}'s block");
    }
}

#[test]
fn analyze_limits_selects_and_extends() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.om"), churning_input()).unwrap();
    ok(
        OURS,
        &[
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "-q",
            "in.om",
            "data",
        ],
        dir.path(),
    );
    let limited = ok(OURS, &["tsdb", "analyze", "--limit=2", "data"], dir.path());
    let sections: Vec<&str> = limited.split("\n\n").collect();
    assert_eq!(sections.len(), 7, "{limited}");
    for s in &sections[1..] {
        assert_eq!(s.trim_end().lines().count(), 3, "{s}");
    }
    assert!(
        limited.ends_with("\nMost common label pairs:\n9 __name__=http_requests_total\n9 job=api\n\nLabel names with highest cumulative label value length:\n69 instance\n28 room\n\nHighest cardinality labels:\n3 code\n3 instance\n\nHighest cardinality metric names:\n9 http_requests_total\n2 temp\n"),
        "{limited}"
    );

    let selected = ok(
        OURS,
        &["tsdb", "analyze", "--match={code=\"404\"}", "data"],
        dir.path(),
    );
    assert!(
        selected.contains("\nTotal Series: 11\nMatcher: {code=\"404\"}\nLabel names: 4\nMatched series: 3\nPostings (unique label pairs): 6\nPostings entries (total label pairs): 12\n"),
        "{selected}"
    );
    assert!(
        selected.ends_with("\nHighest cardinality labels:\n3 instance\n1 __name__\n1 code\n1 job\n\nHighest cardinality metric names:\n3 http_requests_total\n"),
        "{selected}"
    );

    let extended = ok(OURS, &["tsdb", "analyze", "--extended", "data"], dir.path());
    let analysis = extended.split_once("\nCompaction analysis:\n\n").unwrap().1;
    assert!(
        analysis.starts_with("samples per float chunk (min/avg/max): "),
        "{analysis}"
    );
    assert!(
        analysis.ends_with("samples per histogram chunk: N/A\n\nbytes per histogram chunk: N/A\n\nbuckets per histogram chunk: N/A\n\n"),
        "{analysis}"
    );

    let missing = run(
        OURS,
        &["tsdb", "analyze", "data", "01ARZ3NDEKTSV4RRFFQ69G5FAV"],
        dir.path(),
    );
    assert_eq!(missing.code, 1);
    assert_eq!(
        missing.stderr,
        "invalid block ID 01ARZ3NDEKTSV4RRFFQ69G5FAV\n"
    );
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let empty = run(OURS, &["tsdb", "analyze", "empty"], dir.path());
    assert_eq!(
        (empty.code, empty.stderr.as_str()),
        (1, "no blocks found\n")
    );
}
