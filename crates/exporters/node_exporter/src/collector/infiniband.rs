//! `infiniband`: InfiniBand adapters from `/sys/class/infiniband` (port state, rate and the
//! port counters).

use std::path::Path;

use super::infiniband_hw::HwFamilies;
use crate::cli::{DeviceFilter, Settings};
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter_family, gauge_family};
use crate::paths::{Paths, parse_go_uint, sorted_entries, sys_read};

/// A port counter: its directory and file, the metric suffix, the help text, and whether the
/// kernel reports it per lane (data octets are divided by the four lanes, so they are scaled
/// back up, as upstream does).
struct PortCounter {
    dir: &'static str,
    file: &'static str,
    metric: &'static str,
    help: &'static str,
    per_lane: bool,
}

const fn c(
    dir: &'static str,
    file: &'static str,
    metric: &'static str,
    help: &'static str,
    per_lane: bool,
) -> PortCounter {
    PortCounter {
        dir,
        file,
        metric,
        help,
        per_lane,
    }
}

/// `counters_ext/` holds the 64-bit counters of kernels before 4.5.
const COUNTERS: &[PortCounter] = &[
    c(
        "counters_ext",
        "port_multicast_rcv_packets",
        "legacy_multicast_packets_received_total",
        "Number of multicast packets received",
        false,
    ),
    c(
        "counters_ext",
        "port_multicast_xmit_packets",
        "legacy_multicast_packets_transmitted_total",
        "Number of multicast packets transmitted",
        false,
    ),
    c(
        "counters_ext",
        "port_rcv_data_64",
        "legacy_data_received_bytes_total",
        "Number of data octets received on all links",
        true,
    ),
    c(
        "counters_ext",
        "port_rcv_packets_64",
        "legacy_packets_received_total",
        "Number of data packets received on all links",
        false,
    ),
    c(
        "counters_ext",
        "port_unicast_rcv_packets",
        "legacy_unicast_packets_received_total",
        "Number of unicast packets received",
        false,
    ),
    c(
        "counters_ext",
        "port_unicast_xmit_packets",
        "legacy_unicast_packets_transmitted_total",
        "Number of unicast packets transmitted",
        false,
    ),
    c(
        "counters_ext",
        "port_xmit_data_64",
        "legacy_data_transmitted_bytes_total",
        "Number of data octets transmitted on all links",
        true,
    ),
    c(
        "counters_ext",
        "port_xmit_packets_64",
        "legacy_packets_transmitted_total",
        "Number of data packets received on all links",
        false,
    ),
    c(
        "counters",
        "excessive_buffer_overrun_errors",
        "excessive_buffer_overrun_errors_total",
        "Number of times that OverrunErrors consecutive flow control update periods occurred, each having at least one overrun error.",
        false,
    ),
    c(
        "counters",
        "link_downed",
        "link_downed_total",
        "Number of times the link failed to recover from an error state and went down",
        false,
    ),
    c(
        "counters",
        "link_error_recovery",
        "link_error_recovery_total",
        "Number of times the link successfully recovered from an error state",
        false,
    ),
    c(
        "counters",
        "local_link_integrity_errors",
        "local_link_integrity_errors_total",
        "Number of times that the count of local physical errors exceeded the threshold specified by LocalPhyErrors.",
        false,
    ),
    c(
        "counters",
        "multicast_rcv_packets",
        "multicast_packets_received_total",
        "Number of multicast packets received (including errors)",
        false,
    ),
    c(
        "counters",
        "multicast_xmit_packets",
        "multicast_packets_transmitted_total",
        "Number of multicast packets transmitted (including errors)",
        false,
    ),
    c(
        "counters",
        "port_rcv_constraint_errors",
        "port_constraint_errors_received_total",
        "Number of packets received on the switch physical port that are discarded",
        false,
    ),
    c(
        "counters",
        "port_xmit_constraint_errors",
        "port_constraint_errors_transmitted_total",
        "Number of packets not transmitted from the switch physical port",
        false,
    ),
    c(
        "counters",
        "port_rcv_data",
        "port_data_received_bytes_total",
        "Number of data octets received on all links",
        true,
    ),
    c(
        "counters",
        "port_xmit_data",
        "port_data_transmitted_bytes_total",
        "Number of data octets transmitted on all links",
        true,
    ),
    c(
        "counters",
        "port_rcv_discards",
        "port_discards_received_total",
        "Number of inbound packets discarded by the port because the port is down or congested",
        false,
    ),
    c(
        "counters",
        "port_xmit_discards",
        "port_discards_transmitted_total",
        "Number of outbound packets discarded by the port because the port is down or congested",
        false,
    ),
    c(
        "counters",
        "port_rcv_errors",
        "port_errors_received_total",
        "Number of packets containing an error that were received on this port",
        false,
    ),
    c(
        "counters",
        "port_rcv_packets",
        "port_packets_received_total",
        "Number of packets received on all VLs by this port (including errors)",
        false,
    ),
    c(
        "counters",
        "port_xmit_packets",
        "port_packets_transmitted_total",
        "Number of packets transmitted on all VLs from this port (including errors)",
        false,
    ),
    c(
        "counters",
        "port_xmit_wait",
        "port_transmit_wait_total",
        "Number of ticks during which the port had data to transmit but no data was sent during the entire tick",
        false,
    ),
    c(
        "counters",
        "unicast_rcv_packets",
        "unicast_packets_received_total",
        "Number of unicast packets received (including errors)",
        false,
    ),
    c(
        "counters",
        "unicast_xmit_packets",
        "unicast_packets_transmitted_total",
        "Number of unicast packets transmitted (including errors)",
        false,
    ),
    c(
        "counters",
        "port_rcv_remote_physical_errors",
        "port_receive_remote_physical_errors_total",
        "Number of packets marked with the EBP (End of Bad Packet) delimiter received on the port.",
        false,
    ),
    c(
        "counters",
        "port_rcv_switch_relay_errors",
        "port_receive_switch_relay_errors_total",
        "Number of packets that could not be forwarded by the switch.",
        false,
    ),
    c(
        "counters",
        "symbol_error",
        "symbol_error_total",
        "Number of minor link errors detected on one or more physical lanes.",
        false,
    ),
    c(
        "counters",
        "VL15_dropped",
        "vl15_dropped_total",
        "Number of incoming VL15 packets dropped due to resource limitations.",
        false,
    ),
];

/// A state file, `"<id>: <NAME>"`.
fn parse_state(s: &str) -> Result<u64, String> {
    let (id, _) = s
        .split_once(':')
        .filter(|(_, rest)| !rest.contains(':'))
        .ok_or_else(|| format!("failed to split {s} into 'ID: NAME'"))?;
    id.trim()
        .parse::<u32>()
        .map(u64::from)
        .map_err(|_| format!("failed to convert {} into uint", id.trim()))
}

/// A rate file, e.g. `"100 Gb/sec (4X EDR)"`, as bytes per second. The number goes through
/// single precision as upstream parses it.
fn parse_rate(s: &str) -> Result<u64, String> {
    let (num, _) = s
        .split_once(' ')
        .ok_or_else(|| format!("failed to split {s:?}"))?;
    let gbit: f32 = num
        .trim()
        .parse()
        .map_err(|_| format!("failed to convert {} into uint", num.trim()))?;
    Ok((f64::from(gbit) * 125_000_000.0) as u64)
}

/// Reads one counter: `None` when the file is absent, unreadable in the ways sysfs uses for
/// "not supported", or reports `N/A (no PMA)`.
pub(super) fn read_counter(path: &Path) -> Result<Option<u64>, CollectorError> {
    if !std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file()) {
        return Ok(None);
    }
    let value = match sys_read(path) {
        Ok(v) => v,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ) || matches!(e.raw_os_error(), Some(22 | 95)) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(CollectorError::io(path, e)),
    };
    match parse_go_uint(&value) {
        Some(v) => Ok(Some(v)),
        None if value.contains("N/A (no PMA)") => Ok(None),
        None => Err(CollectorError::parse(
            path,
            format!("invalid number {value:?}"),
        )),
    }
}

struct Infiniband {
    paths: Paths,
    devices: DeviceFilter,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Infiniband {
        paths: s.paths.clone(),
        // Upstream does not reject both patterns at once here.
        devices: DeviceFilter::combined(
            (
                "collector.infiniband.device-include",
                s.flags.infiniband_device_include.as_deref(),
            ),
            (
                "collector.infiniband.device-exclude",
                s.flags.infiniband_device_exclude.as_deref(),
            ),
        )?,
    }))
}

impl Collector for Infiniband {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let devices = match sorted_entries(&self.paths.sys("class/infiniband")) {
            Err(e) if e.is_no_data() => {
                return Err(CollectorError::NoData(
                    "infiniband statistics not found, skipping".into(),
                ));
            }
            r => r?,
        };
        let mut info = gauge_family(
            "node_infiniband_info",
            "Non-numeric data from /sys/class/infiniband/<device>, value is always 1.",
        );
        let mut state = gauge_family(
            "node_infiniband_state_id",
            "State of the InfiniBand port (0: no change, 1: down, 2: init, 3: armed, 4: active, 5: act defer)",
        );
        let mut phys_state = gauge_family(
            "node_infiniband_physical_state_id",
            "Physical state of the InfiniBand port (0: no change, 1: sleep, 2: polling, 3: disable, 4: shift, 5: link up, 6: link error recover, 7: phytest)",
        );
        let mut rate = gauge_family(
            "node_infiniband_rate_bytes_per_second",
            "Maximum signal transfer rate",
        );
        let mut counters: Vec<_> = COUNTERS
            .iter()
            .map(|c| counter_family(format!("node_infiniband_{}", c.metric), c.help))
            .collect();
        let mut hw = HwFamilies::new();
        for (device, dir) in devices {
            if self.devices.ignored(&device) {
                continue;
            }
            let fw = dir.join("fw_ver");
            let firmware = sys_read(&fw).map_err(|e| CollectorError::io(fw, e))?;
            let text = |file: &str| match sys_read(&dir.join(file)) {
                Ok(v) => Ok(v),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
                Err(e) => Err(CollectorError::io(dir.join(file), e)),
            };
            let (board_id, hca_type) = (text("board_id")?, text("hca_type")?);
            info.push(
                &[
                    ("device", device.as_str()),
                    ("board_id", &board_id),
                    ("firmware_version", &firmware),
                    ("hca_type", &hca_type),
                ],
                1.0,
            );
            // Port directories are numbers; sorted numerically as upstream's map keys are.
            let mut ports = Vec::new();
            for (name, path) in sorted_entries(&dir.join("ports"))? {
                let number: u32 = name.parse().map_err(|_| {
                    CollectorError::parse(&path, format!("failed to convert {name} into uint"))
                })?;
                ports.push((number, path));
            }
            ports.sort();
            for (number, port_dir) in ports {
                let port = number.to_string();
                let labels = [("device", device.as_str()), ("port", port.as_str())];
                let attr = |file: &str, parse: fn(&str) -> Result<u64, String>| {
                    let path = port_dir.join(file);
                    let text =
                        std::fs::read_to_string(&path).map_err(|e| CollectorError::io(&path, e))?;
                    parse(&text).map_err(|r| CollectorError::parse(&path, r))
                };
                state.push(&labels, attr("state", parse_state)? as f64);
                phys_state.push(&labels, attr("phys_state", parse_state)? as f64);
                rate.push(&labels, attr("rate", parse_rate)? as f64);
                // Drivers may be renamed, so what a port has is looked up, not inferred.
                hw.push_port(&port_dir, &labels)?;
                if !port_dir.join("counters").exists() {
                    continue;
                }
                for (family, counter) in counters.iter_mut().zip(COUNTERS) {
                    let path = port_dir.join(counter.dir).join(counter.file);
                    if let Some(v) = read_counter(&path)? {
                        let v = if counter.per_lane {
                            v.wrapping_mul(4)
                        } else {
                            v
                        };
                        family.push(&labels, v as f64);
                    }
                }
            }
        }
        out.push(info.into_family());
        out.push(state.into_family());
        out.push(phys_state.into_family());
        out.push(rate.into_family());
        out.extend(counters.into_iter().map(|f| f.into_family()));
        out.extend(hw.into_families());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_rates_parse_as_upstream() {
        assert_eq!(parse_state("4: ACTIVE\n"), Ok(4));
        assert!(parse_state("ACTIVE").is_err());
        assert!(parse_state("x: ACTIVE").is_err());
        assert_eq!(parse_rate("40 Gb/sec (4X QDR)\n"), Ok(5_000_000_000));
        assert_eq!(parse_rate("2.5 Gb/sec (1X SDR)"), Ok(312_500_000));
        assert!(parse_rate("fast").is_err());
    }
}
