//! What recording and alerting rules share: identity, expression and evaluation status.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use pm_common::model::Labels;
use pm_promql::parser::Expr;

use super::alerting::AlertingRule;
use super::recording::RecordingRule;

/// A rule's health after its last evaluation, as the rules API shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Health {
    #[default]
    Unknown,
    Ok,
    Err,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Ok => "ok",
            Health::Err => "err",
        }
    }
}

/// The outcome of a rule's last evaluation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleStatus {
    pub health: Health,
    pub last_error: Option<String>,
    pub evaluation_duration: Duration,
    /// Wall-clock start of the last evaluation; `None` before the first.
    pub evaluation_timestamp: Option<Timestamp>,
}

/// Status shared between the evaluating task and readers (API, reload).
#[derive(Debug, Default)]
pub(crate) struct StatusCell(Mutex<RuleStatus>);

impl StatusCell {
    pub(crate) fn lock(&self) -> MutexGuard<'_, RuleStatus> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn get(&self) -> RuleStatus {
        self.lock().clone()
    }

    pub(crate) fn set_result(&self, result: Result<(), String>) {
        let mut s = self.lock();
        match result {
            Ok(()) => {
                s.health = Health::Ok;
                s.last_error = None;
            }
            Err(e) => {
                s.health = Health::Err;
                s.last_error = Some(e);
            }
        }
    }
}

/// One rule of a group.
#[derive(Debug)]
pub enum Rule {
    Recording(RecordingRule),
    Alerting(AlertingRule),
}

impl Rule {
    pub fn name(&self) -> &str {
        match self {
            Rule::Recording(r) => r.name(),
            Rule::Alerting(r) => r.name(),
        }
    }

    /// The rule's labels (the group's merged under the rule's own).
    pub fn labels(&self) -> &Labels {
        match self {
            Rule::Recording(r) => r.labels(),
            Rule::Alerting(r) => r.labels(),
        }
    }

    pub fn expr(&self) -> &Expr {
        match self {
            Rule::Recording(r) => r.expr(),
            Rule::Alerting(r) => r.expr(),
        }
    }

    /// The expression as upstream prints it (the API's `query`, the generator URL).
    pub fn query(&self) -> &str {
        match self {
            Rule::Recording(r) => r.query(),
            Rule::Alerting(r) => r.query(),
        }
    }

    pub fn status(&self) -> RuleStatus {
        self.status_cell().get()
    }

    pub(crate) fn status_cell(&self) -> &StatusCell {
        match self {
            Rule::Recording(r) => &r.status,
            Rule::Alerting(r) => &r.status,
        }
    }

    /// Everything that defines the rule; two groups whose rules all have equal definitions
    /// are the same group, and a reload keeps it running.
    pub(crate) fn definition(&self) -> String {
        match self {
            Rule::Recording(r) => format!(
                "record: {}\nexpr: {}\nlabels: {}",
                r.name(),
                r.query(),
                r.labels()
            ),
            Rule::Alerting(r) => r.definition(),
        }
    }

    /// Upstream matches rules across reloads by name and labels.
    pub(crate) fn name_and_labels(&self) -> String {
        format!("{}{}", self.name(), self.labels())
    }
}
