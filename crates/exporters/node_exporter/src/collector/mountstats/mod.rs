//! `mountstats`: per-mount NFS client statistics from /proc/self/mountstats, labelled with
//! the server address from the matching /proc/self/mountinfo line.

mod parse;

use std::collections::{BTreeMap, HashSet};

use pm_common::metrics::{ConstFamily, ConstKind};

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::Out;
use crate::paths::{Paths, read};
use parse::{NfsStats, mount_addresses, parse_mountstats};
use pm_common::metrics::ConstKind::{Counter, Gauge};

struct Mountstats(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Mountstats(s.paths.clone())))
}

/// Counters past 2^53 are wrapped there, as upstream does, before becoming floats.
const FLOAT64_MANTISSA: u64 = 1 << 53;

/// `bytes:` fields by position: metric suffix and help.
const BYTES: [(&str, &str); 8] = [
    (
        "read_bytes_total",
        "Number of bytes read using the read() syscall.",
    ),
    (
        "write_bytes_total",
        "Number of bytes written using the write() syscall.",
    ),
    (
        "direct_read_bytes_total",
        "Number of bytes read using the read() syscall in O_DIRECT mode.",
    ),
    (
        "direct_write_bytes_total",
        "Number of bytes written using the write() syscall in O_DIRECT mode.",
    ),
    (
        "total_read_bytes_total",
        "Number of bytes read from the NFS server, in total.",
    ),
    (
        "total_write_bytes_total",
        "Number of bytes written to the NFS server, in total.",
    ),
    (
        "read_pages_total",
        "Number of pages read directly via mmap()'d files.",
    ),
    (
        "write_pages_total",
        "Number of pages written directly via mmap()'d files.",
    ),
];

/// `events:` fields by position (18, congestion waits, is not exported). Two help texts
/// repeat a neighbour's, as upstream's do.
const EVENTS: [(usize, &str, &str); 26] = [
    (
        0,
        "inode_revalidate",
        "Number of times cached inode attributes are re-validated from the server.",
    ),
    (
        1,
        "dnode_revalidate",
        "Number of times cached dentry nodes are re-validated from the server.",
    ),
    (
        2,
        "data_invalidate",
        "Number of times an inode cache is cleared.",
    ),
    (
        3,
        "attribute_invalidate",
        "Number of times cached inode attributes are invalidated.",
    ),
    (
        4,
        "vfs_open",
        "Number of times cached inode attributes are invalidated.",
    ),
    (
        5,
        "vfs_lookup",
        "Number of times a directory lookup has occurred.",
    ),
    (
        6,
        "vfs_access",
        "Number of times permissions have been checked.",
    ),
    (
        7,
        "vfs_update_page",
        "Number of updates (and potential writes) to pages.",
    ),
    (
        8,
        "vfs_read_page",
        "Number of pages read directly via mmap()'d files.",
    ),
    (
        9,
        "vfs_read_pages",
        "Number of times a group of pages have been read.",
    ),
    (
        10,
        "vfs_write_page",
        "Number of pages written directly via mmap()'d files.",
    ),
    (
        11,
        "vfs_write_pages",
        "Number of times a group of pages have been written.",
    ),
    (
        12,
        "vfs_getdents",
        "Number of times directory entries have been read with getdents().",
    ),
    (
        13,
        "vfs_setattr",
        "Number of times directory entries have been read with getdents().",
    ),
    (
        14,
        "vfs_flush",
        "Number of pending writes that have been forcefully flushed to the server.",
    ),
    (
        15,
        "vfs_fsync",
        "Number of times fsync() has been called on directories and files.",
    ),
    (
        16,
        "vfs_lock",
        "Number of times locking has been attempted on a file.",
    ),
    (
        17,
        "vfs_file_release",
        "Number of times files have been closed and released.",
    ),
    (
        19,
        "truncation",
        "Number of times files have been truncated.",
    ),
    (
        20,
        "write_extension",
        "Number of times a file has been grown due to writes beyond its existing end.",
    ),
    (
        21,
        "silly_rename",
        "Number of times a file was removed while still open by another process.",
    ),
    (
        22,
        "short_read",
        "Number of times the NFS server gave less data than expected while reading.",
    ),
    (
        23,
        "short_write",
        "Number of times the NFS server wrote less data than expected while writing.",
    ),
    (
        24,
        "jukebox_delay",
        "Number of times the NFS server indicated EJUKEBOX; retrieving data from offline storage.",
    ),
    (25, "pnfs_read", "Number of NFS v4.1+ pNFS reads."),
    (26, "pnfs_write", "Number of NFS v4.1+ pNFS writes."),
];

/// Transport counters by position in [`parse::Transport::counters`].
const TRANSPORT: [(usize, &str, ConstKind, &str); 10] = [
    (
        1,
        "bind_total",
        Counter,
        "Number of times the client has had to establish a connection from scratch to the NFS server.",
    ),
    (
        2,
        "connect_total",
        Counter,
        "Number of times the client has made a TCP connection to the NFS server.",
    ),
    (
        4,
        "idle_time_seconds",
        Gauge,
        "Duration since the NFS mount last saw any RPC traffic, in seconds.",
    ),
    (
        5,
        "sends_total",
        Counter,
        "Number of RPC requests for this mount sent to the NFS server.",
    ),
    (
        6,
        "receives_total",
        Counter,
        "Number of RPC responses for this mount received from the NFS server.",
    ),
    (
        7,
        "bad_transaction_ids_total",
        Counter,
        "Number of times the NFS server sent a response with a transaction ID unknown to this client.",
    ),
    (
        9,
        "backlog_queue_total",
        Counter,
        "Total number of items added to the RPC backlog queue.",
    ),
    (
        10,
        "maximum_rpc_slots",
        Gauge,
        "Maximum number of simultaneously active RPC requests ever used.",
    ),
    (
        11,
        "sending_queue_total",
        Counter,
        "Total number of items added to the RPC transmission sending queue.",
    ),
    (
        12,
        "pending_queue_total",
        Counter,
        "Total number of items added to the RPC transmission pending queue.",
    ),
];

/// Per-operation counters by position; the last three are milliseconds, exported in seconds.
const OPERATIONS: [(&str, &str); 8] = [
    (
        "requests_total",
        "Number of requests performed for a given operation.",
    ),
    (
        "transmissions_total",
        "Number of times an actual RPC request has been transmitted for a given operation.",
    ),
    (
        "major_timeouts_total",
        "Number of times a request has had a major timeout for a given operation.",
    ),
    (
        "sent_bytes_total",
        "Number of bytes sent for a given operation, including RPC headers and payload.",
    ),
    (
        "received_bytes_total",
        "Number of bytes received for a given operation, including RPC headers and payload.",
    ),
    (
        "queue_time_seconds_total",
        "Duration all requests spent queued for transmission for a given operation before they were sent, in seconds.",
    ),
    (
        "response_time_seconds_total",
        "Duration all requests took to get a reply back after a request for a given operation was transmitted, in seconds.",
    ),
    (
        "request_time_seconds_total",
        "Duration all requests took from when a request was enqueued to when it was completely handled for a given operation, in seconds.",
    ),
];

/// The families of one scrape, created on first use.
#[derive(Default)]
struct Families(BTreeMap<String, ConstFamily>);

impl Families {
    fn add(&mut self, suffix: &str, kind: ConstKind, help: &str, labels: &[(&str, &str)], v: f64) {
        self.0
            .entry(suffix.to_owned())
            .or_insert_with(|| {
                ConstFamily::new(format!("node_mountstats_nfs_{suffix}"), help, kind)
            })
            .push(labels, v);
    }
}

fn wrapped(v: u64) -> f64 {
    (v % FLOAT64_MANTISSA) as f64
}

fn add_stats(f: &mut Families, s: &NfsStats<'_>, labels: [(&str, &str); 3]) {
    f.add(
        "age_seconds_total",
        Counter,
        "The age of the NFS mount in seconds.",
        &labels,
        s.age_seconds,
    );
    for ((suffix, help), v) in BYTES.iter().zip(s.bytes) {
        f.add(suffix, Counter, help, &labels, v as f64);
    }
    for (i, t) in s.transports.iter().enumerate() {
        let index = i.to_string();
        let [a, b, c] = labels;
        let l = [a, b, c, ("transport", index.as_str())];
        for (pos, suffix, kind, help) in TRANSPORT {
            let v = if pos == 4 {
                wrapped(t.counters[pos])
            } else {
                t.counters[pos] as f64
            };
            f.add(&format!("transport_{suffix}"), kind, help, &l, v);
        }
    }
    for op in &s.operations {
        let [a, b, c] = labels;
        let l = [a, b, c, ("operation", op.name)];
        for (pos, (suffix, help)) in OPERATIONS.iter().enumerate() {
            let v = if pos >= 5 {
                wrapped(op.counters[pos]) / 1000.0
            } else {
                op.counters[pos] as f64
            };
            f.add(&format!("operations_{suffix}"), Counter, help, &l, v);
        }
    }
    for (pos, suffix, help) in EVENTS {
        f.add(
            &format!("event_{suffix}_total"),
            Counter,
            help,
            &labels,
            s.events[pos] as f64,
        );
    }
}

impl Mountstats {
    /// The exporter's own PID directory, as procfs resolves `self`.
    fn own_dir(&self) -> Result<std::path::PathBuf, CollectorError> {
        let link = self.0.proc("self");
        let target = std::fs::read_link(&link).map_err(|e| CollectorError::io(&link, e))?;
        let pid: u32 = target
            .to_str()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| CollectorError::parse(&link, format!("not a PID: {target:?}")))?;
        Ok(self.0.proc(&pid.to_string()))
    }
}

impl Collector for Mountstats {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let dir = self.own_dir()?;
        let stats_path = dir.join("mountstats");
        let stats_text = read(&stats_path)?;
        let mounts = parse_mountstats(&stats_text).map_err(|e| {
            CollectorError::parse(&stats_path, format!("failed to parse mountstats: {e}"))
        })?;
        let info_path = dir.join("mountinfo");
        let addresses = mount_addresses(&read(&info_path)?).map_err(|e| {
            CollectorError::parse(&info_path, format!("failed to parse mountinfo: {e}"))
        })?;

        let mut families = Families::default();
        let mut mount_points = HashSet::new();
        let mut devices = HashSet::new();
        // Upstream pairs the two files by line position.
        for (idx, m) in mounts.iter().enumerate() {
            let Some(stats) = &m.nfs else { continue };
            let addr = addresses.get(idx).map_or("", String::as_str);
            for t in &stats.transports {
                if mount_points.insert((m.device, t.protocol, addr, m.mount_point)) {
                    families.add(
                        "mountpoint_info",
                        Gauge,
                        "Info metric for an NFS mountpoint.",
                        &[
                            ("export", m.device),
                            ("protocol", t.protocol),
                            ("mountaddr", addr),
                            ("mountpoint", m.mount_point),
                        ],
                        1.0,
                    );
                }
                if !devices.insert((m.device, t.protocol, addr)) {
                    break;
                }
                let labels = [
                    ("export", m.device),
                    ("protocol", t.protocol),
                    ("mountaddr", addr),
                ];
                add_stats(&mut families, stats, labels);
            }
        }
        out.extend(families.0.into_values().map(ConstFamily::into_family));
        Ok(())
    }
}
