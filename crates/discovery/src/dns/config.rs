//! The `dns_sd_configs` entry.

use pm_common::config::Duration;
use serde::{Deserialize, Serialize};

/// Targets from DNS records, re-resolved every `refresh_interval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsSdConfig {
    pub names: Vec<String>,
    #[serde(skip_serializing_if = "crate::config::is_zero_duration")]
    pub refresh_interval: Duration,
    /// SRV, A, AAAA, MX or NS, in any case (upstream upper-cases it).
    #[serde(rename = "type")]
    pub record_type: String,
    /// The port for A/AAAA/MX/NS targets; SRV records carry their own.
    pub port: u16,
}

impl Default for DnsSdConfig {
    fn default() -> Self {
        DnsSdConfig {
            names: Vec::new(),
            refresh_interval: Duration::from_secs(30),
            record_type: "SRV".to_owned(),
            port: 0,
        }
    }
}
