//! Pieces shared by the text and OpenMetrics encoders: names, escaped strings, label sets.

use crate::expfmt::dto;
use crate::model::is_valid_legacy_metric_name;

/// Appends `s` with `\` and newline escaped, and `"` too when `quote` is set (label values and
/// quoted names; HELP text in the 0.0.4 format leaves quotes alone).
pub(super) fn push_escaped(out: &mut String, s: &str, quote: bool) {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'"' if quote => "\\\"",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(esc);
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// Appends a metric or label name: bare when it is a legacy name, quoted and escaped otherwise.
pub(super) fn push_name(out: &mut String, name: &str) {
    if is_valid_legacy_metric_name(name) {
        out.push_str(name);
    } else {
        out.push('"');
        push_escaped(out, name, true);
        out.push('"');
    }
}

/// An extra label appended after the metric's own (`le` or `quantile`), with a float value.
pub(super) type ExtraLabel = Option<(&'static str, f64)>;

/// Appends `name``suffix` and the label set. A name outside the legacy charset goes inside the
/// braces, quoted, as the first element. `suffix` is always one of the legacy-charset sample
/// suffixes, so it never changes whether the name needs quoting.
pub(super) fn push_name_and_labels(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[dto::LabelPair],
    extra: ExtraLabel,
    push_float: fn(&mut String, f64),
) {
    let mut sep = '{';
    let mut inside_braces = false;
    if !name.is_empty() {
        if is_valid_legacy_metric_name(name) {
            out.push_str(name);
            out.push_str(suffix);
        } else {
            inside_braces = true;
            out.push('{');
            sep = ',';
            out.push('"');
            push_escaped(out, name, true);
            out.push_str(suffix);
            out.push('"');
        }
    }
    if labels.is_empty() && extra.is_none() {
        if inside_braces {
            out.push('}');
        }
        return;
    }
    for lp in labels {
        out.push(sep);
        push_name(out, lp.name());
        out.push_str("=\"");
        push_escaped(out, lp.value(), true);
        out.push('"');
        sep = ',';
    }
    if let Some((label, value)) = extra {
        out.push(sep);
        out.push_str(label);
        out.push_str("=\"");
        push_float(out, value);
        out.push('"');
    }
    out.push('}');
}
