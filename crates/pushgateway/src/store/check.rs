//! The consistency check of a push against what is stored, with client_golang's gatherer
//! refusals and texts (type conflicts, duplicate series, name collisions between a summary or
//! histogram and plain families, bad labels) — computed from the store's indexes instead of a
//! full gather.

use std::collections::HashSet;
use std::fmt::Write as _;

use pm_common::expfmt::dto;
use pm_common::expfmt::encode::float::push_g;
use pm_common::model::{is_valid_legacy_label_name, write_go_quoted};

use super::family::{OwnFamilies, sanitize_labels, series_hash};
use super::{Inner, PUSH_FAILURE_METRIC, PUSH_TIME_METRIC, Push, StoredFamily};
use crate::grouping::GroupingLabels;

/// Why a push was refused; the handler prefixes upstream's "pushed metrics are invalid or
/// inconsistent with existing metrics: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("pushed metrics must not have timestamps")]
    Timestamps,
    #[error("collected metric {name:?} {{ {metric}}} is not a {want}")]
    WrongType {
        name: String,
        metric: String,
        want: &'static str,
    },
    #[error(
        "collected metric {name:?} {{ {metric}}} has two or more labels with the same name: {label}"
    )]
    DuplicateLabel {
        name: String,
        metric: String,
        label: String,
    },
    #[error("collected metric {name:?} {{ {metric}}} has a label with an invalid name: {label}")]
    InvalidLabel {
        name: String,
        metric: String,
        label: String,
    },
    #[error("collected metric {name:?} {{ {metric}}} must not have an explicit \"quantile\" label")]
    QuantileLabel { name: String, metric: String },
    #[error(
        "collected metric {name:?} {{ {metric}}} was collected before with the same name and label values"
    )]
    Duplicate { name: String, metric: String },
    #[error(
        "collected metric named {name:?} collides with previously collected {kind} named {base:?}"
    )]
    SuffixCollision {
        name: String,
        kind: &'static str,
        base: String,
    },
    #[error(
        "collected {kind} named {name:?} collides with previously collected metric named {other:?}"
    )]
    CollidesWithSuffixed {
        kind: &'static str,
        name: String,
        other: String,
    },
    #[error("gathered metric family {name} has type {got} but should have {want}")]
    OwnType {
        name: String,
        got: &'static str,
        want: &'static str,
    },
}

/// What every push goes through, checked or not: no timestamps, grouping labels applied.
pub(super) fn prepare(
    families: &mut [dto::MetricFamily],
    labels: &GroupingLabels,
) -> Result<(), CheckError> {
    if families
        .iter()
        .any(|f| f.metric.iter().any(|m| m.timestamp_ms.is_some()))
    {
        return Err(CheckError::Timestamps);
    }
    for family in families {
        sanitize_labels(family, labels);
    }
    Ok(())
}

/// Checks `push` (already prepared) against the store as it would be after applying it.
pub(super) fn check(
    inner: &Inner,
    own: &OwnFamilies,
    key: &str,
    push: &Push,
) -> Result<(), CheckError> {
    let group = inner.groups.get(key);
    let pushed: HashSet<&str> = push.families.iter().map(|f| f.name()).collect();
    // Families of this group the push replaces: their series and types no longer count.
    let replaced: Vec<&StoredFamily> = group
        .into_iter()
        .flat_map(|g| g.families())
        .filter(|f| {
            let name = f.name();
            name != PUSH_TIME_METRIC
                && name != PUSH_FAILURE_METRIC
                && (push.replace || pushed.contains(name))
        })
        .collect();
    let replaced_names: HashSet<&str> = replaced.iter().map(|f| f.name()).collect();
    let replaced_series: HashSet<u64> = replaced
        .iter()
        .flat_map(|f| f.metrics().into_iter().map(|m| series_hash(f.name(), &m)))
        .collect();
    // The type other groups (and the daemon itself) give a name, if any.
    let stored_type = |name: &str| -> Option<i32> {
        let entry = inner.names.get(name)?;
        let own_share = u32::from(replaced_names.contains(name));
        (entry.groups > own_share).then_some(entry.r#type)
    };
    let exists = |name: &str| -> Option<i32> {
        stored_type(name)
            .or_else(|| own.get(name).map(|(_, t)| t))
            .or_else(|| {
                push.families
                    .iter()
                    .find(|f| f.name() == name)
                    .map(|f| f.r#type.unwrap_or_default())
            })
    };
    let mut seen = HashSet::new();
    let mut families: Vec<&dto::MetricFamily> = push.families.iter().collect();
    families.sort_by(|a, b| a.name().cmp(b.name()));
    for family in families {
        let name = family.name();
        let ty = family.r#type.unwrap_or_default();
        if name == PUSH_TIME_METRIC || family.metric.is_empty() {
            continue;
        }
        if let Some((_, own_type)) = own.get(name)
            && own_type != ty
        {
            return Err(CheckError::OwnType {
                name: name.to_owned(),
                got: type_name(ty),
                want: type_name(own_type),
            });
        }
        if let Some(other) = stored_type(name)
            && other != ty
        {
            return Err(CheckError::WrongType {
                name: name.to_owned(),
                metric: describe(&family.metric[0]),
                want: type_name(other),
            });
        }
        check_suffixes(name, ty, &exists)?;
        for metric in &family.metric {
            check_metric(name, ty, metric)?;
            let hash = series_hash(name, metric);
            let stored_elsewhere = inner.series.contains(&hash) && !replaced_series.contains(&hash);
            if stored_elsewhere || !seen.insert(hash) {
                return Err(CheckError::Duplicate {
                    name: name.to_owned(),
                    metric: describe(metric),
                });
            }
        }
    }
    Ok(())
}

fn check_suffixes(
    name: &str,
    ty: i32,
    exists: &impl Fn(&str) -> Option<i32>,
) -> Result<(), CheckError> {
    const SUMMARY: i32 = dto::MetricType::Summary as i32;
    const HISTOGRAM: i32 = dto::MetricType::Histogram as i32;
    let base = ["_count", "_sum", "_bucket"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix));
    if let Some(base) = base {
        let kind = match exists(base) {
            Some(SUMMARY) if !name.ends_with("_bucket") => Some("summary"),
            Some(HISTOGRAM) => Some("histogram"),
            _ => None,
        };
        if let Some(kind) = kind {
            return Err(CheckError::SuffixCollision {
                name: name.to_owned(),
                kind,
                base: base.to_owned(),
            });
        }
    }
    let collides = |suffix: &str, kind: &'static str| {
        let other = format!("{name}{suffix}");
        match exists(&other) {
            Some(_) => Err(CheckError::CollidesWithSuffixed {
                kind,
                name: name.to_owned(),
                other,
            }),
            None => Ok(()),
        }
    };
    if ty == SUMMARY || ty == HISTOGRAM {
        collides("_count", "histogram or summary")?;
        collides("_sum", "histogram or summary")?;
    }
    if ty == HISTOGRAM {
        collides("_bucket", "histogram")?;
    }
    Ok(())
}

/// The per-metric checks of client_golang's `checkMetricConsistency`, except uniqueness.
fn check_metric(name: &str, ty: i32, metric: &dto::Metric) -> Result<(), CheckError> {
    use dto::MetricType as T;
    let matches = match T::try_from(ty) {
        Ok(T::Counter) => metric.counter.is_some(),
        Ok(T::Gauge) => metric.gauge.is_some(),
        Ok(T::Summary) => metric.summary.is_some(),
        Ok(T::Untyped) => metric.untyped.is_some(),
        Ok(T::Histogram | T::GaugeHistogram) => metric.histogram.is_some(),
        Err(_) => false,
    };
    if !matches {
        return Err(CheckError::WrongType {
            name: name.to_owned(),
            metric: describe(metric),
            want: type_name(ty),
        });
    }
    let mut previous = None;
    for pair in &metric.label {
        let label = pair.name();
        if previous == Some(label) {
            return Err(CheckError::DuplicateLabel {
                name: label.to_owned(),
                metric: describe(metric),
                label: label.to_owned(),
            });
        }
        if !is_valid_legacy_label_name(label) {
            return Err(CheckError::InvalidLabel {
                name: label.to_owned(),
                metric: describe(metric),
                label: label.to_owned(),
            });
        }
        if metric.summary.is_some() && label == "quantile" {
            return Err(CheckError::QuantileLabel {
                name: label.to_owned(),
                metric: describe(metric),
            });
        }
        previous = Some(label);
    }
    Ok(())
}

fn type_name(ty: i32) -> &'static str {
    dto::MetricType::try_from(ty).map_or("UNKNOWN", |t| t.as_str_name())
}

/// The metric in the compact protobuf text form Go prints in these errors.
fn describe(metric: &dto::Metric) -> String {
    let mut out = String::new();
    for pair in &metric.label {
        out.push_str("label:<name:");
        let _ = write_go_quoted(&mut out, pair.name());
        out.push_str(" value:");
        let _ = write_go_quoted(&mut out, pair.value());
        out.push_str(" > ");
    }
    let scalar = |out: &mut String, kind: &str, v: f64| {
        let _ = write!(out, "{kind}:<value:");
        push_g(out, v);
        out.push_str(" > ");
    };
    if let Some(g) = &metric.gauge {
        scalar(&mut out, "gauge", g.value());
    }
    if let Some(c) = &metric.counter {
        scalar(&mut out, "counter", c.value());
    }
    if let Some(u) = &metric.untyped {
        scalar(&mut out, "untyped", u.value());
    }
    if let Some(s) = &metric.summary {
        let _ = write!(
            out,
            "summary:<sample_count:{} sample_sum:",
            s.sample_count()
        );
        push_g(&mut out, s.sample_sum());
        out.push_str(" > ");
    }
    if let Some(h) = &metric.histogram {
        let _ = write!(
            out,
            "histogram:<sample_count:{} sample_sum:",
            h.sample_count()
        );
        push_g(&mut out, h.sample_sum());
        out.push_str(" > ");
    }
    out
}
