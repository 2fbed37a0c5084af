//! Rule files: groups of recording and alerting rules in YAML, validated as upstream's
//! `model/rulefmt` validates them, with the same error texts, so that `promtool check rules`
//! output and the server's reload errors read the same as upstream's.
//!
//! ```
//! use pm_prometheus::rules::rulefmt::{ParseOptions, parse};
//!
//! let text = "groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum by (job) (up)\n";
//! let groups = parse(text, "rules.yml", &ParseOptions::default()).unwrap();
//! assert_eq!(groups.groups[0].rules[0].record.as_deref(), Some("job:up:sum"));
//!
//! let errs = parse("groups:\n- name: g\n  rules:\n  - expr: up\n", "rules.yml", &ParseOptions::default())
//!     .unwrap_err();
//! assert_eq!(
//!     errs[0].to_string(),
//!     r#"rules.yml: 4:5: 4:5: group "g", rule 1, "": one of 'record' or 'alert' must be set"#
//! );
//! ```

mod error;
mod scalar;
mod validate;

use std::collections::BTreeMap;
use std::path::Path;

use pm_common::config::Duration;
use pm_common::config::positions::Positions;
use pm_common::model::NameValidation;
use pm_promql::ParserOptions;
use serde::Deserialize;

pub use error::{RuleFileError, RuleFileErrorKind};

/// The content of one rule file.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct RuleGroups {
    #[serde(default)]
    pub groups: Vec<RuleGroup>,
}

/// Rules evaluated in sequence, on one interval.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct RuleGroup {
    #[serde(default)]
    pub name: String,
    /// Falls back to the global `evaluation_interval`.
    #[serde(default)]
    pub interval: Option<Duration>,
    /// Falls back to the global `rule_query_offset`.
    #[serde(default)]
    pub query_offset: Option<Duration>,
    /// The most series one rule may produce per evaluation; 0 is no limit.
    #[serde(default)]
    pub limit: i64,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Added to every rule's labels (the rule's own labels win).
    #[serde(default, deserialize_with = "scalar::map")]
    pub labels: BTreeMap<String, String>,
}

/// A recording rule (`record` set) or an alerting rule (`alert` set).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Rule {
    #[serde(default, deserialize_with = "non_empty")]
    pub record: Option<String>,
    #[serde(default, deserialize_with = "non_empty")]
    pub alert: Option<String>,
    #[serde(default, deserialize_with = "scalar::string")]
    pub expr: String,
    #[serde(default, rename = "for")]
    pub for_: Option<Duration>,
    #[serde(default)]
    pub keep_firing_for: Option<Duration>,
    #[serde(default, deserialize_with = "scalar::map")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "scalar::map")]
    pub annotations: BTreeMap<String, String>,
}

impl Rule {
    /// The rule's name as upstream prints it in errors: the alert name, else the record name.
    pub fn name(&self) -> &str {
        self.alert
            .as_deref()
            .or(self.record.as_deref())
            .unwrap_or("")
    }
}

/// How strictly a rule file is read.
#[derive(Clone, Debug)]
pub struct ParseOptions {
    /// Accept fields this version does not know (promtool's `--ignore-unknown-fields`).
    pub ignore_unknown_fields: bool,
    /// Which metric and label names are valid.
    pub name_validation: NameValidation,
    /// The PromQL features rule expressions may use.
    pub parser: ParserOptions,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            ignore_unknown_fields: false,
            name_validation: NameValidation::Utf8,
            parser: ParserOptions::default(),
        }
    }
}

/// Reads and validates the rule file at `path`.
pub fn parse_file(
    path: impl AsRef<Path>,
    options: &ParseOptions,
) -> Result<RuleGroups, Vec<RuleFileError>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|err| {
        vec![RuleFileError::new(
            path,
            RuleFileErrorKind::Read(err.to_string()),
        )]
    })?;
    parse(&text, path, options)
}

/// Parses and validates rule-file `text`; `path` only names the file in errors. Returns every
/// problem found, as upstream does, so one run of `promtool check rules` lists them all.
pub fn parse(
    text: &str,
    path: impl AsRef<Path>,
    options: &ParseOptions,
) -> Result<RuleGroups, Vec<RuleFileError>> {
    let path = path.as_ref();
    let fail = |err: &dyn std::fmt::Display| {
        vec![RuleFileError::new(
            path,
            RuleFileErrorKind::Yaml(err.to_string()),
        )]
    };
    let positions = Positions::new(text);
    let groups: RuleGroups = if positions
        .iter()
        .any(|(p, _)| p == "<<" || p.ends_with(".<<"))
    {
        // YAML merge keys (`<<: *anchor`) are resolved only on a generic value, at the price of
        // the decoder's positions; files without them keep both.
        let mut value: serde_norway::Value =
            pm_common::config::yaml::from_str(text, path).map_err(|e| fail(&e))?;
        value.apply_merge().map_err(|e| fail(&e))?;
        serde_norway::from_value(value).map_err(|e| fail(&e))?
    } else {
        pm_common::config::yaml::from_str(text, path).map_err(|e| fail(&e))?
    };
    let errors = validate::validate(&groups, &positions, options);
    if errors.is_empty() {
        Ok(groups)
    } else {
        Err(errors
            .into_iter()
            .map(|kind| RuleFileError::new(path, kind))
            .collect())
    }
}

/// Upstream treats an empty `record:`/`alert:` as unset.
fn non_empty<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(de)?.filter(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests;
