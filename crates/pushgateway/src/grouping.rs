//! Grouping keys: the label set named by a push URL (`/metrics/job/<JOB>{/<NAME>/<VALUE>}`),
//! which identifies the group a push replaces or extends.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pm_common::model::{RESERVED_LABEL_PREFIX, is_valid_legacy_label_name};

/// Marks a label name (or `job`) whose value in the URL is base64url-encoded.
pub const BASE64_SUFFIX: &str = "@base64";

/// The grouping labels of one group, sorted by name (always containing `job`).
pub type GroupingLabels = BTreeMap<String, String>;

/// Why a push URL names no valid group; the texts are upstream's response bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupingError {
    /// Upstream quotes the (failed, hence empty) decoding result, not the input.
    #[error("invalid base64 encoding in job name \"\": {0}")]
    JobBase64(String),
    #[error("odd number of components in label string {0:?}")]
    OddComponents(String),
    #[error("improper label name {0:?}")]
    ImproperLabelName(String),
    #[error("invalid base64 encoding for label {name}={value:?}: {reason}")]
    LabelBase64 {
        name: String,
        value: String,
        reason: String,
    },
    #[error("job name is required")]
    NoJob,
}

/// Parses the part of a (percent-decoded) push path after `/metrics/`: `job/<JOB>[<labels>]` or
/// `job@base64/<JOB>[<labels>]`. Returns `None` when the path is not a push path at all.
pub fn parse_push_path(rest: &str) -> Option<Result<GroupingLabels, GroupingError>> {
    let (encoded, rest) = if let Some(r) = rest.strip_prefix("job/") {
        (false, r)
    } else if let Some(r) = rest.strip_prefix("job@base64/") {
        (true, r)
    } else {
        return None;
    };
    let (job, labels) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    Some(grouping_labels(job, encoded, labels))
}

fn grouping_labels(
    job: &str,
    encoded: bool,
    labels: &str,
) -> Result<GroupingLabels, GroupingError> {
    let job = if encoded {
        decode_base64(job).map_err(GroupingError::JobBase64)?
    } else {
        job.to_owned()
    };
    let mut result = split_labels(labels)?;
    if job.is_empty() {
        return Err(GroupingError::NoJob);
    }
    result.insert("job".to_owned(), job);
    Ok(result)
}

/// Splits `/name/value/name@base64/value…` into labels. A lone `/` (a trailing slash after the
/// job) names no labels, but any other trailing slash leaves an odd component, as upstream.
fn split_labels(labels: &str) -> Result<GroupingLabels, GroupingError> {
    let mut result = GroupingLabels::new();
    if labels.len() <= 1 {
        return Ok(result);
    }
    let components: Vec<&str> = labels[1..].split('/').collect();
    if !components.len().is_multiple_of(2) {
        return Err(GroupingError::OddComponents(labels.to_owned()));
    }
    for pair in components.chunks_exact(2) {
        let (name, value) = (pair[0], pair[1]);
        let trimmed = name.strip_suffix(BASE64_SUFFIX).unwrap_or(name);
        if !is_valid_legacy_label_name(trimmed) || trimmed.starts_with(RESERVED_LABEL_PREFIX) {
            return Err(GroupingError::ImproperLabelName(trimmed.to_owned()));
        }
        let value = if trimmed.len() == name.len() {
            value.to_owned()
        } else {
            decode_base64(value).map_err(|reason| GroupingError::LabelBase64 {
                name: trimmed.to_owned(),
                value: value.to_owned(),
                reason,
            })?
        };
        result.insert(trimmed.to_owned(), value);
    }
    Ok(result)
}

/// Decodes base64url with or without padding (`=` alone is the empty value). The error text
/// mimics Go's `illegal base64 data at input byte N`.
fn decode_base64(s: &str) -> Result<String, String> {
    let trimmed = s.trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD.decode(trimmed).map_err(|e| match e {
        base64::DecodeError::InvalidByte(i, _) | base64::DecodeError::InvalidLastSymbol(i, _) => {
            format!("illegal base64 data at input byte {i}")
        }
        _ => format!("illegal base64 data at input byte {}", trimmed.len()),
    })?;
    // Go keeps invalid UTF-8 in its strings; we cannot, so it is replaced.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The map key of a group: label names and values joined by `\xff`, in name order.
pub fn group_key(labels: &GroupingLabels) -> String {
    let mut key = String::new();
    for (i, (name, value)) in labels.iter().enumerate() {
        if i > 0 {
            key.push('\u{ff}');
        }
        key.push_str(name);
        key.push('\u{ff}');
        key.push_str(value);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str) -> Result<Vec<(String, String)>, String> {
        parse_push_path(path)
            .expect("a push path")
            .map(|l| l.into_iter().collect())
            .map_err(|e| e.to_string())
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn plain_and_base64_labels() {
        assert_eq!(parse("job/j"), Ok(pairs(&[("job", "j")])));
        assert_eq!(parse("job/j/"), Ok(pairs(&[("job", "j")])));
        assert_eq!(
            parse("job/j/a/b/c@base64/L3Zhci90bXA"),
            Ok(pairs(&[("a", "b"), ("c", "/var/tmp"), ("job", "j")]))
        );
        assert_eq!(
            parse("job@base64/L3Zhci90bXA=/a@base64/="),
            Ok(pairs(&[("a", ""), ("job", "/var/tmp")]))
        );
        assert!(parse_push_path("other/j").is_none());
    }

    #[test]
    fn errors_as_upstream() {
        assert_eq!(
            parse("job/j/a"),
            Err(r#"odd number of components in label string "/a""#.into())
        );
        assert_eq!(
            parse("job/j/a/b/"),
            Err(r#"odd number of components in label string "/a/b/""#.into())
        );
        assert_eq!(
            parse("job/j/__a/b"),
            Err(r#"improper label name "__a""#.into())
        );
        assert_eq!(
            parse("job/j/a-b/c"),
            Err(r#"improper label name "a-b""#.into())
        );
        assert_eq!(
            parse("job/j/a@base64/!!"),
            Err(
                r#"invalid base64 encoding for label a="!!": illegal base64 data at input byte 0"#
                    .into()
            )
        );
        assert_eq!(
            parse("job@base64/!!"),
            Err(
                r#"invalid base64 encoding in job name "": illegal base64 data at input byte 0"#
                    .into()
            )
        );
        assert_eq!(parse("job/"), Err("job name is required".into()));
    }

    #[test]
    fn key_is_order_independent() {
        let mut a = GroupingLabels::new();
        a.insert("job".into(), "x".into());
        a.insert("instance".into(), "i".into());
        assert_eq!(group_key(&a), "instance\u{ff}i\u{ff}job\u{ff}x");
    }
}
