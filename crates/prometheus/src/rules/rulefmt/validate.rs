//! The checks upstream's `rulefmt` runs after decoding, in its order, with its texts.

use std::collections::HashSet;

use pm_common::config::positions::{Position, Positions};
use pm_common::model::METRIC_NAME_LABEL;
use pm_gotmpl::Template;
use pm_promql::parse_expr;

use crate::template::{ALERT_DEFS, is_function};

use super::{ParseOptions, Rule, RuleFileErrorKind, RuleGroups};

const GROUPS_FIELDS: &[&str] = &["groups"];
const GROUP_FIELDS: &[&str] = &[
    "name",
    "interval",
    "query_offset",
    "limit",
    "rules",
    "labels",
];
const RULE_FIELDS: &[&str] = &[
    "record",
    "alert",
    "expr",
    "for",
    "keep_firing_for",
    "labels",
    "annotations",
];

pub(super) fn validate(
    groups: &RuleGroups,
    positions: &Positions,
    options: &ParseOptions,
) -> Vec<RuleFileErrorKind> {
    if !options.ignore_unknown_fields
        && let Some(err) = unknown_fields(positions)
    {
        return vec![err];
    }
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (j, group) in groups.groups.iter().enumerate() {
        let group_path = format!("groups[{j}]");
        let group_at = positions.get(&group_path);
        if group.name.is_empty() {
            errors.push(RuleFileErrorKind::Group {
                at: group_at,
                message: "Groupname must not be empty".to_owned(),
            });
        }
        if !seen.insert(group.name.as_str()) {
            errors.push(RuleFileErrorKind::Group {
                at: group_at,
                message: format!("groupname: \"{}\" is repeated in the same file", group.name),
            });
        }
        for name in group.labels.keys() {
            if !valid_label_name(name, options) {
                errors.push(RuleFileErrorKind::Group {
                    at: None,
                    message: format!("invalid label name: {name}"),
                });
            }
        }
        for (i, rule) in group.rules.iter().enumerate() {
            let rule_path = format!("{group_path}.rules[{i}]");
            let node = |field: &str| {
                positions
                    .get(&format!("{rule_path}.{field}"))
                    .or_else(|| positions.get(&rule_path))
            };
            for (at, also_at, message) in validate_rule(rule, options, node) {
                errors.push(RuleFileErrorKind::Rule {
                    group: group.name.clone(),
                    rule: i + 1,
                    name: rule.name().to_owned(),
                    at,
                    also_at,
                    message,
                });
            }
        }
    }
    errors
}

type Problem = (Option<Position>, Option<Position>, String);

fn validate_rule(
    rule: &Rule,
    options: &ParseOptions,
    node: impl Fn(&str) -> Option<Position>,
) -> Vec<Problem> {
    let mut problems: Vec<Problem> = Vec::new();
    let mut at = |field: Option<&str>, also: Option<&str>, message: String| {
        problems.push((field.and_then(&node), also.and_then(&node), message));
    };
    match (&rule.record, &rule.alert) {
        (Some(_), Some(_)) => at(
            Some("record"),
            Some("alert"),
            "only one of 'record' and 'alert' must be set".to_owned(),
        ),
        (None, None) => at(
            Some("record"),
            Some("alert"),
            "one of 'record' or 'alert' must be set".to_owned(),
        ),
        _ => {}
    }
    if rule.expr.is_empty() {
        at(
            Some("expr"),
            None,
            "field 'expr' must be set in rule".to_owned(),
        );
    } else if let Err(err) = parse_expr(&rule.expr, &options.parser) {
        at(
            Some("expr"),
            None,
            format!("could not parse expression: {err}"),
        );
    }
    if let Some(record) = &rule.record {
        if !rule.annotations.is_empty() {
            at(
                Some("record"),
                None,
                "invalid field 'annotations' in recording rule".to_owned(),
            );
        }
        if rule.for_.is_some_and(|d| !d.is_zero()) {
            at(
                Some("record"),
                None,
                "invalid field 'for' in recording rule".to_owned(),
            );
        }
        if rule.keep_firing_for.is_some_and(|d| !d.is_zero()) {
            at(
                Some("record"),
                None,
                "invalid field 'keep_firing_for' in recording rule".to_owned(),
            );
        }
        if !options.name_validation.is_valid_metric_name(record) {
            at(
                Some("record"),
                None,
                format!("invalid recording rule name: {record}"),
            );
        }
        // A valid UTF-8 name, but most likely a selector pasted into the wrong field.
        if record.contains(['{', '}']) {
            at(
                Some("record"),
                None,
                format!(
                    "braces present in the recording rule name; should it be in expr?: {record}"
                ),
            );
        }
    }
    for name in rule.labels.keys() {
        if !valid_label_name(name, options) {
            at(None, None, format!("invalid label name: {name}"));
        }
    }
    for name in rule.annotations.keys() {
        if !options.name_validation.is_valid_label_name(name) {
            at(None, None, format!("invalid annotation name: {name}"));
        }
    }
    if let Some(alert) = &rule.alert {
        let template_name = format!("__alert_{alert}");
        let fields = (rule.labels.iter().map(|kv| ("label", kv)))
            .chain(rule.annotations.iter().map(|kv| ("annotation", kv)));
        for (kind, (key, text)) in fields {
            let body = format!("{ALERT_DEFS}{text}");
            if let Err(err) = Template::check_syntax(&template_name, &body, &is_function) {
                let mut quoted = String::new();
                pm_common::model::write_go_quoted(&mut quoted, key).expect("writing to a String");
                at(None, None, format!("{kind} {quoted}: {err}"));
            }
        }
    }
    problems
}

fn valid_label_name(name: &str, options: &ParseOptions) -> bool {
    options.name_validation.is_valid_label_name(name) && name != METRIC_NAME_LABEL
}

/// Fields the typed decode ignored, reported as upstream's strict YAML decoder does, all at once.
fn unknown_fields(positions: &Positions) -> Option<RuleFileErrorKind> {
    let mut unknown: Vec<(Position, String)> = positions
        .iter()
        .filter_map(|(path, at)| {
            let (parent, field) = match path.rsplit_once('.') {
                Some((parent, field)) => (parent, field),
                None => ("", path),
            };
            if path.is_empty() || field.ends_with(']') || field == "<<" {
                return None;
            }
            let (known, type_name) = match parent_kind(parent)? {
                Kind::Groups => (GROUPS_FIELDS, "rulefmt.RuleGroups"),
                Kind::Group => (GROUP_FIELDS, "rulefmt.RuleGroup"),
                Kind::Rule => (RULE_FIELDS, "rulefmt.Rule"),
            };
            (!known.contains(&field)).then(|| {
                (
                    at,
                    format!(
                        "line {}: field {field} not found in type {type_name}",
                        at.line
                    ),
                )
            })
        })
        .collect();
    if unknown.is_empty() {
        return None;
    }
    unknown.sort_by_key(|(at, _)| (at.line, at.column));
    let lines: Vec<String> = unknown.into_iter().map(|(_, line)| line).collect();
    Some(RuleFileErrorKind::Yaml(format!(
        "yaml: unmarshal errors:\n  {}",
        lines.join("\n  ")
    )))
}

enum Kind {
    Groups,
    Group,
    Rule,
}

/// Which struct the mapping at `path` decodes into, for the three levels with fixed fields.
fn parent_kind(path: &str) -> Option<Kind> {
    if path.is_empty() {
        return Some(Kind::Groups);
    }
    let rest = path.strip_prefix("groups[")?;
    let (_, rest) = rest.split_once(']')?;
    if rest.is_empty() {
        return Some(Kind::Group);
    }
    let rest = rest.strip_prefix(".rules[")?;
    let (_, rest) = rest.split_once(']')?;
    rest.is_empty().then_some(Kind::Rule)
}
