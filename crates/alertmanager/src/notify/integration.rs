//! The integrations of each receiver, built from the config when it is loaded.

use std::collections::HashMap;
use std::sync::Arc;

use super::NotifyError;
use super::stage::Job;
use super::webhook::Webhook;
use crate::alert::Alert;
use crate::config::Config;

#[derive(Debug)]
enum Sender {
    Webhook(Webhook),
}

/// One configured integration of a receiver, e.g. its second `webhook_configs` entry.
#[derive(Debug)]
pub struct Integration {
    /// Upstream's integration name (`webhook`, `email`, …), the metrics' `integration` label.
    pub name: &'static str,
    /// Position among the receiver's integrations of the same kind.
    pub idx: u32,
    pub send_resolved: bool,
    sender: Sender,
}

impl Integration {
    pub async fn notify(&self, job: &Job, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        match &self.sender {
            Sender::Webhook(w) => w.notify(job, alerts).await,
        }
    }
}

/// Every receiver's integrations, by receiver name.
#[derive(Debug, Default)]
pub struct Notifier {
    receivers: HashMap<String, Vec<Integration>>,
}

impl Notifier {
    /// Builds the integrations. Kinds not implemented yet are left out with a warning, so a
    /// config written for upstream still loads.
    pub fn new(config: &Config) -> Self {
        let user_agent = format!("Alertmanager/{}", env!("CARGO_PKG_VERSION"));
        let mut receivers = HashMap::new();
        for receiver in &config.receivers {
            let mut integrations = Vec::new();
            for (i, cfg) in receiver.webhook_configs.iter().enumerate() {
                match Webhook::new(cfg, &config.global.http_config, &user_agent) {
                    Ok(w) => integrations.push(Integration {
                        name: "webhook",
                        idx: i as u32,
                        send_resolved: cfg.send_resolved,
                        sender: Sender::Webhook(w),
                    }),
                    Err(err) => tracing::error!(
                        receiver = %receiver.name, integration = "webhook", idx = i, err = %err,
                        "integration left out"
                    ),
                }
            }
            let unsupported = receiver.integration_count() - receiver.webhook_configs.len();
            if unsupported > 0 {
                tracing::warn!(
                    receiver = %receiver.name, count = unsupported,
                    "only webhook integrations send notifications yet; the others are left out"
                );
            }
            receivers.insert(receiver.name.clone(), integrations);
        }
        Notifier { receivers }
    }

    pub fn integrations(&self, receiver: &str) -> &[Integration] {
        self.receivers.get(receiver).map_or(&[], Vec::as_slice)
    }
}
