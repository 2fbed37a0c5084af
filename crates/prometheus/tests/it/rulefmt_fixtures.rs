//! Upstream's rule-file fixtures (`../shared/testdata/rulefmt/`): each good file loads, and each
//! bad one fails with the text upstream's own test expects in its first error.

use std::path::PathBuf;

use pm_common::model::NameValidation;
use pm_prometheus::rules::rulefmt::{ParseOptions, parse_file};

fn fixture(name: &str) -> PathBuf {
    pm_testsupport::testdata("rulefmt").join(name)
}

fn legacy() -> ParseOptions {
    ParseOptions {
        name_validation: NameValidation::Legacy,
        ..ParseOptions::default()
    }
}

#[test]
fn good_files_load() {
    for name in [
        "test.yaml",
        "test_aliases.yaml",
        "utf-8_lname.good.yaml",
        "utf-8_annotation.good.yaml",
    ] {
        let groups = parse_file(fixture(name), &ParseOptions::default())
            .unwrap_or_else(|errs| panic!("{name}: {errs:?}"));
        assert!(!groups.groups.is_empty(), "{name}");
    }
    parse_file(fixture("legacy_validation_annotation.good.yaml"), &legacy()).unwrap();
}

#[test]
fn merge_keys_are_resolved() {
    let groups = parse_file(fixture("test_aliases.yaml"), &ParseOptions::default()).unwrap();
    let merged = &groups.groups[0].rules[3];
    assert_eq!(merged.alert.as_deref(), Some("HighAlert2"));
    assert_eq!(merged.labels["severity"], "critical");
    assert_eq!(merged.expr, groups.groups[0].rules[0].expr);
}

#[test]
fn bad_files_fail_with_upstream_texts() {
    let cases = [
        (
            "duplicate_grp.bad.yaml",
            "groupname: \"yolo\" is repeated in the same file",
            false,
        ),
        ("bad_expr.bad.yaml", "parse error", false),
        (
            "record_and_alert.bad.yaml",
            "only one of 'record' and 'alert' must be set",
            false,
        ),
        (
            "no_rec_alert.bad.yaml",
            "one of 'record' or 'alert' must be set",
            false,
        ),
        ("noexpr.bad.yaml", "field 'expr' must be set in rule", false),
        (
            "invalid_record_name.bad.yaml",
            "braces present in the recording rule name; should it be in expr?: strawberry{flavor=\"sweet\"}",
            false,
        ),
        ("bad_field.bad.yaml", "field annotation not found", false),
        ("invalid_label_name.bad.yaml", "invalid label name", false),
        (
            "record_and_for.bad.yaml",
            "invalid field 'for' in recording rule",
            false,
        ),
        (
            "record_and_keep_firing_for.bad.yaml",
            "invalid field 'keep_firing_for' in recording rule",
            false,
        ),
        (
            "legacy_validation_annotation.bad.yaml",
            "invalid annotation name: ins-tance",
            true,
        ),
    ];
    for (name, expected, legacy_names) in cases {
        let options = if legacy_names {
            legacy()
        } else {
            ParseOptions::default()
        };
        let errs =
            parse_file(fixture(name), &options).expect_err(&format!("{name} must be rejected"));
        let first = errs[0].to_string();
        assert!(
            first.contains(expected),
            "{name}: got {first:?}, want {expected:?}"
        );
        assert!(
            first.starts_with(&fixture(name).display().to_string()),
            "{first}"
        );
    }
}

#[test]
fn every_bad_fixture_is_covered() {
    let dir = fixture("");
    let mut bad: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".bad.yaml"))
        .collect();
    bad.sort();
    assert_eq!(bad.len(), 11, "{bad:?}");
}
