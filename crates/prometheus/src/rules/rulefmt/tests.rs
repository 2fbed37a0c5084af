use super::*;

fn errors(text: &str) -> Vec<String> {
    parse(text, "r.yml", &ParseOptions::default())
        .unwrap_err()
        .into_iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn decodes_groups_and_rules() {
    let text = "groups:\n- name: g\n  interval: 30s\n  query_offset: 1m\n  limit: 10\n  labels: {team: a}\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 5m\n    keep_firing_for: 1m\n    labels: {severity: page}\n    annotations: {summary: 'down {{ $labels.instance }} {{ $value | humanize }}'}\n";
    let groups = parse(text, "r.yml", &ParseOptions::default()).unwrap();
    let g = &groups.groups[0];
    assert_eq!(g.interval.unwrap().as_std().as_millis(), 30_000);
    assert_eq!(g.query_offset.unwrap().as_std().as_millis(), 60_000);
    assert_eq!(g.limit, 10);
    assert_eq!(g.labels["team"], "a");
    let r = &g.rules[0];
    assert_eq!((r.name(), r.record.as_deref()), ("A", None));
    assert_eq!(r.for_.unwrap().as_std().as_millis(), 300_000);
    assert_eq!(r.keep_firing_for.unwrap().as_std().as_millis(), 60_000);
}

#[test]
fn empty_file_has_no_groups() {
    let groups = parse("# nothing\n", "r.yml", &ParseOptions::default()).unwrap();
    assert!(groups.groups.is_empty());
}

#[test]
fn errors_carry_positions_and_upstream_texts() {
    let text = "groups:\n- name: g\n  rules:\n  - record: a\n    alert: b\n    expr: up\n";
    assert_eq!(
        errors(text),
        [
            r#"r.yml: 4:13: 5:12: group "g", rule 1, "b": only one of 'record' and 'alert' must be set"#
        ]
    );
    let text = "groups:\n- name: g\n  rules:\n  - record: a\n    expr: sum(\n";
    let errs = errors(text);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with(
            r#"r.yml: 5:11: group "g", rule 1, "a": could not parse expression: 1:5: parse error"#
        ),
        "{errs:?}"
    );
}

#[test]
fn every_problem_is_reported() {
    let text = "groups:\n- name: g\n  rules:\n  - record: 'x{y=\"z\"}'\n    expr: up\n    for: 1m\n    annotations: {a: b}\n- name: g\n  rules: []\n- name: ''\n  rules: []\n";
    let errs = errors(text);
    assert_eq!(
        errs,
        [
            r#"r.yml: 4:13: group "g", rule 1, "x{y=\"z\"}": invalid field 'annotations' in recording rule"#,
            r#"r.yml: 4:13: group "g", rule 1, "x{y=\"z\"}": invalid field 'for' in recording rule"#,
            r#"r.yml: 4:13: group "g", rule 1, "x{y=\"z\"}": braces present in the recording rule name; should it be in expr?: x{y="z"}"#,
            r#"r.yml: 8:3: groupname: "g" is repeated in the same file"#,
            r#"r.yml: 10:3: Groupname must not be empty"#,
        ]
    );
}

#[test]
fn alert_templates_are_parsed_with_upstream_functions() {
    let text = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n      ok: '{{ $value | humanizeDuration }} {{ $externalURL }}'\n      bad: '{{ humanise $value }}'\n";
    assert_eq!(
        errors(text),
        [
            r#"r.yml: group "g", rule 1, "A": annotation "bad": template: __alert_A:1: function "humanise" not defined"#
        ]
    );
}

#[test]
fn unknown_fields_are_refused_unless_ignored() {
    let text = "groups:\n- name: g\n  evaluation: 1m\n  rules:\n  - record: a\n    expr: up\n    annotation: {}\n";
    assert_eq!(
        errors(text),
        [
            "r.yml: yaml: unmarshal errors:\n  line 3: field evaluation not found in type rulefmt.RuleGroup\n  line 7: field annotation not found in type rulefmt.Rule"
        ]
    );
    let lenient = ParseOptions {
        ignore_unknown_fields: true,
        ..ParseOptions::default()
    };
    assert!(parse(text, "r.yml", &lenient).is_ok());
}

#[test]
fn legacy_names_are_stricter() {
    let text =
        "groups:\n- name: g\n  labels: {'a.b': x}\n  rules:\n  - record: 'a.b'\n    expr: up\n";
    assert!(parse(text, "r.yml", &ParseOptions::default()).is_ok());
    let legacy = ParseOptions {
        name_validation: NameValidation::Legacy,
        ..ParseOptions::default()
    };
    let errs: Vec<String> = parse(text, "r.yml", &legacy)
        .unwrap_err()
        .into_iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        errs,
        [
            "r.yml: invalid label name: a.b",
            r#"r.yml: 5:13: group "g", rule 1, "a.b": invalid recording rule name: a.b"#,
        ]
    );
}
