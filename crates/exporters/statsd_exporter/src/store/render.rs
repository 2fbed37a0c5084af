//! The store as metric families, ordered as client_golang gathers them.

use pm_common::expfmt::dto;

use super::{Family, Kind, Store, Value};

impl Store {
    /// Every family, sorted by name, its series sorted by label pairs.
    pub fn gather(&self) -> Vec<dto::MetricFamily> {
        self.families_by_name().collect()
    }

    /// [`Store::gather`] one family at a time: a scrape encodes each and drops it before the
    /// next is built, so 100k families never exist as `dto` values at once.
    pub fn families_by_name(&self) -> impl Iterator<Item = dto::MetricFamily> + '_ {
        let mut names: Vec<(&str, &Family)> = self
            .families
            .iter()
            .map(|(name, family)| (&**name, family))
            .collect();
        names.sort_unstable_by_key(|(name, _)| *name);
        names
            .into_iter()
            .map(|(name, family)| render_family(name, family))
    }
}

fn render_family(name: &str, family: &Family) -> dto::MetricFamily {
    let r#type = match family.kind {
        Kind::Counter => dto::MetricType::Counter,
        Kind::Gauge => dto::MetricType::Gauge,
        Kind::Histogram => dto::MetricType::Histogram,
        Kind::Summary => dto::MetricType::Summary,
    };
    let mut metric: Vec<dto::Metric> = family
        .series
        .iter()
        .map(|(key, series)| {
            let mut m = dto::Metric {
                label: unpack(key),
                ..Default::default()
            };
            match (&series.value, family.kind) {
                (Value::Scalar(v), Kind::Counter) => {
                    m.counter = Some(dto::Counter {
                        value: Some(*v),
                        ..Default::default()
                    });
                }
                (Value::Scalar(v), _) => m.gauge = Some(dto::Gauge { value: Some(*v) }),
                (Value::Histogram(h), _) => {
                    let mut cumulative = 0;
                    let bucket = h
                        .bounds
                        .iter()
                        .zip(h.counts.iter())
                        .map(|(&le, &c)| {
                            cumulative += c;
                            dto::Bucket {
                                cumulative_count: Some(cumulative),
                                upper_bound: Some(le),
                                ..Default::default()
                            }
                        })
                        .collect();
                    m.histogram = Some(dto::Histogram {
                        sample_count: Some(cumulative + h.counts[h.bounds.len()]),
                        sample_sum: Some(h.sum),
                        bucket,
                        ..Default::default()
                    });
                }
                (Value::Summary(s), _) => s.write_to(&mut m),
            }
            m
        })
        .collect();
    metric.sort_by(|a, b| label_pairs(a).cmp(label_pairs(b)));
    dto::MetricFamily {
        name: Some(name.to_owned()),
        help: Some(family.help.to_string()),
        r#type: Some(r#type as i32),
        metric,
        unit: None,
    }
}

/// A metric's label pairs, for ordering without copying them.
fn label_pairs(m: &dto::Metric) -> impl Iterator<Item = (Option<&str>, Option<&str>)> {
    m.label
        .iter()
        .map(|l| (l.name.as_deref(), l.value.as_deref()))
}

fn unpack(key: &[u8]) -> Vec<dto::LabelPair> {
    let mut parts = key.split(|&b| b == 0xFF);
    let mut labels = Vec::new();
    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
        if k.is_empty() && v.is_empty() {
            break;
        }
        labels.push(dto::LabelPair {
            name: Some(String::from_utf8_lossy(k).into_owned()),
            value: Some(String::from_utf8_lossy(v).into_owned()),
        });
    }
    labels
}
