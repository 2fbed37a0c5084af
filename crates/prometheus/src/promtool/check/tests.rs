use super::*;

fn output_of(f: impl FnOnce(&mut Output<'_>)) -> String {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    f(&mut Output {
        out: &mut out,
        err: &mut err,
    });
    String::from_utf8(out).unwrap()
}

#[test]
fn config_lint_options() {
    let delta = Duration::from_secs(300);
    let mut lint = ConfigLint::default();
    output_of(|o| lint = ConfigLint::parse("all", true, false, delta, o).unwrap());
    assert!(lint.rules.duplicate_rules && lint.rules.fatal);
    assert_eq!(lint.lookback_delta, Some(delta));
    output_of(|o| lint = ConfigLint::parse("all,none", false, false, delta, o).unwrap());
    assert_eq!(lint, ConfigLint::default());
    let printed = output_of(|o| {
        lint = ConfigLint::parse("too-long-scrape-interval,typo", false, false, delta, o).unwrap()
    });
    assert_eq!(printed, "WARNING: unknown lint option: \"typo\"\n");
    assert!(!lint.rules.duplicate_rules);
    assert_eq!(lint.lookback_delta, Some(delta));
}

#[test]
fn duplicates_merge_group_labels_and_report_each_key_once() {
    let text = "groups:
- name: a
  labels: {team: x}
  rules:
  - {record: r, expr: up}
  - {record: r, expr: up, labels: {team: x}}
  - {record: r, expr: up, labels: {team: y}}
- name: b
  rules:
  - {record: r, expr: up, labels: {team: x}}
";
    let groups = rulefmt::parse(text, "f", &ParseOptions::default()).unwrap();
    let dups = duplicate_rules(&groups);
    assert_eq!(
        dups,
        [("r".to_owned(), vec![("team".to_owned(), "x".to_owned())])]
    );
}

#[test]
fn verdict_exit_codes() {
    let lint_only = Verdict {
        failed: true,
        errors: false,
    };
    assert_eq!(lint_only.exit_code(false), SUCCESS);
    assert_eq!(lint_only.exit_code(true), LINT_PROBLEMS);
    let errors = Verdict {
        failed: true,
        errors: true,
    };
    assert_eq!(errors.exit_code(true), FAILURE);
}

#[test]
fn target_group_files_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("t.json");
    std::fs::write(&json, r#"[{"targets":["a:1"]}, null]"#).unwrap();
    assert_eq!(
        read_target_groups(&json).unwrap_err(),
        "nil target group item found (index 1)"
    );
    let txt = dir.path().join("t.txt");
    std::fs::write(&txt, "").unwrap();
    assert_eq!(
        read_target_groups(&txt).unwrap_err(),
        "invalid file extension: \".txt\""
    );
}
