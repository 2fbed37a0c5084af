//! The server's command line, named and defaulted as upstream Prometheus 3.x's. Only flags the
//! server honours are accepted, so `--help` never promises what is not there.

use std::path::PathBuf;
use std::time::Duration;

use pm_common::config::Duration as GoDuration;
use pm_common::log::LogFlags;
use pm_common::web::{DefaultListenAddress, WebFlags};
use pm_tsdb::db::DbOptions;

use crate::remote::codec::WriteMessage;
use crate::remote::http::RemoteApi;
use crate::remote::read_server::ReadLimits;

/// `0.0.0.0:9090`, Prometheus's registered port on every interface.
#[derive(Debug, Clone)]
pub struct Port9090;

impl DefaultListenAddress for Port9090 {
    const ADDRESS: &'static str = "0.0.0.0:9090";
}

/// Upstream's default retention when neither a time nor a size limit is given.
const DEFAULT_RETENTION: Duration = Duration::from_secs(15 * 24 * 3600);

/// The feature names upstream 3.x knows; others are warned about and ignored, as upstream does.
const KNOWN_FEATURES: &[&str] = &[
    "exemplar-storage",
    "memory-snapshot-on-shutdown",
    "extra-scrape-metrics",
    "auto-gomaxprocs",
    "auto-gomemlimit",
    "auto-reload-config",
    "concurrent-rule-eval",
    "created-timestamp-zero-ingestion",
    "delayed-compaction",
    "expand-external-labels",
    "metadata-wal-records",
    "native-histograms",
    "no-default-scrape-port",
    "old-ui",
    "otlp-deltatocumulative",
    "otlp-write-receiver",
    "promql-delayed-name-removal",
    "promql-experimental-functions",
    "promql-per-step-stats",
    "promql-duration-expr",
    "type-and-unit-labels",
    "use-uncached-io",
];

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "prometheus",
    about = "The Prometheus monitoring server",
    version,
    disable_version_flag = true
)]
pub struct Flags {
    /// Show application version.
    #[arg(long = "version", action = clap::ArgAction::Version)]
    version: (),

    /// Prometheus configuration file path.
    #[arg(long = "config.file", default_value = "prometheus.yml")]
    pub config_path: PathBuf,

    #[command(flatten)]
    pub web: WebFlags<Port9090>,

    /// The URL under which Prometheus is externally reachable (for example, if Prometheus is
    /// served via a reverse proxy). Used for generating relative and absolute links back to
    /// Prometheus itself. If the URL has a path portion, it will be used to prefix all HTTP
    /// endpoints served by Prometheus. If omitted, relevant URL components will be derived
    /// automatically.
    #[arg(long = "web.external-url", default_value = "", value_parser = parse_external_url)]
    pub external_url: String,

    /// Prefix for the internal routes of web endpoints. Defaults to path of --web.external-url.
    #[arg(long = "web.route-prefix", default_value = "")]
    pub route_prefix: String,

    /// Enable shutdown and reload via HTTP request.
    #[arg(long = "web.enable-lifecycle")]
    pub enable_lifecycle: bool,

    /// Enable API endpoints for admin control actions.
    #[arg(long = "web.enable-admin-api")]
    pub enable_admin_api: bool,

    /// Regex for CORS origin. It is fully anchored. Example: 'https?://(domain1|domain2)\.com'
    #[arg(long = "web.cors.origin", default_value = ".*")]
    pub cors_origin: String,

    /// Base path for metrics storage.
    #[arg(long = "storage.tsdb.path", default_value = "data/")]
    pub tsdb_path: PathBuf,

    /// How long to retain samples in storage. If neither this flag nor
    /// "storage.tsdb.retention.size" is set, the retention time defaults to 15d. Units
    /// Supported: y, w, d, h, m, s, ms.
    #[arg(long = "storage.tsdb.retention.time", value_parser = parse_model_duration)]
    pub retention_time: Option<Duration>,

    /// Maximum number of bytes that can be stored for blocks. A unit is required, supported
    /// units: B, KB, MB, GB, TB, PB, EB. Ex: "512MB". Based on powers-of-2, so 1KB is 1024B.
    #[arg(long = "storage.tsdb.retention.size", value_parser = parse_bytes)]
    pub retention_size: Option<u64>,

    /// Do not create lockfile in data directory.
    #[arg(long = "storage.tsdb.no-lockfile")]
    pub no_lockfile: bool,

    /// Compress the tsdb WAL (on by default; --no-storage.tsdb.wal-compression turns it off).
    #[arg(
        long = "storage.tsdb.wal-compression",
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true",
        overrides_with = "no_wal_compression",
        action = clap::ArgAction::Set
    )]
    pub wal_compression: bool,

    #[arg(long = "no-storage.tsdb.wal-compression", hide = true)]
    no_wal_compression: bool,

    /// Minimum duration of a data block before being persisted. For use in testing.
    #[arg(long = "storage.tsdb.min-block-duration", default_value = "2h", value_parser = parse_model_duration, hide = true)]
    pub min_block_duration: Duration,

    /// Maximum duration compacted blocks may span. For use in testing. (Default: 10% of the
    /// retention period.)
    #[arg(long = "storage.tsdb.max-block-duration", value_parser = parse_model_duration, hide = true)]
    pub max_block_duration: Option<Duration>,

    /// The maximum lookback duration for retrieving metrics during expression evaluations and
    /// federation.
    #[arg(long = "query.lookback-delta", default_value = "5m", value_parser = parse_model_duration)]
    pub lookback_delta: Duration,

    /// Maximum time a query may take before being aborted.
    #[arg(long = "query.timeout", default_value = "2m", value_parser = parse_model_duration)]
    pub query_timeout: Duration,

    /// Maximum number of queries executed concurrently.
    #[arg(long = "query.max-concurrency", default_value_t = 20)]
    pub query_max_concurrency: usize,

    /// Maximum number of samples a single query can load into memory. Note that queries will
    /// fail if they try to load more samples than this into memory, so this also limits the
    /// number of samples a query can return.
    #[arg(long = "query.max-samples", default_value_t = 50_000_000)]
    pub query_max_samples: usize,

    /// The capacity of the queue for pending Alertmanager notifications.
    #[arg(
        long = "alertmanager.notification-queue-capacity",
        default_value_t = 10_000
    )]
    pub notification_queue_capacity: usize,

    /// The maximum number of notifications per batch to send to the Alertmanager.
    #[arg(long = "alertmanager.notification-batch-size", default_value_t = 256)]
    pub notification_batch_size: usize,

    /// Send any outstanding Alertmanager notifications when shutting down. If false, any
    /// outstanding Alertmanager notifications will be dropped when shutting down.
    #[arg(
        long = "alertmanager.drain-notification-queue-on-shutdown",
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true",
        overrides_with = "no_drain_notification_queue",
        action = clap::ArgAction::Set
    )]
    pub drain_notification_queue: bool,

    #[arg(
        long = "no-alertmanager.drain-notification-queue-on-shutdown",
        hide = true
    )]
    no_drain_notification_queue: bool,
    /// Minimum duration between alert and restored "for" state. This is maintained only for
    /// alerts with configured "for" time greater than grace period.
    #[arg(long = "rules.alert.for-grace-period", default_value = "10m", value_parser = parse_model_duration)]
    pub rules_for_grace_period: Duration,

    /// Max time to tolerate prometheus outage for restoring "for" state of alert.
    #[arg(long = "rules.alert.for-outage-tolerance", default_value = "1h", value_parser = parse_model_duration)]
    pub rules_outage_tolerance: Duration,

    /// Minimum amount of time to wait before resending an alert to Alertmanager.
    #[arg(long = "rules.alert.resend-delay", default_value = "1m", value_parser = parse_model_duration)]
    pub rules_resend_delay: Duration,

    /// Global concurrency limit for independent rules that can run concurrently. When set,
    /// "query.max-concurrency" may need to be adjusted accordingly.
    #[arg(long = "rules.max-concurrent-evals", default_value_t = 4)]
    pub rules_max_concurrent_evals: u64,

    /// Comma separated feature names to enable. Valid options: exemplar-storage,
    /// promql-experimental-functions, promql-delayed-name-removal, type-and-unit-labels, and
    /// the other names upstream accepts (ignored here unless documented in docs/prometheus.md).
    #[arg(long = "enable-feature", value_name = "FEATURE")]
    pub enable_feature: Vec<String>,

    /// Enable API endpoint accepting remote write requests.
    #[arg(long = "web.enable-remote-write-receiver")]
    pub enable_remote_write_receiver: bool,

    /// List of the remote write protobuf messages to accept when receiving the remote writes.
    /// Supported values: prometheus.WriteRequest, io.prometheus.write.v2.Request
    #[arg(
        long = "web.remote-write-receiver.accepted-protobuf-messages",
        value_name = "MESSAGE",
        default_values = ["prometheus.WriteRequest", "io.prometheus.write.v2.Request"],
        value_parser = parse_write_message
    )]
    pub remote_write_accepted: Vec<WriteMessage>,

    /// Maximum overall number of samples to return via the remote read interface, in a single
    /// query. 0 means no limit. This limit is ignored for streamed response types.
    #[arg(
        long = "storage.remote.read-sample-limit",
        default_value_t = 50_000_000
    )]
    pub remote_read_sample_limit: usize,

    /// Maximum number of concurrent remote read calls. 0 means no limit.
    #[arg(long = "storage.remote.read-concurrent-limit", default_value_t = 10)]
    pub remote_read_concurrent_limit: usize,

    /// Maximum number of bytes in a single frame for streaming remote read response types
    /// before marshalling. Note that client might have limit on frame size as well. 1MB as
    /// recommended by protobuf by default.
    #[arg(
        long = "storage.remote.read-max-bytes-in-frame",
        default_value_t = 1_048_576
    )]
    pub remote_read_max_bytes_in_frame: usize,

    /// Time to wait, at shutdown, for the remote-write queues to send what they hold.
    #[arg(long = "storage.remote.flush-deadline", default_value = "1m", value_parser = parse_model_duration)]
    pub remote_flush_deadline: Duration,

    #[command(flatten)]
    pub log: LogFlags,
}

fn parse_write_message(s: &str) -> Result<WriteMessage, String> {
    WriteMessage::parse(s).ok_or_else(|| {
        format!("unknown remote write protobuf message {s:?}; supported: prometheus.WriteRequest, io.prometheus.write.v2.Request")
    })
}

fn parse_external_url(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    url::Url::parse(s)
        .map(|_| s.to_owned())
        .map_err(|e| format!("invalid URL {s:?}: {e}"))
}

/// Prometheus durations (`15d`, `1h30m`, `1y`), which the `*.retention.time`, block and query
/// flags take as upstream's `model.Duration` flags do.
fn parse_model_duration(s: &str) -> Result<Duration, String> {
    GoDuration::parse(s)
        .map(Duration::from)
        .map_err(|e| e.to_string())
}

/// Base-2 byte sizes (`512MB`), as upstream's `units.Base2Bytes`.
fn parse_bytes(s: &str) -> Result<u64, String> {
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("invalid byte size {s:?}"))?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "B" => 0,
        "KB" | "KIB" | "K" => 10,
        "MB" | "MIB" | "M" => 20,
        "GB" | "GIB" | "G" => 30,
        "TB" | "TIB" | "T" => 40,
        "PB" | "PIB" | "P" => 50,
        "EB" | "EIB" | "E" => 60,
        _ => return Err(format!("units: unknown unit {unit:?} in {s:?}")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("byte size {s:?} overflows"))
}

/// The features switched on by `--enable-feature` (upstream's `featureList`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    pub exemplar_storage: bool,
    pub promql_experimental_functions: bool,
    pub promql_delayed_name_removal: bool,
    pub promql_per_step_stats: bool,
    pub type_and_unit_labels: bool,
}

impl Flags {
    /// The enabled features; unknown names are logged and ignored as upstream does.
    pub fn features(&self) -> Features {
        let mut features = Features::default();
        for name in self
            .enable_feature
            .iter()
            .flat_map(|f| f.split(','))
            .map(str::trim)
            .filter(|f| !f.is_empty())
        {
            match name {
                "exemplar-storage" => features.exemplar_storage = true,
                "promql-experimental-functions" => features.promql_experimental_functions = true,
                "promql-delayed-name-removal" => features.promql_delayed_name_removal = true,
                "promql-per-step-stats" => features.promql_per_step_stats = true,
                "type-and-unit-labels" => features.type_and_unit_labels = true,
                known if KNOWN_FEATURES.contains(&known) => {
                    tracing::info!(option = known, "Experimental feature enabled")
                }
                unknown => tracing::warn!(option = unknown, "Unknown option for --enable-feature"),
            }
        }
        features
    }

    /// The retention time: the flag, else 15d when no size limit is set either, else none.
    pub fn retention(&self) -> Duration {
        match (self.retention_time, self.retention_size) {
            (Some(t), _) => t,
            (None, Some(size)) if size > 0 => Duration::ZERO,
            (None, _) => DEFAULT_RETENTION,
        }
    }

    /// The database options these flags ask for; the out-of-order window and exemplar count
    /// come from the config file.
    pub fn db_options(&self) -> DbOptions {
        let retention = millis(self.retention());
        let min_block = millis(self.min_block_duration);
        let max_block = self.max_block_duration.map_or_else(
            || pm_tsdb::retention::max_block_duration(retention).max(min_block),
            millis,
        );
        DbOptions {
            retention_duration: retention,
            max_bytes: self
                .retention_size
                .map_or(0, |b| i64::try_from(b).unwrap_or(i64::MAX)),
            min_block_duration: min_block,
            max_block_duration: max_block,
            no_lockfile: self.no_lockfile,
            wal_compression: if self.wal_compression && !self.no_wal_compression {
                pm_tsdb::wal::Compression::Snappy
            } else {
                pm_tsdb::wal::Compression::None
            },
            ..DbOptions::default()
        }
    }

    /// Alerts per request to an Alertmanager; 0 means upstream's default, 256.
    pub fn notification_batch_size(&self) -> usize {
        if self.notification_batch_size == 0 {
            256
        } else {
            self.notification_batch_size
        }
    }

    /// Whether queued notifications are sent (not dropped) at shutdown.
    pub fn drain_notifications(&self) -> bool {
        self.drain_notification_queue && !self.no_drain_notification_queue
    }

    /// The remote-write receiver's and remote-read server's settings.
    pub fn remote_api(&self) -> RemoteApi {
        RemoteApi::new(
            self.enable_remote_write_receiver
                .then(|| self.remote_write_accepted.clone()),
            ReadLimits {
                sample_limit: self.remote_read_sample_limit,
                max_bytes_in_frame: self.remote_read_max_bytes_in_frame,
            },
            self.remote_read_concurrent_limit,
        )
    }

    /// The path of `--web.external-url` (`""` when absent or `/`).
    pub fn external_path_prefix(&self) -> String {
        let path = url::Url::parse(&self.external_url)
            .map(|u| u.path().to_owned())
            .unwrap_or_default();
        normalize_prefix(&path)
    }

    /// The prefix all routes live under: `--web.route-prefix`, else the external URL's path;
    /// `""` or `/x` without a trailing slash.
    pub fn route_prefix(&self) -> String {
        if self.route_prefix.is_empty() {
            self.external_path_prefix()
        } else {
            normalize_prefix(&self.route_prefix)
        }
    }

    /// Every flag with its value, for `/api/v1/status/flags` (upstream lists all of its flags,
    /// defaults included).
    pub fn values(&self) -> Vec<(&'static str, String)> {
        let d = |d: Duration| GoDuration::from(d).to_string();
        vec![
            (
                "alertmanager.drain-notification-queue-on-shutdown",
                self.drain_notifications().to_string(),
            ),
            (
                "alertmanager.notification-batch-size",
                self.notification_batch_size.to_string(),
            ),
            (
                "alertmanager.notification-queue-capacity",
                self.notification_queue_capacity.to_string(),
            ),
            ("config.file", self.config_path.display().to_string()),
            ("enable-feature", self.enable_feature.join(",")),
            (
                "log.format",
                format!("{:?}", self.log.format).to_ascii_lowercase(),
            ),
            (
                "log.level",
                format!("{:?}", self.log.level).to_ascii_lowercase(),
            ),
            ("query.lookback-delta", d(self.lookback_delta)),
            (
                "query.max-concurrency",
                self.query_max_concurrency.to_string(),
            ),
            ("query.max-samples", self.query_max_samples.to_string()),
            ("query.timeout", d(self.query_timeout)),
            (
                "rules.alert.for-grace-period",
                d(self.rules_for_grace_period),
            ),
            (
                "rules.alert.for-outage-tolerance",
                d(self.rules_outage_tolerance),
            ),
            ("rules.alert.resend-delay", d(self.rules_resend_delay)),
            (
                "rules.max-concurrent-evals",
                self.rules_max_concurrent_evals.to_string(),
            ),
            (
                "storage.tsdb.max-block-duration",
                d(Duration::from_millis(
                    u64::try_from(self.db_options().max_block_duration).unwrap_or(0),
                )),
            ),
            (
                "storage.tsdb.min-block-duration",
                d(self.min_block_duration),
            ),
            (
                "storage.remote.flush-deadline",
                d(self.remote_flush_deadline),
            ),
            (
                "storage.remote.read-concurrent-limit",
                self.remote_read_concurrent_limit.to_string(),
            ),
            (
                "storage.remote.read-max-bytes-in-frame",
                self.remote_read_max_bytes_in_frame.to_string(),
            ),
            (
                "storage.remote.read-sample-limit",
                self.remote_read_sample_limit.to_string(),
            ),
            ("storage.tsdb.no-lockfile", self.no_lockfile.to_string()),
            ("storage.tsdb.path", self.tsdb_path.display().to_string()),
            (
                "storage.tsdb.retention.size",
                self.retention_size.map_or("0B".into(), |b| format!("{b}B")),
            ),
            (
                "storage.tsdb.retention.time",
                self.retention_time.map_or("0s".into(), d),
            ),
            (
                "storage.tsdb.wal-compression",
                (self.wal_compression && !self.no_wal_compression).to_string(),
            ),
            (
                "web.config.file",
                self.web
                    .config_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            ),
            ("web.cors.origin", self.cors_origin.clone()),
            ("web.enable-admin-api", self.enable_admin_api.to_string()),
            ("web.enable-lifecycle", self.enable_lifecycle.to_string()),
            (
                "web.enable-remote-write-receiver",
                self.enable_remote_write_receiver.to_string(),
            ),
            ("web.external-url", self.external_url.clone()),
            ("web.listen-address", self.web.listen_addresses.join(",")),
            (
                "web.remote-write-receiver.accepted-protobuf-messages",
                self.remote_write_accepted
                    .iter()
                    .map(|m| m.name())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            ("web.route-prefix", self.route_prefix()),
        ]
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn normalize_prefix(prefix: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        String::new()
    } else if prefix.starts_with('/') {
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
    fn defaults_are_upstreams() {
        let f = Flags::parse_from(["prometheus"]);
        assert_eq!(f.config_path, PathBuf::from("prometheus.yml"));
        assert_eq!(f.web.listen_addresses, ["0.0.0.0:9090"]);
        assert_eq!(f.tsdb_path, PathBuf::from("data/"));
        assert_eq!(f.retention(), DEFAULT_RETENTION);
        assert_eq!(f.lookback_delta, Duration::from_secs(300));
        assert_eq!(f.query_timeout, Duration::from_secs(120));
        assert_eq!(f.query_max_concurrency, 20);
        assert_eq!(f.rules_for_grace_period, Duration::from_secs(600));
        assert_eq!(f.rules_outage_tolerance, Duration::from_secs(3600));
        assert_eq!(f.rules_resend_delay, Duration::from_secs(60));
        assert_eq!(f.rules_max_concurrent_evals, 4);
        let db = f.db_options();
        assert_eq!(db.min_block_duration, 2 * 3600 * 1000);
        assert_eq!(db.max_block_duration, 36 * 3600 * 1000);
        assert!(matches!(
            db.wal_compression,
            pm_tsdb::wal::Compression::Snappy
        ));
        assert_eq!(f.route_prefix(), "");
        assert_eq!(f.notification_queue_capacity, 10_000);
        assert_eq!(f.notification_batch_size, 256);
        assert!(f.drain_notifications());
    }

    #[test]
    fn notification_flags() {
        let f = Flags::parse_from([
            "prometheus",
            "--alertmanager.notification-queue-capacity=5",
            "--alertmanager.notification-batch-size=2",
            "--no-alertmanager.drain-notification-queue-on-shutdown",
        ]);
        assert_eq!(f.notification_queue_capacity, 5);
        assert_eq!(f.notification_batch_size, 2);
        assert!(!f.drain_notifications());
        let f = Flags::parse_from([
            "prometheus",
            "--alertmanager.drain-notification-queue-on-shutdown=false",
        ]);
        assert!(!f.drain_notifications());
        let f = Flags::parse_from(["prometheus", "--alertmanager.notification-batch-size=0"]);
        assert_eq!(f.notification_batch_size(), 256);
    }

    #[test]
    fn retention_and_compression() {
        let f = Flags::parse_from(["prometheus", "--storage.tsdb.retention.size=1GB"]);
        assert_eq!(f.retention(), Duration::ZERO);
        assert_eq!(f.db_options().max_bytes, 1 << 30);
        let f = Flags::parse_from(["prometheus", "--storage.tsdb.retention.time=1y"]);
        assert_eq!(f.retention(), Duration::from_secs(365 * 24 * 3600));
        let f = Flags::parse_from(["prometheus", "--no-storage.tsdb.wal-compression"]);
        assert!(matches!(
            f.db_options().wal_compression,
            pm_tsdb::wal::Compression::None
        ));
        let f = Flags::parse_from(["prometheus", "--storage.tsdb.wal-compression=false"]);
        assert!(matches!(
            f.db_options().wal_compression,
            pm_tsdb::wal::Compression::None
        ));
        assert!(
            Flags::try_parse_from(["prometheus", "--storage.tsdb.retention.size=12XB"]).is_err()
        );
        assert!(Flags::try_parse_from(["prometheus", "--storage.tsdb.retention.time=5x"]).is_err());
    }

    #[test]
    fn prefixes_and_features() {
        let f = Flags::parse_from([
            "prometheus",
            "--web.external-url=http://h:9090/prom/",
            "--enable-feature=promql-experimental-functions,bogus",
            "--enable-feature=exemplar-storage",
        ]);
        assert_eq!(f.route_prefix(), "/prom");
        let features = f.features();
        assert!(features.promql_experimental_functions && features.exemplar_storage);
        assert!(!features.type_and_unit_labels);
        let f = Flags::parse_from(["prometheus", "--web.route-prefix=/"]);
        assert_eq!(f.route_prefix(), "");
    }
}
