//! One `alertmanagers` entry at run time: its HTTP client and the Alertmanagers discovery
//! currently gives it.

use std::collections::HashSet;
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use pm_common::config::http::{HttpClient, HttpClientError, HttpClientOptions};
use pm_common::config::{SigV4Config, SigV4Error};
use pm_discovery::TargetGroup;

use super::metrics::NotifierMetrics;
use super::targets::{AlertmanagerTarget, targets_from_group};
use crate::config::AlertmanagerConfig;

#[derive(Debug, Default)]
pub(crate) struct Discovered {
    /// Deduplicated by URL, in discovery order.
    pub active: Vec<AlertmanagerTarget>,
    pub dropped: Vec<AlertmanagerTarget>,
}

/// Why an `alertmanagers` entry's client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Http(#[from] HttpClientError),
    #[error(transparent)]
    SigV4(#[from] SigV4Error),
}

pub(crate) struct AlertmanagerSet {
    pub config: AlertmanagerConfig,
    pub client: HttpClient,
    discovered: RwLock<Discovered>,
}

impl AlertmanagerSet {
    pub fn new(config: AlertmanagerConfig, user_agent: &str) -> Result<Self, ClientError> {
        let sigv4 = config
            .settings
            .sigv4
            .as_ref()
            .map(SigV4Config::signer)
            .transpose()?;
        let client = HttpClient::with_options(
            &config.http_client,
            "alertmanager",
            &HttpClientOptions {
                user_agent: Some(user_agent.to_owned()),
                sigv4,
            },
        )?;
        Ok(AlertmanagerSet {
            config,
            client,
            discovered: RwLock::default(),
        })
    }

    pub fn discovered(&self) -> RwLockReadGuard<'_, Discovered> {
        self.discovered
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes over what `other` (a set of the previous config with the same settings) has
    /// discovered, so a reload does not wait for discovery to find the same Alertmanagers.
    pub fn adopt(&self, other: &AlertmanagerSet) {
        let theirs = other.discovered();
        let mut ours = self
            .discovered
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        ours.active.clone_from(&theirs.active);
        ours.dropped.clone_from(&theirs.dropped);
    }

    /// Replaces the Alertmanagers with those of `groups`. A group with an invalid address is
    /// skipped whole (and logged) as upstream does; per-Alertmanager metrics start for new
    /// URLs and go for vanished ones.
    pub fn sync(&self, groups: &[TargetGroup], metrics: &NotifierMetrics) {
        let mut active = Vec::new();
        let mut dropped = Vec::new();
        for group in groups {
            match targets_from_group(group, &self.config.settings) {
                Ok((a, d)) => {
                    active.extend(a);
                    dropped.extend(d);
                }
                Err(err) => {
                    tracing::error!(%err, "Creating discovered Alertmanagers failed");
                }
            }
        }
        let mut seen = HashSet::new();
        active.retain(|am| {
            let url = am.url();
            if seen.contains(&url) {
                return false;
            }
            metrics.add_alertmanager(&url);
            seen.insert(url);
            true
        });
        let mut state = self
            .discovered
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        for old in &state.active {
            let url = old.url();
            if seen.insert(url.clone()) {
                metrics.remove_alertmanager(&url);
            }
        }
        *state = Discovered { active, dropped };
    }
}
