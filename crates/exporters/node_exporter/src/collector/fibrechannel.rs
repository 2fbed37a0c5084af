//! `fibrechannel`: Fibre Channel host adapters from `/sys/class/fc_host` (port state and
//! link error counters).

use std::collections::HashMap;
use std::path::Path;

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter_family, gauge_family};
use crate::paths::{Paths, parse_go_uint, sorted_entries, sys_read};

/// Text attributes; the `0x` of the WWN-style ones is dropped.
const TEXT: &[(&str, bool)] = &[
    ("speed", false),
    ("port_state", false),
    ("port_type", false),
    ("node_name", true),
    ("port_id", true),
    ("port_name", true),
    ("fabric_name", true),
    ("dev_loss_tmo", false),
    ("symbolic_name", false),
    ("supported_classes", false),
    ("supported_speeds", false),
];

/// `statistics/` files: file, metric suffix, help.
const COUNTERS: &[(&str, &str, &str)] = &[
    (
        "dumped_frames",
        "dumped_frames_total",
        "Number of dumped frames",
    ),
    (
        "error_frames",
        "error_frames_total",
        "Number of errors in frames",
    ),
    (
        "invalid_crc_count",
        "invalid_crc_total",
        "Invalid Cyclic Redundancy Check count",
    ),
    ("rx_frames", "rx_frames_total", "Number of frames received"),
    (
        "rx_words",
        "rx_words_total",
        "Number of words received by host port",
    ),
    (
        "tx_frames",
        "tx_frames_total",
        "Number of frames transmitted by host port",
    ),
    (
        "tx_words",
        "tx_words_total",
        "Number of words transmitted by host port",
    ),
    (
        "seconds_since_last_reset",
        "seconds_since_last_reset_total",
        "Number of seconds since last host port reset",
    ),
    (
        "invalid_tx_word_count",
        "invalid_tx_words_total",
        "Number of invalid words transmitted by host port",
    ),
    (
        "link_failure_count",
        "link_failure_total",
        "Number of times the host port link has failed",
    ),
    (
        "loss_of_sync_count",
        "loss_of_sync_total",
        "Number of failures on either bit or transmission word boundaries",
    ),
    (
        "loss_of_signal_count",
        "loss_of_signal_total",
        "Number of times signal has been lost",
    ),
    (
        "nos_count",
        "nos_total",
        "Number Not_Operational Primitive Sequence received by host port",
    ),
    (
        "fcp_packet_aborts",
        "fcp_packet_aborts_total",
        "Number of aborted packets",
    ),
];

struct Fibrechannel(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Fibrechannel(s.paths.clone())))
}

fn read_text(dir: &Path) -> Result<HashMap<&'static str, String>, CollectorError> {
    let mut out = HashMap::new();
    for (file, strip_0x) in TEXT {
        let path = dir.join(file);
        match sys_read(&path) {
            Ok(mut v) => {
                if *strip_0x && v.len() > 2 {
                    v.drain(..2);
                }
                out.insert(*file, v);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(CollectorError::io(path, e)),
        }
    }
    Ok(out)
}

fn read_counters(dir: &Path) -> Result<HashMap<String, u64>, CollectorError> {
    let stats = dir.join("statistics");
    let entries = match sorted_entries(&stats) {
        Err(e) if e.is_no_data() => return Ok(HashMap::new()),
        r => r?,
    };
    let mut out = HashMap::new();
    for (name, path) in entries {
        if name == "reset_statistics"
            || !std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file())
        {
            continue;
        }
        let value = match sys_read(&path) {
            Ok(v) => v,
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    || matches!(e.raw_os_error(), Some(22 | 95)) =>
            {
                continue;
            }
            Err(e) => return Err(CollectorError::io(path, e)),
        };
        if !COUNTERS.iter().any(|(f, _, _)| *f == name) {
            continue;
        }
        let v = parse_go_uint(&value)
            .ok_or_else(|| CollectorError::parse(&path, format!("invalid number {value:?}")))?;
        out.insert(name, v);
    }
    Ok(out)
}

impl Collector for Fibrechannel {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let hosts = match sorted_entries(&self.0.sys("class/fc_host")) {
            Err(e) if e.is_no_data() => {
                return Err(CollectorError::NoData(
                    "fibrechannel statistics not found".into(),
                ));
            }
            r => r?,
        };
        let mut info = gauge_family(
            "node_fibrechannel_info",
            "Non-numeric data from /sys/class/fc_host/<host>, value is always 1.",
        );
        let mut counters: Vec<_> = COUNTERS
            .iter()
            .map(|(_, suffix, help)| counter_family(format!("node_fibrechannel_{suffix}"), *help))
            .collect();
        for (host, dir) in hosts {
            let text = read_text(&dir)?;
            let values = read_counters(&dir)?;
            let t = |k: &str| text.get(k).map_or("", String::as_str);
            info.push(
                &[
                    ("fc_host", host.as_str()),
                    ("speed", t("speed")),
                    ("port_state", t("port_state")),
                    ("port_type", t("port_type")),
                    ("port_id", t("port_id")),
                    ("port_name", t("port_name")),
                    ("fabric_name", t("fabric_name")),
                    ("symbolic_name", t("symbolic_name")),
                    ("supported_classes", t("supported_classes")),
                    ("supported_speeds", t("supported_speeds")),
                    ("dev_loss_tmo", t("dev_loss_tmo")),
                ],
                1.0,
            );
            // A port in an unknown state reports all counters as zero.
            let unknown = text.get("port_state").is_none_or(|s| s == "Unknown");
            for (family, (file, _, _)) in counters.iter_mut().zip(COUNTERS) {
                let v = if unknown {
                    Some(0)
                } else {
                    values.get(*file).copied()
                };
                // u64::MAX is what drivers report for a counter they do not keep.
                if let Some(v) = v.filter(|&v| v != u64::MAX) {
                    family.push(&[("fc_host", &host)], v as f64);
                }
            }
        }
        out.push(info.into_family());
        out.extend(counters.into_iter().map(|f| f.into_family()));
        Ok(())
    }
}
