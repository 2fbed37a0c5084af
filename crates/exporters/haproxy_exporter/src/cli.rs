//! Command-line flags, with upstream's names and defaults.
//!
//! Kingpin's boolean flags have a `--no-` twin and the last one given wins; both spellings are
//! accepted here, and `--flag=false` too.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use pm_common::config::parse_go_duration;
use pm_common::log::LogFlags;
use pm_common::web::{DefaultListenAddress, WebFlags};

use crate::exporter::Options;

/// `--web.listen-address` defaults to `:9101`.
#[derive(Debug, Clone, Copy)]
pub struct HaproxyExporterPort;

impl DefaultListenAddress for HaproxyExporterPort {
    const ADDRESS: &'static str = ":9101";
}

/// The server columns exported by default, as `--help` shows them.
const DEFAULT_SERVER_FIELDS: &str =
    "2,3,4,5,6,7,8,9,13,14,15,16,17,18,21,24,30,33,35,38,39,40,41,42,43,44,49,50,58,59,60,61";

#[derive(Debug, Clone, Parser)]
#[command(
    name = "haproxy_exporter",
    version,
    about = "Prometheus exporter for HAProxy's CSV statistics"
)]
pub struct Flags {
    #[command(flatten)]
    pub web: WebFlags<HaproxyExporterPort>,
    /// Path under which to expose metrics.
    #[arg(long = "web.telemetry-path", default_value = "/metrics")]
    pub telemetry_path: String,
    /// URI on which to scrape HAProxy.
    #[arg(long = "haproxy.scrape-uri", default_value = "http://localhost/;csv")]
    pub scrape_uri: String,
    /// Flag that enables SSL certificate verification for the scrape URI
    #[arg(
        long = "haproxy.ssl-verify",
        num_args = 0..=1,
        require_equals = true,
        default_value_t = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        overrides_with = "no_ssl_verify"
    )]
    ssl_verify: bool,
    #[arg(
        long = "no-haproxy.ssl-verify",
        hide = true,
        overrides_with = "ssl_verify"
    )]
    no_ssl_verify: bool,
    /// Comma-separated list of exported server metrics. See
    /// http://cbonte.github.io/haproxy-dconv/configuration-1.5.html#9.1
    #[arg(long = "haproxy.server-metric-fields", default_value = DEFAULT_SERVER_FIELDS)]
    pub server_metric_fields: String,
    /// Comma-separated list of exported server states to exclude. See
    /// https://cbonte.github.io/haproxy-dconv/1.8/management.html#9.1, field 17 status
    #[arg(long = "haproxy.server-exclude-states", default_value = "")]
    pub server_exclude_states: String,
    /// Timeout for trying to get stats from HAProxy.
    #[arg(long = "haproxy.timeout", default_value = "5s", value_parser = parse_go_duration)]
    pub timeout: Duration,
    /// Path to HAProxy pid file. If provided, the standard process metrics get exported for the
    /// HAProxy process, prefixed with 'haproxy_process_...'. Needs read access to the HAProxy
    /// process's files in /proc.
    #[arg(long = "haproxy.pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Flag that enables using HTTP proxy settings from environment variables ($http_proxy,
    /// $https_proxy, $no_proxy)
    #[arg(
        long = "http.proxy-from-env",
        num_args = 0..=1,
        require_equals = true,
        default_value_t = false,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        overrides_with = "no_proxy_from_env"
    )]
    proxy_from_env: bool,
    #[arg(
        long = "no-http.proxy-from-env",
        hide = true,
        overrides_with = "proxy_from_env"
    )]
    no_proxy_from_env: bool,
    #[command(flatten)]
    pub log: LogFlags,
}

impl Flags {
    pub fn ssl_verify(&self) -> bool {
        self.ssl_verify && !self.no_ssl_verify
    }

    pub fn proxy_from_env(&self) -> bool {
        self.proxy_from_env && !self.no_proxy_from_env
    }

    /// `--haproxy.pid-file`, unless empty.
    pub fn pid_file(&self) -> Option<&PathBuf> {
        self.pid_file.as_ref().filter(|p| !p.as_os_str().is_empty())
    }

    pub fn options(&self) -> Options {
        Options {
            scrape_uri: self.scrape_uri.clone(),
            ssl_verify: self.ssl_verify(),
            proxy_from_env: self.proxy_from_env(),
            server_metric_fields: self.server_metric_fields.clone(),
            server_exclude_states: self.server_exclude_states.clone(),
            timeout: self.timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exporter::all_server_fields;

    fn parse(args: &[&str]) -> Flags {
        Flags::try_parse_from(std::iter::once("haproxy_exporter").chain(args.iter().copied()))
            .unwrap()
    }

    #[test]
    fn defaults_are_upstreams() {
        let f = parse(&[]);
        assert_eq!(f.web.listen_addresses, [":9101"]);
        assert_eq!(f.scrape_uri, "http://localhost/;csv");
        assert!(f.ssl_verify());
        assert!(!f.proxy_from_env());
        assert_eq!(f.timeout, Duration::from_secs(5));
        assert_eq!(f.pid_file(), None);
        assert_eq!(f.server_metric_fields, all_server_fields());
    }

    #[test]
    fn booleans_take_the_last_spelling() {
        assert!(!parse(&["--no-haproxy.ssl-verify"]).ssl_verify());
        assert!(parse(&["--no-haproxy.ssl-verify", "--haproxy.ssl-verify"]).ssl_verify());
        assert!(!parse(&["--haproxy.ssl-verify", "--no-haproxy.ssl-verify"]).ssl_verify());
        assert!(!parse(&["--haproxy.ssl-verify=false"]).ssl_verify());
        assert!(parse(&["--http.proxy-from-env"]).proxy_from_env());
    }

    #[test]
    fn bad_timeout_is_refused() {
        let err = Flags::try_parse_from(["haproxy_exporter", "--haproxy.timeout=5"]).unwrap_err();
        assert!(err.to_string().contains("haproxy.timeout"), "{err}");
    }
}
