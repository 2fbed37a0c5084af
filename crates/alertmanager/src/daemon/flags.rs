//! The `alertmanager` command line, named and defaulted as upstream's.

use std::path::PathBuf;
use std::time::Duration;

use pm_common::config::parse_go_duration;
use pm_common::log::LogFlags;
use pm_common::web::{DefaultListenAddress, WebFlags};

/// `:9093`, the Alertmanager's registered port.
#[derive(Debug, Clone)]
pub struct Port9093;

impl DefaultListenAddress for Port9093 {
    const ADDRESS: &'static str = ":9093";
}

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "alertmanager",
    about = "The Alertmanager. High-availability clustering is not supported yet: the \
             --cluster.* flags are accepted and every instance runs on its own.",
    version
)]
pub struct Flags {
    /// Alertmanager configuration file name.
    #[arg(long = "config.file", default_value = "alertmanager.yml")]
    pub config_path: PathBuf,

    /// Base path for data storage.
    #[arg(long = "storage.path", default_value = "data/")]
    pub storage_path: PathBuf,

    /// How long to keep data for.
    #[arg(long = "data.retention", default_value = "120h", value_parser = parse_go_duration)]
    pub retention: Duration,

    /// Interval between garbage collection and snapshotting to disk of the silences and the
    /// notification logs.
    #[arg(long = "data.maintenance-interval", default_value = "15m", value_parser = parse_go_duration)]
    pub maintenance_interval: Duration,

    /// Interval between alert GC.
    #[arg(long = "alerts.gc-interval", default_value = "30m", value_parser = parse_go_duration)]
    pub alerts_gc_interval: Duration,

    #[command(flatten)]
    pub web: WebFlags<Port9093>,

    /// The URL under which Alertmanager is externally reachable (for example, if Alertmanager
    /// is served via a reverse proxy). Used for generating relative and absolute links back to
    /// Alertmanager itself. If the URL has a path portion, it will be used to prefix all HTTP
    /// endpoints served by Alertmanager. If omitted, relevant URL components will be derived
    /// automatically.
    #[arg(long = "web.external-url", value_parser = parse_external_url)]
    pub external_url: Option<url::Url>,

    /// Prefix for the internal routes of web endpoints. Defaults to path of
    /// --web.external-url.
    #[arg(long = "web.route-prefix")]
    pub route_prefix: Option<String>,

    /// Maximum number of GET requests processed concurrently. If negative or zero, the limit
    /// is the number of CPUs or 8, whichever is larger.
    #[arg(
        long = "web.get-concurrency",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub get_concurrency: i64,

    /// Timeout for HTTP requests. If negative or zero, no timeout is set.
    #[arg(long = "web.timeout", default_value = "0", value_parser = parse_go_duration)]
    pub web_timeout: Duration,

    #[command(flatten)]
    pub cluster: ClusterFlags,

    #[command(flatten)]
    pub log: LogFlags,
}

/// Upstream's clustering flags, accepted so existing command lines keep working. This build
/// has no clustering: whatever they say, the instance runs alone.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterFlags {
    /// Listen address for cluster. Set to empty string to disable HA mode. (Clustering is not
    /// supported yet; any value runs the instance alone.)
    #[arg(long = "cluster.listen-address", default_value = "0.0.0.0:9094")]
    pub listen_address: String,
    /// Explicit address to advertise in cluster.
    #[arg(long = "cluster.advertise-address")]
    pub advertise_address: Option<String>,
    /// Initial peers (may be repeated).
    #[arg(long = "cluster.peer")]
    pub peers: Vec<String>,
    /// Time to wait between peers to send notifications.
    #[arg(long = "cluster.peer-timeout", default_value = "15s", value_parser = parse_go_duration)]
    pub peer_timeout: Duration,
    /// Interval between sending gossip messages.
    #[arg(long = "cluster.gossip-interval", default_value = "200ms", value_parser = parse_go_duration)]
    pub gossip_interval: Duration,
    /// Interval for gossip state syncs.
    #[arg(long = "cluster.pushpull-interval", default_value = "1m0s", value_parser = parse_go_duration)]
    pub pushpull_interval: Duration,
    /// Timeout for establishing a stream connection with a remote node for a full state sync,
    /// and for stream read and write operations.
    #[arg(long = "cluster.tcp-timeout", default_value = "10s", value_parser = parse_go_duration)]
    pub tcp_timeout: Duration,
    /// Timeout to wait for an ack from a probed node before assuming it is unhealthy.
    #[arg(long = "cluster.probe-timeout", default_value = "500ms", value_parser = parse_go_duration)]
    pub probe_timeout: Duration,
    /// Interval between random node probes.
    #[arg(long = "cluster.probe-interval", default_value = "1s", value_parser = parse_go_duration)]
    pub probe_interval: Duration,
    /// Maximum time to wait for cluster connections to settle before evaluating
    /// notifications.
    #[arg(long = "cluster.settle-timeout", default_value = "1m0s", value_parser = parse_go_duration)]
    pub settle_timeout: Duration,
    /// Interval between attempting to reconnect to lost peers.
    #[arg(long = "cluster.reconnect-interval", default_value = "10s", value_parser = parse_go_duration)]
    pub reconnect_interval: Duration,
    /// Length of time to attempt to reconnect to a lost peer.
    #[arg(long = "cluster.reconnect-timeout", default_value = "6h0m0s", value_parser = parse_go_duration)]
    pub reconnect_timeout: Duration,
    /// Path to config yaml file that can enable mutual TLS within the gossip protocol.
    #[arg(long = "cluster.tls-config", default_value = "")]
    pub tls_config: String,
    /// Allow alertmanager to discover and listen on a public IP address.
    #[arg(long = "cluster.allow-insecure-public-advertise-address-discovery")]
    pub allow_insecure_public_advertise_address_discovery: bool,
}

fn parse_external_url(s: &str) -> Result<url::Url, String> {
    url::Url::parse(s).map_err(|e| format!("invalid URL {s:?}: {e}"))
}

impl Flags {
    /// The URL notifications link to: `--web.external-url` without a trailing slash, else
    /// `http://<hostname>:<listen port>` as upstream derives it.
    pub fn external_url_or_default(&self) -> String {
        if let Some(url) = &self.external_url {
            return url.as_str().trim_end_matches('/').to_owned();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "localhost".to_owned());
        let port = self
            .web
            .listen_addresses
            .first()
            .and_then(|a| a.rsplit_once(':'))
            .map_or("9093", |(_, p)| p);
        format!("http://{host}:{port}")
    }

    /// The prefix all routes live under: `--web.route-prefix`, else the external URL's path;
    /// `""` or `/x` without a trailing slash.
    pub fn route_prefix(&self) -> String {
        let raw = match &self.route_prefix {
            Some(p) => p.clone(),
            None => self
                .external_url
                .as_ref()
                .map(|u| u.path().to_owned())
                .unwrap_or_default(),
        };
        let trimmed = raw.trim_end_matches('/');
        if trimmed.is_empty() {
            String::new()
        } else if trimmed.starts_with('/') {
            trimmed.to_owned()
        } else {
            format!("/{trimmed}")
        }
    }

    /// `--web.get-concurrency` resolved: non-positive means the CPU count or 8, whichever
    /// is larger.
    pub fn get_concurrency(&self) -> usize {
        usize::try_from(self.get_concurrency)
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map_or(1, usize::from)
                    .max(8)
            })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn defaults_as_upstream() {
        let f = Flags::parse_from(["alertmanager"]);
        assert_eq!(f.config_path, PathBuf::from("alertmanager.yml"));
        assert_eq!(f.storage_path, PathBuf::from("data/"));
        assert_eq!(f.retention, Duration::from_secs(120 * 3600));
        assert_eq!(f.alerts_gc_interval, Duration::from_secs(30 * 60));
        assert_eq!(f.web.listen_addresses, vec![":9093"]);
        assert_eq!(f.cluster.listen_address, "0.0.0.0:9094");
        assert_eq!(f.route_prefix(), "");
        assert!(f.get_concurrency() >= 8);
    }

    #[test]
    fn prefixes_and_cluster_flags() {
        let f = Flags::parse_from([
            "alertmanager",
            "--web.external-url=http://am.example:9093/am/",
            "--cluster.listen-address=",
            "--cluster.peer=a:9094",
            "--cluster.peer=b:9094",
            "--web.get-concurrency=-1",
        ]);
        assert_eq!(f.route_prefix(), "/am");
        assert_eq!(f.cluster.listen_address, "");
        assert_eq!(f.cluster.peers, ["a:9094", "b:9094"]);
        let f = Flags::parse_from([
            "alertmanager",
            "--web.external-url=http://am.example:9093/am/",
            "--web.route-prefix=inner/",
        ]);
        assert_eq!(f.route_prefix(), "/inner");
        assert!(Flags::try_parse_from(["alertmanager", "--data.retention=5x"]).is_err());
        assert!(Flags::try_parse_from(["alertmanager", "--web.external-url=::"]).is_err());
    }
}
