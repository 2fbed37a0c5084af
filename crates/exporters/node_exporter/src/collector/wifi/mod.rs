//! `wifi` (off by default): interface frequency, the BSS a station interface is in, and
//! per-station statistics, read from the kernel over nl80211 or, with
//! `--collector.wifi.fixtures`, from the JSON files upstream's end-to-end test uses.

mod fixtures;
mod netlink;
mod nl80211;

use std::io;
use std::path::PathBuf;

use pm_common::metrics::{ConstFamily, ConstKind};

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family};

/// A WiFi interface as nl80211 lists it. Virtual devices (P2P) have no name.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    pub mac: Vec<u8>,
    /// nl80211's interface type number, for the debug log.
    pub kind: i64,
    pub frequency_mhz: i64,
}

/// The BSS an interface is authenticated or associated with.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Bss {
    pub bssid: Vec<u8>,
    pub ssid: String,
    /// The status number as nl80211 sends it (0 authenticated, 1 associated, 2 IBSS
    /// joined) or the fixture holds it; see [`mode`].
    pub status: i64,
}

/// One station (the access point a client talks to, or a client of an access point).
/// Integers are Go `int`s upstream; durations are nanoseconds as Go's `time.Duration`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Station {
    pub mac: Vec<u8>,
    pub connected_ns: i64,
    pub inactive_ns: i64,
    pub receive_bitrate: i64,
    pub transmit_bitrate: i64,
    pub receive_bytes: i64,
    pub transmit_bytes: i64,
    pub receive_packets: i64,
    pub transmit_packets: i64,
    pub signal_dbm: i64,
    pub transmit_retries: i64,
    pub transmit_failed: i64,
    pub beacon_loss: i64,
}

/// Where WiFi state comes from. `Ok(None)` is upstream's "not found": the interface has no
/// such information (not a station, not connected), which skips it without failing.
pub trait Source {
    fn interfaces(&mut self) -> Result<Vec<Interface>, CollectorError>;
    fn bss(&mut self, ifi: &Interface) -> Result<Option<Bss>, CollectorError>;
    fn stations(&mut self, ifi: &Interface) -> Result<Option<Vec<Station>>, CollectorError>;
}

struct Wifi {
    fixtures: Option<PathBuf>,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    let dir = &s.flags.wifi_fixtures;
    Ok(Box::new(Wifi {
        fixtures: (!dir.is_empty()).then(|| PathBuf::from(dir)),
    }))
}

impl Wifi {
    /// A fresh source per scrape, as upstream dials nl80211 per scrape. A kernel without
    /// nl80211, or a refused socket, is "no data" (success 0, logged at debug level).
    fn source(&self) -> Result<Box<dyn Source>, CollectorError> {
        if let Some(dir) = &self.fixtures {
            return Ok(Box::new(fixtures::Fixtures::new(dir.clone())));
        }
        match nl80211::Nl80211::open() {
            Ok(nl) => Ok(Box::new(nl)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(CollectorError::NoData(
                "wifi collector metrics are not available for this system".into(),
            )),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Err(CollectorError::NoData(
                "wifi collector got permission denied when accessing metrics".into(),
            )),
            Err(e) => Err(CollectorError::io("nl80211", e)),
        }
    }
}

impl Collector for Wifi {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let mut source = self.source()?;
        let mut families = Families::new();
        // What was gathered before a failure is still exported, as upstream's channel does.
        let result = collect(source.as_mut(), &mut families);
        families.append_to(out);
        result
    }
}

fn collect(source: &mut dyn Source, f: &mut Families) -> Result<(), CollectorError> {
    for ifi in source.interfaces()? {
        if ifi.name.is_empty() {
            continue;
        }
        tracing::debug!(wifi = %ifi.name, iftype = ifi.kind, "probing wifi device with type");
        f.frequency
            .push(&[("device", &ifi.name)], mhz_to_hz(ifi.frequency_mhz));
        match source.bss(&ifi)? {
            Some(bss) => f.info.push(
                &[
                    ("device", &ifi.name),
                    ("bssid", &mac(&bss.bssid)),
                    ("ssid", &bss.ssid),
                    ("mode", mode(bss.status)),
                ],
                1.0,
            ),
            None => tracing::debug!(name = %ifi.name, "BSS information not found for wifi device"),
        }
        match source.stations(&ifi)? {
            Some(stations) => {
                for s in &stations {
                    let labels = [("device", ifi.name.as_str()), ("mac_address", &mac(&s.mac))];
                    for (family, (.., value)) in f.station.iter_mut().zip(STATION) {
                        family.push(&labels, value(s));
                    }
                }
            }
            None => tracing::debug!(
                name = %ifi.name,
                "station information not found for wifi device"
            ),
        }
    }
    Ok(())
}

type StationValue = fn(&Station) -> f64;

/// The per-station families in upstream's order: name suffix, help, kind, value.
const STATION: &[(&str, &str, ConstKind, StationValue)] = &[
    (
        "station_connected_seconds_total",
        "The total number of seconds a station has been connected to an access point.",
        ConstKind::Counter,
        |s| go_seconds(s.connected_ns),
    ),
    (
        "station_inactive_seconds",
        "The number of seconds since any wireless activity has occurred on a station.",
        ConstKind::Gauge,
        |s| go_seconds(s.inactive_ns),
    ),
    (
        "station_receive_bits_per_second",
        "The current WiFi receive bitrate of a station, in bits per second.",
        ConstKind::Gauge,
        |s| s.receive_bitrate as f64,
    ),
    (
        "station_transmit_bits_per_second",
        "The current WiFi transmit bitrate of a station, in bits per second.",
        ConstKind::Gauge,
        |s| s.transmit_bitrate as f64,
    ),
    (
        "station_receive_bytes_total",
        "The total number of bytes received by a WiFi station.",
        ConstKind::Counter,
        |s| s.receive_bytes as f64,
    ),
    (
        "station_transmit_bytes_total",
        "The total number of bytes transmitted by a WiFi station.",
        ConstKind::Counter,
        |s| s.transmit_bytes as f64,
    ),
    (
        "station_signal_dbm",
        "The current WiFi signal strength, in decibel-milliwatts (dBm).",
        ConstKind::Gauge,
        |s| s.signal_dbm as f64,
    ),
    (
        "station_transmit_retries_total",
        "The total number of times a station has had to retry while sending a packet.",
        ConstKind::Counter,
        |s| s.transmit_retries as f64,
    ),
    (
        "station_transmit_failed_total",
        "The total number of times a station has failed to send a packet.",
        ConstKind::Counter,
        |s| s.transmit_failed as f64,
    ),
    (
        "station_beacon_loss_total",
        "The total number of times a station has detected a beacon loss.",
        ConstKind::Counter,
        |s| s.beacon_loss as f64,
    ),
    (
        "station_transmitted_packets_total",
        "The total number of packets transmitted by a station.",
        ConstKind::Counter,
        |s| s.transmit_packets as f64,
    ),
    (
        "station_received_packets_total",
        "The total number of packets received by a station.",
        ConstKind::Counter,
        |s| s.receive_packets as f64,
    ),
];

struct Families {
    frequency: ConstFamily,
    info: ConstFamily,
    station: Vec<ConstFamily>,
}

impl Families {
    fn new() -> Self {
        Families {
            frequency: gauge_family(
                "node_wifi_interface_frequency_hertz",
                "The current frequency a WiFi interface is operating at, in hertz.",
            ),
            info: gauge_family(
                "node_wifi_station_info",
                "Labeled WiFi interface station information as provided by the operating system.",
            ),
            station: STATION
                .iter()
                .map(|(suffix, help, kind, _)| {
                    ConstFamily::new(format!("node_wifi_{suffix}"), *help, *kind)
                })
                .collect(),
        }
    }

    fn append_to(self, out: &mut Out) {
        out.push(self.frequency.into_family());
        out.push(self.info.into_family());
        out.extend(self.station.into_iter().map(ConstFamily::into_family));
    }
}

fn mhz_to_hz(mhz: i64) -> f64 {
    mhz as f64 * 1000.0 * 1000.0
}

/// Go's `Duration.Seconds()`: whole seconds plus the remainder, so values print as Go's do.
fn go_seconds(ns: i64) -> f64 {
    const NANOS: i64 = 1_000_000_000;
    (ns / NANOS) as f64 + (ns % NANOS) as f64 / 1e9
}

/// The `mode` label. Upstream's library numbers statuses with "not associated" before
/// "IBSS joined", so the kernel's IBSS_JOINED (2) reads as "unknown" there too.
fn mode(status: i64) -> &'static str {
    match status {
        0 | 1 => "client",
        3 => "ad-hoc",
        _ => "unknown",
    }
}

/// A hardware address as Go's `net.HardwareAddr.String()`: lower-case hex bytes joined by
/// colons, empty for no address.
fn mac(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    hex.join(":")
}

#[cfg(test)]
mod tests;
