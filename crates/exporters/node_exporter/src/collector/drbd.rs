//! `drbd`: DRBD 8 replicated block device statistics from /proc/drbd.

use pm_common::metrics::ConstFamily;
use pm_common::metrics::ConstKind::{self, Counter, Gauge};

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family, parse_f64};
use crate::paths::{Paths, read};

struct Drbd(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Drbd(s.paths.clone())))
}

/// Numeric fields: key, metric suffix, help, kind and the factor to the metric's unit (the
/// kernel reports sizes in KiB).
const NUMERICAL: [(&str, &str, &str, ConstKind, f64); 12] = [
    (
        "ns",
        "network_sent_bytes_total",
        "Total number of bytes sent via the network.",
        Counter,
        1024.0,
    ),
    (
        "nr",
        "network_received_bytes_total",
        "Total number of bytes received via the network.",
        Counter,
        1.0,
    ),
    (
        "dw",
        "disk_written_bytes_total",
        "Net data written on local hard disk; in bytes.",
        Counter,
        1024.0,
    ),
    (
        "dr",
        "disk_read_bytes_total",
        "Net data read from local hard disk; in bytes.",
        Counter,
        1024.0,
    ),
    (
        "al",
        "activitylog_writes_total",
        "Number of updates of the activity log area of the meta data.",
        Counter,
        1.0,
    ),
    (
        "bm",
        "bitmap_writes_total",
        "Number of updates of the bitmap area of the meta data.",
        Counter,
        1.0,
    ),
    (
        "lo",
        "local_pending",
        "Number of open requests to the local I/O sub-system.",
        Gauge,
        1.0,
    ),
    (
        "pe",
        "remote_pending",
        "Number of requests sent to the peer, but that have not yet been answered by the latter.",
        Gauge,
        1.0,
    ),
    (
        "ua",
        "remote_unacknowledged",
        "Number of requests received by the peer via the network connection, but that have not yet been answered.",
        Gauge,
        1.0,
    ),
    (
        "ap",
        "application_pending",
        "Number of block I/O requests forwarded to DRBD, but not yet answered by DRBD.",
        Gauge,
        1.0,
    ),
    (
        "ep",
        "epochs",
        "Number of Epochs currently on the fly.",
        Gauge,
        1.0,
    ),
    (
        "oos",
        "out_of_sync_bytes",
        "Amount of data known to be out of sync; in bytes.",
        Gauge,
        1024.0,
    ),
];

/// `local/remote` pairs: key, metric suffix, help and the value that counts as healthy.
const PAIRS: [(&str, &str, &str, &str); 2] = [
    (
        "ro",
        "node_role_is_primary",
        "Whether the role of the node is in the primary state.",
        "Primary",
    ),
    (
        "ds",
        "disk_state_is_up_to_date",
        "Whether the disk of the node is up to date.",
        "UpToDate",
    ),
];

/// Walks the file word by word: `N:` starts device `drbdN`, `key:value` words are its fields.
fn collect(text: &str, out: &mut Out) -> Result<(), String> {
    let mut device = "unknown".to_owned();
    for word in text.split_whitespace() {
        let kv: Vec<&str> = word.split(':').collect();
        let [key, value] = kv[..] else { continue };
        if value.is_empty()
            && let Ok(id) = key.parse::<u64>()
        {
            device = format!("drbd{id}");
            continue;
        }
        if let Some((_, metric, help, kind, factor)) = NUMERICAL.iter().find(|n| n.0 == key) {
            let v = parse_f64(value).ok_or_else(|| format!("invalid value {word:?}"))?;
            let family = ConstFamily::new(format!("node_drbd_{metric}"), *help, *kind);
            out.push(
                family
                    .with(&[("device", &device)], v * factor)
                    .into_family(),
            );
        } else if let Some((_, metric, help, ok)) = PAIRS.iter().find(|p| p.0 == key) {
            let (local, remote) = value
                .split_once('/')
                .ok_or_else(|| format!("expected local/remote in {word:?}"))?;
            let remote = remote.split('/').next().unwrap_or(remote);
            let state = |v: &str| if v == *ok { 1.0 } else { 0.0 };
            out.push(
                gauge_family(format!("node_drbd_{metric}"), *help)
                    .with(&[("device", &device), ("node", "local")], state(local))
                    .with(&[("device", &device), ("node", "remote")], state(remote))
                    .into_family(),
            );
        } else if key == "cs" {
            let connected = if value == "Connected" { 1.0 } else { 0.0 };
            out.push(
                gauge_family(
                    "node_drbd_connected",
                    "Whether DRBD is connected to the peer.",
                )
                .with(&[("device", &device)], connected)
                .into_family(),
            );
        }
    }
    Ok(())
}

impl Collector for Drbd {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        // A host without DRBD has no file: "no data", as upstream.
        let path = self.0.proc("drbd");
        let text = read(&path)?;
        collect(&text, out).map_err(|e| CollectorError::parse(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_devices_and_fields() {
        let text = "version: 8.4.3 (api:1/proto:86-101)\n 1: cs:Connected ro:Primary/Secondary \
                    ds:UpToDate/UpToDate C r-----\n    ns:2 nr:3 oos:1 wo:d\n";
        let mut out = Vec::new();
        collect(text, &mut out).unwrap();
        let names: Vec<_> = out.iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            [
                "node_drbd_connected",
                "node_drbd_node_role_is_primary",
                "node_drbd_disk_state_is_up_to_date",
                "node_drbd_network_sent_bytes_total",
                "node_drbd_network_received_bytes_total",
                "node_drbd_out_of_sync_bytes",
            ]
        );
        assert_eq!(out[0].metric[0].label[0].value(), "drbd1");
        let role = &out[1].metric;
        assert_eq!(role[0].gauge.as_ref().unwrap().value, Some(1.0));
        assert_eq!(role[1].gauge.as_ref().unwrap().value, Some(0.0));
        assert_eq!(
            out[3].metric[0].counter.as_ref().unwrap().value,
            Some(2048.0)
        );
        assert!(collect("ns:x", &mut Vec::new()).is_err());
    }
}
