//! Sending alerts to Alertmanagers.
//!
//! The rule manager hands alerts to an [`AlertSink`]; the notifier behind it queues, relabels
//! and posts them to every discovered Alertmanager. The seam is a trait so rule evaluation can
//! be tested without a network.

use jiff::Timestamp;
use pm_common::model::Labels;

/// An alert as sent to Alertmanager's v2 API (`startsAt`/`endsAt`, `generatorURL`).
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub labels: Labels,
    pub annotations: Labels,
    pub starts_at: Timestamp,
    /// For a firing alert, when Alertmanager may consider it resolved if no resend arrives;
    /// for a resolved one, when it resolved.
    pub ends_at: Option<Timestamp>,
    pub generator_url: String,
}

/// Where evaluated alerts go. Must not block: implementations queue and send elsewhere.
pub trait AlertSink: Send + Sync {
    fn send(&self, alerts: Vec<Alert>);
}
