//! `promtool tsdb create-blocks-from rules` end to end: recording (and, as upstream does,
//! alerting) rules backfilled from our server over HTTP into blocks, which our `tsdb dump`
//! and Debian's upstream promtool (2.42) read back; upstream's own backfill of the same rules
//! against the same server must produce the same samples and blocks.

use crate::server_support;

use pm_testsupport::{run, run_ok as ok, upstream_binary};
use server_support::{OURS, start};

const PROMTOOL: &str = env!("CARGO_BIN_EXE_promtool");
const UPSTREAM_PROMTOOL: &str = "/usr/bin/promtool";

const RULES: &str = r#"groups:
- name: g
  interval: 5m
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
    labels:
      src: backfill
  - alert: Down
    expr: up == 0
    labels:
      severity: page
- name: h
  rules:
  - record: job:up:max
    expr: max by (job, instance) (up)
    labels:
      job: overridden
"#;

/// Four hours of `up` for three targets, one sample a minute from `base` (Unix seconds): `x`
/// is down every seventh minute, `z` counts up.
fn input(base: i64) -> String {
    let mut lines = vec!["# TYPE up gauge".to_owned()];
    for i in 0..240 {
        let t = base + i * 60;
        let x = if i % 7 == 0 { 0 } else { 1 };
        lines.push(format!("up{{job=\"a\",instance=\"x\"}} {x} {t}"));
        lines.push(format!("up{{job=\"a\",instance=\"y\"}} 1 {t}"));
        lines.push(format!("up{{job=\"b\",instance=\"z\"}} {i} {t}"));
    }
    lines.push("# EOF\n".into());
    lines.join("\n")
}

/// The list table without ULIDs, sizes and chunk counts, which differ between writers, in
/// time order.
fn list_rows(table: &str) -> Vec<String> {
    let mut rows: Vec<String> = table
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            format!(
                "{} {} {} {} {}",
                cells[1], cells[2], cells[3], cells[4], cells[6]
            )
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_are_backfilled_from_our_server() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Recent enough for the server's retention, old enough to be in blocks.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let base = (now - 12 * 3600) / 3600 * 3600;
    std::fs::write(root.join("in.om"), input(base)).unwrap();
    std::fs::write(root.join("rules.yml"), RULES).unwrap();
    ok(
        PROMTOOL,
        &[
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "-q",
            "in.om",
            "data",
        ],
        root,
    );
    let server = start(OURS, root, &root.join("data"), "global: {}\n", &[]).await;
    let url = format!("--url={}", server.base);
    let start_arg = format!("--start={base}");
    let end_arg = format!("--end={}", base + 14_000);
    let args = |out: &'static str| {
        [
            "tsdb",
            "create-blocks-from",
            "rules",
            url.as_str(),
            start_arg.as_str(),
            end_arg.as_str(),
            out,
            "rules.yml",
        ]
    };
    let ours = run(PROMTOOL, &args("--output-dir=ours"), root);
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert_eq!(ours.stdout, "");
    assert!(
        ours.stderr.contains("msg=\"processing rule\""),
        "{}",
        ours.stderr
    );

    let dump = ok(PROMTOOL, &["tsdb", "dump", "ours"], root);
    let series = |name: &str| -> Vec<(String, i64)> {
        dump.lines()
            .filter(|l| l.starts_with(name))
            .map(|l| {
                let mut parts = l.rsplitn(3, ' ');
                let t = parts.next().unwrap().parse().unwrap();
                let v = parts.next().unwrap().to_owned();
                (format!("{} {v}", parts.next().unwrap()), t)
            })
            .collect()
    };
    // Group `g` runs every 5m from its own slot: all its samples share the slot's phase.
    let sums = series("{__name__=\"job:up:sum\"");
    assert!(!sums.is_empty(), "{dump}");
    let phase = sums[0].1.rem_euclid(300_000);
    assert!(sums.iter().all(|(_, t)| t.rem_euclid(300_000) == phase));
    assert!(
        sums.iter()
            .all(|(_, t)| *t >= base * 1000 && *t <= (base + 14_000) * 1000)
    );
    assert!(
        sums.iter()
            .any(|(s, _)| s == "{__name__=\"job:up:sum\", job=\"a\", src=\"backfill\"} 2"),
        "{sums:?}"
    );
    // Alerting rules are backfilled too, under the alert's name with its labels.
    assert!(
        dump.contains("{__name__=\"Down\", instance=\"x\", job=\"a\", severity=\"page\"} 0 "),
        "{dump}"
    );
    // A rule label overrides the query's.
    let maxes = series("{__name__=\"job:up:max\"");
    assert!(
        maxes.iter().all(|(s, _)| s.contains("job=\"overridden\"")),
        "{maxes:?}"
    );
    // One block per rule and block range: three rules over [base, base + 14000s] touching
    // three two-hour ranges (base is a whole hour).
    let list = ok(PROMTOOL, &["tsdb", "list", "ours"], root);
    let blocks = list.lines().count() - 1;
    assert!((6..=9).contains(&blocks), "{list}");

    if let Some(upstream) = upstream_binary(UPSTREAM_PROMTOOL).then_some(UPSTREAM_PROMTOOL) {
        let theirs = run(upstream, &args("--output-dir=theirs"), root);
        assert_eq!(theirs.code, 0, "{}", theirs.stderr);
        for out in ["ours", "theirs"] {
            // 2.42 replays the head's WAL and fails without one.
            std::fs::create_dir_all(root.join(out).join("wal")).unwrap();
        }
        let their_dump = ok(upstream, &["tsdb", "dump", "theirs"], root);
        assert_eq!(dump, their_dump, "our backfill vs upstream's");
        assert_eq!(ok(upstream, &["tsdb", "dump", "ours"], root), dump);
        assert_eq!(
            list_rows(&list),
            list_rows(&ok(upstream, &["tsdb", "list", "theirs"], root))
        );
    }
}

#[test]
fn bad_arguments_fail_as_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("rules.yml"), RULES).unwrap();
    std::fs::write(
        root.join("bad.yml"),
        "groups:\n- name: g\n  rules:\n  - record: x\n",
    )
    .unwrap();
    let backfill = |extra: &[&str]| {
        let mut args = vec!["tsdb", "create-blocks-from", "rules", "--output-dir=out"];
        args.extend_from_slice(extra);
        run(PROMTOOL, &args, root)
    };
    let r = backfill(&["--start=2000", "--end=1000", "rules.yml"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (1, "start time is not before end time\n")
    );
    let r = backfill(&["--start=yesterday", "rules.yml"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "error parsing start time: cannot parse \"yesterday\" to a valid timestamp\n"
    );
    let r = backfill(&["--start=1000", "--end=2000", "bad.yml"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.lines().any(|l| l.starts_with(
            "rule importer parse error: bad.yml: 4:5: group \"g\", rule 1, \"x\": field 'expr' must be set in rule"
        )),
        "{}",
        r.stderr
    );
    // Nothing listens on port 1: every rule fails, each is reported, then the summary.
    let r = backfill(&[
        "--url=http://127.0.0.1:1",
        "--start=1000",
        "--end=2000",
        "rules.yml",
    ]);
    assert_eq!(r.code, 1);
    let errors: Vec<&str> = r.stderr.lines().filter(|l| !l.contains("level=")).collect();
    assert_eq!(errors.len(), 4, "{}", r.stderr);
    assert!(
        errors[..3]
            .iter()
            .all(|l| l.starts_with("rule importer error: query range: "))
    );
    assert_eq!(errors[3], "error importing rules");
    assert!(!root.join("out").exists());
}
