//! Upstream's command line (`--debug.dump-fsm` is not offered).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use pm_common::config::parse_go_duration;
use pm_common::log::LogFlags;
use pm_common::web::{DefaultListenAddress, WebFlags};
use pm_mapper::CacheType;

/// `--web.listen-address` defaults to `:9108`.
#[derive(Debug, Clone, Copy)]
pub struct GraphiteExporterPort;

impl DefaultListenAddress for GraphiteExporterPort {
    const ADDRESS: &'static str = ":9108";
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "graphite_exporter",
    version,
    about = "Graphite to Prometheus exporter"
)]
pub struct Flags {
    /// Path under which to expose Prometheus metrics.
    #[arg(long = "web.telemetry-path", default_value = "/metrics")]
    pub telemetry_path: String,
    /// TCP and UDP address on which to accept samples.
    #[arg(long = "graphite.listen-address", default_value = ":9109")]
    pub listen_address: String,
    /// Metric mapping configuration file name.
    #[arg(long = "graphite.mapping-config", default_value = "")]
    pub mapping_config: String,
    /// How long a sample is valid for.
    #[arg(long = "graphite.sample-expiry", default_value = "5m", value_parser = parse_go_duration)]
    pub sample_expiry: Duration,
    /// Only store metrics that match the mapping configuration.
    #[arg(long = "graphite.mapping-strict-match")]
    pub strict_match: bool,
    /// Maximum size of your metric mapping cache.
    #[arg(long = "graphite.cache-size", default_value_t = 1000)]
    pub cache_size: usize,
    /// Metric mapping cache type. Valid options are "lru" and "random"
    #[arg(long = "graphite.cache-type", default_value = "lru")]
    pub cache_type: CacheType,
    /// Check configuration and exit.
    #[arg(long = "check-config")]
    pub check_config: bool,
    #[command(flatten)]
    pub web: WebFlags<GraphiteExporterPort>,
    #[command(flatten)]
    pub log: LogFlags,
}

impl Flags {
    pub fn mapping_config(&self) -> Option<PathBuf> {
        (!self.mapping_config.is_empty()).then(|| PathBuf::from(&self.mapping_config))
    }
}
