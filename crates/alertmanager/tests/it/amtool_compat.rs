//! Our `amtool` against Debian's upstream `amtool` (0.25) on the same configs: routing trees,
//! route tests and check-config reports must be byte-identical.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const UPSTREAM: &str = "/usr/bin/amtool";

fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {bin}: {e}"))
}

/// Upstream 0.25 predates the `tracing:` block, so example configs are cut before it.
fn config_copy(dir: &Path, rel: &str) -> PathBuf {
    let src = pm_testsupport::testdata("alertmanager").join(rel);
    let text = std::fs::read_to_string(&src)
        .unwrap_or_else(|e| panic!("fixture {} missing: {e}", src.display()));
    let cut = text.split("\ntracing:").next().unwrap_or(&text);
    let out = dir.join(src.file_name().unwrap());
    std::fs::write(&out, cut).unwrap();
    out
}

#[test]
fn routes_show_and_test_match_upstream() {
    if !pm_testsupport::upstream_binary(UPSTREAM) {
        return;
    }
    let ours = env!("CARGO_BIN_EXE_amtool");
    let dir = tempfile::tempdir().unwrap();
    let simple = config_copy(dir.path(), "examples/simple.yml");
    let routing = config_copy(dir.path(), "amtool/conf/conf.routing.yml");
    let reverted = config_copy(dir.path(), "amtool/conf/conf.routing-reverted.yml");
    let simple_flag = format!("--config.file={}", simple.display());
    let mut cases: Vec<Vec<String>> = Vec::new();
    for cfg in [&simple, &routing, &reverted] {
        cases.push(vec![
            "config".into(),
            "routes".into(),
            format!("--config.file={}", cfg.display()),
        ]);
        cases.push(vec![
            "config".into(),
            "routes".into(),
            "show".into(),
            format!("--config.file={}", cfg.display()),
        ]);
    }
    for labels in [
        vec!["service=files", "severity=critical"],
        vec!["service=database", "owner=team-X"],
        vec!["service=foo1"],
        vec!["nothing=here"],
    ] {
        for extra in [
            vec![],
            vec!["--tree"],
            vec!["--verify.receivers=team-X-mails"],
        ] {
            let mut args: Vec<String> = vec!["config".into(), "routes".into(), "test".into()];
            args.push(simple_flag.clone());
            args.extend(extra.iter().map(|s| s.to_string()));
            args.extend(labels.iter().map(|s| s.to_string()));
            cases.push(args);
        }
    }
    for test in ["test=1", "test=2"] {
        cases.push(vec![
            "config".into(),
            "routes".into(),
            "test".into(),
            format!("--config.file={}", routing.display()),
            test.into(),
        ]);
    }
    for args in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (a, b) = (run(ours, &args), run(UPSTREAM, &args));
        assert_eq!(
            String::from_utf8_lossy(&a.stdout),
            String::from_utf8_lossy(&b.stdout),
            "stdout differs for {args:?}"
        );
        assert_eq!(a.status.code(), b.status.code(), "exit code for {args:?}");
    }
}

#[test]
fn check_config_matches_upstream_report() {
    if !pm_testsupport::upstream_binary(UPSTREAM) {
        return;
    }
    let ours = env!("CARGO_BIN_EXE_amtool");
    let dir = tempfile::tempdir().unwrap();
    let good = config_copy(dir.path(), "amtool/conf/conf.good.yml");
    let good = good.to_str().unwrap();
    let (a, b) = (
        run(ours, &["check-config", good]),
        run(UPSTREAM, &["check-config", good]),
    );
    assert_eq!(
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout)
    );
    assert_eq!(a.status.code(), Some(0));
    // A bad file fails in both; the message text differs (YAML libraries differ).
    let bad = config_copy(dir.path(), "amtool/conf/conf.bad.yml");
    let bad = bad.to_str().unwrap();
    let (a, b) = (
        run(ours, &["check-config", bad]),
        run(UPSTREAM, &["check-config", bad]),
    );
    assert_eq!(a.status.code(), b.status.code());
    let out = String::from_utf8_lossy(&a.stdout);
    assert!(
        out.starts_with(&format!("Checking '{bad}'  FAILED: ")),
        "{out}"
    );
    assert_eq!(
        String::from_utf8_lossy(&a.stderr),
        "amtool: error: failed to validate 1 file(s)\n\n"
    );
}
