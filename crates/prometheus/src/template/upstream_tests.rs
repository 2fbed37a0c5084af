//! Alert annotations expanded by us and by upstream's `promtool test rules` (Debian's 2.42):
//! our expansions are written as the expected annotations of a rule unit test, which upstream
//! must then pass.

use std::path::Path;
use std::process::Command;

use super::*;

const PROMTOOL: &str = "/usr/bin/promtool";

/// Annotations using functions as promtool 2.42 has them: it has no `externalURL`/`pathPrefix`
/// target, nor `now`, `toDuration` and `urlQueryEscape`, and its `title` is Go's old
/// `strings.Title` (upstream switched to `cases.Title` in 3.2, which words like `o'neil` and
/// `3rd` tell apart), so `title` gets input on which both agree.
const ANNOTATIONS: &[(&str, &str)] = &[
    (
        "summary",
        "{{ $labels.instance | stripPort | stripDomain | toUpper }} {{ $value | humanizePercentage }} {{ $externalLabels.dc }} {{ $externalURL }}",
    ),
    (
        "time",
        r#"{{ 1435065584.128 | humanizeTimestamp }} {{ (1435065584.128 | toTime).Format "Mon Jan _2 15:04:05.000 2006" }} {{ parseDuration "1h2m" }} {{ -0.5 | humanizeTimestamp }}"#,
    ),
    (
        "query",
        r#"{{ with query "disk_used" }}{{ . | first | label "job" | title }} {{ . | first | value | humanize }}{{ end }} {{ range query "disk_used or vector(2)" | sortByLabel "instance" }}[{{ .Labels.instance }}={{ .Value }}]{{ end }}"#,
    ),
    (
        "numbers",
        r#"{{ humanize1024 1234567 }} {{ humanizeDuration 93784.5 }} {{ humanize 0.000012345 }} {{ humanize -1234 }} {{ humanizeDuration 0.0123 }} {{ humanizePercentage "0.5" }}"#,
    ),
    (
        "strings",
        r#"{{ reReplaceAll "([a-z]+)-(\\d)" "$2-${1}x" "db-1.example" }} {{ graphLink "rate(x[5m])" }} {{ tableLink "up" }} {{ match "^db" "db-1" }} {{ "aA bB" | toLower }} {{ "hello-world foo_bar" | title }} {{ template "x" (args 1 "a") }}{{ define "x" }}{{ .arg0 }}/{{ .arg1 }}{{ end }} {{ "[::1]:80" | stripPort }} {{ $labels.nope }}|{{ .Labels.nope }}"#,
    ),
    ("error", r#"{{ humanize "x" }}"#),
];

fn ours() -> Vec<(&'static str, String)> {
    let series = |pairs: &[(&str, &str)], value| QuerySample {
        labels: Labels::from_pairs(pairs.iter().copied()),
        value,
    };
    let disk = series(
        &[
            ("__name__", "disk_used"),
            ("instance", "db-1.example.com:9100"),
            ("job", "node"),
        ],
        0.93456,
    );
    let query: QueryFn = Arc::new(move |q, _| match q {
        "disk_used" => Ok(vec![disk.clone()]),
        "disk_used or vector(2)" => Ok(vec![disk.clone(), series(&[], 2.0)]),
        _ => Err(format!("unexpected query {q}")),
    });
    let labels = Labels::from_pairs([("instance", "db-1.example.com:9100"), ("job", "node")]);
    let external = Labels::from_pairs([("dc", "eu")]);
    let url = "http://prom.example:9090/prefix";
    let data = AlertData {
        labels: &labels,
        external_labels: &external,
        external_url: url,
        value: 0.93456,
    };
    let env = Env {
        external_url: url.into(),
        query: Some(query),
    };
    ANNOTATIONS
        .iter()
        .map(|(name, text)| (*name, expand_alert("DiskFull", text, &data, 300_000, &env)))
        .collect()
}

fn write_files(dir: &Path, expected: &[(&str, String)]) {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let mut rules = String::from(
        "groups:\n- name: g\n  rules:\n  - alert: DiskFull\n    expr: disk_used\n    annotations:\n",
    );
    for (name, text) in ANNOTATIONS {
        rules.push_str(&format!("      {name}: {}\n", quote(text)));
    }
    let mut test = String::from(
        "rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n- interval: 1m\n  \
         external_labels: {dc: eu}\n  external_url: http://prom.example:9090/prefix\n  \
         input_series:\n  - series: 'disk_used{instance=\"db-1.example.com:9100\", job=\"node\"}'\n    \
         values: '0.93456x10'\n  alert_rule_test:\n  - eval_time: 5m\n    alertname: DiskFull\n    \
         exp_alerts:\n    - exp_labels: {instance: \"db-1.example.com:9100\", job: node}\n      \
         exp_annotations:\n",
    );
    for (name, text) in expected {
        test.push_str(&format!("        {name}: {}\n", quote(text)));
    }
    std::fs::write(dir.join("rules.yml"), rules).expect("writing rules.yml");
    std::fs::write(dir.join("test.yml"), test).expect("writing test.yml");
}

#[test]
fn annotations_expand_as_upstream_promtool() {
    if !Path::new(PROMTOOL).exists() {
        assert!(
            std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
            "{PROMTOOL} is missing and PM_REQUIRE_UPSTREAM is set"
        );
        eprintln!("skipping: {PROMTOOL} not installed (Debian package prometheus)");
        return;
    }
    let expected = ours();
    let dir = tempfile::tempdir().expect("temporary directory");
    write_files(dir.path(), &expected);
    let out = Command::new(PROMTOOL)
        .args(["test", "rules", "test.yml"])
        .current_dir(dir.path())
        .output()
        .expect("running promtool");
    assert!(
        out.status.success(),
        "upstream expanded differently; ours: {expected:#?}\npromtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
