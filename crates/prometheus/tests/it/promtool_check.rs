//! `promtool check …` end to end: our binary over upstream's fixtures, and side by side with
//! Debian's upstream promtool (2.42) where it is installed.
//!
//! The fixtures come from Prometheus 3.x; 2.42 refuses fields it does not know yet and accepts
//! some files 3.x rejects. Where the two exit codes differ, the test requires the difference to
//! be one of those two version gaps, so any other divergence fails.

use pm_testsupport::{Run, run, run_with_stdin, testdata, upstream_binary};
use std::path::{Path, PathBuf};

const OURS: &str = env!("CARGO_BIN_EXE_promtool");
const UPSTREAM: &str = "/usr/bin/promtool";

fn sorted_files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// A 3.x fixture on which 2.42 legitimately disagrees: it does not know a field yet, or it
/// accepts a file that a later validation rejects.
fn version_gap(name: &str, ours: &Run, theirs: &Run) -> bool {
    let unknown_field = theirs.stderr.contains("not found in type") && ours.code == 0;
    // 3.x rejects Alertmanager API v1, which 2.42 still accepted.
    let rejected_later =
        name.contains(".bad.") || name == "config_with_deprecated_am_api_config.yml";
    let newer_validation = rejected_later && ours.code == 1 && theirs.code == 0;
    unknown_field || newer_validation
}

#[test]
fn config_fixtures_syntax_only_follow_naming_convention() {
    let dir = testdata("prometheus-config");
    let mut files = sorted_files(&dir, "yml");
    files.extend(sorted_files(&dir.join("scrape_configs"), "yml"));
    let mut checked = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        let agent = name.starts_with("agent_mode");
        let expected = if agent {
            matches!(
                name,
                "agent_mode.good.yml" | "agent_mode.without_remote_writes.yml"
            )
        } else if name.contains(".good.") {
            true
        } else if name.contains(".bad.") {
            false
        } else {
            continue;
        };
        let mut args = vec!["check", "config", "--syntax-only"];
        if agent {
            args.push("--agent");
        }
        args.push(file.to_str().unwrap());
        let ours = run(OURS, &args, &dir);
        assert_eq!(
            ours.code,
            if expected { 0 } else { 1 },
            "{name}: stdout {} stderr {}",
            ours.stdout,
            ours.stderr
        );
        checked += 1;
    }
    assert!(checked > 190, "only {checked} fixtures checked");
}

#[test]
fn config_fixtures_exit_codes_match_upstream() {
    let Some(upstream) = upstream_binary(UPSTREAM).then_some(UPSTREAM) else {
        return;
    };
    let dir = testdata("prometheus-config");
    let mut files = sorted_files(&dir, "yml");
    files.extend(sorted_files(&dir.join("scrape_configs"), "yml"));
    let mut same = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        let mut args = vec!["check", "config"];
        if name.starts_with("agent_mode") {
            args.push("--agent");
        }
        args.push(file.to_str().unwrap());
        let ours = run(OURS, &args, &dir);
        let theirs = run(upstream, &args, &dir);
        if ours.code == theirs.code {
            same += 1;
        } else {
            assert!(
                version_gap(name, &ours, &theirs),
                "{name}: ours {} ({}), upstream {} ({})",
                ours.code,
                ours.stderr,
                theirs.code,
                theirs.stderr
            );
        }
    }
    assert!(same > 150, "only {same} fixtures agree with upstream");
}

#[test]
fn rulefmt_fixtures_exit_codes() {
    let dir = testdata("rulefmt");
    let upstream = upstream_binary(UPSTREAM).then_some(UPSTREAM);
    for file in sorted_files(&dir, "yaml") {
        let name = file.file_name().unwrap().to_str().unwrap();
        let path = file.to_str().unwrap();
        // Upstream 3.x validates names as UTF-8, so the legacy-only failure passes.
        let expected = if name.contains(".bad.") && name != "legacy_validation_annotation.bad.yaml"
        {
            1
        } else {
            0
        };
        let ours = run(OURS, &["check", "rules", path], &dir);
        assert_eq!(ours.code, expected, "{name}: {}", ours.stderr);
        let fatal = run(OURS, &["check", "rules", "--lint-fatal", path], &dir);
        let has_duplicates = ours.stderr.contains("duplicate rule(s) found");
        let expected_fatal = if has_duplicates { 3 } else { expected };
        assert_eq!(fatal.code, expected_fatal, "{name} --lint-fatal");
        if let Some(upstream) = upstream {
            let theirs = run(upstream, &["check", "rules", path], &dir);
            // 2.42 validates names the legacy way; 3.x accepts UTF-8.
            let utf8_gap = (name.starts_with("utf-8_") || name.starts_with("legacy_validation"))
                && theirs.code == 1;
            assert!(
                ours.code == theirs.code || utf8_gap,
                "{name}: ours {}, upstream {} ({})",
                ours.code,
                theirs.code,
                theirs.stderr
            );
        }
    }
}

const RULES: &str = "groups:
- name: g
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
    labels:
      team: a
  - alert: Down
    expr: up == 0
    for: 5m
    labels:
      severity: page
      team: a
- name: h
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
    labels:
      team: a
  - alert: Down
    expr: up == 0
    labels:
      severity: page
      team: a
";

const BAD_RULES: &str = "groups:
- name: g
  rules:
  - record: x
    expr: sum(
  - alert: y
";

const CONFIG: &str = "global:
  scrape_interval: 10m
rule_files:
  - rules/*.yml
  - bad.rules
scrape_configs:
  - job_name: slow
    file_sd_configs:
      - files: [targets/*.json, missing.yml]
";

/// A config with rule files (one with duplicates, one unparsable) and file SD, laid out in a
/// fresh directory.
fn config_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("rules")).unwrap();
    std::fs::create_dir_all(p.join("targets")).unwrap();
    std::fs::write(p.join("prometheus.yml"), CONFIG).unwrap();
    std::fs::write(p.join("rules/dup.yml"), RULES).unwrap();
    std::fs::write(p.join("bad.rules"), BAD_RULES).unwrap();
    std::fs::write(
        p.join("targets/a.json"),
        r#"[{"targets":["localhost:9100"],"labels":{"env":"x"}}]"#,
    )
    .unwrap();
    dir
}

const EXPECTED_CONFIG_STDOUT: &str = "Checking prometheus.yml
  WARNING: file \"missing.yml\" for file_sd in scrape job \"slow\" does not exist
  SUCCESS: 2 rule files found
 SUCCESS: prometheus.yml is valid prometheus config file syntax

Checking rules/dup.yml

Checking bad.rules
";

const EXPECTED_DUPLICATES: &str = "  FAILED:
lint error 2 duplicate rule(s) found.
Metric: Down
Label(s):
\tseverity: page
\tteam: a
Metric: job:up:sum
Label(s):
\tteam: a
Might cause inconsistency while recording expressions
";

#[test]
fn check_config_output_matches_upstream() {
    let dir = config_dir();
    let ours = run(OURS, &["check", "config", "prometheus.yml"], dir.path());
    assert_eq!(ours.stdout, EXPECTED_CONFIG_STDOUT);
    assert!(
        ours.stderr.starts_with(EXPECTED_DUPLICATES),
        "{}",
        ours.stderr
    );
    assert!(
        ours.stderr.contains(
            "  FAILED:\nbad.rules: 5:11: group \"g\", rule 1, \"x\": could not parse expression: "
        ),
        "{}",
        ours.stderr
    );
    assert_eq!(ours.code, 1);

    let all = run(
        OURS,
        &["check", "config", "--lint=all", "prometheus.yml"],
        dir.path(),
    );
    assert!(all.stderr.contains(
        "  FAILED: too long scrape interval found, data point will be marked as stale - job: slow, interval: 10m\n"
    ));
    let syntax = run(
        OURS,
        &["check", "config", "--syntax-only", "prometheus.yml"],
        dir.path(),
    );
    assert_eq!(
        syntax.stdout,
        "Checking prometheus.yml\n SUCCESS: prometheus.yml is valid prometheus config file syntax\n\n"
    );
    assert_eq!((syntax.code, syntax.stderr.as_str()), (0, ""));

    if let Some(upstream) = upstream_binary(UPSTREAM).then_some(UPSTREAM) {
        for args in [
            &["check", "config", "prometheus.yml"][..],
            &["check", "config", "--syntax-only", "prometheus.yml"],
        ] {
            let theirs = run(upstream, args, dir.path());
            let ours = run(OURS, args, dir.path());
            assert_eq!(ours.code, theirs.code, "{args:?}");
            // 2.42 prints a blank line after a file that does not parse; 3.x does not.
            assert_eq!(
                ours.stdout,
                theirs
                    .stdout
                    .replace("Checking bad.rules\n\n", "Checking bad.rules\n"),
                "{args:?}"
            );
            let dups = |s: &str| {
                let end = s.find("recording expressions\n").map_or(0, |i| i + 22);
                s[..end].to_owned()
            };
            assert_eq!(
                dups(&ours.stderr),
                dups(&unindent(&theirs.stderr)),
                "{args:?}"
            );
        }
    }
}

#[test]
fn check_rules_lint_levels_and_stdin() {
    let dir = config_dir();
    let rules = run_with_stdin(OURS, &["check", "rules"], dir.path(), RULES.as_bytes());
    assert_eq!(rules.stdout, "Checking standard input\n\n");
    assert_eq!(rules.stderr, EXPECTED_DUPLICATES);
    assert_eq!(rules.code, 0);
    let fatal = run_with_stdin(
        OURS,
        &["check", "rules", "--lint-fatal"],
        dir.path(),
        RULES.as_bytes(),
    );
    assert_eq!(fatal.code, 3);
    let none = run(
        OURS,
        &["check", "rules", "--lint=none", "rules/dup.yml"],
        dir.path(),
    );
    assert_eq!(
        none.stdout,
        "Checking rules/dup.yml\n  SUCCESS: 4 rules found\n\n"
    );
    assert_eq!((none.code, none.stderr.as_str()), (0, ""));
    // 3.x quotes the option (2.42 printed `unknown lint option bogus`).
    let bogus = run(
        OURS,
        &["check", "rules", "--lint=bogus", "rules/dup.yml"],
        dir.path(),
    );
    assert!(
        bogus
            .stdout
            .starts_with("WARNING: unknown lint option: \"bogus\"\nChecking")
    );
    let missing = run(OURS, &["check", "rules", "nope.yml"], dir.path());
    assert_eq!(missing.code, 1);

    if let Some(upstream) = upstream_binary(UPSTREAM).then_some(UPSTREAM) {
        // 2.42 cannot read standard input; compare on the file.
        for args in [
            &["check", "rules", "rules/dup.yml"][..],
            &["check", "rules", "--lint-fatal", "rules/dup.yml"],
            &["check", "rules", "--lint=none", "rules/dup.yml"],
        ] {
            let theirs = run(upstream, args, dir.path());
            let ours = run(OURS, args, dir.path());
            assert_eq!(
                (ours.code, &ours.stdout, &ours.stderr),
                (theirs.code, &theirs.stdout, &unindent(&theirs.stderr)),
                "{args:?}"
            );
        }
    }
}

/// 2.42 indents each rule-file error by five spaces; 3.x prints them as they are.
fn unindent(stderr: &str) -> String {
    stderr.replace("\n     ", "\n")
}

const METRICS: &str = "# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{code=\"200\"} 1
http_requests_total{code=\"500\"} 1
# TYPE requestCount counter
requestCount{someLabel=\"x\"} 3
# HELP x_milliseconds_count Bad.
# TYPE x_milliseconds_count gauge
x_milliseconds_count{le=\"1\",quantile=\"2\"} 1
# HELP foo:bar_gauge_total G.
# TYPE foo:bar_gauge_total gauge
foo:bar_gauge_total 1
# HELP disk_kb_used X.
# TYPE disk_kb_used untyped
disk_kb_used 1
disk_mb_bits_sec_bucket 1
";

#[test]
fn check_metrics_lints_as_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let ours = run_with_stdin(OURS, &["check", "metrics"], dir.path(), METRICS.as_bytes());
    assert_eq!(ours.code, 3);
    assert!(
        ours.stderr
            .contains("requestCount counter metrics should have \"_total\" suffix\n")
    );
    assert!(
        ours.stderr.contains(
            "x_milliseconds_count use base unit \"seconds\" instead of \"milliseconds\"\n"
        )
    );
    assert_eq!(ours.stderr.lines().count(), 16, "{}", ours.stderr);
    let clean = "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n";
    let ok = run_with_stdin(OURS, &["check", "metrics"], dir.path(), clean.as_bytes());
    assert_eq!((ok.code, ok.stderr.as_str()), (0, ""));
    let neither = run(OURS, &["check", "metrics", "--lint=none"], dir.path());
    assert_eq!(neither.code, 1);

    if let Some(upstream) = upstream_binary(UPSTREAM).then_some(UPSTREAM) {
        for input in [METRICS, clean, "garbage{\n"] {
            let theirs = run_with_stdin(
                upstream,
                &["check", "metrics"],
                dir.path(),
                input.as_bytes(),
            );
            let ours = run_with_stdin(OURS, &["check", "metrics"], dir.path(), input.as_bytes());
            assert_eq!(
                (ours.code, &ours.stdout, &ours.stderr),
                (theirs.code, &theirs.stdout, &theirs.stderr),
                "{input}"
            );
        }
    }
}

#[test]
fn check_web_config_exit_codes_match_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("good.yml"), "http_server_config:\n  http2: false\n").unwrap();
    std::fs::write(
        p.join("bad.yml"),
        "tls_server_config:\n  cert_file: x.crt\n",
    )
    .unwrap();
    let ours = run(OURS, &["check", "web-config", "good.yml"], p);
    assert_eq!((ours.code, ours.stderr.as_str()), (0, "good.yml SUCCESS\n"));
    let both = run(OURS, &["check", "web-config", "good.yml", "bad.yml"], p);
    assert_eq!(both.code, 1);
    assert!(
        both.stderr
            .starts_with("good.yml SUCCESS\nbad.yml FAILED: ")
    );
    if let Some(upstream) = upstream_binary(UPSTREAM).then_some(UPSTREAM) {
        for args in [
            &["good.yml"][..],
            &["good.yml", "bad.yml"],
            &["missing.yml"],
        ] {
            let args: Vec<&str> = ["check", "web-config"]
                .iter()
                .chain(args)
                .copied()
                .collect();
            assert_eq!(run(OURS, &args, p).code, run(upstream, &args, p).code);
        }
    }
}
