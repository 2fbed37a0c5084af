//! Network statistics: `netdev` (per-device counters), `netstat` (/proc/net/{netstat,snmp,snmp6})
//! and `sockstat` (/proc/net/sockstat{,6}).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use regex::Regex;

use crate::cli::{DeviceFilter, Settings, regex_flag};
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter_family, gauge, untyped_family};
use crate::paths::{Paths, read, sorted_entries};

/// The counters `netdev` reports for each device, in /proc/net/dev's names.
const RECEIVE: [&str; 8] = [
    "bytes",
    "packets",
    "errs",
    "drop",
    "fifo",
    "frame",
    "compressed",
    "multicast",
];
const TRANSMIT: [&str; 8] = [
    "bytes",
    "packets",
    "errs",
    "drop",
    "fifo",
    "colls",
    "carrier",
    "compressed",
];

struct Netdev {
    paths: Paths,
    filter: DeviceFilter,
    /// Read the kernel's own counters (upstream asks over netlink; the same counters are in
    /// the host's /sys/class/net/*/statistics) rather than `<procfs>/net/dev`.
    kernel: bool,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Netdev {
        paths: s.paths.clone(),
        filter: DeviceFilter::new(
            (
                "collector.netdev.device-include",
                s.flags.netdev_device_include.as_deref(),
            ),
            (
                "collector.netdev.device-exclude",
                s.flags.netdev_device_exclude.as_deref(),
            ),
        )?,
        kernel: s.netdev_netlink,
    }))
}

type DeviceStats = Vec<(String, Vec<(String, f64)>)>;

impl Netdev {
    /// `<procfs>/net/dev`: two header lines, then `name: 8 receive and 8 transmit counters`.
    fn read_procfs(&self) -> Result<DeviceStats, CollectorError> {
        let path = self.paths.proc("net/dev");
        let text = read(&path)?;
        let mut out = Vec::new();
        for line in text.lines().skip(2) {
            let Some((name, values)) = line.split_once(':') else {
                continue;
            };
            let values: Vec<f64> = values
                .split_whitespace()
                .map(|v| v.parse().unwrap_or_default())
                .collect();
            let names = RECEIVE
                .iter()
                .map(|n| format!("receive_{n}"))
                .chain(TRANSMIT.iter().map(|n| format!("transmit_{n}")));
            out.push((name.trim().to_owned(), names.zip(values).collect()));
        }
        Ok(out)
    }

    /// The kernel's per-device counters, folded into /proc/net/dev's columns the way the
    /// kernel itself prints them, plus `receive_nohandler`.
    fn read_kernel(&self) -> Result<DeviceStats, CollectorError> {
        let dir = PathBuf::from("/sys/class/net");
        let mut out = Vec::new();
        for (name, path) in sorted_entries(&dir)? {
            let stats = path.join("statistics");
            let get = |f: &str| read_counter(&stats.join(f));
            let rx = [
                ("receive_bytes", get("rx_bytes")),
                ("receive_packets", get("rx_packets")),
                ("receive_errs", get("rx_errors")),
                ("receive_drop", get("rx_dropped") + get("rx_missed_errors")),
                ("receive_fifo", get("rx_fifo_errors")),
                (
                    "receive_frame",
                    get("rx_length_errors")
                        + get("rx_over_errors")
                        + get("rx_crc_errors")
                        + get("rx_frame_errors"),
                ),
                ("receive_compressed", get("rx_compressed")),
                ("receive_multicast", get("multicast")),
                ("receive_nohandler", get("rx_nohandler")),
                ("transmit_bytes", get("tx_bytes")),
                ("transmit_packets", get("tx_packets")),
                ("transmit_errs", get("tx_errors")),
                ("transmit_drop", get("tx_dropped")),
                ("transmit_fifo", get("tx_fifo_errors")),
                ("transmit_colls", get("collisions")),
                (
                    "transmit_carrier",
                    get("tx_carrier_errors")
                        + get("tx_aborted_errors")
                        + get("tx_window_errors")
                        + get("tx_heartbeat_errors"),
                ),
                ("transmit_compressed", get("tx_compressed")),
            ];
            out.push((
                name,
                rx.into_iter().map(|(n, v)| (n.to_owned(), v)).collect(),
            ));
        }
        Ok(out)
    }
}

/// A counter file, 0 when absent (older kernels lack some).
fn read_counter(path: &Path) -> f64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_default()
}

impl Collector for Netdev {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let devices = if self.kernel {
            self.read_kernel()?
        } else {
            self.read_procfs()?
        };
        let mut families: Vec<(String, pm_common::metrics::ConstFamily)> = Vec::new();
        for (device, stats) in devices.iter().filter(|(d, _)| !self.filter.ignored(d)) {
            for (stat, value) in stats {
                let i = match families.iter().position(|(s, _)| s == stat) {
                    Some(i) => i,
                    None => {
                        families.push((
                            stat.clone(),
                            counter_family(
                                format!("node_network_{stat}_total"),
                                format!("Network device statistic {stat}."),
                            ),
                        ));
                        families.len() - 1
                    }
                };
                families[i].1.push(&[("device", device)], *value);
            }
        }
        out.extend(families.into_iter().map(|(_, f)| f.into_family()));
        Ok(())
    }
}

struct Netstat {
    paths: Paths,
    fields: Option<Regex>,
    /// The filter's answer per key. The keys are the kernel's counter names, a fixed set of a
    /// few hundred, so each is matched once instead of on every scrape (upstream's default
    /// pattern is a large alternation behind `.*`, slow and cache-hungry to match).
    kept: Mutex<HashMap<String, bool>>,
}

pub fn netstat(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Netstat {
        paths: s.paths.clone(),
        fields: regex_flag("collector.netstat.fields", Some(&s.flags.netstat_fields))?,
        kept: Mutex::new(HashMap::new()),
    }))
}

/// /proc/net/netstat and /proc/net/snmp: pairs of `Proto: names…` / `Proto: values…` lines.
fn parse_pairs(
    path: &Path,
    text: &str,
    out: &mut Vec<(String, String, String)>,
) -> Result<(), CollectorError> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    for pair in lines.chunks(2) {
        let [names, values] = pair else {
            return Err(CollectorError::parse(path, "odd number of lines"));
        };
        let (proto, names) = names.split_once(':').unwrap_or(("", names));
        let (_, values) = values.split_once(':').unwrap_or(("", values));
        let names: Vec<&str> = names.split_whitespace().collect();
        let values: Vec<&str> = values.split_whitespace().collect();
        if names.len() != values.len() {
            return Err(CollectorError::parse(
                path,
                format!("mismatch field count in {proto}"),
            ));
        }
        for (n, v) in names.iter().zip(values) {
            out.push((proto.to_owned(), (*n).to_owned(), v.to_owned()));
        }
    }
    Ok(())
}

/// /proc/net/snmp6: `Ip6InReceives  7`; the protocol runs through the first `6`.
fn parse_snmp6(text: &str, out: &mut Vec<(String, String, String)>) {
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let (Some(key), Some(value)) = (f.next(), f.next()) else {
            continue;
        };
        let Some(i) = key.find('6') else { continue };
        out.push((
            key[..=i].to_owned(),
            key[i + 1..].to_owned(),
            value.to_owned(),
        ));
    }
}

impl Collector for Netstat {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let mut stats = Vec::new();
        for file in ["net/netstat", "net/snmp"] {
            let path = self.paths.proc(file);
            parse_pairs(&path, &read(&path)?, &mut stats)?;
        }
        // IPv6 may be disabled: then there is no snmp6 and nothing to report for it.
        if let Ok(text) = std::fs::read_to_string(self.paths.proc("net/snmp6")) {
            parse_snmp6(&text, &mut stats);
        }
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        for (proto, name, value) in stats {
            let key = format!("{proto}_{name}");
            if let Some(fields) = &self.fields {
                let keep = match kept.get(&key) {
                    Some(&keep) => keep,
                    None => {
                        let keep = fields.is_match(&key);
                        kept.insert(key.clone(), keep);
                        keep
                    }
                };
                if !keep {
                    continue;
                }
            }
            let v: f64 = value.parse().map_err(|_| {
                CollectorError::parse(
                    self.paths.proc("net/netstat"),
                    format!("invalid value for {key}"),
                )
            })?;
            out.push(
                untyped_family(
                    format!("node_netstat_{key}"),
                    format!("Statistic {proto}{name}."),
                )
                .with(&[], v)
                .into_family(),
            );
        }
        Ok(())
    }
}

struct Sockstat(Paths);

pub fn sockstat(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Sockstat(s.paths.clone())))
}

impl Collector for Sockstat {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let page = rustix::param::page_size() as f64;
        for (file, required) in [("net/sockstat", true), ("net/sockstat6", false)] {
            let path = self.0.proc(file);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(CollectorError::io(&path, e)),
            };
            for line in text.lines() {
                let Some((proto, rest)) = line.split_once(':') else {
                    continue;
                };
                let f: Vec<&str> = rest.split_whitespace().collect();
                for kv in f.chunks(2) {
                    let [k, v] = kv else { continue };
                    let v: f64 = v.parse().map_err(|_| {
                        CollectorError::parse(&path, format!("invalid value in {line:?}"))
                    })?;
                    if proto == "sockets" {
                        if *k == "used" {
                            gauge(
                                out,
                                "node_sockstat_sockets_used",
                                "Number of IPv4 sockets in use.",
                                v,
                            );
                        }
                        continue;
                    }
                    gauge(
                        out,
                        format!("node_sockstat_{proto}_{k}"),
                        &format!("Number of {proto} sockets in state {k}."),
                        v,
                    );
                    if *k == "mem" {
                        gauge(
                            out,
                            format!("node_sockstat_{proto}_mem_bytes"),
                            &format!("Number of {proto} sockets in state mem_bytes."),
                            v * page,
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snmp6_protocols_end_at_the_six() {
        let mut out = Vec::new();
        parse_snmp6("Ip6InReceives 7\nUdpLite6InErrors 0\n", &mut out);
        assert_eq!(out[0], ("Ip6".into(), "InReceives".into(), "7".into()));
        assert_eq!(out[1].0, "UdpLite6");
    }

    #[test]
    fn netstat_pairs_need_equal_lengths() {
        let mut out = Vec::new();
        let p = Path::new("x");
        parse_pairs(p, "Tcp: A B\nTcp: 1 2\n", &mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert!(parse_pairs(p, "Tcp: A B\nTcp: 1\n", &mut out).is_err());
    }
}
