//! Relabeling rules from upstream's config fixtures (`shared/testdata/prometheus-config`):
//! every rule in the good files must load, and each relabel-specific bad file must be
//! rejected with upstream's message. (`labelmap.bad.yml` is left out: upstream rejects it in
//! the YAML decoder, for a `!!binary` scalar that is not base64, before relabeling sees it.)

use std::fs;
use std::path::{Path, PathBuf};

use pm_common::model::NameValidation;
use pm_common::relabel::RelabelConfig;
use serde_norway::Value;

fn fixtures() -> PathBuf {
    pm_testsupport::testdata("prometheus-config")
}

/// Loads every `*relabel_configs` list in `doc`, each rule validated with the name
/// validation scheme in force where it sits (global, then per scrape config).
fn load_rules(value: &Value, scheme: NameValidation, out: &mut Vec<Result<RelabelConfig, String>>) {
    match value {
        Value::Mapping(map) => {
            let scheme = match map
                .get("metric_name_validation_scheme")
                .and_then(Value::as_str)
            {
                Some("legacy") => NameValidation::Legacy,
                Some("utf8") => NameValidation::Utf8,
                _ => scheme,
            };
            for (key, v) in map {
                let is_rules = key.as_str().is_some_and(|k| k.ends_with("relabel_configs"));
                match (is_rules, v) {
                    (true, Value::Sequence(rules)) => {
                        for rule in rules {
                            // Through text, not `from_value`: a plain scalar such as `regex: 1`
                            // is a string to Go's YAML decoder, which only the text keeps.
                            let text = serde_norway::to_string(rule).expect("re-encode rule");
                            out.push(
                                serde_norway::from_str::<RelabelConfig>(&text)
                                    .map_err(|e| e.to_string())
                                    .and_then(|mut c| {
                                        c.validate(scheme).map(|()| c).map_err(|e| e.to_string())
                                    }),
                            );
                        }
                    }
                    _ => load_rules(v, scheme, out),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|v| load_rules(v, scheme, out)),
        _ => {}
    }
}

fn rules_in(file: &Path) -> Result<Vec<Result<RelabelConfig, String>>, String> {
    let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let doc: Value = serde_norway::from_str(&text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    load_rules(&doc, NameValidation::Utf8, &mut out);
    Ok(out)
}

#[test]
fn rules_in_good_configs_load() {
    let dir = fixtures();
    let mut loaded = 0;
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .chain(fs::read_dir(dir.join("scrape_configs")).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".good.yml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 50,
        "expected the upstream good configs, found {}",
        files.len()
    );
    for file in files {
        for rule in rules_in(&file).unwrap() {
            rule.unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            loaded += 1;
        }
    }
    assert!(loaded >= 10, "only {loaded} rules found");
}

#[test]
fn relabel_bad_configs_are_rejected_with_upstream_messages() {
    let dir = fixtures();
    let cases = [
        ("regex.bad.yml", "error parsing regexp"),
        (
            "modulus_missing.bad.yml",
            "relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            "dropequal.bad.yml",
            "relabel configuration for dropequal action requires 'target_label' value",
        ),
        (
            "dropequal1.bad.yml",
            "dropequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            "keepequal.bad.yml",
            "relabel configuration for keepequal action requires 'target_label' value",
        ),
        (
            "keepequal1.bad.yml",
            "keepequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            "lowercase.bad.yml",
            "relabel configuration for lowercase action requires 'target_label' value",
        ),
        (
            "lowercase3.bad.yml",
            "'replacement' can not be set for lowercase action",
        ),
        (
            "uppercase.bad.yml",
            "relabel configuration for uppercase action requires 'target_label' value",
        ),
        (
            "uppercase3.bad.yml",
            "'replacement' can not be set for uppercase action",
        ),
        (
            "target_label_missing.bad.yml",
            "relabel configuration for replace action requires 'target_label' value",
        ),
        (
            "target_label_hashmod_missing.bad.yml",
            "relabel configuration for hashmod action requires 'target_label' value",
        ),
        (
            "empty_scrape_config_action.bad.yml",
            "relabel action cannot be empty",
        ),
    ];
    let keep_drop = (2..=5)
        .map(|i| format!("{i}"))
        .chain([String::new()])
        .flat_map(|n| {
            ["labeldrop", "labelkeep"].map(|a| {
                (
                    format!("{a}{n}.bad.yml"),
                    format!("{a} action requires only 'regex', and no other fields"),
                )
            })
        });
    let cases = cases
        .iter()
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .chain(keep_drop);
    for (file, want) in cases {
        let errors: Vec<String> = match rules_in(&dir.join(&file)) {
            Err(yaml_error) => vec![yaml_error],
            Ok(rules) => rules.into_iter().filter_map(Result::err).collect(),
        };
        assert!(
            errors.iter().any(|e| e.contains(&want)),
            "{file}: want {want:?}, got {errors:?}"
        );
    }
}
