//! `nfsd`: the NFS server's RPC statistics from `/proc/net/rpc/nfsd`.

use super::nfs::{V2, V3, counters, procedures};
use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter, counter_family, gauge};
use crate::paths::Paths;

/// NFSv4 operations in the kernel's `proc4ops` column order; `None` marks the columns upstream
/// does not export (the unused/future slots and the public/root file handle operations).
const V4_OPS: &[Option<&str>] = &[
    None,
    None,
    None,
    Some("Access"),
    Some("Close"),
    Some("Commit"),
    Some("Create"),
    Some("DelegPurge"),
    Some("DelegReturn"),
    Some("GetAttr"),
    Some("GetFH"),
    Some("Link"),
    Some("Lock"),
    Some("Lockt"),
    Some("Locku"),
    Some("Lookup"),
    Some("LookupRoot"),
    Some("Nverify"),
    Some("Open"),
    Some("OpenAttr"),
    Some("OpenConfirm"),
    Some("OpenDgrd"),
    Some("PutFH"),
    None,
    None,
    Some("Read"),
    Some("ReadDir"),
    Some("ReadLink"),
    Some("Remove"),
    Some("Rename"),
    Some("Renew"),
    Some("RestoreFH"),
    Some("SaveFH"),
    Some("SecInfo"),
    Some("SetAttr"),
    Some("SetClientID"),
    Some("SetClientIDConfirm"),
    Some("Verify"),
    Some("Write"),
    Some("RelLockOwner"),
];

/// Kernels before 2.6 write one operation fewer (no RelLockOwner).
const V4_OPS_MIN: usize = 39;

/// The server statistics, laid out as the file's lines; a line the file lacks reads as zeros.
#[derive(Debug, Default, PartialEq)]
struct ServerStats {
    /// rc: hits, misses, nocache.
    reply_cache: [u64; 3],
    /// fh: stale, total lookups, anonymous lookups, dir not cached, non-dir not cached.
    file_handles: [u64; 5],
    /// io: bytes read, bytes written.
    io: [u64; 2],
    /// th: threads, times all threads were busy (the load histogram after them is ignored).
    threads: [u64; 2],
    /// ra: cache size, ten depth buckets, not found.
    read_ahead: [u64; 12],
    /// net: packets, udp, tcp, tcp connections.
    net: [u64; 4],
    /// rpc: calls, bad calls, bad format, bad auth, bad client.
    rpc: [u64; 5],
    v2: Vec<u64>,
    v3: Vec<u64>,
    v4_ops: Vec<u64>,
    wdeleg_getattr: u64,
}

fn fixed<const N: usize>(v: Vec<u64>, what: &str) -> Result<[u64; N], String> {
    v.try_into()
        .map_err(|v| format!("invalid {what} line {v:?}"))
}

fn parse(text: &str) -> Result<ServerStats, String> {
    let mut s = ServerStats {
        v2: vec![0; V2.len()],
        v3: vec![0; V3.len()],
        v4_ops: vec![0; V4_OPS.len()],
        ..ServerStats::default()
    };
    for line in text.lines() {
        let (label, v) = if let Some(rest) = line.strip_prefix("th ") {
            // The thread line ends in a histogram of fractional seconds: only its first two
            // fields are counters.
            let head: Vec<&str> = rest.split_whitespace().take(2).collect();
            ("th", counters(&format!("th {}", head.join(" ")))?.1)
        } else {
            counters(line)?
        };
        match label {
            "rc" => s.reply_cache = fixed(v, "ReplyCache")?,
            "fh" => s.file_handles = fixed(v, "FileHandles")?,
            "io" => s.io = fixed(v, "InputOutput")?,
            "th" => s.threads = fixed(v, "Threads")?,
            "ra" => s.read_ahead = fixed(v, "ReadAheadCache")?,
            "net" => s.net = fixed(v, "Network")?,
            "rpc" => s.rpc = fixed(v, "RPC")?,
            "proc2" => s.v2 = procedures(&v, V2.len(), V2.len(), false)?,
            "proc3" => s.v3 = procedures(&v, V3.len(), V3.len(), false)?,
            "proc4" if v.len() == 3 && v[0] == 2 => {}
            "proc4" => return Err(format!("invalid V4Stats line {v:?}")),
            "proc4ops" => s.v4_ops = procedures(&v, V4_OPS.len(), V4_OPS_MIN, false)?,
            "wdeleg_getattr" => s.wdeleg_getattr = v[0],
            other => return Err(format!("unknown NFSd metric line {other:?}")),
        }
    }
    Ok(s)
}

struct Nfsd(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Nfsd(s.paths.clone())))
}

impl Collector for Nfsd {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.0.proc("net/rpc/nfsd");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CollectorError::NoData("Not collecting NFSd metrics".into()));
            }
            Err(e) => return Err(CollectorError::io(path, e)),
        };
        let s = parse(&text).map_err(|r| CollectorError::parse(&path, r))?;
        for (name, help, v) in [
            (
                "reply_cache_hits_total",
                "Total number of NFSd Reply Cache hits (client lost server response).",
                s.reply_cache[0],
            ),
            (
                "reply_cache_misses_total",
                "Total number of NFSd Reply Cache an operation that requires caching (idempotent).",
                s.reply_cache[1],
            ),
            (
                "reply_cache_nocache_total",
                "Total number of NFSd Reply Cache non-idempotent operations (rename/delete/\u{2026}).",
                s.reply_cache[2],
            ),
            (
                "file_handles_stale_total",
                "Total number of NFSd stale file handles",
                s.file_handles[0],
            ),
            ("disk_bytes_read_total", "Total NFSd bytes read.", s.io[0]),
            (
                "disk_bytes_written_total",
                "Total NFSd bytes written.",
                s.io[1],
            ),
            (
                "read_ahead_cache_not_found_total",
                "Total number of NFSd read ahead cache not found.",
                s.read_ahead[11],
            ),
            (
                "connections_total",
                "Total number of NFSd TCP connections.",
                s.net[3],
            ),
            ("server_rpcs_total", "Total number of NFSd RPCs.", s.rpc[0]),
        ] {
            counter(out, format!("node_nfsd_{name}"), help, v as f64);
        }
        gauge(
            out,
            "node_nfsd_server_threads",
            "Total number of NFSd kernel threads that are running.",
            s.threads[0] as f64,
        );
        gauge(
            out,
            "node_nfsd_read_ahead_cache_size_blocks",
            "How large the read ahead cache is in blocks.",
            s.read_ahead[0] as f64,
        );
        out.push(
            counter_family(
                "node_nfsd_packets_total",
                "Total NFSd network packets (sent+received) by protocol type.",
            )
            .with(&[("proto", "udp")], s.net[1] as f64)
            .with(&[("proto", "tcp")], s.net[2] as f64)
            .into_family(),
        );
        out.push(
            counter_family(
                "node_nfsd_rpc_errors_total",
                "Total number of NFSd RPC errors by error type.",
            )
            .with(&[("error", "fmt")], s.rpc[2] as f64)
            .with(&[("error", "auth")], s.rpc[3] as f64)
            .with(&[("error", "cInt")], s.rpc[4] as f64)
            .into_family(),
        );
        let mut requests = counter_family(
            "node_nfsd_requests_total",
            "Total number NFSd Requests by method and protocol.",
        );
        // The NULL procedure (the first column of v2 and v3) is not exported.
        for (proto, names, values) in [("2", V2, &s.v2), ("3", V3, &s.v3)] {
            for (method, v) in names.iter().zip(values).skip(1) {
                requests.push(&[("proto", proto), ("method", method)], *v as f64);
            }
        }
        for (method, v) in V4_OPS.iter().zip(&s.v4_ops) {
            if let Some(method) = method {
                requests.push(&[("proto", "4"), ("method", method)], *v as f64);
            }
        }
        requests.push(
            &[("proto", "4"), ("method", "WdelegGetattr")],
            s.wdeleg_getattr as f64,
        );
        out.push(requests.into_family());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_kernels_lack_rel_lock_owner_and_bad_lines_fail() {
        let ops: Vec<String> = (0..39).map(|i| i.to_string()).collect();
        let s = parse(&format!(
            "proc4ops 39 {}\nth 4 1 0.000 1.5\n",
            ops.join(" ")
        ))
        .unwrap();
        assert_eq!(s.v4_ops[3], 3, "Access is the fourth column");
        assert_eq!(s.v4_ops[39], 0, "RelLockOwner reads as zero");
        assert_eq!(s.threads, [4, 1]);
        assert!(parse("proc4ops 38 0\n").is_err());
        assert!(parse("proc4 3 1 2 3\n").is_err());
        assert!(parse("rc 1 2\n").is_err());
        assert!(parse("bogus 1\n").is_err());
    }
}
