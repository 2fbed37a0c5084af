//! Turning rule files into groups of rules ready to evaluate.

use std::collections::BTreeMap;
use std::time::Duration;

use pm_common::model::Labels;
use pm_promql::parse_expr;

use super::alerting::{AlertingRule, AlertingRuleSpec};
use super::group::{Group, GroupSpec};
use super::recording::RecordingRule;
use super::rule::Rule;
use super::rulefmt::{self, ParseOptions, RuleFileError, RuleGroups};
use crate::notifier::Annotations;

/// What groups are built with besides their files.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// The global `evaluation_interval`, for groups without their own.
    pub interval: Duration,
    pub external_labels: Labels,
    pub external_url: String,
    /// Whether the groups restore their alerts' `for` state before writing ALERTS series
    /// (only on the server's first load).
    pub should_restore: bool,
    pub parse: ParseOptions,
}

/// Reads every file and builds its groups; every problem of the first bad file is returned.
pub fn load_groups(files: &[String], options: &LoadOptions) -> Result<Vec<Group>, Vec<String>> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for file in files {
        let parsed = rulefmt::parse_file(file, &options.parse).map_err(|errs| {
            errs.iter()
                .map(RuleFileError::to_string)
                .collect::<Vec<_>>()
        })?;
        for group in build_groups(parsed, file, options).map_err(|e| vec![e])? {
            groups.insert(group.key(), group);
        }
    }
    Ok(groups.into_values().collect())
}

/// The groups of one parsed file.
pub fn build_groups(
    parsed: RuleGroups,
    file: &str,
    options: &LoadOptions,
) -> Result<Vec<Group>, String> {
    let mut out = Vec::with_capacity(parsed.groups.len());
    for rg in parsed.groups {
        let mut rules = Vec::with_capacity(rg.rules.len());
        for r in rg.rules {
            let expr =
                parse_expr(&r.expr, &options.parse.parser).map_err(|e| format!("{file}: {e}"))?;
            let mut merged = rg.labels.clone();
            merged.extend(r.labels);
            let labels = Labels::from_pairs(merged);
            rules.push(match r.alert {
                Some(alert) => Rule::Alerting(AlertingRule::new(
                    alert,
                    expr,
                    AlertingRuleSpec {
                        hold: r.for_.map(|d| d.as_std()).unwrap_or_default(),
                        keep_firing_for: r.keep_firing_for.map(|d| d.as_std()).unwrap_or_default(),
                        labels,
                        annotations: Annotations::from_pairs(r.annotations),
                        external_labels: options.external_labels.clone(),
                        external_url: options.external_url.clone(),
                        restored: !options.should_restore,
                    },
                )),
                None => Rule::Recording(RecordingRule::new(
                    r.record.unwrap_or_default(),
                    expr,
                    labels,
                )),
            });
        }
        let spec = GroupSpec {
            name: rg.name,
            file: file.to_owned(),
            interval: rg
                .interval
                .map(|d| d.as_std())
                .filter(|d| !d.is_zero())
                .unwrap_or(options.interval),
            query_offset: rg.query_offset.map(|d| d.as_std()),
            limit: usize::try_from(rg.limit).unwrap_or(0),
        };
        out.push(Group::new(spec, rules, options.should_restore));
    }
    Ok(out)
}
