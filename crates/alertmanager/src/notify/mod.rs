//! Sending notifications: for each flushed group, upstream's pipeline of stages — inhibition,
//! time muting, silencing, then per integration de-duplication against the notification log,
//! retries with backoff and the log update.

pub mod data;
mod email;
mod integration;
pub mod metrics;
pub mod nflog;
mod opsgenie;
mod pagerduty;
mod pipeline;
mod post;
mod slack;
mod stage;
#[cfg(test)]
mod tests;
mod webhook;

pub use integration::{Integration, Notifier};
pub use pipeline::{deliver, start_due};
pub use stage::{Job, hash_alert, needs_update};

/// Why a notification failed, and whether trying again may help.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct NotifyError {
    pub retry: bool,
    /// The `reason` label of `alertmanager_notifications_failed_total`.
    pub reason: &'static str,
    pub(crate) message: String,
}

impl NotifyError {
    pub fn other(message: impl Into<String>) -> Self {
        NotifyError {
            retry: false,
            reason: "other",
            message: message.into(),
        }
    }

    /// The receiver refused the notification; sending it again would not help.
    pub fn client(message: impl Into<String>) -> Self {
        NotifyError {
            reason: "clientError",
            ..Self::other(message)
        }
    }

    /// Prefixes the message with what was being notified.
    pub fn context(mut self, context: &str) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// A transport error: the request may not have reached the receiver.
    pub fn retryable_other(message: impl Into<String>) -> Self {
        NotifyError {
            retry: true,
            ..Self::other(message)
        }
    }

    /// Upstream's retrier: 2xx succeeds, 5xx may be retried, anything else is final.
    pub fn check_status(status: http::StatusCode) -> Result<(), NotifyError> {
        Self::check_status_retrying(status, &[])
    }

    /// The retrier of integrations whose service asks to be retried on some 4xx codes too
    /// (rate limits).
    pub fn check_status_retrying(
        status: http::StatusCode,
        retry_codes: &[u16],
    ) -> Result<(), NotifyError> {
        if status.is_success() {
            return Ok(());
        }
        let server = status.is_server_error();
        Err(NotifyError {
            retry: server || retry_codes.contains(&status.as_u16()),
            reason: if server {
                "serverError"
            } else if status.is_client_error() {
                "clientError"
            } else {
                "other"
            },
            message: format!("unexpected status code {}", status.as_u16()),
        })
    }
}
