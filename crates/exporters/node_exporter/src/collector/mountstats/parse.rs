//! Parsers of /proc/<pid>/mountstats (the NFS client's per-mount statistics) and of the
//! super options in /proc/<pid>/mountinfo, with procfs' validation rules.

use std::collections::HashMap;

/// One `device … mounted on … with fstype …` entry.
#[derive(Debug, PartialEq)]
pub struct Mount<'a> {
    pub device: &'a str,
    pub mount_point: &'a str,
    /// Present for NFS mounts that report statistics.
    pub nfs: Option<NfsStats<'a>>,
}

#[derive(Debug, Default, PartialEq)]
pub struct NfsStats<'a> {
    pub age_seconds: f64,
    /// read, write, direct read, direct write, server read, server write, read pages,
    /// write pages.
    pub bytes: [u64; BYTES_LEN],
    pub events: [u64; EVENTS_LEN],
    pub transports: Vec<Transport<'a>>,
    pub operations: Vec<Operation<'a>>,
}

/// An `xprt:` line, its counters laid out as the TCP form of statistics version 1.1: port,
/// bind, connect, connect idle, idle seconds, sends, receives, bad XIDs, active requests,
/// backlog, maximum slots, sending queue, pending queue.
#[derive(Debug, PartialEq)]
pub struct Transport<'a> {
    pub protocol: &'a str,
    pub counters: [u64; TRANSPORT_LEN],
}

/// A `per-op statistics` line: requests, transmissions, major timeouts, bytes sent, bytes
/// received, then queue, response and total request times in milliseconds.
#[derive(Debug, PartialEq)]
pub struct Operation<'a> {
    pub name: &'a str,
    pub counters: [u64; 8],
}

pub const BYTES_LEN: usize = 8;
pub const EVENTS_LEN: usize = 27;
pub const TRANSPORT_LEN: usize = 13;

type Lines<'a, 'b> = &'b mut std::str::Lines<'a>;

fn uints<const N: usize>(fields: &[&str], what: &str) -> Result<[u64; N], String> {
    if fields.len() != N {
        return Err(format!("invalid NFS {what} stats: {fields:?}"));
    }
    let mut out = [0; N];
    for (slot, f) in out.iter_mut().zip(fields) {
        *slot = parse_uint(f)?;
    }
    Ok(out)
}

fn parse_uint(s: &str) -> Result<u64, String> {
    s.parse().map_err(|_| format!("invalid number {s:?}"))
}

/// Parses the whole file.
pub fn parse_mountstats(text: &str) -> Result<Vec<Mount<'_>>, String> {
    let mut lines = text.lines();
    let mut mounts = Vec::new();
    while let Some(line) = lines.next() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.first() != Some(&"device") {
            continue;
        }
        if f.len() < 8 || f[2] != "mounted" || f[3] != "on" || f[5] != "with" || f[6] != "fstype" {
            return Err(format!("invalid device {f:?}"));
        }
        let mut mount = Mount {
            device: f[1],
            mount_point: f[4],
            nfs: None,
        };
        if f.len() > 8 {
            if f[7] != "nfs" && f[7] != "nfs4" {
                return Err(format!("cannot parse MountStats for {:?}", f[7]));
            }
            let version = f[8].strip_prefix("statvers=").unwrap_or(f[8]);
            mount.nfs = Some(parse_nfs(&mut lines, version)?);
        }
        mounts.push(mount);
    }
    Ok(mounts)
}

/// The indented lines after an NFS device line, up to the end of its per-op table.
fn parse_nfs<'a>(lines: Lines<'a, '_>, version: &str) -> Result<NfsStats<'a>, String> {
    let mut stats = NfsStats::default();
    for line in lines.by_ref() {
        let f: Vec<&'a str> = line.split_whitespace().collect();
        let Some(&key) = f.first() else { break };
        let incomplete = || format!("incomplete information for NFS stats: {f:?}");
        match key {
            "opts:" if f.len() < 2 => return Err(incomplete()),
            "age:" => {
                let age = f.get(1).ok_or_else(incomplete)?;
                stats.age_seconds = age
                    .parse()
                    .map_err(|_| format!("invalid NFS age {age:?}"))?;
            }
            "bytes:" if f.len() < 2 => return Err(incomplete()),
            "bytes:" => stats.bytes = uints(&f[1..], "bytes")?,
            "events:" if f.len() < 2 => return Err(incomplete()),
            "events:" => stats.events = uints(&f[1..], "events")?,
            "xprt:" if f.len() < 3 => return Err(incomplete()),
            "xprt:" => stats.transports.push(parse_transport(&f[1..], version)?),
            "per-op" => break,
            _ => {}
        }
    }
    for line in lines.by_ref() {
        let f: Vec<&'a str> = line.split_whitespace().collect();
        if f.is_empty() {
            break;
        }
        if f.len() < 9 {
            return Err(format!("invalid NFS per-operations stats: {f:?}"));
        }
        let mut counters = [0; 8];
        for (i, v) in f[1..].iter().enumerate() {
            let n = parse_uint(v)?;
            if let Some(slot) = counters.get_mut(i) {
                *slot = n;
            }
        }
        stats.operations.push(Operation {
            name: f[0].strip_suffix(':').unwrap_or(f[0]),
            counters,
        });
    }
    Ok(stats)
}

/// An `xprt:` line: its length is checked against the statistics version and protocol, and
/// the UDP and RDMA forms are padded to the TCP layout.
fn parse_transport<'a>(f: &[&'a str], version: &str) -> Result<Transport<'a>, String> {
    let (protocol, values) = (f[0], &f[1..]);
    let ok = match (version, protocol) {
        ("1.0", "tcp") => values.len() == 10,
        ("1.0", "udp") => values.len() == 7,
        ("1.1", "tcp") => values.len() == 13,
        ("1.1", "udp") => values.len() == 10,
        ("1.1", "rdma") => values.len() >= 20,
        ("1.0" | "1.1", _) => {
            return Err(format!(
                "invalid NFS protocol {protocol:?} in stats {version} statement"
            ));
        }
        _ => {
            return Err(format!(
                "unrecognized NFS transport stats version: {version:?}"
            ));
        }
    };
    if !ok {
        return Err(format!(
            "invalid NFS transport stats {version} statement: {values:?}"
        ));
    }
    let parsed: Vec<u64> = values
        .iter()
        .map(|v| parse_uint(v))
        .collect::<Result<_, _>>()?;
    // UDP has no connect, connect-idle and idle-time fields; RDMA has its own counters where
    // TCP has its three queue fields.
    let layout: Vec<u64> = match protocol {
        "udp" => [&parsed[..2], &[0u64; 3][..], &parsed[2..]].concat(),
        "rdma" => [&parsed[..10], &[0u64; 3][..]].concat(),
        _ => parsed,
    };
    let mut counters = [0; TRANSPORT_LEN];
    for (slot, v) in counters.iter_mut().zip(layout) {
        *slot = v;
    }
    Ok(Transport { protocol, counters })
}

/// The `addr=` super option of every `mountinfo` line, in file order.
pub fn mount_addresses(text: &str) -> Result<Vec<String>, String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            let n = f.len();
            if n < 10 || f[n - 4] != "-" {
                return Err(format!("invalid mountinfo line: {line}"));
            }
            let options: HashMap<&str, &str> = f[n - 1]
                .split(',')
                .map(|o| o.split_once('=').unwrap_or((o, "")))
                .collect();
            Ok(options.get("addr").copied().unwrap_or_default().to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NFS: &str = "device rootfs mounted on / with fstype rootfs
device srv:/x mounted on /mnt/x with fstype nfs statvers=1.1
\topts:\trw,vers=3
\tage:\t13968
\tevents:\t52 226 0 0 1 13 398 0 0 331 0 47 0 0 77 0 0 77 0 0 0 0 0 0 0 0 9
\tbytes:\t1 2 3 4 5 6 7 8
\tRPC iostats version: 1.0  p/v: 100003/4 (nfs)
\txprt:\tudp 832 0 6428 6428 0 12154 0 24 26 5726
\txprt:\ttcp 832 0 1 0 11 6428 6428 0 12154 0 24 26 5726
\tper-op statistics
\t        NULL: 0 0 0 0 0 0 0 0
\t        READ: 1298 1298 0 207680 1210292152 6 79386 79407 3

device proc mounted on /proc with fstype proc
";

    #[test]
    fn parses_nfs_entries() {
        let mounts = parse_mountstats(NFS).unwrap();
        assert_eq!(mounts.len(), 3);
        assert!(mounts[0].nfs.is_none() && mounts[2].nfs.is_none());
        assert_eq!(mounts[1].device, "srv:/x");
        assert_eq!(mounts[1].mount_point, "/mnt/x");
        let s = mounts[1].nfs.as_ref().unwrap();
        assert_eq!(s.age_seconds, 13968.0);
        assert_eq!(s.bytes, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(s.events[26], 9);
        assert_eq!(
            s.transports[0].counters,
            [832, 0, 0, 0, 0, 6428, 6428, 0, 12154, 0, 24, 26, 5726]
        );
        assert_eq!(
            s.transports[1].counters,
            [832, 0, 1, 0, 11, 6428, 6428, 0, 12154, 0, 24, 26, 5726]
        );
        assert_eq!(s.operations.len(), 2);
        assert_eq!(s.operations[1].name, "READ");
        assert_eq!(s.operations[1].counters[7], 79407);
    }

    #[test]
    fn rejects_malformed_entries() {
        assert!(
            parse_mountstats("device x mounted on /y with fstype ext4 statvers=1.1\n").is_err()
        );
        assert!(parse_mountstats("device x mounted at /y with fstype ext4\n").is_err());
        let bad_xprt = "device x mounted on /y with fstype nfs statvers=1.1\n\txprt:\ttcp 1 2 3\n";
        assert!(parse_mountstats(bad_xprt).is_err());
        let bad_version =
            "device x mounted on /y with fstype nfs statvers=2.0\n\txprt:\ttcp 1 2 3\n";
        assert!(parse_mountstats(bad_version).is_err());
    }

    #[test]
    fn reads_addr_super_options() {
        let text = "194 21 0:42 / /mnt rw shared:144 - nfs4 srv:/x rw,vers=4.0,addr=192.168.1.1,local_lock=none\n\
                    21 0 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";
        assert_eq!(mount_addresses(text).unwrap(), ["192.168.1.1", ""]);
        assert!(mount_addresses("1 2 3\n").is_err());
    }
}
