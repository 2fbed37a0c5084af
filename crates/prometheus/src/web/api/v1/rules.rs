//! `/api/v1/rules` and `/api/v1/alerts`: the rule groups with each rule's health, last error
//! and timings, and the pending and firing alerts, in upstream's JSON shapes.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use jiff::Timestamp;
use pm_common::model::Matcher;
use sha2::{Digest, Sha256};

use super::ApiState;
use super::json::{push_label_pairs, push_labels, push_str};
use super::params::{Params, parse_matcher_sets};
use super::response::{ApiError, ApiResponse};
use crate::rules::{ActiveAlert, AlertingRule, Group, Manager, Rule};

/// Whatever evaluates rules, for the API.
pub trait RulesSource: Send + Sync {
    /// The rule groups, ordered by file then name.
    fn rule_groups(&self) -> Vec<Arc<Group>>;
}

impl RulesSource for Manager {
    fn rule_groups(&self) -> Vec<Arc<Group>> {
        self.groups()
    }
}

/// Go's zero `time.Time`, shown for rules and groups not evaluated yet.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn push_time(out: &mut String, t: Option<Timestamp>) {
    match t {
        Some(t) => push_str(out, &t.to_string()),
        None => push_str(out, ZERO_TIME),
    }
}

/// A float as Go's `encoding/json` writes one: shortest decimal, exponent below 1e-6.
fn push_json_float(out: &mut String, v: f64) {
    if v != 0.0 && v.abs() < 1e-6 {
        out.push_str(&format!("{v:e}"));
    } else {
        out.push_str(&format!("{v}"));
    }
}

fn push_seconds(out: &mut String, d: Duration) {
    push_json_float(out, d.as_secs_f64());
}

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`, the alerts' `value`: `1e+00`, `2.5e-01`.
fn format_value(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

fn push_alert(out: &mut String, a: &ActiveAlert) {
    out.push_str("{\"labels\":");
    push_labels(out, &a.labels);
    out.push_str(",\"annotations\":");
    push_label_pairs(out, a.annotations.iter());
    out.push_str(",\"state\":");
    push_str(out, a.state.as_str());
    out.push_str(",\"activeAt\":");
    push_time(out, Some(a.active_at));
    if let Some(since) = a.keep_firing_since {
        out.push_str(",\"keepFiringSince\":");
        push_time(out, Some(since));
    }
    out.push_str(",\"value\":");
    push_str(out, &format_value(a.value));
    out.push('}');
}

fn push_alerts(out: &mut String, alerts: &[ActiveAlert]) {
    out.push('[');
    for (i, a) in alerts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_alert(out, a);
    }
    out.push(']');
}

/// `health`, `lastError`, `evaluationTime`, `lastEvaluation` and `type`, which close both kinds.
fn push_rule_tail(out: &mut String, rule: &Rule, kind: &str) {
    let status = rule.status();
    out.push_str(",\"health\":");
    push_str(out, status.health.as_str());
    if let Some(e) = &status.last_error {
        out.push_str(",\"lastError\":");
        push_str(out, e);
    }
    out.push_str(",\"evaluationTime\":");
    push_seconds(out, status.evaluation_duration);
    out.push_str(",\"lastEvaluation\":");
    push_time(out, status.evaluation_timestamp);
    out.push_str(",\"type\":");
    push_str(out, kind);
    out.push('}');
}

fn push_alerting_rule(out: &mut String, rule: &Rule, r: &AlertingRule, exclude_alerts: bool) {
    out.push_str("{\"state\":");
    push_str(out, r.state().as_str());
    out.push_str(",\"name\":");
    push_str(out, r.name());
    out.push_str(",\"query\":");
    push_str(out, r.query());
    out.push_str(",\"duration\":");
    push_seconds(out, r.hold_duration());
    out.push_str(",\"keepFiringFor\":");
    push_seconds(out, r.keep_firing_for());
    out.push_str(",\"labels\":");
    push_labels(out, r.labels());
    out.push_str(",\"annotations\":");
    push_label_pairs(out, r.annotations().iter());
    out.push_str(",\"alerts\":");
    if exclude_alerts {
        out.push_str("null");
    } else {
        push_alerts(out, &r.active_alerts());
    }
    push_rule_tail(out, rule, "alerting");
}

fn push_recording_rule(out: &mut String, rule: &Rule) {
    out.push_str("{\"name\":");
    push_str(out, rule.name());
    out.push_str(",\"query\":");
    push_str(out, rule.query());
    out.push_str(",\"labels\":");
    push_labels(out, rule.labels());
    push_rule_tail(out, rule, "recording");
}

/// The `/api/v1/rules` filters.
struct Filter {
    alerts: bool,
    recording: bool,
    exclude_alerts: bool,
    names: HashSet<String>,
    groups: HashSet<String>,
    files: HashSet<String>,
    matcher_sets: Vec<Vec<Matcher>>,
    /// `group_limit` and `group_next_token`.
    page: Option<(usize, String)>,
}

impl Filter {
    fn parse(params: &Params) -> Result<Filter, ApiError> {
        let set = |name: &str| -> HashSet<String> {
            params.all(name).into_iter().map(str::to_owned).collect()
        };
        let matcher_sets =
            parse_matcher_sets(&params.all("match[]")).map_err(ApiError::bad_data)?;
        let kind = params.get("type").to_lowercase();
        if !matches!(kind.as_str(), "" | "alert" | "record") {
            return Err(ApiError::invalid_param(
                "type",
                format!("not supported value {kind:?}"),
            ));
        }
        let exclude_alerts = match params.get("exclude_alerts").to_lowercase().as_str() {
            "" | "0" | "f" | "false" => false,
            "1" | "t" | "true" => true,
            other => {
                return Err(ApiError::invalid_param(
                    "exclude_alerts",
                    format!(
                        "error converting exclude_alerts: strconv.ParseBool: parsing {other:?}: invalid syntax"
                    ),
                ));
            }
        };
        Ok(Filter {
            alerts: kind != "record",
            recording: kind != "alert",
            exclude_alerts,
            names: set("rule_name[]"),
            groups: set("rule_group[]"),
            files: set("file[]"),
            matcher_sets,
            page: parse_page(params)?,
        })
    }

    fn keeps_group(&self, g: &Group) -> bool {
        (self.groups.is_empty() || self.groups.contains(g.name()))
            && (self.files.is_empty() || self.files.contains(g.file()))
    }

    fn keeps_rule(&self, r: &Rule) -> bool {
        let labels = r.labels();
        let matched = self.matcher_sets.is_empty()
            || self.matcher_sets.iter().any(|set| {
                set.iter()
                    .all(|m| m.matches(labels.get(m.name()).unwrap_or("")))
            });
        matched
            && (self.names.is_empty() || self.names.contains(r.name()))
            && match r {
                Rule::Alerting(_) => self.alerts,
                Rule::Recording(_) => self.recording,
            }
    }
}

fn parse_page(params: &Params) -> Result<Option<(usize, String)>, ApiError> {
    let limit = params.get("group_limit");
    let token = params.get("group_next_token");
    if limit.is_empty() {
        if !token.is_empty() {
            return Err(ApiError::invalid_param(
                "group_next_token",
                "group_limit needs to be present in order to paginate over the groups",
            ));
        }
        return Ok(None);
    }
    let n: i32 = limit.parse().map_err(|_| {
        ApiError::invalid_param(
            "group_limit",
            format!(
                "group_limit needs to be a valid number: strconv.ParseInt: parsing {limit:?}: invalid syntax"
            ),
        )
    })?;
    if n <= 0 {
        return Err(ApiError::invalid_param(
            "group_limit",
            "group_limit needs to be greater than 0",
        ));
    }
    Ok(Some((n as usize, token.to_owned())))
}

/// The opaque token naming the group a page starts at.
fn next_token(g: &Group) -> String {
    Sha256::digest(format!("{};{}", g.file(), g.name()).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn push_group(out: &mut String, g: &Group, rules: &str) {
    out.push_str("{\"name\":");
    push_str(out, g.name());
    out.push_str(",\"file\":");
    push_str(out, g.file());
    out.push_str(",\"rules\":[");
    out.push_str(rules);
    out.push_str("],\"interval\":");
    push_seconds(out, g.interval());
    out.push_str(&format!(",\"limit\":{}", g.limit()));
    out.push_str(",\"evaluationTime\":");
    push_seconds(out, g.evaluation_time());
    out.push_str(",\"lastEvaluation\":");
    push_time(out, g.last_evaluation());
    out.push('}');
}

/// Renders the groups `filter` keeps.
fn render_rules(groups: &[Arc<Group>], filter: &Filter) -> Result<String, ApiError> {
    let mut rendered = Vec::new();
    let mut next = None;
    let mut found_token = false;
    for g in groups {
        if let Some((_, token)) = &filter.page
            && !token.is_empty()
            && !found_token
        {
            if *token != next_token(g) {
                continue;
            }
            found_token = true;
        }
        if !filter.keeps_group(g) {
            continue;
        }
        let mut rules = String::new();
        for rule in g.rules().iter().filter(|r| filter.keeps_rule(r)) {
            if !rules.is_empty() {
                rules.push(',');
            }
            match rule {
                Rule::Alerting(r) => push_alerting_rule(&mut rules, rule, r, filter.exclude_alerts),
                Rule::Recording(_) => push_recording_rule(&mut rules, rule),
            }
        }
        if rules.is_empty() {
            continue;
        }
        if let Some((limit, _)) = &filter.page
            && rendered.len() == *limit
        {
            next = Some(next_token(g));
            break;
        }
        let mut out = String::new();
        push_group(&mut out, g, &rules);
        rendered.push(out);
    }
    if let Some((_, token)) = &filter.page
        && !token.is_empty()
        && !found_token
    {
        return Err(ApiError::invalid_param(
            "group_next_token",
            format!("invalid group_next_token '{token}'. were rule groups changed?"),
        ));
    }
    let mut out = String::from("{\"groups\":[");
    out.push_str(&rendered.join(","));
    out.push(']');
    if let Some(token) = next {
        out.push_str(",\"groupNextToken\":");
        push_str(&mut out, &token);
    }
    out.push('}');
    Ok(out)
}

pub async fn rules(State(state): State<Arc<ApiState>>, params: Params) -> ApiResponse {
    let groups = state
        .rules
        .as_ref()
        .map(|r| r.rule_groups())
        .unwrap_or_default();
    Filter::parse(&params)
        .and_then(|filter| render_rules(&groups, &filter))
        .into()
}

pub async fn alerts(State(state): State<Arc<ApiState>>) -> ApiResponse {
    let groups = state
        .rules
        .as_ref()
        .map(|r| r.rule_groups())
        .unwrap_or_default();
    let alerts: Vec<ActiveAlert> = groups
        .iter()
        .flat_map(|g| g.rules())
        .filter_map(|r| match r {
            Rule::Alerting(r) => Some(r.active_alerts()),
            Rule::Recording(_) => None,
        })
        .flatten()
        .collect();
    let mut out = String::from("{\"alerts\":");
    push_alerts(&mut out, &alerts);
    out.push('}');
    ApiResponse::data(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::rulefmt::{ParseOptions, parse};
    use crate::rules::{LoadOptions, build_groups};

    const FILE: &str = "groups:\n- name: a\n  rules:\n  - record: r1\n    expr: up\n    labels: {team: x}\n  - alert: A1\n    expr: up == 0\n    for: 5m\n- name: b\n  rules:\n  - record: r2\n    expr: up\n";

    fn groups() -> Vec<Arc<Group>> {
        let parsed = parse(FILE, "r.yml", &ParseOptions::default()).unwrap();
        let options = LoadOptions {
            interval: Duration::from_secs(30),
            ..LoadOptions::default()
        };
        build_groups(parsed, "r.yml", &options)
            .unwrap()
            .into_iter()
            .map(Arc::new)
            .collect()
    }

    fn render(pairs: &[(&str, &str)]) -> Result<serde_json::Value, ApiError> {
        let filter = Filter::parse(&Params::from_pairs(pairs.iter().copied()))?;
        render_rules(&groups(), &filter).map(|s| serde_json::from_str(&s).unwrap())
    }

    fn names(v: &serde_json::Value) -> Vec<String> {
        v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap())
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn rules_render_in_upstreams_shape() {
        let filter = Filter::parse(&Params::default()).unwrap();
        let rendered = render_rules(&groups(), &filter).unwrap();
        let zero = "\"lastEvaluation\":\"0001-01-01T00:00:00Z\"";
        let want = format!(
            concat!(
                r#"{{"groups":[{{"name":"a","file":"r.yml","rules":["#,
                r#"{{"name":"r1","query":"up","labels":{{"team":"x"}},"health":"unknown","evaluationTime":0,{zero},"type":"recording"}},"#,
                r#"{{"state":"unknown","name":"A1","query":"up == 0","duration":300,"keepFiringFor":0,"labels":{{}},"annotations":{{}},"alerts":[],"health":"unknown","evaluationTime":0,{zero},"type":"alerting"}}"#,
                r#"],"interval":30,"limit":0,"evaluationTime":0,{zero}}},"#,
            ),
            zero = zero
        );
        assert!(rendered.starts_with(&want), "{rendered}");
        assert_eq!(names(&render(&[]).unwrap()), ["r1", "A1", "r2"]);
    }

    #[test]
    fn rules_filter_as_upstream() {
        assert_eq!(names(&render(&[("type", "record")]).unwrap()), ["r1", "r2"]);
        assert_eq!(names(&render(&[("type", "ALERT")]).unwrap()), ["A1"]);
        assert_eq!(names(&render(&[("rule_name[]", "r2")]).unwrap()), ["r2"]);
        assert_eq!(
            names(&render(&[("rule_group[]", "a"), ("file[]", "r.yml")]).unwrap()),
            ["r1", "A1"]
        );
        assert_eq!(
            names(&render(&[("match[]", "{team=\"x\"}")]).unwrap()),
            ["r1"]
        );
        let groups = render(&[("type", "alert")]).unwrap();
        assert_eq!(
            groups["groups"].as_array().unwrap().len(),
            1,
            "groups without rules left out"
        );
        let excluded = render(&[("exclude_alerts", "true")]).unwrap();
        assert!(excluded["groups"][0]["rules"][1]["alerts"].is_null());
        assert_eq!(
            render(&[("type", "x")]).unwrap_err().message,
            r#"invalid parameter "type": not supported value "x""#
        );
        assert!(render(&[("exclude_alerts", "maybe")]).is_err());
    }

    #[test]
    fn rules_paginate_by_group() {
        let first = render(&[("group_limit", "1")]).unwrap();
        assert_eq!(names(&first), ["r1", "A1"]);
        let token = first["groupNextToken"].as_str().unwrap().to_owned();
        assert_eq!(token.len(), 64);
        let second = render(&[("group_limit", "1"), ("group_next_token", &token)]).unwrap();
        assert_eq!(names(&second), ["r2"]);
        assert!(second.get("groupNextToken").is_none());
        assert_eq!(
            render(&[("group_limit", "1"), ("group_next_token", "zz")])
                .unwrap_err()
                .message,
            "invalid parameter \"group_next_token\": invalid group_next_token 'zz'. were rule groups changed?"
        );
        assert!(render(&[("group_next_token", "zz")]).is_err());
        assert!(render(&[("group_limit", "0")]).is_err());
    }

    #[test]
    fn values_format_as_go_exponents() {
        assert_eq!(format_value(1.0), "1e+00");
        assert_eq!(format_value(0.25), "2.5e-01");
        assert_eq!(format_value(12345.0), "1.2345e+04");
        assert_eq!(format_value(1e300), "1e+300");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn durations_format_as_go_json_floats() {
        let render = |d: Duration| {
            let mut s = String::new();
            push_seconds(&mut s, d);
            s
        };
        assert_eq!(render(Duration::from_secs(60)), "60");
        assert_eq!(render(Duration::from_micros(1500)), "0.0015");
        assert_eq!(render(Duration::from_nanos(100)), "1e-7");
        assert_eq!(render(Duration::ZERO), "0");
    }
}
