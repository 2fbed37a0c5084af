//! Target groups as file SD and HTTP SD read them: a list of `{targets: [...], labels: {...}}`.

use std::collections::BTreeMap;

use pm_common::model::Labels;
use serde::Deserialize;

use crate::TargetGroup;

/// Why a list of target groups could not be decoded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("nil target group item found")]
    NullGroup,
    #[error("{0:?} is not a valid label name")]
    LabelName(String),
}

#[derive(Deserialize)]
struct Group {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// YAML is decoded strictly, as upstream's `yaml.UnmarshalStrict`: unknown keys are errors.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictGroup {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Decodes JSON groups; unknown keys are ignored, as Go's `encoding/json` does.
pub(crate) fn from_json(body: &[u8]) -> Result<Vec<RawGroup>, WireError> {
    let groups: Option<Vec<Option<Group>>> = serde_json::from_slice(body)?;
    collect(groups, |g| (g.targets, g.labels))
}

/// Decodes YAML groups; an empty document holds no groups.
pub(crate) fn from_yaml(text: &str) -> Result<Vec<RawGroup>, WireError> {
    let groups: Option<Vec<Option<StrictGroup>>> = serde_norway::from_str(text)?;
    collect(groups, |g| (g.targets, g.labels))
}

fn collect<G>(
    groups: Option<Vec<Option<G>>>,
    parts: impl Fn(G) -> (Vec<String>, BTreeMap<String, String>),
) -> Result<Vec<RawGroup>, WireError> {
    groups
        .unwrap_or_default()
        .into_iter()
        .map(|group| {
            let (targets, labels) = parts(group.ok_or(WireError::NullGroup)?);
            // Prometheus 3 accepts any UTF-8 label name but the empty one.
            if labels.contains_key("") {
                return Err(WireError::LabelName(String::new()));
            }
            Ok(RawGroup { targets, labels })
        })
        .collect()
}

/// A decoded group before its provider names its source.
pub(crate) struct RawGroup {
    targets: Vec<String>,
    labels: BTreeMap<String, String>,
}

impl RawGroup {
    /// The group with its source and the provider's own label (`__meta_filepath`,
    /// `__meta_url`) added to the group labels.
    pub(crate) fn into_group(self, source: String, meta: (&str, &str)) -> TargetGroup {
        let mut labels = self.labels;
        labels.insert(meta.0.to_owned(), meta.1.to_owned());
        TargetGroup {
            source,
            targets: self
                .targets
                .iter()
                .map(|t| Labels::from_pairs([("__address__", t.as_str())]))
                .collect(),
            labels: Labels::from_pairs(labels),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ignores_unknown_keys_and_yaml_refuses_them() {
        let groups = from_json(br#"[{"targets":["a:1"],"labels":{"x":"y"},"extra":1}]"#).unwrap();
        let group = groups
            .into_iter()
            .next()
            .unwrap()
            .into_group("s:0".into(), ("__meta_url", "u"));
        assert_eq!(group.targets[0].get("__address__"), Some("a:1"));
        assert_eq!(group.labels.get("x"), Some("y"));
        assert_eq!(group.labels.get("__meta_url"), Some("u"));
        let err = from_yaml("- targets: [a:1]\n  extra: 1\n").err().unwrap();
        assert!(err.to_string().contains("extra"), "{err}");
    }

    #[test]
    fn null_groups_and_empty_label_names_are_refused() {
        let err = from_json(b"[null]").err().unwrap();
        assert_eq!(err.to_string(), "nil target group item found");
        let err = from_yaml("- labels: {'': x}\n").err().unwrap();
        assert_eq!(err.to_string(), "\"\" is not a valid label name");
        assert!(from_yaml("").unwrap().is_empty());
    }
}
