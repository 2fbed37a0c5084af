//! Command-line flags, named and defaulted as upstream's.

use std::time::Duration;

use pm_common::config::parse_go_duration;
use pm_common::log::LogFlags;
use pm_common::web::{DefaultListenAddress, WebFlags};

/// `:9091`, the Pushgateway's registered port.
#[derive(Debug, Clone)]
pub struct Port9091;

impl DefaultListenAddress for Port9091 {
    const ADDRESS: &'static str = ":9091";
}

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "pushgateway", about = "The Pushgateway", version)]
pub struct Flags {
    #[command(flatten)]
    pub web: WebFlags<Port9091>,

    /// Path under which to expose metrics.
    #[arg(long = "web.telemetry-path", default_value = "/metrics")]
    pub telemetry_path: String,

    /// The URL under which the Pushgateway is externally reachable.
    #[arg(long = "web.external-url", default_value = "", value_parser = parse_external_url)]
    pub external_url: String,

    /// Prefix for the internal routes of web endpoints. Defaults to the path of
    /// --web.external-url.
    #[arg(long = "web.route-prefix", default_value = "")]
    pub route_prefix: String,

    /// Enable shutdown via HTTP request.
    #[arg(long = "web.enable-lifecycle")]
    pub enable_lifecycle: bool,

    /// Enable API endpoints for admin control actions.
    #[arg(long = "web.enable-admin-api")]
    pub enable_admin_api: bool,

    /// File to persist metrics. If empty, metrics are only kept in memory.
    #[arg(long = "persistence.file", default_value = "")]
    pub persistence_file: String,

    /// The minimum interval at which to write out the persistence file.
    #[arg(long = "persistence.interval", default_value = "5m", value_parser = parse_go_duration)]
    pub persistence_interval: Duration,

    /// Do not check consistency of pushed metrics. DANGEROUS.
    #[arg(long = "push.disable-consistency-check")]
    pub disable_consistency_check: bool,

    #[command(flatten)]
    pub log: LogFlags,
}

fn parse_external_url(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    url::Url::parse(s)
        .map(|_| s.to_owned())
        .map_err(|e| format!("invalid URL {s:?}: {e}"))
}

impl Flags {
    /// The path of `--web.external-url` (`""` when absent or `/`).
    pub fn external_path_prefix(&self) -> String {
        normalize_prefix(&external_path(&self.external_url))
    }

    /// The prefix all routes live under: `--web.route-prefix`, else the external URL's path;
    /// normalized to `""` or `/x` without a trailing slash.
    pub fn route_prefix(&self) -> String {
        if self.route_prefix.is_empty() {
            self.external_path_prefix()
        } else {
            normalize_prefix(&self.route_prefix)
        }
    }

    /// Flag values by name, for `/api/v1/status` and the status page.
    pub fn values(&self) -> Vec<(&'static str, String)> {
        vec![
            ("web.listen-address", self.web.listen_addresses.join(",")),
            (
                "web.config.file",
                self.web
                    .config_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            ),
            ("web.telemetry-path", self.telemetry_path.clone()),
            ("web.external-url", self.external_url.clone()),
            ("web.route-prefix", self.route_prefix.clone()),
            ("web.enable-lifecycle", self.enable_lifecycle.to_string()),
            ("web.enable-admin-api", self.enable_admin_api.to_string()),
            ("persistence.file", self.persistence_file.clone()),
            (
                "persistence.interval",
                pm_common::config::Duration::from(self.persistence_interval).to_string(),
            ),
            (
                "push.disable-consistency-check",
                self.disable_consistency_check.to_string(),
            ),
            (
                "log.level",
                format!("{:?}", self.log.level).to_ascii_lowercase(),
            ),
            (
                "log.format",
                format!("{:?}", self.log.format).to_ascii_lowercase(),
            ),
        ]
    }
}

fn external_path(external_url: &str) -> String {
    url::Url::parse(external_url)
        .map(|u| u.path().to_owned())
        .unwrap_or_default()
}

fn normalize_prefix(prefix: &str) -> String {
    if prefix.is_empty() || prefix == "/" {
        return String::new();
    }
    let prefix = prefix.trim_end_matches('/');
    if prefix.starts_with('/') {
        prefix.to_owned()
    } else {
        format!("/{prefix}")
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn defaults_and_prefixes() {
        let f = Flags::parse_from(["pushgateway"]);
        assert_eq!(f.web.listen_addresses, vec![":9091"]);
        assert_eq!(f.telemetry_path, "/metrics");
        assert_eq!(f.persistence_interval, Duration::from_secs(300));
        assert_eq!(f.route_prefix(), "");

        let f = Flags::parse_from(["pushgateway", "--web.external-url=http://h:1/pg/"]);
        assert_eq!(f.route_prefix(), "/pg");
        let f = Flags::parse_from([
            "pushgateway",
            "--web.external-url=http://h:1/pg/",
            "--web.route-prefix=inner/",
        ]);
        assert_eq!(f.route_prefix(), "/inner");
        assert_eq!(f.external_path_prefix(), "/pg");
        assert!(Flags::try_parse_from(["pushgateway", "--persistence.interval=5x"]).is_err());
    }
}
