//! The integrations of each receiver, built from the config when it is loaded.

use std::collections::HashMap;
use std::sync::Arc;

use super::NotifyError;
use super::email::Email;
use super::opsgenie::OpsGenie;
use super::pagerduty::Pagerduty;
use super::slack::Slack;
use super::stage::Job;
use super::webhook::Webhook;
use crate::alert::Alert;
use crate::config::{Config, Receiver};
use crate::template::{TemplateError, Templates};

#[derive(Debug)]
/// The large configs live behind boxes so the enum stays small.
enum Sender {
    Webhook(Webhook),
    Email(Box<Email>),
    Slack(Box<Slack>),
    Pagerduty(Box<Pagerduty>),
    OpsGenie(Box<OpsGenie>),
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
            Sender::Webhook(s) => s.notify(job, alerts).await,
            Sender::Email(s) => s.notify(job, alerts).await,
            Sender::Slack(s) => s.notify(job, alerts).await,
            Sender::Pagerduty(s) => s.notify(job, alerts).await,
            Sender::OpsGenie(s) => s.notify(job, alerts).await,
        }
    }
}

/// Every receiver's integrations, by receiver name.
#[derive(Debug, Default)]
pub struct Notifier {
    receivers: HashMap<String, Vec<Integration>>,
}

/// Adds one integration per config entry; an entry that cannot be built (a bad TLS file, say)
/// is left out with an error, so the rest of the receiver still notifies.
fn add<C>(
    out: &mut Vec<Integration>,
    receiver: &str,
    name: &'static str,
    configs: &[C],
    send_resolved: impl Fn(&C) -> bool,
    build: impl Fn(&C) -> Result<Sender, String>,
) {
    for (i, cfg) in configs.iter().enumerate() {
        match build(cfg) {
            Ok(sender) => out.push(Integration {
                name,
                idx: i as u32,
                send_resolved: send_resolved(cfg),
                sender,
            }),
            Err(err) => tracing::error!(
                receiver, integration = name, idx = i, err = %err, "integration left out"
            ),
        }
    }
}

fn integrations(
    r: &Receiver,
    templates: &Arc<Templates>,
    config: &Config,
    ua: &str,
) -> Vec<Integration> {
    let name = r.name.as_str();
    let mut out = Vec::new();
    let t = || Arc::clone(templates);
    add(
        &mut out,
        name,
        "email",
        &r.email_configs,
        |c| c.send_resolved,
        |c| Ok(Sender::Email(Box::new(Email::new(c, t())))),
    );
    add(
        &mut out,
        name,
        "pagerduty",
        &r.pagerduty_configs,
        |c| c.send_resolved,
        |c| Pagerduty::new(c, t(), ua).map(|s| Sender::Pagerduty(Box::new(s))),
    );
    add(
        &mut out,
        name,
        "slack",
        &r.slack_configs,
        |c| c.send_resolved,
        |c| Slack::new(c, t(), ua).map(|s| Sender::Slack(Box::new(s))),
    );
    add(
        &mut out,
        name,
        "webhook",
        &r.webhook_configs,
        |c| c.send_resolved,
        |c| Webhook::new(c, &config.global.http_config, t(), ua).map(Sender::Webhook),
    );
    add(
        &mut out,
        name,
        "opsgenie",
        &r.opsgenie_configs,
        |c| c.send_resolved,
        |c| OpsGenie::new(c, t(), ua).map(|s| Sender::OpsGenie(Box::new(s))),
    );
    let supported = r.email_configs.len()
        + r.pagerduty_configs.len()
        + r.slack_configs.len()
        + r.webhook_configs.len()
        + r.opsgenie_configs.len();
    let unsupported = r.integration_count() - supported;
    if unsupported > 0 {
        tracing::warn!(
            receiver = name,
            count = unsupported,
            "only email, PagerDuty, Slack, webhook and OpsGenie integrations send notifications yet; the others are left out"
        );
    }
    out
}

impl Notifier {
    /// Loads the templates and builds the integrations. A template that does not load fails
    /// the whole config, as upstream; kinds not implemented yet are left out with a warning,
    /// so a config written for upstream still loads.
    pub fn new(config: &Config) -> Result<Self, TemplateError> {
        let templates = Arc::new(Templates::load(&config.templates)?);
        let user_agent = format!("Alertmanager/{}", env!("CARGO_PKG_VERSION"));
        let receivers = config
            .receivers
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    integrations(r, &templates, config, &user_agent),
                )
            })
            .collect();
        Ok(Notifier { receivers })
    }

    pub fn integrations(&self, receiver: &str) -> &[Integration] {
        self.receivers.get(receiver).map_or(&[], Vec::as_slice)
    }
}
