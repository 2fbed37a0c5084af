//! Service discovery: providers find targets, the manager merges what they report per scrape
//! job (or Alertmanager set) and hands the merged sets to the scrape manager and the notifier.
//!
//! The unit of exchange is the [`TargetGroup`], upstream's `targetgroup.Group`: a provider
//! reports groups keyed by `source`; a later group with the same source replaces the earlier
//! one, and a group with no targets withdraws it.
//!
//! A [`Manager`] takes one list of [`SdConfig`]s per set name
//! ([`Manager::apply_config`]), runs one provider task per distinct config and publishes the
//! merged [`TargetSets`] through a `watch` channel ([`Manager::subscribe`]), at most once per
//! throttle period, as upstream's discovery manager does.

mod config;
pub mod consul;
pub mod dns;
pub mod file;
pub mod http;
mod manager;
mod metrics;
mod provider;
mod refresh;
mod static_sd;
mod wire;

#[cfg(test)]
mod testutil;

use std::collections::HashMap;

use pm_common::model::Labels;

pub use config::{
    ConsulSdConfig, ConsulSettings, DnsSdConfig, FileSdConfig, HttpSdConfig, SdConfig,
};
pub use manager::{Manager, ManagerOptions};
pub use metrics::Metrics;

/// Targets found together by one provider, sharing `labels`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetGroup {
    /// Identifies the group within its provider (a file path and index, a DNS name, a Consul
    /// service); updates with the same source replace the group.
    pub source: String,
    /// One label set per target; each carries at least `__address__`, plus the provider's
    /// `__meta_*` labels.
    pub targets: Vec<Labels>,
    /// Labels common to every target of the group (the static config's `labels`, file SD's
    /// `labels`); a target's own label wins over a group label of the same name.
    pub labels: Labels,
}

/// Every job's (or Alertmanager set's) current groups, keyed by the job name (upstream's
/// `map[string][]*targetgroup.Group` on the manager's sync channel).
pub type TargetSets = HashMap<String, Vec<TargetGroup>>;
