//! Upstream's command line. `--statsd.max-series` is ours; `--debug.dump-fsm` is not offered.
//! Boolean switches that default to on take kingpin's `--no-` form to turn them off.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use pm_common::config::parse_go_duration;
use pm_common::log::LogFlags;
use pm_mapper::CacheType;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "statsd_exporter",
    version,
    about = "StatsD to Prometheus exporter"
)]
pub struct Flags {
    /// The address on which to expose the web interface and generated Prometheus metrics.
    #[arg(long = "web.listen-address", default_value = ":9102")]
    pub listen_address: String,
    /// Enable shutdown and reload via HTTP request.
    #[arg(long = "web.enable-lifecycle")]
    pub enable_lifecycle: bool,
    /// Path under which to expose metrics.
    #[arg(long = "web.telemetry-path", default_value = "/metrics")]
    pub telemetry_path: String,
    /// The UDP address on which to receive statsd metric lines. "" disables it.
    #[arg(long = "statsd.listen-udp", default_value = ":9125")]
    pub listen_udp: String,
    /// The TCP address on which to receive statsd metric lines. "" disables it.
    #[arg(long = "statsd.listen-tcp", default_value = ":9125")]
    pub listen_tcp: String,
    /// The Unixgram socket path to receive statsd metric lines in datagram. "" disables it.
    #[arg(long = "statsd.listen-unixgram", default_value = "")]
    pub listen_unixgram: String,
    /// The permission mode of the unix socket.
    #[arg(long = "statsd.unixsocket-mode", default_value = "755")]
    pub unixsocket_mode: String,
    /// Metric mapping configuration file name.
    #[arg(long = "statsd.mapping-config")]
    pub mapping_config: Option<PathBuf>,
    /// Size (in bytes) of the operating system's transmit read buffer associated with the UDP or
    /// Unixgram connection.
    #[arg(long = "statsd.read-buffer", default_value_t = 0)]
    pub read_buffer: usize,
    /// Maximum size of your metric mapping cache.
    #[arg(long = "statsd.cache-size", default_value_t = 1000)]
    pub cache_size: usize,
    /// Metric mapping cache type. Valid options are "lru" and "random"
    #[arg(long = "statsd.cache-type", default_value = "lru")]
    pub cache_type: CacheType,
    /// Size of internal queue for processing events.
    #[arg(long = "statsd.event-queue-size", default_value_t = 10000)]
    pub event_queue_size: usize,
    /// Number of events to hold in queue before flushing.
    #[arg(long = "statsd.event-flush-threshold", default_value_t = 1000)]
    pub event_flush_threshold: usize,
    /// Maximum time between event queue flushes.
    #[arg(long = "statsd.event-flush-interval", default_value = "200ms", value_parser = parse_go_duration)]
    pub event_flush_interval: Duration,
    /// Check configuration and exit.
    #[arg(long = "check-config")]
    pub check_config: bool,
    /// Parse DogStatsd style tags. Enabled by default.
    #[arg(long = "statsd.parse-dogstatsd-tags", overrides_with = "no_dogstatsd")]
    dogstatsd: bool,
    #[arg(
        long = "no-statsd.parse-dogstatsd-tags",
        hide = true,
        overrides_with = "dogstatsd"
    )]
    no_dogstatsd: bool,
    /// Parse InfluxDB style tags. Enabled by default.
    #[arg(long = "statsd.parse-influxdb-tags", overrides_with = "no_influxdb")]
    influxdb: bool,
    #[arg(
        long = "no-statsd.parse-influxdb-tags",
        hide = true,
        overrides_with = "influxdb"
    )]
    no_influxdb: bool,
    /// Parse Librato style tags. Enabled by default.
    #[arg(long = "statsd.parse-librato-tags", overrides_with = "no_librato")]
    librato: bool,
    #[arg(
        long = "no-statsd.parse-librato-tags",
        hide = true,
        overrides_with = "librato"
    )]
    no_librato: bool,
    /// Parse SignalFX style tags. Enabled by default.
    #[arg(long = "statsd.parse-signalfx-tags", overrides_with = "no_signalfx")]
    signalfx: bool,
    #[arg(
        long = "no-statsd.parse-signalfx-tags",
        hide = true,
        overrides_with = "signalfx"
    )]
    no_signalfx: bool,
    /// The UDP relay target address (host:port)
    #[arg(long = "statsd.relay.address")]
    pub relay_address: Option<String>,
    /// Maximum relay output packet length to avoid fragmentation
    #[arg(long = "statsd.relay.packet-length", default_value_t = 1400)]
    pub relay_packet_length: usize,
    /// Size of internal queue for processing UDP packets.
    #[arg(long = "statsd.udp-packet-queue-size", default_value_t = 10000)]
    pub udp_packet_queue_size: usize,
    /// Maximum number of series kept (0: unlimited). Events that would create a series beyond
    /// it are dropped and counted in statsd_exporter_events_error_total{reason="series_limit"}.
    /// Not in upstream.
    #[arg(long = "statsd.max-series", default_value_t = 0)]
    pub max_series: usize,
    #[command(flatten)]
    pub log: LogFlags,
}

impl Flags {
    /// The tag dialects enabled.
    pub fn dialects(&self) -> crate::line::Dialects {
        crate::line::Dialects {
            dogstatsd: self.dogstatsd || !self.no_dogstatsd,
            influxdb: self.influxdb || !self.no_influxdb,
            librato: self.librato || !self.no_librato,
            signalfx: self.signalfx || !self.no_signalfx,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::Flags;

    #[test]
    fn tag_switches_default_on_and_negate() {
        let f = Flags::try_parse_from(["statsd_exporter"]).unwrap();
        assert!(f.dialects().dogstatsd && f.dialects().signalfx);
        let f = Flags::try_parse_from([
            "x",
            "--no-statsd.parse-dogstatsd-tags",
            "--no-statsd.parse-influxdb-tags",
        ])
        .unwrap();
        assert!(!f.dialects().dogstatsd && !f.dialects().influxdb && f.dialects().librato);
        let f = Flags::try_parse_from([
            "x",
            "--no-statsd.parse-librato-tags",
            "--statsd.parse-librato-tags",
        ])
        .unwrap();
        assert!(f.dialects().librato);
        assert!(Flags::try_parse_from(["x", "--statsd.cache-type", "fifo"]).is_err());
        assert_eq!(
            f.event_flush_interval,
            std::time::Duration::from_millis(200)
        );
    }
}
