//! The notification data model (upstream's `template.Data`): what a receiver is told about a
//! flushed group. Webhooks send it as JSON; templates will render it.

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

use crate::alert::{Alert, LabelSet};

/// Go's zero `time.Time` as JSON: a firing alert's end is reported as unknown.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertData {
    pub status: &'static str,
    pub labels: LabelSet,
    pub annotations: LabelSet,
    pub starts_at: String,
    pub ends_at: String,
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    pub fingerprint: String,
}

impl AlertData {
    /// The alert as of `at`. A firing alert's end is cleared, as upstream's dispatcher does,
    /// so a resolve timeout in the future never shows as a resolution time.
    pub fn new(alert: &Alert, at: Timestamp) -> Self {
        let resolved = alert.resolved_at(at);
        AlertData {
            status: if resolved { "resolved" } else { "firing" },
            labels: alert.labels.clone(),
            annotations: alert.annotations.clone(),
            starts_at: alert.starts_at.to_string(),
            ends_at: if resolved {
                alert.ends_at.to_string()
            } else {
                GO_ZERO_TIME.to_owned()
            },
            generator_url: alert.generator_url.clone(),
            fingerprint: alert.fingerprint.to_string(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Data {
    pub receiver: String,
    pub status: &'static str,
    pub alerts: Vec<AlertData>,
    pub group_labels: LabelSet,
    pub common_labels: LabelSet,
    pub common_annotations: LabelSet,
    #[serde(rename = "externalURL")]
    pub external_url: String,
}

impl Data {
    pub fn new(
        receiver: &str,
        group_labels: &LabelSet,
        alerts: &[Arc<Alert>],
        at: Timestamp,
        external_url: &str,
    ) -> Self {
        let alerts: Vec<AlertData> = alerts.iter().map(|a| AlertData::new(a, at)).collect();
        let common = |pick: fn(&AlertData) -> &LabelSet| -> LabelSet {
            let Some((first, rest)) = alerts.split_first() else {
                return LabelSet::new();
            };
            pick(first)
                .iter()
                .filter(|(k, v)| rest.iter().all(|a| pick(a).get(*k) == Some(*v)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        Data {
            receiver: quote_meta(receiver),
            status: if alerts.iter().any(|a| a.status == "firing") {
                "firing"
            } else {
                "resolved"
            },
            common_labels: common(|a| &a.labels),
            common_annotations: common(|a| &a.annotations),
            alerts,
            group_labels: group_labels.clone(),
            external_url: external_url.to_owned(),
        }
    }
}

/// Go's `regexp.QuoteMeta`, which upstream applies to the receiver name.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Arrival, PostedAlert};

    fn alert(labels: &[(&str, &str)], end: Option<&str>) -> Arc<Alert> {
        let posted = PostedAlert {
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            starts_at: Some("2026-01-01T00:00:00Z".parse().unwrap()),
            ends_at: end.map(|e| e.parse().unwrap()),
            ..PostedAlert::default()
        };
        let now = "2026-01-01T00:01:00Z".parse().unwrap();
        Arc::new(
            posted
                .into_alert(&Arrival::new(now, jiff::SignedDuration::from_mins(5)))
                .unwrap(),
        )
    }

    #[test]
    fn common_labels_status_and_receiver_like_upstream() {
        let at = "2026-01-01T00:02:00Z".parse().unwrap();
        let alerts = [
            alert(&[("a", "1"), ("b", "1")], None),
            alert(&[("a", "1"), ("b", "2")], Some("2026-01-01T00:01:30Z")),
        ];
        let data = Data::new("team.x", &LabelSet::new(), &alerts, at, "http://am");
        assert_eq!(data.receiver, r"team\.x");
        assert_eq!(data.status, "firing");
        assert_eq!(data.common_labels.len(), 1);
        assert_eq!(data.alerts[0].ends_at, GO_ZERO_TIME);
        assert_eq!(data.alerts[1].status, "resolved");
        assert_eq!(data.alerts[1].ends_at, "2026-01-01T00:01:30Z");
    }
}
