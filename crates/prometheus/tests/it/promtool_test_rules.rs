//! `promtool test rules` end to end: a suite of passing and deliberately failing rule unit
//! tests, run by our binary and, where installed, by Debian's upstream promtool (2.42), which
//! must reach the same verdicts with the same failure texts.

use pm_testsupport::{run, upstream_binary};

const OURS: &str = env!("CARGO_BIN_EXE_promtool");
const UPSTREAM: &str = "/usr/bin/promtool";

const RULES: &str = r#"groups:
- name: g
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - alert: InstanceDown
    expr: up == 0
    for: 2m
    labels:
      severity: page
    annotations:
      summary: "Instance {{ $labels.instance }} down ({{ $value }})"
      ext: "{{ $externalLabels.dc }}"
- name: later
  rules:
  - record: job:up:double
    expr: job:up:sum * 2
"#;

/// Everything passes: `for` holding an alert back, annotations templated with the value and
/// external labels, recording rules feeding later groups, scalars, `_` and `stale` steps.
const GOOD: &str = r#"rule_files: [rules.yml]
evaluation_interval: 1m
group_eval_order: [g, later]
tests:
- name: down
  interval: 1m
  external_labels: {dc: eu}
  input_series:
  - series: 'up{job="a", instance="i1"}'
    values: '1 1 0 0 0 0 0'
  - series: 'up{job="a", instance="i2"}'
    values: '1+0x6'
  alert_rule_test:
  - eval_time: 1m
    alertname: InstanceDown
  - eval_time: 3m
    alertname: InstanceDown
  - eval_time: 5m
    alertname: InstanceDown
    exp_alerts:
    - exp_labels: {severity: page, instance: i1, job: a}
      exp_annotations:
        summary: "Instance i1 down (0)"
        ext: "eu"
  promql_expr_test:
  - expr: job:up:sum
    eval_time: 4m
    exp_samples:
    - labels: 'job:up:sum{job="a"}'
      value: 1
  - expr: job:up:double
    eval_time: 4m
    exp_samples:
    - labels: 'job:up:double{job="a"}'
      value: 2
  - expr: 1 + 1
    eval_time: 0m
    exp_samples:
    - labels: '{}'
      value: 2
- name: gaps
  interval: 30s
  input_series:
  - series: 'x{a="1"}'
    values: '1+1x3 _ stale 7'
  promql_expr_test:
  - expr: x
    eval_time: 1m
    exp_samples:
    - labels: 'x{a="1"}'
      value: 3
  - expr: x
    eval_time: 150s
  - expr: count_over_time(x[10m])
    eval_time: 3m
    exp_samples:
    - labels: '{a="1"}'
      value: 5
"#;

/// Every kind of failure: wrong alert labels, an alert expected too early, wrong and missing
/// samples, a query that does not parse.
const BAD: &str = r#"rule_files: [rules.yml]
tests:
- name: wrong
  interval: 1m
  input_series:
  - series: 'up{job="a", instance="i1"}'
    values: '0x6'
  alert_rule_test:
  - eval_time: 5m
    alertname: InstanceDown
    exp_alerts:
    - exp_labels: {severity: warn, instance: i1, job: a}
  - eval_time: 1m
    alertname: InstanceDown
    exp_alerts:
    - exp_labels: {instance: i1}
  promql_expr_test:
  - expr: job:up:sum
    eval_time: 4m
    exp_samples:
    - labels: 'job:up:sum{job="b"}'
      value: 3.5
  - expr: sum(
    eval_time: 1m
- interval: 1m
  input_series:
  - series: 'x'
    values: '1 2 3'
  promql_expr_test:
  - expr: x
    eval_time: 2m
    exp_samples:
    - labels: 'x'
      value: 4
  - expr: x
    eval_time: 2m
"#;

const BAD_FAILURES: &str = r#"  FAILED:
    name: wrong,
    alertname: InstanceDown, time: 1m, 
        exp:[
            0:
              Labels:{alertname="InstanceDown", instance="i1"}
              Annotations:{}
            ], 
        got:[]
    name: wrong,
    alertname: InstanceDown, time: 5m, 
        exp:[
            0:
              Labels:{alertname="InstanceDown", instance="i1", job="a", severity="warn"}
              Annotations:{}
            ], 
        got:[
            0:
              Labels:{alertname="InstanceDown", instance="i1", job="a", severity="page"}
              Annotations:{ext="", summary="Instance i1 down (0)"}
            ]
    expr: "job:up:sum", time: 4m,
        exp: {__name__="job:up:sum", job="b"} 3.5E+00
        got: {__name__="job:up:sum", job="a"} 0E+00
    expr: "sum(", time: 1m, err: 1:5: parse error: unclosed left parenthesis
    expr: "x", time: 2m,
        exp: {__name__="x"} 4E+00
        got: {__name__="x"} 3E+00
    expr: "x", time: 2m,
        exp: nil
        got: {__name__="x"} 3E+00
"#;

fn suite() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("rules.yml", RULES), ("good.yml", GOOD), ("bad.yml", BAD)] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// 2.42 announces each file on stdout; 3.x (and we) do not.
fn without_file_banners(stdout: &str) -> String {
    stdout
        .lines()
        .filter(|l| !l.starts_with("Unit Testing: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn passing_suite_succeeds() {
    let dir = suite();
    let ours = run(OURS, &["test", "rules", "good.yml"], dir.path());
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert_eq!(ours.stdout, "  SUCCESS\n\n");
    assert_eq!(ours.stderr, "");
}

#[test]
fn failures_are_reported_as_upstream_words_them() {
    let dir = suite();
    let ours = run(OURS, &["test", "rules", "good.yml", "bad.yml"], dir.path());
    assert_eq!(ours.code, 1);
    assert_eq!(ours.stderr, BAD_FAILURES);
    // One blank line per failure, then one after each file.
    assert_eq!(ours.stdout, format!("  SUCCESS\n\n{}\n", "\n".repeat(6)));
}

#[test]
fn run_selects_test_groups_by_name() {
    let dir = suite();
    let ours = run(
        OURS,
        &[
            "test", "rules", "--run", "^gap", "--run", "nomatch", "good.yml", "bad.yml",
        ],
        dir.path(),
    );
    // `bad.yml` has no group matching, so nothing in it runs and it passes.
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert_eq!(ours.stdout, "  SUCCESS\n\n  SUCCESS\n\n");
}

#[test]
fn debug_dumps_the_series_of_each_group() {
    let dir = suite();
    let ours = run(OURS, &["test", "rules", "--debug", "good.yml"], dir.path());
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert!(
        ours.stderr.contains("DEBUG: Starting test down\n"),
        "{}",
        ours.stderr
    );
    // The dump is a `[5m1s]` range at 5m1s (3.x's left-open ranges leave out time 0), series
    // in label order.
    assert!(
        ours.stderr.contains(
            "DEBUG: Dump of all data (input_series and rules) at 5m1s:\n{__name__=\"ALERTS\", alertname=\"InstanceDown\", alertstate=\"firing\", instance=\"i1\", job=\"a\", severity=\"page\"} =>\n1 @[240000]\n"
        ),
        "{}",
        ours.stderr
    );
    assert!(
        ours.stderr
            .contains("\n{__name__=\"job:up:double\", job=\"a\"} =>\n4 @[60000]\n2 @[120000]\n"),
        "{}",
        ours.stderr
    );
}

#[test]
fn bad_test_files_fail() {
    let dir = suite();
    std::fs::write(dir.path().join("typo.yml"), "rule_file: [rules.yml]\n").unwrap();
    std::fs::write(
        dir.path().join("noname.yml"),
        "rule_files: [missing*.yml]\ntests:\n- alert_rule_test:\n  - eval_time: 2m\n",
    )
    .unwrap();
    let ours = run(
        OURS,
        &["test", "rules", "typo.yml", "noname.yml"],
        dir.path(),
    );
    assert_eq!(ours.code, 1);
    assert!(ours.stderr.contains("rule_file"), "{}", ours.stderr);
    assert!(
        ours.stderr.contains(
            "an item under alert_rule_test misses required attribute alertname at eval_time 2m\n"
        ),
        "{}",
        ours.stderr
    );
    assert!(
        ours.stderr.contains("  WARNING: no file match pattern "),
        "{}",
        ours.stderr
    );
}

#[test]
fn verdicts_and_texts_match_upstream() {
    let Some(upstream) = upstream_binary(UPSTREAM).then_some(UPSTREAM) else {
        return;
    };
    let dir = suite();
    for file in ["good.yml", "bad.yml"] {
        let ours = run(OURS, &["test", "rules", file], dir.path());
        let theirs = run(upstream, &["test", "rules", file], dir.path());
        assert_eq!(ours.code, theirs.code, "{file}: {}", ours.stderr);
        assert_eq!(ours.stderr, theirs.stderr, "{file}");
        assert_eq!(ours.stdout, without_file_banners(&theirs.stdout), "{file}");
    }
}
