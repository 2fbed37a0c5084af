//! Metric and label name rules: the legacy character set and Prometheus 3's UTF-8 names.

/// The label that carries the metric name.
pub const METRIC_NAME_LABEL: &str = "__name__";
/// Prefix of labels reserved for internal use (dropped after relabeling).
pub const RESERVED_LABEL_PREFIX: &str = "__";
/// Prefix of service-discovery meta labels.
pub const META_LABEL_PREFIX: &str = "__meta_";
/// Label of the bucket upper bound in classic histograms.
pub const BUCKET_LABEL: &str = "le";
/// Label of the quantile in summaries.
pub const QUANTILE_LABEL: &str = "quantile";

/// Which names are accepted: Prometheus 3 defaults to UTF-8; `legacy` keeps the old charset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NameValidation {
    Legacy,
    #[default]
    Utf8,
}

impl NameValidation {
    pub fn is_valid_metric_name(self, name: &str) -> bool {
        match self {
            NameValidation::Legacy => is_valid_legacy_metric_name(name),
            NameValidation::Utf8 => !name.is_empty(),
        }
    }

    pub fn is_valid_label_name(self, name: &str) -> bool {
        match self {
            NameValidation::Legacy => is_valid_legacy_label_name(name),
            NameValidation::Utf8 => !name.is_empty(),
        }
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn is_valid_legacy_metric_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.iter().enumerate().all(|(i, &c)| {
            c.is_ascii_alphabetic() || c == b'_' || c == b':' || (i > 0 && c.is_ascii_digit())
        })
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
pub fn is_valid_legacy_label_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.iter()
            .enumerate()
            .all(|(i, &c)| c.is_ascii_alphabetic() || c == b'_' || (i > 0 && c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_names() {
        for ok in ["a", "_", "a:b", "ab_1", ":x"] {
            assert!(is_valid_legacy_metric_name(ok), "{ok}");
        }
        for bad in ["", "1a", "a-b", "a.b", "é"] {
            assert!(!is_valid_legacy_metric_name(bad), "{bad}");
        }
        assert!(is_valid_legacy_label_name("le"));
        assert!(!is_valid_legacy_label_name("a:b"));
        assert!(!is_valid_legacy_label_name("0"));
        assert!(NameValidation::Utf8.is_valid_label_name("a.b"));
        assert!(!NameValidation::Utf8.is_valid_label_name(""));
    }
}
