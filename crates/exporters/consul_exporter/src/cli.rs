//! Command-line flags, with upstream's names and defaults.
//!
//! Kingpin gives every boolean flag a `--no-` twin and lets the last one given win; both
//! spellings are accepted here, and `--flag=false` too.

use std::time::Duration;

use clap::Parser;
use pm_common::config::parse_go_duration;
use pm_common::log::LogFlags;
use pm_common::web::{DefaultListenAddress, WebFlags};

use crate::client::QueryOptions;

/// `--web.listen-address` defaults to `:9107`.
#[derive(Debug, Clone, Copy)]
pub struct ConsulExporterPort;

impl DefaultListenAddress for ConsulExporterPort {
    const ADDRESS: &'static str = ":9107";
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "consul_exporter",
    version,
    about = "Prometheus exporter for Consul"
)]
pub struct Flags {
    /// Path under which to expose metrics.
    #[arg(long = "web.telemetry-path", default_value = "/metrics")]
    pub telemetry_path: String,
    /// Generate a health summary for each service instance. Needs n+1 queries to collect all
    /// information.
    #[arg(
        long = "consul.health-summary",
        num_args = 0..=1,
        require_equals = true,
        default_value_t = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        overrides_with = "no_health_summary"
    )]
    health_summary: bool,
    #[arg(
        long = "no-consul.health-summary",
        hide = true,
        overrides_with = "health_summary"
    )]
    no_health_summary: bool,
    /// Prefix from which to expose key/value pairs.
    #[arg(long = "kv.prefix", default_value = "")]
    pub kv_prefix: String,
    /// Regex that determines which keys to expose.
    #[arg(long = "kv.filter", default_value = ".*")]
    pub kv_filter: String,
    /// Regex that determines which meta keys to expose.
    #[arg(long = "meta.filter", default_value = "^$")]
    pub meta_filter: String,
    /// HTTP API address of a Consul server or agent. (prefix with https:// to connect over
    /// HTTPS)
    #[arg(long = "consul.server", default_value = "http://localhost:8500")]
    pub server: String,
    /// File path to a PEM-encoded certificate authority used to validate the authenticity of
    /// a server certificate.
    #[arg(long = "consul.ca-file", default_value = "")]
    pub ca_file: String,
    /// File path to a PEM-encoded certificate used with the private key to verify the
    /// exporter's authenticity.
    #[arg(long = "consul.cert-file", default_value = "")]
    pub cert_file: String,
    /// File path to a PEM-encoded private key used with the certificate to verify the
    /// exporter's authenticity.
    #[arg(long = "consul.key-file", default_value = "")]
    pub key_file: String,
    /// When provided, this overrides the hostname for the TLS certificate. It can be used to
    /// ensure that the certificate name matches the hostname we declare.
    #[arg(long = "consul.server-name", default_value = "")]
    pub server_name: String,
    /// Timeout on HTTP requests to the Consul API.
    #[arg(long = "consul.timeout", default_value = "500ms", value_parser = parse_go_duration)]
    pub timeout: Duration,
    /// Disable TLS host verification.
    #[arg(
        long = "consul.insecure",
        num_args = 0..=1,
        require_equals = true,
        default_value_t = false,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        overrides_with = "no_insecure"
    )]
    insecure: bool,
    #[arg(long = "no-consul.insecure", hide = true, overrides_with = "insecure")]
    no_insecure: bool,
    /// Limit the maximum number of concurrent requests to consul, 0 means no limit.
    #[arg(long = "consul.request-limit", default_value_t = 0)]
    pub request_limit: usize,
    /// Only export metrics about services registered on local agent
    #[arg(
        long = "consul.agent-only",
        num_args = 0..=1,
        require_equals = true,
        default_value_t = false,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        overrides_with = "no_agent_only"
    )]
    agent_only: bool,
    #[arg(
        long = "no-consul.agent-only",
        hide = true,
        overrides_with = "agent_only"
    )]
    no_agent_only: bool,
    /// Allows any Consul server (non-leader) to service a read.
    #[arg(
        long = "consul.allow_stale",
        num_args = 0..=1,
        require_equals = true,
        default_value_t = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        overrides_with = "no_allow_stale"
    )]
    allow_stale: bool,
    #[arg(
        long = "no-consul.allow_stale",
        hide = true,
        overrides_with = "allow_stale"
    )]
    no_allow_stale: bool,
    /// Forces the read to be fully consistent.
    #[arg(
        long = "consul.require_consistent",
        num_args = 0..=1,
        require_equals = true,
        default_value_t = false,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        overrides_with = "no_require_consistent"
    )]
    require_consistent: bool,
    #[arg(
        long = "no-consul.require_consistent",
        hide = true,
        overrides_with = "require_consistent"
    )]
    no_require_consistent: bool,
    #[command(flatten)]
    pub web: WebFlags<ConsulExporterPort>,
    #[command(flatten)]
    pub log: LogFlags,
}

impl Flags {
    pub fn health_summary(&self) -> bool {
        self.health_summary && !self.no_health_summary
    }

    pub fn insecure(&self) -> bool {
        self.insecure && !self.no_insecure
    }

    pub fn agent_only(&self) -> bool {
        self.agent_only && !self.no_agent_only
    }

    /// `--consul.allow_stale` and `--consul.require_consistent`, sent with the catalog,
    /// health and key/value reads.
    pub fn query_options(&self) -> QueryOptions {
        QueryOptions {
            allow_stale: self.allow_stale && !self.no_allow_stale,
            require_consistent: self.require_consistent && !self.no_require_consistent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Flags {
        Flags::try_parse_from(std::iter::once("consul_exporter").chain(args.iter().copied()))
            .unwrap()
    }

    #[test]
    fn defaults_are_upstreams() {
        let f = parse(&[]);
        assert_eq!(f.web.listen_addresses, [":9107"]);
        assert_eq!(f.telemetry_path, "/metrics");
        assert_eq!(f.server, "http://localhost:8500");
        assert_eq!(f.timeout, Duration::from_millis(500));
        assert_eq!(f.kv_prefix, "");
        assert_eq!(f.kv_filter, ".*");
        assert_eq!(f.meta_filter, "^$");
        assert_eq!(f.request_limit, 0);
        assert!(f.health_summary());
        assert!(!f.insecure());
        assert!(!f.agent_only());
        assert_eq!(
            f.query_options(),
            QueryOptions {
                allow_stale: true,
                require_consistent: false
            }
        );
    }

    #[test]
    fn booleans_take_the_last_spelling() {
        let f = parse(&["--no-consul.allow_stale", "--consul.require_consistent"]);
        assert_eq!(
            f.query_options(),
            QueryOptions {
                allow_stale: false,
                require_consistent: true
            }
        );
        assert!(!parse(&["--consul.health-summary=false"]).health_summary());
        assert!(!parse(&["--consul.agent-only", "--no-consul.agent-only"]).agent_only());
        assert!(parse(&["--no-consul.insecure", "--consul.insecure"]).insecure());
    }
}
