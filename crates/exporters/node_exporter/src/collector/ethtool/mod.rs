//! `ethtool`: driver information, driver statistics and link modes of network interfaces,
//! asked of the kernel through the `SIOCETHTOOL` ioctl (off by default, as upstream).
//!
//! The kernel side sits behind [`Source`] so the naming, filtering and family layout can be
//! checked against upstream's expected output with a fixture source.

#[cfg(test)]
mod fixture;
mod ioctl;
mod names;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io;

use pm_common::metrics::ConstFamily;
use regex::Regex;

use crate::cli::{DeviceFilter, Settings, regex_flag};
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family, untyped_family};
use crate::paths::{Paths, sorted_entries};

use ioctl::Ioctl;

/// What `ETHTOOL_GDRVINFO` reports, the strings cut at their first NUL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriverInfo {
    pub driver: String,
    pub version: String,
    pub firmware_version: String,
    pub bus_info: String,
    pub expansion_rom_version: String,
}

/// The legacy `ETHTOOL_GSET` view of a link: the first 32 link-mode bits of what the device
/// supports and advertises (upstream's library reads this form, so modes above bit 31 never
/// show), and whether autonegotiation is on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkInfo {
    pub supported: u32,
    pub advertising: u32,
    pub autoneg: u8,
}

/// Where the collector gets a device's ethtool data. Errors carry the errno the kernel gave
/// (`EOPNOTSUPP` for a driver without the operation), which decides how loudly it is logged.
pub trait Source: Send + Sync {
    fn driver_info(&self, device: &str) -> io::Result<DriverInfo>;
    /// Statistic name → value; a name the driver repeats keeps its last value.
    fn stats(&self, device: &str) -> io::Result<BTreeMap<String, u64>>;
    fn link_info(&self, device: &str) -> io::Result<LinkInfo>;
}

pub struct Ethtool {
    paths: Paths,
    source: Box<dyn Source>,
    devices: DeviceFilter,
    metrics: Option<Regex>,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    let source = Ioctl::open().map_err(|e| ConfigError::Invalid {
        flag: "collector.ethtool",
        reason: format!("failed to initialize ethtool library: {e}"),
    })?;
    Ok(Box::new(Ethtool::new(s, Box::new(source))?))
}

impl Ethtool {
    pub fn new(s: &Settings, source: Box<dyn Source>) -> Result<Self, ConfigError> {
        let f = &s.flags;
        Ok(Self {
            paths: s.paths.clone(),
            source,
            // Upstream does not make these two mutually exclusive, despite their help texts.
            devices: DeviceFilter::combined(
                (
                    "collector.ethtool.device-include",
                    f.ethtool_device_include.as_deref(),
                ),
                (
                    "collector.ethtool.device-exclude",
                    f.ethtool_device_exclude.as_deref(),
                ),
            )?,
            metrics: regex_flag(
                "collector.ethtool.metrics-include",
                Some(&f.ethtool_metrics_include),
            )?,
        })
    }

    fn device(&self, device: &str, out: &mut Out) {
        match self.source.link_info(device) {
            Ok(link) => link_families(device, link, out),
            Err(e) => log_failure("ethtool link info error", device, &e),
        }
        match self.source.driver_info(device) {
            Ok(d) => out.push(
                gauge_family(
                    "node_ethtool_info",
                    "A metric with a constant '1' value labeled by bus_info, device, driver, expansion_rom_version, firmware_version, version.",
                )
                .with(
                    &[
                        ("bus_info", &d.bus_info),
                        ("device", device),
                        ("driver", &d.driver),
                        ("expansion_rom_version", &d.expansion_rom_version),
                        ("firmware_version", &d.firmware_version),
                        ("version", &d.version),
                    ],
                    1.0,
                )
                .into_family(),
            ),
            Err(e) => log_failure("ethtool driver info error", device, &e),
        }
        let stats = self.source.stats(device).unwrap_or_else(|e| {
            log_failure("ethtool stats error", device, &e);
            BTreeMap::new()
        });
        for stat in names::select(&stats, self.metrics.as_ref()) {
            out.push(
                untyped_family(stat.name, stat.help)
                    .with(&[("device", device)], stat.value as f64)
                    .into_family(),
            );
        }
    }
}

/// A driver without the operation is routine (debug); anything else is an error, but only
/// for this device and this part: the scrape goes on.
fn log_failure(msg: &str, device: &str, e: &io::Error) {
    if e.raw_os_error() == Some(libc::EOPNOTSUPP) {
        tracing::debug!(device, err = %e, "{msg}");
    } else {
        tracing::error!(device, err = %e, "{msg}");
    }
}

impl Collector for Ethtool {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let devices = match sorted_entries(&self.paths.sys("class/net")) {
            Err(e) if e.is_no_data() => {
                return Err(CollectorError::NoData(
                    "Could not read netclass file".into(),
                ));
            }
            r => r?,
        };
        // Regular files such as `bonding_masters` are not devices.
        let devices: Vec<String> = devices
            .into_iter()
            .filter(|(_, p)| !std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
            .map(|(name, _)| name)
            .collect();
        if devices.is_empty() {
            let root = self.paths.sys("class/net");
            return Err(CollectorError::io(
                root,
                io::Error::other("no network devices found"),
            ));
        }
        for device in devices.iter().filter(|d| !self.devices.ignored(d)) {
            self.device(device, out);
        }
        Ok(())
    }
}

/// A link-mode bit of `ethtool_link_mode_bit_indices` (linux/ethtool.h).
mod bit {
    pub const AUTONEG: u32 = 6;
    pub const TP: u32 = 7;
    pub const AUI: u32 = 8;
    pub const MII: u32 = 9;
    pub const FIBRE: u32 = 10;
    pub const BNC: u32 = 11;
    pub const PAUSE: u32 = 13;
    pub const ASYM_PAUSE: u32 = 14;
    pub const BACKPLANE: u32 = 16;
}

/// The speed modes upstream reports that fit in the legacy 32-bit mask: bit, Mb/s, duplex,
/// PHY. (Upstream lists higher modes too, but shifting a 32-bit mask by 32 or more gives 0.)
const SPEEDS: &[(u32, u32, &str, &str)] = &[
    (0, 10, "half", "T"),
    (1, 10, "full", "T"),
    (2, 100, "half", "T"),
    (3, 100, "full", "T"),
    (4, 1000, "half", "T"),
    (5, 1000, "full", "T"),
    (12, 10000, "full", "T"),
    (17, 1000, "full", "KX"),
    (18, 10000, "full", "KX4"),
    (19, 10000, "full", "KR"),
    (20, 10000, "full", "R_FEC"),
    (21, 20000, "full", "MLD2"),
    (22, 20000, "full", "KR2"),
    (23, 40000, "full", "KR4"),
    (24, 40000, "full", "CR4"),
    (25, 40000, "full", "SR4"),
    (26, 40000, "full", "LR4"),
    (27, 56000, "full", "KR4"),
    (28, 56000, "full", "CR4"),
    (29, 56000, "full", "SR4"),
    (30, 56000, "full", "LR4"),
    (31, 25000, "full", "CR"),
];

const PORTS: &[(u32, &str)] = &[
    (bit::TP, "TP"),
    (bit::AUI, "AUI"),
    (bit::MII, "MII"),
    (bit::FIBRE, "FIBRE"),
    (bit::BNC, "BNC"),
    (bit::BACKPLANE, "Backplane"),
];

fn has(modes: u32, bit: u32) -> bool {
    modes & (1 << bit) != 0
}

fn flag(modes: u32, bit: u32) -> f64 {
    if has(modes, bit) { 1.0 } else { 0.0 }
}

fn link_families(device: &str, link: LinkInfo, out: &mut Out) {
    let dev = [("device", device)];
    let speeds = |name: &str, help: &str, modes: u32| {
        let mut f = gauge_family(name, help);
        for &(_, mbit, duplex, phy) in SPEEDS.iter().filter(|s| has(modes, s.0)) {
            let mode = format!("{mbit}base{phy}");
            // Bytes per second, as netclass reports speeds.
            let bytes = f64::from(mbit) * 1_000_000.0 / 8.0;
            f.push(
                &[("device", device), ("duplex", duplex), ("mode", &mode)],
                bytes,
            );
        }
        f
    };
    let capability = |name: &str, help: &str, modes: u32, b: u32| {
        gauge_family(name, help).with(&dev, flag(modes, b))
    };
    let mut ports = gauge_family(
        "node_network_supported_port_info",
        "Type of ports or PHYs supported by network device",
    );
    for (_, name) in PORTS.iter().filter(|p| has(link.supported, p.0)) {
        ports.push(&[("device", device), ("type", name)], 1.0);
    }
    let (s, a) = (link.supported, link.advertising);
    let families: [ConstFamily; 10] = [
        speeds(
            "node_network_supported_speed_bytes",
            "Combination of speeds and features supported by network device",
            s,
        ),
        ports,
        capability(
            "node_network_autonegotiate_supported",
            "If this port device supports autonegotiate",
            s,
            bit::AUTONEG,
        ),
        capability(
            "node_network_pause_supported",
            "If this port device supports pause frames",
            s,
            bit::PAUSE,
        ),
        capability(
            "node_network_asymmetricpause_supported",
            "If this port device supports asymmetric pause frames",
            s,
            bit::ASYM_PAUSE,
        ),
        speeds(
            "node_network_advertised_speed_bytes",
            "Combination of speeds and features offered by network device",
            a,
        ),
        capability(
            "node_network_autonegotiate_advertised",
            "If this port device offers autonegotiate",
            a,
            bit::AUTONEG,
        ),
        capability(
            "node_network_pause_advertised",
            "If this port device offers pause capability",
            a,
            bit::PAUSE,
        ),
        capability(
            "node_network_asymmetricpause_advertised",
            "If this port device offers asymmetric pause capability",
            a,
            bit::ASYM_PAUSE,
        ),
        gauge_family(
            "node_network_autonegotiate",
            "If this port is using autonegotiate",
        )
        .with(&dev, f64::from(link.autoneg)),
    ];
    out.extend(families.into_iter().map(ConstFamily::into_family));
}
