//! The `route:` tree and `inhibit_rules:` as written in the file.

use std::collections::{BTreeMap, HashSet};

use pm_common::config::Duration;
use serde::{Deserialize, Serialize};

use super::ConfigError;
use super::types::{ConfigMatchers, MatchEqual, MatchRegexps};
use crate::labels::is_valid_label_name;

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RouteConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub receiver: String,
    /// `None` inherits the parent's grouping; `['...']` groups by all labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<Vec<String>>,
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_eq: Option<MatchEqual>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_re: Option<MatchRegexps>,
    #[serde(skip_serializing_if = "ConfigMatchers::is_empty")]
    pub matchers: ConfigMatchers,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mute_time_intervals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub active_time_intervals: Vec<String>,
    #[serde(rename = "continue")]
    pub continue_matching: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<Duration>,
    /// Labels attached to the route and inherited by children (values may be templates).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl ConfigMatchers {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl RouteConfig {
    /// The whole `['...']` form.
    pub fn groups_by_all(&self) -> bool {
        self.group_by
            .as_ref()
            .is_some_and(|g| g.iter().any(|l| l == "..."))
    }

    /// Upstream's per-route checks, children first as upstream's decoder runs them.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for child in &self.routes {
            child.validate()?;
        }
        if let Some(name) = self.labels.keys().find(|k| !is_valid_label_name(k)) {
            return Err(ConfigError::Invalid(format!(
                "invalid label name {name:?} in route labels"
            )));
        }
        let group_by = self.group_by.as_deref().unwrap_or_default();
        let mut seen = HashSet::new();
        let mut named = 0;
        for label in group_by {
            if label == "..." {
                continue;
            }
            if !is_valid_label_name(label) {
                return Err(ConfigError::Invalid(format!(
                    "invalid label name {label:?} in group_by list"
                )));
            }
            named += 1;
        }
        if named > 0 && self.groups_by_all() {
            return Err(ConfigError::Invalid(
                "cannot have wildcard group_by (`...`) and other labels at the same time".into(),
            ));
        }
        for label in group_by.iter().filter(|l| *l != "...") {
            if !seen.insert(label) {
                return Err(ConfigError::Invalid(format!(
                    "duplicated label {label:?} in group_by"
                )));
            }
        }
        if self.group_interval.is_some_and(Duration::is_zero) {
            return Err(ConfigError::Invalid("group_interval cannot be zero".into()));
        }
        if self.repeat_interval.is_some_and(Duration::is_zero) {
            return Err(ConfigError::Invalid(
                "repeat_interval cannot be zero".into(),
            ));
        }
        Ok(())
    }

    pub(super) fn has_matchers(&self) -> bool {
        self.match_eq.as_ref().is_some_and(|m| !m.0.is_empty())
            || self.match_re.as_ref().is_some_and(|m| !m.0.is_empty())
            || !self.matchers.is_empty()
    }

    /// Every receiver name used in the tree must be defined (checked children first).
    pub(super) fn check_receivers(&self, names: &HashSet<&str>) -> Result<(), ConfigError> {
        for child in &self.routes {
            child.check_receivers(names)?;
        }
        if !self.receiver.is_empty() && !names.contains(self.receiver.as_str()) {
            return Err(ConfigError::Invalid(format!(
                "undefined receiver {:?} used in route",
                self.receiver
            )));
        }
        Ok(())
    }

    pub(super) fn check_time_intervals(&self, names: &HashSet<&str>) -> Result<(), ConfigError> {
        for child in &self.routes {
            child.check_time_intervals(names)?;
        }
        let used = self
            .active_time_intervals
            .iter()
            .chain(&self.mute_time_intervals);
        for name in used {
            if !names.contains(name.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "undefined time interval {name:?} used in route"
                )));
            }
        }
        Ok(())
    }
}

/// One `inhibit_rules` entry: while a source alert fires, matching targets are muted when
/// they agree with it on the `equal` labels.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct InhibitRuleConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_match: Option<MatchEqual>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_match_re: Option<MatchRegexps>,
    #[serde(skip_serializing_if = "ConfigMatchers::is_empty")]
    pub source_matchers: ConfigMatchers,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_match: Option<MatchEqual>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_match_re: Option<MatchRegexps>,
    #[serde(skip_serializing_if = "ConfigMatchers::is_empty")]
    pub target_matchers: ConfigMatchers,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub equal: Vec<String>,
}

impl InhibitRuleConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        match self.equal.iter().find(|l| !is_valid_label_name(l)) {
            Some(l) => Err(ConfigError::Invalid(format!(
                "invalid label name {l:?} in equal list"
            ))),
            None => Ok(()),
        }
    }
}
