//! `nfs`: the NFS client's RPC statistics from `/proc/net/rpc/nfs`.

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter, counter_family};
use crate::paths::Paths;

/// Procedure names per protocol version, in the kernel's column order (as procfs names them).
pub(super) const V2: &[&str] = &[
    "Null", "GetAttr", "SetAttr", "Root", "Lookup", "ReadLink", "Read", "WrCache", "Write",
    "Create", "Remove", "Rename", "Link", "SymLink", "MkDir", "RmDir", "ReadDir", "FsStat",
];
pub(super) const V3: &[&str] = &[
    "Null",
    "GetAttr",
    "SetAttr",
    "Lookup",
    "Access",
    "ReadLink",
    "Read",
    "Write",
    "Create",
    "MkDir",
    "SymLink",
    "MkNod",
    "Remove",
    "RmDir",
    "Rename",
    "Link",
    "ReadDir",
    "ReadDirPlus",
    "FsStat",
    "FsInfo",
    "PathConf",
    "Commit",
];
const V4: &[&str] = &[
    "Null",
    "Read",
    "Write",
    "Commit",
    "Open",
    "OpenConfirm",
    "OpenNoattr",
    "OpenDowngrade",
    "Close",
    "Setattr",
    "FsInfo",
    "Renew",
    "SetClientID",
    "SetClientIDConfirm",
    "Lock",
    "Lockt",
    "Locku",
    "Access",
    "Getattr",
    "Lookup",
    "LookupRoot",
    "Remove",
    "Rename",
    "Link",
    "Symlink",
    "Create",
    "Pathconf",
    "StatFs",
    "ReadLink",
    "ReadDir",
    "ServerCaps",
    "DelegReturn",
    "GetACL",
    "SetACL",
    "FsLocations",
    "ReleaseLockowner",
    "Secinfo",
    "FsidPresent",
    "ExchangeID",
    "CreateSession",
    "DestroySession",
    "Sequence",
    "GetLeaseTime",
    "ReclaimComplete",
    "GetDeviceInfo",
    "LayoutGet",
    "LayoutCommit",
    "LayoutReturn",
    "SecinfoNoName",
    "TestStateID",
    "FreeStateID",
    "GetDeviceList",
    "BindConnToSession",
    "DestroyClientID",
    "Seek",
    "Allocate",
    "DeAllocate",
    "LayoutStats",
    "Clone",
];

/// The client statistics; a line the file lacks reads as zeros.
#[derive(Debug, Default, PartialEq)]
struct ClientStats {
    /// net: packets, udp, tcp, tcp connections.
    net: [u64; 4],
    /// rpc: calls, retransmissions, authentication refreshes.
    rpc: [u64; 3],
    v2: Vec<u64>,
    v3: Vec<u64>,
    v4: Vec<u64>,
}

/// A `procN` line: a count, then that many counters, kept to `width` columns. `min` is the
/// fewest the kernel writes; with `pad`, shorter lines (NFSv4 from older kernels) read as zeros.
pub(super) fn procedures(
    v: &[u64],
    width: usize,
    min: usize,
    pad: bool,
) -> Result<Vec<u64>, String> {
    let count = usize::try_from(v[0]).unwrap_or(usize::MAX);
    if v.len() - 1 != count || (!pad && count < min) {
        return Err(format!("invalid procedure line {v:?}"));
    }
    let mut out: Vec<u64> = v[1..].iter().copied().take(width).collect();
    out.resize(width, 0);
    Ok(out)
}

/// The counters of one `label v1 v2 …` line of an RPC statistics file.
pub(super) fn counters(line: &str) -> Result<(&str, Vec<u64>), String> {
    let mut parts = line.split_whitespace();
    let label = parts.next().unwrap_or_default();
    let v = parts
        .map(|p| p.parse::<u64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("error parsing NFS metric line: {e}"))?;
    if v.is_empty() {
        return Err(format!("invalid NFS metric line {line:?}"));
    }
    Ok((label, v))
}

fn parse(text: &str) -> Result<ClientStats, String> {
    let mut s = ClientStats {
        v2: vec![0; V2.len()],
        v3: vec![0; V3.len()],
        v4: vec![0; V4.len()],
        ..ClientStats::default()
    };
    for line in text.lines() {
        let (label, v) = counters(line)?;
        match label {
            "net" => {
                s.net = v
                    .try_into()
                    .map_err(|v| format!("invalid Network line {v:?}"))?
            }
            "rpc" => {
                s.rpc = v
                    .try_into()
                    .map_err(|v| format!("invalid RPC line {v:?}"))?
            }
            "proc2" => s.v2 = procedures(&v, V2.len(), 18, false)?,
            "proc3" => s.v3 = procedures(&v, V3.len(), 22, false)?,
            "proc4" => s.v4 = procedures(&v, V4.len(), 59, true)?,
            other => return Err(format!("unknown NFS metric line {other:?}")),
        }
    }
    Ok(s)
}

struct Nfs(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Nfs(s.paths.clone())))
}

impl Collector for Nfs {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.0.proc("net/rpc/nfs");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CollectorError::NoData("Not collecting NFS metrics".into()));
            }
            Err(e) => return Err(CollectorError::io(path, e)),
        };
        let s = parse(&text).map_err(|r| CollectorError::parse(&path, r))?;
        out.push(
            counter_family(
                "node_nfs_packets_total",
                "Total NFSd network packets (sent+received) by protocol type.",
            )
            .with(&[("protocol", "udp")], s.net[1] as f64)
            .with(&[("protocol", "tcp")], s.net[2] as f64)
            .into_family(),
        );
        counter(
            out,
            "node_nfs_connections_total",
            "Total number of NFSd TCP connections.",
            s.net[3] as f64,
        );
        for (name, help, v) in [
            ("rpcs_total", "Total number of RPCs performed.", s.rpc[0]),
            (
                "rpc_retransmissions_total",
                "Number of RPC transmissions performed.",
                s.rpc[1],
            ),
            (
                "rpc_authentication_refreshes_total",
                "Number of RPC authentication refreshes performed.",
                s.rpc[2],
            ),
        ] {
            counter(out, format!("node_nfs_{name}"), help, v as f64);
        }
        let mut requests = counter_family(
            "node_nfs_requests_total",
            "Number of NFS procedures invoked.",
        );
        for (proto, names, values) in [("2", V2, &s.v2), ("3", V3, &s.v3), ("4", V4, &s.v4)] {
            for (method, v) in names.iter().zip(values) {
                requests.push(&[("proto", proto), ("method", method)], *v as f64);
            }
        }
        out.push(requests.into_family());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_v4_lines_are_padded_and_missing_lines_are_zero() {
        let s = parse("net 1 2 3 4\nrpc 5 6 7\nproc4 2 8 9\n").unwrap();
        assert_eq!(s.net, [1, 2, 3, 4]);
        assert_eq!(s.v4[..3], [8, 9, 0]);
        assert_eq!(s.v4.len(), V4.len());
        assert!(s.v3.iter().all(|&v| v == 0));
        assert!(parse("proc3 3 1 2 3\n").is_err());
        assert!(parse("bogus 1\n").is_err());
    }
}
