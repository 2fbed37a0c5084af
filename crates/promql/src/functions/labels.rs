//! `label_replace` and `label_join`: the label rewriting, validated once per call and applied
//! per series. Argument errors carry upstream's texts (they abort the query).

use pm_common::model::{GoRegex, Labels, LabelsBuilder};

/// Why a `label_replace`/`label_join` call is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LabelFunctionError {
    #[error("invalid regular expression in label_replace(): {0}")]
    InvalidRegex(String),
    #[error("invalid destination label name in label_replace(): {0}")]
    InvalidReplaceDestination(String),
    #[error("invalid source label name in label_join(): {0}")]
    InvalidJoinSource(String),
    #[error("invalid destination label name in label_join(): {0}")]
    InvalidJoinDestination(String),
}

/// Upstream validates names as UTF-8 label names: any non-empty valid string.
fn valid_label_name(name: &str) -> bool {
    !name.is_empty()
}

/// A validated `label_replace(v, dst, replacement, src, regex)`.
#[derive(Clone)]
pub struct LabelReplace {
    dst: String,
    replacement: String,
    src: String,
    regex: GoRegex,
}

impl std::fmt::Debug for LabelReplace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabelReplace")
            .field("dst", &self.dst)
            .field("replacement", &self.replacement)
            .field("src", &self.src)
            .field("regex", &self.regex.as_str())
            .finish()
    }
}

impl LabelReplace {
    pub fn new(
        dst: &str,
        replacement: &str,
        src: &str,
        regex: &str,
    ) -> Result<LabelReplace, LabelFunctionError> {
        let regex =
            GoRegex::new(regex).map_err(|_| LabelFunctionError::InvalidRegex(regex.to_owned()))?;
        if !valid_label_name(dst) {
            return Err(LabelFunctionError::InvalidReplaceDestination(
                dst.to_owned(),
            ));
        }
        Ok(LabelReplace {
            dst: dst.to_owned(),
            replacement: replacement.to_owned(),
            src: src.to_owned(),
            regex,
        })
    }

    /// The destination label (the engine keeps `__name__` when it is the destination).
    pub fn destination(&self) -> &str {
        &self.dst
    }

    /// The rewritten labels, or `None` when the regex does not match the source value (the
    /// series is then left unchanged). An empty expansion removes the destination label.
    pub fn apply(&self, labels: &Labels) -> Option<Labels> {
        let value = labels.get_or_empty(&self.src);
        let captures = self.regex.anchored().captures(value)?;
        let mut expanded = String::new();
        captures.expand(&self.replacement, &mut expanded);
        let mut builder = LabelsBuilder::new(labels.clone());
        builder.set(&self.dst, &expanded);
        Some(builder.labels())
    }
}

/// A validated `label_join(v, dst, separator, src...)`.
#[derive(Clone, Debug)]
pub struct LabelJoin {
    dst: String,
    separator: String,
    srcs: Vec<String>,
}

impl LabelJoin {
    pub fn new(dst: &str, separator: &str, srcs: &[&str]) -> Result<LabelJoin, LabelFunctionError> {
        if let Some(bad) = srcs.iter().find(|s| !valid_label_name(s)) {
            return Err(LabelFunctionError::InvalidJoinSource((*bad).to_owned()));
        }
        if !valid_label_name(dst) {
            return Err(LabelFunctionError::InvalidJoinDestination(dst.to_owned()));
        }
        Ok(LabelJoin {
            dst: dst.to_owned(),
            separator: separator.to_owned(),
            srcs: srcs.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    pub fn destination(&self) -> &str {
        &self.dst
    }

    /// The labels with the destination set to the joined source values (missing ones join
    /// as empty strings; an empty result removes the destination).
    pub fn apply(&self, labels: &Labels) -> Labels {
        let joined = self
            .srcs
            .iter()
            .map(|s| labels.get_or_empty(s))
            .collect::<Vec<_>>()
            .join(&self.separator);
        let mut builder = LabelsBuilder::new(labels.clone());
        builder.set(&self.dst, &joined);
        builder.labels()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn replace_expands_groups_when_the_whole_value_matches() {
        let r =
            LabelReplace::new("dst", "destination-value-$1", "src", "source-value-(.*)").unwrap();
        let l = labels(&[("__name__", "m"), ("src", "source-value-10")]);
        assert_eq!(
            r.apply(&l),
            Some(labels(&[
                ("__name__", "m"),
                ("dst", "destination-value-10"),
                ("src", "source-value-10")
            ]))
        );
        // Anchored: a partial match is no match.
        let r = LabelReplace::new("dst", "x", "src", "value").unwrap();
        assert_eq!(r.apply(&l), None);
        // Named groups, `$$` and a missing group.
        let r = LabelReplace::new("dst", "${name}$$$2", "src", "source-(?P<name>\\w+)-.*").unwrap();
        assert_eq!(r.apply(&l).unwrap().get("dst"), Some("value$"));
    }

    #[test]
    fn replace_with_empty_result_removes_the_label() {
        let r = LabelReplace::new("src", "", "src", ".*").unwrap();
        let l = labels(&[("a", "b"), ("src", "x")]);
        assert_eq!(r.apply(&l), Some(labels(&[("a", "b")])));
        // A missing source label is the empty string, which `.*` matches.
        let r = LabelReplace::new("dst", "set", "missing", ".*").unwrap();
        assert_eq!(r.apply(&l).unwrap().get("dst"), Some("set"));
    }

    #[test]
    fn replace_argument_errors() {
        assert_eq!(
            LabelReplace::new("dst", "", "src", "(.*")
                .unwrap_err()
                .to_string(),
            "invalid regular expression in label_replace(): (.*"
        );
        assert_eq!(
            LabelReplace::new("", "", "src", ".*")
                .unwrap_err()
                .to_string(),
            "invalid destination label name in label_replace(): "
        );
        // UTF-8 names are valid.
        assert!(LabelReplace::new("\u{1f525}", "", "src", ".*").is_ok());
    }

    #[test]
    fn join_sources_with_separator() {
        let j = LabelJoin::new("dst", "-", &["a", "missing", "b"]).unwrap();
        let l = labels(&[("a", "1"), ("b", "2")]);
        assert_eq!(j.apply(&l).get("dst"), Some("1--2"));
        let j = LabelJoin::new("a", ",", &[]).unwrap();
        assert_eq!(j.apply(&l), labels(&[("b", "2")]));
        assert_eq!(
            LabelJoin::new("dst", "", &["a", ""])
                .unwrap_err()
                .to_string(),
            "invalid source label name in label_join(): "
        );
        assert_eq!(
            LabelJoin::new("", "", &["a"]).unwrap_err().to_string(),
            "invalid destination label name in label_join(): "
        );
    }
}
