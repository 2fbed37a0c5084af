//! Small collectors over `/proc/net`: `arp` (neighbour entries per device), `softnet`
//! (per-CPU packet processing) and `udp_queues` (bytes queued on UDP sockets).

use std::collections::BTreeMap;

use crate::cli::{DeviceFilter, Settings};
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter_family, gauge_family};
use crate::paths::{Paths, read};

struct Arp {
    paths: Paths,
    filter: DeviceFilter,
}

/// Upstream asks the kernel over rtnetlink by default (`--collector.arp.netlink`); the kernel
/// lists the very same IPv4 neighbours, NOARP ones left out, in `/proc/net/arp`, which is
/// what is read here whatever that flag says.
pub fn arp(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Arp {
        paths: s.paths.clone(),
        filter: DeviceFilter::combined(
            (
                "collector.arp.device-include",
                s.flags.arp_device_include.as_deref(),
            ),
            (
                "collector.arp.device-exclude",
                s.flags.arp_device_exclude.as_deref(),
            ),
        )?,
    }))
}

/// Entries per device in `/proc/net/arp`: a nine-word header, then six columns a line.
fn arp_entries(text: &str) -> Result<BTreeMap<&str, u32>, String> {
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        match cols.len() {
            0 | 9 => {}
            6 => *counts.entry(cols[5]).or_default() += 1,
            n => return Err(format!("{n} columns found, but expected 6")),
        }
    }
    Ok(counts)
}

impl Collector for Arp {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.paths.proc("net/arp");
        let text = read(&path)?;
        let counts = arp_entries(&text).map_err(|r| CollectorError::parse(&path, r))?;
        let mut family = gauge_family("node_arp_entries", "ARP entries by device");
        for (device, n) in counts {
            if !self.filter.ignored(device) {
                family.push(&[("device", device)], f64::from(n));
            }
        }
        out.push(family.into_family());
        Ok(())
    }
}

struct Softnet(Paths);

pub fn softnet(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Softnet(s.paths.clone())))
}

/// One CPU's line of `/proc/net/softnet_stat`, in hexadecimal columns whose number grew
/// with kernel versions; the CPU index is a column since 5.10, else the line number.
fn softnet_line(line: &str, index: usize) -> Result<[u32; 8], String> {
    let cols: Vec<&str> = line.split_whitespace().collect();
    if cols.len() < 9 {
        return Err(format!(
            "detected {} columns, but expected at least 9",
            cols.len()
        ));
    }
    let hex = |i: usize| {
        u32::from_str_radix(cols[i], 16).map_err(|e| format!("column {i} {:?}: {e}", cols[i]))
    };
    let opt = |i: usize| if cols.len() > i { hex(i) } else { Ok(0) };
    let (backlog, cpu) = if cols.len() >= 13 {
        (hex(11)?, hex(12)?)
    } else {
        (0, u32::try_from(index).unwrap_or(u32::MAX))
    };
    Ok([
        hex(0)?,
        hex(1)?,
        hex(2)?,
        hex(8)?,
        opt(9)?,
        opt(10)?,
        backlog,
        cpu,
    ])
}

impl Collector for Softnet {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.0.proc("net/softnet_stat");
        let text = read(&path)?;
        let mut families = [
            counter_family(
                "node_softnet_processed_total",
                "Number of processed packets",
            ),
            counter_family("node_softnet_dropped_total", "Number of dropped packets"),
            counter_family(
                "node_softnet_times_squeezed_total",
                "Number of times processing packets ran out of quota",
            ),
            counter_family(
                "node_softnet_cpu_collision_total",
                "Number of collision occur while obtaining device lock while transmitting",
            ),
            counter_family(
                "node_softnet_received_rps_total",
                "Number of times cpu woken up received_rps",
            ),
            counter_family(
                "node_softnet_flow_limit_count_total",
                "Number of times flow limit has been reached",
            ),
            gauge_family("node_softnet_backlog_len", "Softnet backlog status"),
        ];
        for (i, line) in text.lines().enumerate() {
            let v = softnet_line(line, i).map_err(|r| CollectorError::parse(&path, r))?;
            let cpu = v[7].to_string();
            for (family, value) in families.iter_mut().zip(v) {
                family.push(&[("cpu", &cpu)], f64::from(value));
            }
        }
        out.extend(families.map(|f| f.into_family()));
        Ok(())
    }
}

struct UdpQueues(Paths);

pub fn udp_queues(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(UdpQueues(s.paths.clone())))
}

/// The summed `tx_queue` and `rx_queue` of a `/proc/net/udp{,6}` table.
fn udp_summary(text: &str) -> Result<(u64, u64), String> {
    let (mut tx, mut rx) = (0u64, 0u64);
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 10 {
            return Err(format!("Less than 10 columns found {:?}", cols.join(" ")));
        }
        let (t, r) = cols[4]
            .split_once(':')
            .ok_or_else(|| format!("Unable to parse tx_queue/rx_queue {:?}", cols[4]))?;
        let hex = |s: &str| u64::from_str_radix(s, 16).map_err(|e| format!("{s:?}: {e}"));
        tx = tx.wrapping_add(hex(t)?);
        rx = rx.wrapping_add(hex(r)?);
    }
    Ok((tx, rx))
}

impl Collector for UdpQueues {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let mut family = gauge_family(
            "node_udp_queues",
            "Number of allocated memory in the kernel for UDP datagrams in bytes.",
        );
        let mut missing = 0;
        for (file, ip) in [("net/udp", "v4"), ("net/udp6", "v6")] {
            let path = self.0.proc(file);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    tracing::debug!(ip, "not collecting udp queue metrics");
                    missing += 1;
                    continue;
                }
                Err(e) => return Err(CollectorError::io(path, e)),
            };
            let (tx, rx) = udp_summary(&text).map_err(|r| CollectorError::parse(&path, r))?;
            family.push(&[("queue", "tx"), ("ip", ip)], tx as f64);
            family.push(&[("queue", "rx"), ("ip", ip)], rx as f64);
        }
        if missing == 2 {
            return Err(CollectorError::NoData("no /proc/net/udp{,6}".into()));
        }
        out.push(family.into_family());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arp_counts_per_device() {
        let text = "IP address HW type Flags HW address Mask Device\n\
                    1.1.1.1 0x1 0x2 aa:bb:cc:dd:ee:ff * eth0\n\
                    1.1.1.2 0x1 0x0 00:00:00:00:00:00 * eth0\n";
        let c = arp_entries(text).unwrap();
        assert_eq!(c["eth0"], 2);
        assert!(arp_entries("a b c\n").is_err());
    }

    #[test]
    fn softnet_columns_by_kernel_version() {
        let old = "00000010 00000001 00000002 0 0 0 0 0 00000003\n";
        assert_eq!(softnet_line(old, 5).unwrap(), [16, 1, 2, 3, 0, 0, 0, 5]);
        let new = "1 2 3 0 0 0 0 0 4 5 6 7 a\n";
        assert_eq!(softnet_line(new, 0).unwrap(), [1, 2, 3, 4, 5, 6, 7, 10]);
        assert!(softnet_line("1 2", 0).is_err());
    }

    #[test]
    fn udp_queues_are_summed() {
        let text = "sl local rem st tx:rx tr retr uid timeout inode\n\
                    0: 0:0016 0:0 0A 00000015:00000002 00:0 0 0 0 2740 1\n\
                    1: 0:0017 0:0 0A 00000001:00000000 00:0 0 0 0 2741 1\n";
        assert_eq!(udp_summary(text).unwrap(), (0x16, 2));
    }
}
