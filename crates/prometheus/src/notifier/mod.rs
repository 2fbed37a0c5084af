//! Sending alerts to Alertmanagers.
//!
//! The rule manager hands alerts to an [`AlertSink`]; the [`Notifier`] behind it adds the
//! external labels, applies `alert_relabel_configs`, queues them in a bounded queue and posts
//! them in batches to every discovered Alertmanager, as upstream's notifier package does. The
//! seam is a trait so rule evaluation can be tested without a network.

mod annotations;
mod encode;
mod manager;
mod metrics;
mod queue;
mod send;
mod set;
mod targets;
#[cfg(test)]
mod tests;

use jiff::Timestamp;
use pm_common::model::Labels;

pub use annotations::Annotations;
pub use encode::encode_alerts;
pub use manager::{Notifier, NotifierError, NotifierOptions};
pub use targets::{AlertmanagerTarget, InvalidAddress, alerts_path, targets_from_group};

/// An alert as sent to Alertmanager's v2 API (`startsAt`/`endsAt`, `generatorURL`).
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub labels: Labels,
    pub annotations: Annotations,
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
