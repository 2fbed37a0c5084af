//! Helpers over single families: the push-time gauges, label sanitizing, series hashing, and
//! the description of the daemon's own families that pushes must agree with.

use std::collections::HashMap;

use jiff::Timestamp;
use pm_common::expfmt::dto;
use xxhash_rust::xxh64::Xxh64;

use crate::grouping::GroupingLabels;

/// Name to (help, type) of the families the daemon exposes itself. A pushed family of the same
/// name must have the same type, and is shown with the daemon's help text.
#[derive(Debug, Clone, Default)]
pub struct OwnFamilies(HashMap<String, (String, i32)>);

impl OwnFamilies {
    pub fn from_families(families: &[dto::MetricFamily]) -> Self {
        Self(
            families
                .iter()
                .map(|f| {
                    (
                        f.name().to_owned(),
                        (f.help().to_owned(), f.r#type.unwrap_or_default()),
                    )
                })
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<(&str, i32)> {
        self.0.get(name).map(|(h, t)| (h.as_str(), *t))
    }
}

/// A one-sample gauge carrying a Unix time (0 for "never"), labelled with the grouping labels.
pub fn timestamp_gauge(
    name: &str,
    help: &str,
    labels: &GroupingLabels,
    time: Option<Timestamp>,
) -> dto::MetricFamily {
    let value = time.map_or(0.0, |t| t.as_nanosecond() as f64 / 1e9);
    let mut family = dto::MetricFamily {
        name: Some(name.to_owned()),
        help: Some(help.to_owned()),
        r#type: Some(dto::MetricType::Gauge as i32),
        metric: vec![dto::Metric {
            gauge: Some(dto::Gauge { value: Some(value) }),
            ..Default::default()
        }],
        unit: None,
    };
    sanitize_labels(&mut family, labels);
    family
}

/// Gives every metric the grouping labels (overriding body values of the same name, as
/// upstream does) and an `instance` label (empty when neither body nor URL sets it), sorted.
pub fn sanitize_labels(family: &mut dto::MetricFamily, grouping: &GroupingLabels) {
    for metric in &mut family.metric {
        for pair in &mut metric.label {
            if let Some(value) = grouping.get(pair.name()) {
                pair.value = Some(value.clone());
            }
        }
        for (name, value) in grouping {
            if !metric.label.iter().any(|p| p.name() == name) {
                metric.label.push(label(name, value));
            }
        }
        if !metric.label.iter().any(|p| p.name() == "instance") {
            metric.label.push(label("instance", ""));
        }
        metric.label.sort_by(|a, b| a.name().cmp(b.name()));
    }
}

fn label(name: &str, value: &str) -> dto::LabelPair {
    dto::LabelPair {
        name: Some(name.to_owned()),
        value: Some(value.to_owned()),
    }
}

/// Identifies a series by its family name and labels (sorted by name), as
/// client_golang's duplicate detection does.
pub fn series_hash(name: &str, metric: &dto::Metric) -> u64 {
    let mut h = Xxh64::new(0);
    h.update(name.as_bytes());
    h.update(&[0xff]);
    for pair in &metric.label {
        h.update(pair.name().as_bytes());
        h.update(&[0xff]);
        h.update(pair.value().as_bytes());
        h.update(&[0xff]);
    }
    h.digest()
}
