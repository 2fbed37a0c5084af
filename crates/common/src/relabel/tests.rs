use super::*;
use crate::model::NameValidation;

fn ls(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn parse(yaml: &str) -> Result<Vec<RelabelConfig>, String> {
    serde_norway::from_str(yaml).map_err(|e| e.to_string())
}

/// Parses and validates rules as config loading does.
fn rules_with(yaml: &str, scheme: NameValidation) -> Result<Vec<RelabelConfig>, String> {
    let mut cfgs = parse(yaml)?;
    for c in &mut cfgs {
        c.validate(scheme).map_err(|e| e.to_string())?;
    }
    Ok(cfgs)
}

fn rules(yaml: &str) -> Vec<RelabelConfig> {
    rules_with(yaml, NameValidation::Utf8).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

#[track_caller]
fn check(input: &[(&str, &str)], yaml: &str, want: Option<&[(&str, &str)]>) {
    let cfgs = rules(yaml);
    let got = process(&ls(input), &cfgs);
    assert_eq!(got, want.map(ls), "rules:\n{yaml}");
    // The builder variant must agree, starting from a reused builder.
    let mut lb = LabelsBuilder::new(ls(&[("stale", "x")]));
    lb.reset(ls(input));
    let kept = process_builder(&mut lb, &cfgs);
    assert_eq!(kept, want.is_some());
    if let Some(want) = want {
        assert_eq!(lb.labels(), ls(want));
    }
}

const ABC: &[(&str, &str)] = &[("a", "foo"), ("b", "bar"), ("c", "baz")];

#[test]
fn replace() {
    check(
        ABC,
        "- {source_labels: [a], regex: 'f(.*)', target_label: d, replacement: 'ch${1}-ch${1}'}",
        Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "choo-choo")]),
    );
    // Joined with the separator; rules see the previous rules' output.
    check(
        ABC,
        "- {source_labels: [a, b], regex: 'f(.*);(.*)r', target_label: a, replacement: 'b${1}${2}m'}
- {source_labels: [c, a], regex: '(b).*b(.*)ba(.*)', target_label: d, replacement: '$1$2$2$3'}",
        Some(&[("a", "boobam"), ("b", "bar"), ("c", "baz"), ("d", "boooom")]),
    );
    check(
        ABC,
        "- {source_labels: [a, b], separator: '-', regex: 'foo-bar', target_label: j, replacement: ok}",
        Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("j", "ok")]),
    );
    // No match: nothing changes.
    check(
        ABC,
        "- {source_labels: [a], regex: 'x(.*)', target_label: a, replacement: y}",
        Some(ABC),
    );
    // The regex is anchored: a substring match is no match.
    check(
        ABC,
        "- {source_labels: [a], regex: 'o', target_label: a, replacement: y}",
        Some(ABC),
    );
    // An empty result deletes the target.
    check(
        ABC,
        "- {source_labels: [a], regex: 'foo', target_label: b, replacement: '$2'}",
        Some(&[("a", "foo"), ("c", "baz")]),
    );
    // Defaults: regex (.*), replacement $1, action replace.
    check(
        &[("a", "x")],
        "- {source_labels: [a], target_label: b}",
        Some(&[("a", "x"), ("b", "x")]),
    );
    // Absent source with the default regex: the literal replacement is set.
    check(
        &[("a", "x")],
        "- {source_labels: [nope], target_label: b, replacement: lit}",
        Some(&[("a", "x"), ("b", "lit")]),
    );
    check(
        &[("a", "x")],
        "- {target_label: a, replacement: ''}",
        Some(&[]),
    );
    // `$1x` names a group called `1x`, which does not exist.
    check(
        &[("a", "x")],
        "- {source_labels: [a], target_label: b, replacement: '$1x'}",
        Some(&[("a", "x")]),
    );
    check(
        &[("a", "x")],
        "- {source_labels: [a], target_label: b, replacement: '${1}x $$'}",
        Some(&[("a", "x"), ("b", "xx $")]),
    );
    // Named groups.
    check(
        &[("a", "k=v")],
        "- {source_labels: [a], regex: '(?P<k>\\w+)=(?P<v>\\w+)', target_label: '$k', replacement: '$v'}",
        Some(&[("a", "k=v"), ("k", "v")]),
    );
    // Dot matches newline.
    check(
        &[("a", "foo\nbar")],
        "- {source_labels: [a], regex: 'foo.*', target_label: b, replacement: y}",
        Some(&[("a", "foo\nbar"), ("b", "y")]),
    );
}

#[test]
fn replace_with_templated_target() {
    let input = &[("__meta_x", "team-db"), ("v", "1")];
    check(
        input,
        "- {source_labels: [__meta_x], regex: '(.*)-(.*)', target_label: '${1}_${2}', replacement: '$2'}",
        Some(&[("__meta_x", "team-db"), ("team_db", "db"), ("v", "1")]),
    );
    // A target that expands to nothing is no label name: the rule does nothing.
    check(
        input,
        "- {source_labels: [v], regex: 'x?(.*)', target_label: '${9}', replacement: z}",
        Some(input),
    );
    // Under the legacy scheme a target with characters outside the old set is skipped;
    // under UTF-8 it is written.
    let yaml = "- {source_labels: [__meta_x], regex: '(.*)', target_label: '$1', replacement: y}";
    let legacy = rules_with(yaml, NameValidation::Legacy).unwrap();
    assert_eq!(process(&ls(input), &legacy), Some(ls(input)));
    let utf8 = rules(yaml);
    assert_eq!(
        process(&ls(input), &utf8),
        Some(ls(&[("__meta_x", "team-db"), ("team-db", "y"), ("v", "1")]))
    );
}

#[test]
fn keep_and_drop() {
    check(
        ABC,
        "- {source_labels: [a], regex: 'f.*', action: drop}",
        None,
    );
    check(
        ABC,
        "- {source_labels: [a], regex: 'f', action: drop}",
        Some(ABC),
    );
    check(
        ABC,
        "- {source_labels: [a], regex: 'f.*', action: keep}",
        Some(ABC),
    );
    check(
        ABC,
        "- {source_labels: [a], regex: 'f', action: keep}",
        None,
    );
    // An absent label has the empty value.
    check(
        ABC,
        "- {source_labels: [nope], regex: '', action: keep}",
        Some(ABC),
    );
    check(
        ABC,
        "- {source_labels: [nope], regex: '.+', action: keep}",
        None,
    );
    // A drop ends processing: later rules do not run.
    check(
        ABC,
        "- {source_labels: [a], regex: 'foo', action: drop}\n- {target_label: z, replacement: never}",
        None,
    );
    // Action names are case-insensitive.
    check(
        ABC,
        "- {source_labels: [a], regex: 'foo', action: DROP}",
        None,
    );
}

#[test]
fn keepequal_and_dropequal() {
    let input = &[("a", "1"), ("b", "1"), ("c", "2")];
    check(
        input,
        "- {source_labels: [a], target_label: b, action: keepequal}",
        Some(input),
    );
    check(
        input,
        "- {source_labels: [a], target_label: c, action: keepequal}",
        None,
    );
    check(
        input,
        "- {source_labels: [a], target_label: b, action: dropequal}",
        None,
    );
    check(
        input,
        "- {source_labels: [a], target_label: c, action: dropequal}",
        Some(input),
    );
    // Absent on both sides compares equal.
    check(
        input,
        "- {source_labels: [x], target_label: y, action: keepequal}",
        Some(input),
    );
}

#[test]
fn hashmod_matches_upstream_shards() {
    // Values checked against MD5 computed independently (last 8 bytes, big-endian).
    assert_eq!(hashmod("baz", 1000), 976);
    assert_eq!(hashmod("foo\nbar", 1000), 734);
    assert_eq!(hashmod("10.0.0.1:9100", 3), 2);
    assert_eq!(hashmod("", 7), 1);
    assert_eq!(hashmod("a;b", 1 << 63), 2_420_134_994_223_480_074);
    check(
        ABC,
        "- {source_labels: [c], target_label: d, modulus: 1000, action: hashmod}",
        Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "976")]),
    );
    check(
        &[("a", "b")],
        "- {source_labels: [a, a], target_label: s, modulus: 2305843009213693952, action: hashmod}",
        Some(&[("a", "b"), ("s", &hashmod("b;b", 1 << 61).to_string())]),
    );
}

#[test]
fn labelmap() {
    let input = &[("__meta_env", "prod"), ("__meta_team", "db"), ("job", "j")];
    check(
        input,
        "- {regex: '__meta_(.+)', action: labelmap}",
        Some(&[
            ("__meta_env", "prod"),
            ("__meta_team", "db"),
            ("env", "prod"),
            ("job", "j"),
            ("team", "db"),
        ]),
    );
    check(
        input,
        "- {regex: '__meta_(e.*)', replacement: 'x_${1}', action: labelmap}",
        Some(&[
            ("__meta_env", "prod"),
            ("__meta_team", "db"),
            ("job", "j"),
            ("x_env", "prod"),
        ]),
    );
    // Every label is mapped from the set as it was before the rule.
    check(
        &[("a", "1"), ("b", "2")],
        "- {regex: '(.)', replacement: 'b', action: labelmap}",
        Some(&[("a", "1"), ("b", "2")]),
    );
}

#[test]
fn labeldrop_and_labelkeep() {
    check(
        ABC,
        "- {regex: '[ab]', action: labeldrop}",
        Some(&[("c", "baz")]),
    );
    check(
        ABC,
        "- {regex: '[ab]', action: labelkeep}",
        Some(&[("a", "foo"), ("b", "bar")]),
    );
    check(ABC, "- {regex: 'x', action: labelkeep}", Some(&[]));
    check(ABC, "- {regex: 'x', action: labeldrop}", Some(ABC));
}

#[test]
fn lowercase_and_uppercase() {
    let input = &[("foo", "bAr123Foo"), ("t", "İSTANBUL straße")];
    check(
        input,
        "- {source_labels: [foo], target_label: l, action: lowercase}\n- {source_labels: [foo], target_label: u, action: uppercase}",
        Some(&[
            ("foo", "bAr123Foo"),
            ("l", "bar123foo"),
            ("t", "İSTANBUL straße"),
            ("u", "BAR123FOO"),
        ]),
    );
    check(
        input,
        "- {source_labels: [t], target_label: l, action: lowercase}\n- {source_labels: [t], target_label: u, action: uppercase}",
        Some(&[
            ("foo", "bAr123Foo"),
            ("l", "istanbul straße"),
            ("t", "İSTANBUL straße"),
            ("u", "İSTANBUL STRAßE"),
        ]),
    );
}

#[test]
fn defaults_and_nulls() {
    let c = &parse("- {}").unwrap()[0];
    assert_eq!(c, &RelabelConfig::default());
    assert!(c.regex.is_default() && c.regex.as_str() == "(.*)");
    assert_eq!(
        (c.separator.as_str(), c.replacement.as_str(), c.action),
        (";", "$1", Action::Replace)
    );
    assert_eq!(c.source_labels, None);
    // An explicit `(.*)` is equal in text but not "the default".
    let c = &parse("- {regex: '(.*)'}").unwrap()[0];
    assert!(!c.regex.is_default() && c.regex.as_str() == "(.*)");
    // Explicit nulls are zero values, not defaults.
    let c = &parse("- {separator: ~, replacement: ~, regex: ~, source_labels: ~, modulus: ~}")
        .unwrap()[0];
    assert_eq!(
        (
            c.separator.as_str(),
            c.replacement.as_str(),
            c.regex.as_str()
        ),
        ("", "", "")
    );
    assert_eq!(c.source_labels, None);
    assert_eq!(
        parse("- {source_labels: []}").unwrap()[0].source_labels,
        Some(vec![])
    );
    for a in Action::ALL {
        let upper = a.as_str().to_uppercase();
        assert_eq!(
            parse(&format!("- {{action: {upper}}}")).unwrap()[0].action,
            a
        );
    }
}

#[test]
fn parse_errors() {
    for (yaml, want) in [
        ("- {action: nope}", r#"unknown relabel action "nope""#),
        ("- {action: 'Dröp'}", r#"unknown relabel action "Dröp""#),
        ("- {action: ~}", "relabel action cannot be empty"),
        ("- {source_labels: ['']}", r#""" is not a valid label name"#),
        ("- {regex: '('}", "error parsing regexp"),
        ("- {regex: 'a{1001}'}", "invalid repeat count"),
        ("- {target: x}", "unknown field `target`"),
        ("- {modulus: -1}", "expected u64"),
    ] {
        let err = parse(yaml).expect_err(yaml);
        assert!(err.contains(want), "{yaml}: {err}");
    }
}

#[test]
fn validation_errors() {
    use NameValidation::{Legacy, Utf8};
    for (yaml, scheme, want) in [
        (
            "{action: hashmod, target_label: t}",
            Utf8,
            "relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            "{action: hashmod, modulus: 2}",
            Utf8,
            "relabel configuration for hashmod action requires 'target_label' value",
        ),
        (
            "{action: replace}",
            Utf8,
            "relabel configuration for replace action requires 'target_label' value",
        ),
        (
            "{action: lowercase}",
            Utf8,
            "relabel configuration for lowercase action requires 'target_label' value",
        ),
        (
            "{action: uppercase}",
            Utf8,
            "relabel configuration for uppercase action requires 'target_label' value",
        ),
        (
            "{action: keepequal}",
            Utf8,
            "relabel configuration for keepequal action requires 'target_label' value",
        ),
        (
            "{action: dropequal}",
            Utf8,
            "relabel configuration for dropequal action requires 'target_label' value",
        ),
        (
            "{target_label: '0a'}",
            Legacy,
            r#""0a" is invalid 'target_label' for replace action"#,
        ),
        (
            "{target_label: '${1}-x'}",
            Legacy,
            r#""${1}-x" is invalid 'target_label' for replace action"#,
        ),
        (
            "{target_label: '$'}",
            Legacy,
            r#""$" is invalid 'target_label' for replace action"#,
        ),
        (
            "{target_label: '${1'}",
            Legacy,
            r#""${1" is invalid 'target_label' for replace action"#,
        ),
        (
            "{target_label: 'a-b', action: lowercase}",
            Legacy,
            r#""a-b" is invalid 'target_label' for lowercase action"#,
        ),
        (
            "{target_label: 'a-b', action: keepequal}",
            Legacy,
            r#""a-b" is invalid 'target_label' for keepequal action"#,
        ),
        (
            "{target_label: 'a-b', action: hashmod, modulus: 1}",
            Legacy,
            r#""a-b" is invalid 'target_label' for hashmod action"#,
        ),
        (
            "{target_label: t, replacement: x, action: uppercase}",
            Utf8,
            "'replacement' can not be set for uppercase action",
        ),
        (
            "{target_label: t, replacement: x, action: dropequal}",
            Utf8,
            "'replacement' can not be set for dropequal action",
        ),
        (
            "{replacement: '1$x', action: labelmap}",
            Legacy,
            r#""1$x" is invalid 'replacement' for labelmap action"#,
        ),
        (
            "{replacement: '', action: labelmap}",
            Utf8,
            r#""" is invalid 'replacement' for labelmap action"#,
        ),
        (
            "{target_label: t, regex: '(.*)', action: keepequal}",
            Utf8,
            "keepequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            "{target_label: t, separator: ',', action: dropequal}",
            Utf8,
            "dropequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            "{target_label: t, modulus: 3, action: keepequal}",
            Utf8,
            "keepequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            "{source_labels: [a], action: labeldrop}",
            Utf8,
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "{source_labels: [], action: labeldrop}",
            Utf8,
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "{target_label: t, action: labelkeep}",
            Utf8,
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            "{replacement: x, action: labelkeep}",
            Utf8,
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            "{separator: x, action: labeldrop}",
            Utf8,
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "{modulus: 1, action: labeldrop}",
            Utf8,
            "labeldrop action requires only 'regex', and no other fields",
        ),
    ] {
        let err = rules_with(&format!("- {yaml}"), scheme).expect_err(yaml);
        assert_eq!(err, want, "{yaml}");
    }
    // Accepted: legacy templates, UTF-8 names, equal actions with only their fields.
    for (yaml, scheme) in [
        ("{target_label: '${1}_${2}x9'}", Legacy),
        ("{target_label: 'a$1'}", Legacy),
        ("{target_label: 'a-b'}", Utf8),
        ("{target_label: 'a-b', action: hashmod, modulus: 1}", Utf8),
        ("{replacement: 'x_$1', action: labelmap}", Legacy),
        ("{replacement: 'x.$1', action: labelmap}", Utf8),
        (
            "{source_labels: [a], target_label: b, action: keepequal}",
            Legacy,
        ),
        ("{regex: 'a', action: labeldrop}", Legacy),
    ] {
        rules_with(&format!("- {yaml}"), scheme).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    }
    // A per-rule scheme wins over the global one.
    let mut c = parse("- {target_label: 'a-b'}").unwrap().remove(0);
    c.name_validation = Some(Legacy);
    assert!(c.validate(Utf8).is_err());
}

#[test]
fn marshals_like_upstream() {
    let yaml = "- source_labels: [a, b]\n  regex: 'x(.*)'\n  target_label: t\n- {action: Labeldrop, regex: tmp}\n- {target_label: d, modulus: 8, action: hashmod}\n- {}\n";
    let cfgs = parse(yaml).unwrap();
    let out = serde_norway::to_string(&cfgs).unwrap();
    let want = "\
- source_labels:
  - a
  - b
  separator: ;
  regex: x(.*)
  target_label: t
  replacement: $1
  action: replace
- separator: ;
  regex: tmp
  replacement: $1
  action: labeldrop
- separator: ;
  modulus: 8
  target_label: d
  replacement: $1
  action: hashmod
- separator: ;
  replacement: $1
  action: replace
";
    assert_eq!(out, want);
    assert_eq!(parse(&out).unwrap(), cfgs);
    let json = serde_json::to_string(&cfgs[1]).unwrap();
    assert_eq!(
        json,
        r#"{"separator":";","regex":"tmp","replacement":"$1","action":"labeldrop"}"#
    );
}
