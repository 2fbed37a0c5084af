//! The compact form of a stored family.
//!
//! A pushed family held as prost `dto::Metric` values costs several hundred bytes per series
//! (every optional sub-message is inline, every label a pair of heap strings). Stored here, a
//! family is its shared description (name, help, type, unit: one allocation however many groups
//! push that family) plus its metrics as one protobuf byte string — exactly the `metric` field
//! of an encoded `io.prometheus.client.MetricFamily`, so decoding the bytes as a family gives the
//! metrics back losslessly (native histograms and exemplars included). A series then costs
//! about its protobuf size; it is decoded only when a change re-renders its family, or for the
//! API, the status page and the persistence file.

use std::sync::Arc;

use jiff::Timestamp;
use pm_common::expfmt::dto;
use prost::Message as _;

/// What all metrics of a family share; interned by the store, so equal descriptions pushed by
/// many groups are one allocation.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FamilyMeta {
    pub name: Box<str>,
    pub help: Option<Box<str>>,
    pub r#type: Option<i32>,
    pub unit: Option<Box<str>>,
}

impl FamilyMeta {
    fn of(family: &dto::MetricFamily) -> Self {
        Self {
            name: family.name().into(),
            help: family.help.as_deref().map(Into::into),
            r#type: family.r#type,
            unit: family.unit.as_deref().map(Into::into),
        }
    }

    /// The type, untyped when absent (as prost's accessor reads it).
    pub fn metric_type(&self) -> i32 {
        self.r#type.unwrap_or_default()
    }
}

/// The metric field number of `MetricFamily`.
const METRIC_FIELD: u32 = 4;

/// One family of one group, with the time of the push that stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFamily {
    pub timestamp: Option<Timestamp>,
    meta: Arc<FamilyMeta>,
    /// The metrics, each encoded as a `MetricFamily.metric` field.
    metrics: Arc<[u8]>,
}

impl StoredFamily {
    /// Stores `family` with a description of its own (the store interns it when it takes the
    /// family in).
    pub fn new(timestamp: Option<Timestamp>, family: &dto::MetricFamily) -> Self {
        Self::with_meta(timestamp, Arc::new(FamilyMeta::of(family)), &family.metric)
    }

    pub(super) fn with_meta(
        timestamp: Option<Timestamp>,
        meta: Arc<FamilyMeta>,
        metrics: &[dto::Metric],
    ) -> Self {
        let len = metrics
            .iter()
            .map(|m| prost::encoding::message::encoded_len(METRIC_FIELD, m))
            .sum();
        let mut bytes = Vec::with_capacity(len);
        for metric in metrics {
            prost::encoding::message::encode(METRIC_FIELD, metric, &mut bytes);
        }
        Self {
            timestamp,
            meta,
            metrics: bytes.into(),
        }
    }

    /// The same family under another (equal) description: how the store interns.
    pub(super) fn reshared(self, meta: Arc<FamilyMeta>) -> Self {
        debug_assert_eq!(*meta, *self.meta);
        Self { meta, ..self }
    }

    pub fn meta(&self) -> &Arc<FamilyMeta> {
        &self.meta
    }

    pub fn name(&self) -> &str {
        &self.meta.name
    }

    pub fn help(&self) -> &str {
        self.meta.help.as_deref().unwrap_or_default()
    }

    pub fn metric_type(&self) -> i32 {
        self.meta.metric_type()
    }

    /// Whether the family has no metrics (an empty family is stored but not exposed).
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }

    /// The metrics, decoded.
    pub fn metrics(&self) -> Vec<dto::Metric> {
        // The bytes are our own encoding of valid messages, so decoding cannot fail.
        dto::MetricFamily::decode(&*self.metrics)
            .map(|f| f.metric)
            .unwrap_or_default()
    }

    /// Decodes the metrics onto the end of `family.metric` (no intermediate vector).
    pub fn append_metrics_to(&self, family: &mut dto::MetricFamily) {
        // The bytes are our own encoding of valid messages, so decoding cannot fail.
        let _ = family.merge(&*self.metrics);
    }

    /// The whole family, decoded.
    pub fn family(&self) -> dto::MetricFamily {
        dto::MetricFamily {
            name: Some(self.meta.name.to_string()),
            help: self.meta.help.as_deref().map(str::to_owned),
            r#type: self.meta.r#type,
            metric: self.metrics(),
            unit: self.meta.unit.as_deref().map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_field() {
        let family = dto::MetricFamily {
            name: Some("h".into()),
            help: None,
            r#type: Some(dto::MetricType::Histogram as i32),
            metric: vec![
                dto::Metric {
                    label: vec![dto::LabelPair {
                        name: Some("job".into()),
                        value: Some("j".into()),
                    }],
                    histogram: Some(dto::Histogram {
                        sample_count: Some(3),
                        sample_sum: Some(1.5),
                        schema: Some(3),
                        positive_delta: vec![1, -1],
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                dto::Metric::default(),
            ],
            unit: Some("seconds".into()),
        };
        let stored = StoredFamily::new(None, &family);
        assert_eq!(stored.family(), family);
        assert_eq!(stored.name(), "h");
        assert_eq!(stored.help(), "");
        assert!(!stored.is_empty());
        let empty = StoredFamily::new(None, &dto::MetricFamily::default());
        assert!(empty.is_empty() && empty.metrics().is_empty());
    }
}
