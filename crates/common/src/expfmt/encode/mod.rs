//! Encoders from [`dto::MetricFamily`] to the exposition
//! formats: Prometheus text 0.0.4 ([`write_text`]), OpenMetrics 1.0 ([`write_openmetrics`]) and,
//! through [`crate::expfmt::proto`], length-delimited protobuf.
//!
//! The text encoders follow prometheus/common `expfmt.MetricFamilyToText` and
//! `MetricFamilyToOpenMetrics` byte for byte, so that a scrape of one of our daemons is
//! indistinguishable from a scrape of its Go twin. Each encoder appends to a `String` and leaves
//! it untouched when it returns an error.

pub mod float;
mod openmetrics;
mod text;
mod writer;

#[cfg(test)]
mod tests;

pub use openmetrics::{OpenMetricsOptions, finalize_openmetrics, write_openmetrics};
pub use text::write_text;

use crate::expfmt::dto;
use crate::model::{EscapingScheme, METRIC_NAME_LABEL, escape_name, is_valid_legacy_metric_name};

/// Why a family cannot be written in the requested format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("MetricFamily has no name")]
    NoName,
    #[error("MetricFamily {0} has no metrics")]
    NoMetrics(String),
    #[error("unknown metric type {0} in family {1}")]
    UnknownType(i32, String),
    #[error("expected {expected} in metric {family}")]
    MissingValue {
        expected: &'static str,
        family: String,
    },
    #[error("OpenMetrics v1.0 does not support float histogram {0}")]
    FloatHistogram(String),
    #[error("invalid exemplar timestamp in metric {0}")]
    InvalidTimestamp(String),
}

/// The family's type, or an error naming the raw value when it is not a known enum value
/// (prost's getter would silently map it to `COUNTER`).
fn family_type(mf: &dto::MetricFamily) -> Result<dto::MetricType, EncodeError> {
    let raw = mf.r#type.unwrap_or_default();
    dto::MetricType::try_from(raw).map_err(|_| EncodeError::UnknownType(raw, mf.name().to_owned()))
}

/// Returns `mf` with its metric name and label names rewritten under `scheme`, as
/// prometheus/common `model.EscapeMetricFamily` does before encoding for a client that did not
/// ask for `allow-utf-8`. Borrows when nothing needs rewriting.
pub fn escape_metric_family(
    mf: &dto::MetricFamily,
    scheme: EscapingScheme,
) -> std::borrow::Cow<'_, dto::MetricFamily> {
    use std::borrow::Cow;

    let name_needs = mf
        .name
        .as_deref()
        .is_some_and(|n| !is_valid_legacy_metric_name(n));
    if scheme == EscapingScheme::NoEscaping
        || (!name_needs && !mf.metric.iter().any(metric_needs_escaping))
    {
        return Cow::Borrowed(mf);
    }
    let mut out = mf.clone();
    if name_needs {
        out.name = out.name.map(|n| escape_name(&n, scheme));
    }
    for m in out.metric.iter_mut().filter(|m| metric_needs_escaping(m)) {
        for l in &mut m.label {
            // Upstream checks label names against the metric-name rules (so `:` passes).
            if l.name() == METRIC_NAME_LABEL {
                if let Some(v) = l.value.as_mut().filter(|v| !is_valid_legacy_metric_name(v)) {
                    *v = escape_name(v, scheme);
                }
            } else if let Some(n) = l.name.as_mut().filter(|n| !is_valid_legacy_metric_name(n)) {
                *n = escape_name(n, scheme);
            }
        }
    }
    Cow::Owned(out)
}

fn metric_needs_escaping(m: &dto::Metric) -> bool {
    m.label.iter().any(|l| {
        (l.name() == METRIC_NAME_LABEL && !is_valid_legacy_metric_name(l.value()))
            || !is_valid_legacy_metric_name(l.name())
    })
}
