//! Families of constant samples, for collectors that compute their values at gather time
//! (client_golang's `NewConstMetric`).

use crate::expfmt::dto;

/// The kinds a single constant value can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstKind {
    Counter,
    Gauge,
    Untyped,
}

/// A family built sample by sample; label pairs are sorted by name, as gathered metrics are.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstFamily {
    family: dto::MetricFamily,
    kind: ConstKind,
}

impl ConstFamily {
    pub fn new(name: impl Into<String>, help: impl Into<String>, kind: ConstKind) -> Self {
        let r#type = match kind {
            ConstKind::Counter => dto::MetricType::Counter,
            ConstKind::Gauge => dto::MetricType::Gauge,
            ConstKind::Untyped => dto::MetricType::Untyped,
        };
        ConstFamily {
            family: dto::MetricFamily {
                name: Some(name.into()),
                help: Some(help.into()),
                r#type: Some(r#type as i32),
                metric: Vec::new(),
                unit: None,
            },
            kind,
        }
    }

    /// Adds a sample with these labels.
    pub fn push(&mut self, labels: &[(&str, &str)], value: f64) {
        let mut label: Vec<dto::LabelPair> = labels
            .iter()
            .map(|(n, v)| dto::LabelPair {
                name: Some((*n).into()),
                value: Some((*v).into()),
            })
            .collect();
        label.sort_by(|a, b| a.name.cmp(&b.name));
        let mut metric = dto::Metric {
            label,
            ..Default::default()
        };
        match self.kind {
            ConstKind::Counter => {
                metric.counter = Some(dto::Counter {
                    value: Some(value),
                    ..Default::default()
                })
            }
            ConstKind::Gauge => metric.gauge = Some(dto::Gauge { value: Some(value) }),
            ConstKind::Untyped => metric.untyped = Some(dto::Untyped { value: Some(value) }),
        }
        self.family.metric.push(metric);
    }

    /// [`push`](Self::push) in builder style.
    pub fn with(mut self, labels: &[(&str, &str)], value: f64) -> Self {
        self.push(labels, value);
        self
    }

    pub fn into_family(self) -> dto::MetricFamily {
        self.family
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expfmt::encode::write_text;

    #[test]
    fn builds_sorted_samples() {
        let mf = ConstFamily::new("up", "Whether up.", ConstKind::Gauge)
            .with(&[("job", "a"), ("instance", "x")], 1.0)
            .with(&[], 0.0)
            .into_family();
        let mut s = String::new();
        write_text(&mut s, &mf).unwrap();
        assert_eq!(
            s,
            "# HELP up Whether up.\n# TYPE up gauge\nup{instance=\"x\",job=\"a\"} 1\nup 0\n"
        );
        let c = ConstFamily::new("c_total", "", ConstKind::Counter)
            .with(&[], 3.0)
            .into_family();
        assert_eq!(c.metric[0].counter.as_ref().unwrap().value, Some(3.0));
        let u = ConstFamily::new("u", "", ConstKind::Untyped)
            .with(&[], 2.0)
            .into_family();
        assert_eq!(u.metric[0].untyped.as_ref().unwrap().value, Some(2.0));
    }
}
