//! Command-line flags, named and defaulted as upstream's.

use std::path::PathBuf;

use clap::Parser;
use pm_common::log::LogFlags;
use pm_common::web::{DefaultListenAddress, WebFlags};

use crate::prober::Level;

#[derive(Debug, Clone, Copy)]
pub struct BlackboxPort;

impl DefaultListenAddress for BlackboxPort {
    const ADDRESS: &'static str = ":9115";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProberLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl From<ProberLevel> for Level {
    fn from(level: ProberLevel) -> Self {
        match level {
            ProberLevel::Debug => Level::Debug,
            ProberLevel::Info => Level::Info,
            ProberLevel::Warn => Level::Warn,
            ProberLevel::Error => Level::Error,
        }
    }
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "blackbox_exporter",
    version,
    about = "Probes endpoints over HTTP, TCP, DNS, ICMP and gRPC and exposes the results as Prometheus metrics."
)]
pub struct Cli {
    /// Blackbox exporter configuration file.
    #[arg(long = "config.file", default_value = "blackbox.yml")]
    pub config_path: PathBuf,

    /// Offset to subtract from timeout in seconds.
    #[arg(long = "timeout-offset", default_value_t = 0.5)]
    pub timeout_offset: f64,

    /// If true validate the config file and then exit.
    #[arg(long = "config.check")]
    pub config_check: bool,

    /// Log level for probe request logs. One of: [debug, info, warn, error]
    #[arg(long = "log.prober", value_enum, default_value_t = ProberLevel::Info, ignore_case = true)]
    pub log_prober: ProberLevel,

    /// The maximum amount of items to keep in the history.
    #[arg(long = "history.limit", default_value_t = 100)]
    pub history_limit: usize,

    /// The URL under which Blackbox exporter is externally reachable (for example, if Blackbox
    /// exporter is served via a reverse proxy). If the URL has a path portion, it will be used
    /// to prefix all HTTP endpoints served by Blackbox exporter.
    #[arg(long = "web.external-url", value_name = "url")]
    pub external_url: Option<String>,

    /// Prefix for the internal routes of web endpoints. Defaults to path of --web.external-url.
    #[arg(long = "web.route-prefix", value_name = "path")]
    pub route_prefix: Option<String>,

    #[command(flatten)]
    pub web: WebFlags<BlackboxPort>,

    #[command(flatten)]
    pub log: LogFlags,
}

impl Cli {
    /// The external URL, derived from the first listen address when not given.
    pub fn external_url(&self) -> Result<url::Url, String> {
        let text = match &self.external_url {
            Some(u) if !u.is_empty() => u.clone(),
            _ => {
                let listen = self
                    .web
                    .listen_addresses
                    .first()
                    .map_or(":9115", String::as_str);
                let (host, port) = listen.rsplit_once(':').unwrap_or((listen, "9115"));
                let host = if host.is_empty() {
                    hostname()
                } else {
                    host.to_owned()
                };
                format!("http://{host}:{port}/")
            }
        };
        url::Url::parse(&text).map_err(|e| format!("failed to determine external URL: {e}"))
    }

    /// `/`, or `/prefix/`, from the flag or the external URL's path.
    pub fn route_prefix(&self, external: &url::Url) -> String {
        let raw = self
            .route_prefix
            .clone()
            .unwrap_or_else(|| external.path().to_owned());
        let trimmed = raw.trim_matches('/');
        if trimmed.is_empty() {
            "/".to_owned()
        } else {
            format!("/{trimmed}/")
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_prefix() {
        let cli = Cli::parse_from(["blackbox_exporter"]);
        assert_eq!(cli.config_path, PathBuf::from("blackbox.yml"));
        assert_eq!(cli.timeout_offset, 0.5);
        assert_eq!(cli.history_limit, 100);
        assert_eq!(cli.web.listen_addresses, [":9115"]);
        let cli = Cli::parse_from(["blackbox_exporter", "--web.external-url=http://x:1/bb/"]);
        let url = cli.external_url().unwrap();
        assert_eq!(cli.route_prefix(&url), "/bb/");
        let cli = Cli::parse_from(["blackbox_exporter", "--web.route-prefix=p"]);
        let url = cli.external_url().unwrap();
        assert_eq!(cli.route_prefix(&url), "/p/");
    }
}
