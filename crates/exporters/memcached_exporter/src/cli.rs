//! Command-line flags, with upstream's names and defaults.
//!
//! Kingpin's boolean flags have a `--no-` twin and the last one given wins; both spellings are
//! accepted here, and `--flag=false` too.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use pm_common::config::http::{TlsConfig, client_config};
use pm_common::config::parse_go_duration;
use pm_common::log::LogFlags;
use pm_common::web::{DefaultListenAddress, WebFlags};
use rustls_pki_types::ServerName;

use crate::client::Tls;
use crate::error::ConfigError;

/// `--web.listen-address` defaults to `:9150`.
#[derive(Debug, Clone, Copy)]
pub struct MemcachedExporterPort;

impl DefaultListenAddress for MemcachedExporterPort {
    const ADDRESS: &'static str = ":9150";
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "memcached_exporter",
    version,
    about = "Prometheus exporter for memcached servers"
)]
pub struct Flags {
    /// Memcached server address.
    #[arg(long = "memcached.address", default_value = "localhost:11211")]
    pub address: String,
    /// memcached connect timeout.
    #[arg(long = "memcached.timeout", default_value = "1s", value_parser = parse_go_duration)]
    pub timeout: Duration,
    /// Optional path to a file containing the memcached PID for additional metrics.
    #[arg(long = "memcached.pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Enable TLS connections to memcached
    #[arg(
        long = "memcached.tls.enable",
        num_args = 0..=1,
        require_equals = true,
        default_value_t = false,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        overrides_with = "no_tls_enable"
    )]
    tls_enable: bool,
    #[arg(
        long = "no-memcached.tls.enable",
        hide = true,
        overrides_with = "tls_enable"
    )]
    no_tls_enable: bool,
    /// Client certificate file.
    #[arg(long = "memcached.tls.cert-file", default_value = "")]
    pub cert_file: String,
    /// Client private key file.
    #[arg(long = "memcached.tls.key-file", default_value = "")]
    pub key_file: String,
    /// Client root CA file.
    #[arg(long = "memcached.tls.ca-file", default_value = "")]
    pub ca_file: String,
    /// Skip server certificate verification
    #[arg(
        long = "memcached.tls.insecure-skip-verify",
        num_args = 0..=1,
        require_equals = true,
        default_value_t = false,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        overrides_with = "no_insecure_skip_verify"
    )]
    insecure_skip_verify: bool,
    #[arg(
        long = "no-memcached.tls.insecure-skip-verify",
        hide = true,
        overrides_with = "insecure_skip_verify"
    )]
    no_insecure_skip_verify: bool,
    /// Memcached TLS certificate servername
    #[arg(long = "memcached.tls.server-name", default_value = "")]
    pub server_name: String,
    #[command(flatten)]
    pub web: WebFlags<MemcachedExporterPort>,
    /// Path under which to expose metrics.
    #[arg(long = "web.telemetry-path", default_value = "/metrics")]
    pub telemetry_path: String,
    /// Path under which to receive scrape requests.
    #[arg(long = "web.scrape-path", default_value = "/scrape")]
    pub scrape_path: String,
    #[command(flatten)]
    pub log: LogFlags,
}

impl Flags {
    pub fn tls_enabled(&self) -> bool {
        self.tls_enable && !self.no_tls_enable
    }

    pub fn insecure_skip_verify(&self) -> bool {
        self.insecure_skip_verify && !self.no_insecure_skip_verify
    }

    /// `--memcached.pid-file`, unless empty.
    pub fn pid_file(&self) -> Option<&PathBuf> {
        self.pid_file.as_ref().filter(|p| !p.as_os_str().is_empty())
    }

    /// The TLS settings when `--memcached.tls.enable` is on. Without a server name the host
    /// of `--memcached.address` is used, which a unix socket does not have.
    pub fn tls(&self) -> Result<Option<Tls>, ConfigError> {
        if !self.tls_enabled() {
            return Ok(None);
        }
        let server_name = if self.server_name.is_empty() {
            host_of(&self.address)?
        } else {
            self.server_name.clone()
        };
        let cfg = TlsConfig {
            ca_file: self.ca_file.clone(),
            cert_file: self.cert_file.clone(),
            key_file: self.key_file.clone(),
            server_name: server_name.clone(),
            insecure_skip_verify: self.insecure_skip_verify(),
            ..TlsConfig::default()
        };
        let config = client_config(&cfg, &[])?;
        let server_name = ServerName::try_from(server_name.clone())
            .map_err(|_| ConfigError::ServerName(server_name))?;
        Ok(Some(Tls {
            config: Arc::new(config),
            server_name,
        }))
    }
}

/// The host of `host:port` (brackets of an IPv6 literal removed), as Go's `SplitHostPort`.
fn host_of(address: &str) -> Result<String, ConfigError> {
    if address.contains('/') {
        return Err(ConfigError::UnixTlsServerName);
    }
    let (host, _port) = address
        .rsplit_once(':')
        .ok_or_else(|| ConfigError::Address(address.to_owned()))?;
    let host = match host.strip_prefix('[') {
        Some(inner) => inner
            .strip_suffix(']')
            .ok_or_else(|| ConfigError::Address(address.to_owned()))?,
        None if host.contains(':') => return Err(ConfigError::Address(address.to_owned())),
        None => host,
    };
    Ok(host.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Flags {
        Flags::try_parse_from(std::iter::once("memcached_exporter").chain(args.iter().copied()))
            .unwrap()
    }

    #[test]
    fn defaults_are_upstreams() {
        let f = parse(&[]);
        assert_eq!(f.address, "localhost:11211");
        assert_eq!(f.timeout, Duration::from_secs(1));
        assert_eq!(f.web.listen_addresses, [":9150"]);
        assert_eq!(f.telemetry_path, "/metrics");
        assert_eq!(f.scrape_path, "/scrape");
        assert!(!f.tls_enabled());
        assert!(f.tls().unwrap().is_none());
        assert_eq!(f.pid_file(), None);
    }

    #[test]
    fn tls_server_name_comes_from_the_address() {
        assert_eq!(host_of("cache.example:11211").unwrap(), "cache.example");
        assert_eq!(host_of("[::1]:11211").unwrap(), "::1");
        assert!(matches!(host_of("cache"), Err(ConfigError::Address(_))));
        assert!(matches!(
            host_of("/run/memcached.sock"),
            Err(ConfigError::UnixTlsServerName)
        ));
        let f = parse(&["--memcached.tls.enable", "--memcached.address=127.0.0.1:1"]);
        assert!(f.tls().unwrap().is_some());
        let f = parse(&["--memcached.tls.enable", "--memcached.address=/tmp/m.sock"]);
        assert!(matches!(f.tls(), Err(ConfigError::UnixTlsServerName)));
        let f = parse(&[
            "--memcached.tls.enable",
            "--memcached.tls.ca-file=/nonexistent/ca.pem",
        ]);
        assert!(matches!(f.tls(), Err(ConfigError::Tls(_))));
    }

    #[test]
    fn booleans_take_the_last_spelling() {
        assert!(!parse(&["--memcached.tls.enable", "--no-memcached.tls.enable"]).tls_enabled());
        assert!(parse(&["--memcached.tls.insecure-skip-verify=true"]).insecure_skip_verify());
    }
}
