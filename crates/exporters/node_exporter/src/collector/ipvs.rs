//! `ipvs`: the kernel's IP Virtual Server load balancer, totals from `/proc/net/ip_vs_stats`
//! and per-backend connections and weights from `/proc/net/ip_vs`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter, gauge_family};
use crate::paths::{Paths, read};

/// Every backend label, in the order they are reported.
const ALL_LABELS: &[&str] = &[
    "local_address",
    "local_port",
    "remote_address",
    "remote_port",
    "proto",
    "local_mark",
];

struct Ipvs {
    paths: Paths,
    /// The labels chosen with `--collector.ipvs.backend-labels`; backends that differ only in
    /// the others are summed.
    labels: Vec<&'static str>,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Ipvs {
        paths: s.paths.clone(),
        labels: backend_labels(&s.flags.ipvs_backend_labels)?,
    }))
}

fn backend_labels(flag: &str) -> Result<Vec<&'static str>, ConfigError> {
    let wanted: Vec<&str> = flag.split(',').filter(|l| !l.is_empty()).collect();
    let mut unknown: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|l| !ALL_LABELS.contains(l))
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        unknown.dedup();
        return Err(ConfigError::Invalid {
            flag: "collector.ipvs.backend-labels",
            reason: format!("unknown IPVS backend labels: {:?}", unknown.join(", ")),
        });
    }
    Ok(ALL_LABELS
        .iter()
        .copied()
        .filter(|l| wanted.contains(l))
        .collect())
}

/// The five hexadecimal totals on the third line of `ip_vs_stats`.
fn parse_stats(text: &str) -> Result<[u64; 5], String> {
    let lines: Vec<&str> = text.splitn(4, '\n').collect();
    if lines.len() != 4 {
        return Err("ip_vs_stats corrupt: too short".into());
    }
    let fields: Vec<&str> = lines[2].split_whitespace().collect();
    if fields.len() != 5 {
        return Err("ip_vs_stats corrupt: unexpected number of fields".into());
    }
    let mut out = [0u64; 5];
    for (o, f) in out.iter_mut().zip(&fields) {
        *o = u64::from_str_radix(f, 16).map_err(|e| format!("{f:?}: {e}"))?;
    }
    Ok(out)
}

/// `C0A80016:0CEA` or `[v6 address]:port` as written by the kernel.
fn parse_ip_port(s: &str) -> Result<(IpAddr, u16), String> {
    let ip = match s.len() {
        13 => {
            let v = u32::from_str_radix(&s[..8], 16).map_err(|e| format!("{s:?}: {e}"))?;
            IpAddr::V4(Ipv4Addr::from(v))
        }
        46 => s[1..40]
            .parse()
            .map_err(|_| format!("Invalid IPv6 addr {}", &s[1..40]))?,
        _ => return Err(format!("Unexpected IP:Port {s}")),
    };
    let port = u16::from_str_radix(&s[s.len() - 4..], 16).map_err(|e| format!("{s:?}: {e}"))?;
    Ok((ip, port))
}

/// One `->` line with the service it belongs to.
struct Backend {
    local_address: String,
    local_port: u16,
    local_mark: String,
    remote_address: String,
    remote_port: u16,
    proto: String,
    weight: u64,
    active: u64,
    inactive: u64,
}

fn parse_backends(text: &str) -> Result<Vec<Backend>, String> {
    let mut out = Vec::new();
    let (mut proto, mut mark, mut local, mut local_port) =
        (String::new(), String::new(), String::new(), 0u16);
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            [] | ["IP" | "Prot", ..] | [_, "RemoteAddress:Port", ..] => {}
            [p @ ("TCP" | "UDP"), addr, ..] => {
                proto = (*p).to_owned();
                mark.clear();
                let (ip, port) = parse_ip_port(addr)?;
                local = ip.to_string();
                local_port = port;
            }
            ["FWM", m, ..] => {
                proto = "FWM".into();
                mark = (*m).to_owned();
                local.clear();
                local_port = 0;
            }
            ["->", addr, _, weight, active, inactive, ..] => {
                let (ip, port) = parse_ip_port(addr)?;
                let num = |s: &str| s.parse::<u64>().map_err(|e| format!("{s:?}: {e}"));
                out.push(Backend {
                    local_address: local.clone(),
                    local_port,
                    local_mark: mark.clone(),
                    remote_address: ip.to_string(),
                    remote_port: port,
                    proto: proto.clone(),
                    weight: num(weight)?,
                    active: num(active)?,
                    inactive: num(inactive)?,
                });
            }
            _ => {}
        }
    }
    Ok(out)
}

impl Collector for Ipvs {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let stats_path = self.paths.proc("net/ip_vs_stats");
        let text = match read(&stats_path) {
            Err(e) if e.is_no_data() => {
                return Err(CollectorError::NoData(
                    "ipvs collector metrics are not available for this system".into(),
                ));
            }
            r => r?,
        };
        let totals = parse_stats(&text).map_err(|r| CollectorError::parse(&stats_path, r))?;
        for ((name, help), v) in [
            ("connections_total", "The total number of connections made."),
            (
                "incoming_packets_total",
                "The total number of incoming packets.",
            ),
            (
                "outgoing_packets_total",
                "The total number of outgoing packets.",
            ),
            ("incoming_bytes_total", "The total amount of incoming data."),
            ("outgoing_bytes_total", "The total amount of outgoing data."),
        ]
        .into_iter()
        .zip(totals)
        {
            counter(out, format!("node_ipvs_{name}"), help, v as f64);
        }
        let path = self.paths.proc("net/ip_vs");
        let backends =
            parse_backends(&read(&path)?).map_err(|r| CollectorError::parse(&path, r))?;
        let mut sums: BTreeMap<Vec<String>, [u64; 3]> = BTreeMap::new();
        for b in &backends {
            let key: Vec<String> = self
                .labels
                .iter()
                .map(|l| match *l {
                    "local_address" => b.local_address.clone(),
                    "local_port" => b.local_port.to_string(),
                    "remote_address" => b.remote_address.clone(),
                    "remote_port" => b.remote_port.to_string(),
                    "proto" => b.proto.clone(),
                    _ => b.local_mark.clone(),
                })
                .collect();
            let sum = sums.entry(key).or_default();
            sum[0] += b.active;
            sum[1] += b.inactive;
            sum[2] += b.weight;
        }
        let mut families = [
            gauge_family(
                "node_ipvs_backend_connections_active",
                "The current active connections by local and remote address.",
            ),
            gauge_family(
                "node_ipvs_backend_connections_inactive",
                "The current inactive connections by local and remote address.",
            ),
            gauge_family(
                "node_ipvs_backend_weight",
                "The current backend weight by local and remote address.",
            ),
        ];
        for (values, sum) in &sums {
            let labels: Vec<(&str, &str)> = self
                .labels
                .iter()
                .copied()
                .zip(values.iter().map(String::as_str))
                .collect();
            for (family, v) in families.iter_mut().zip(sum) {
                family.push(&labels, *v as f64);
            }
        }
        out.extend(families.map(|f| f.into_family()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_flag_keeps_upstream_order_and_rejects_unknown() {
        assert_eq!(
            backend_labels("proto,local_port").unwrap(),
            ["local_port", "proto"]
        );
        assert!(backend_labels("proto,nope").is_err());
        assert!(backend_labels("").unwrap().is_empty());
    }

    #[test]
    fn addresses_and_ports() {
        let (ip, port) = parse_ip_port("C0A80016:0CEA").unwrap();
        assert_eq!((ip.to_string(), port), ("192.168.0.22".into(), 3306));
        let v6 = "[2620:0000:0000:0000:0000:0000:0000:0001]:0050";
        let (ip, port) = parse_ip_port(v6).unwrap();
        assert_eq!((ip.to_string(), port), ("2620::1".into(), 80));
        assert!(parse_ip_port("junk").is_err());
    }
}
