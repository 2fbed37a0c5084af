//! Statistic names as upstream turns them into metric names: sanitised, lower-cased, `rx`
//! and `tx` spelt out, clashes dropped, and seven common statistics under fixed names.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::LazyLock;

use regex::Regex;

static INVALID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"_*[^0-9A-Za-z_]+_*").expect("valid regex"));
static RX: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(^|_)rx(_|$)").expect("valid regex"));
static TX: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(^|_)tx(_|$)").expect("valid regex"));

/// Statistics upstream names up front: sanitised statistic, metric name, help.
const FIXED: &[(&str, &str, &str)] = &[
    (
        "rx_bytes",
        "node_ethtool_received_bytes_total",
        "Network interface bytes received",
    ),
    (
        "rx_dropped",
        "node_ethtool_received_dropped_total",
        "Number of received frames dropped",
    ),
    (
        "rx_errors",
        "node_ethtool_received_errors_total",
        "Number of received frames with errors",
    ),
    (
        "rx_packets",
        "node_ethtool_received_packets_total",
        "Network interface packets received",
    ),
    (
        "tx_bytes",
        "node_ethtool_transmitted_bytes_total",
        "Network interface bytes sent",
    ),
    (
        "tx_errors",
        "node_ethtool_transmitted_errors_total",
        "Number of sent frames with errors",
    ),
    (
        "tx_packets",
        "node_ethtool_transmitted_packets_total",
        "Network interface packets sent",
    ),
];

/// Every run of characters outside `[0-9A-Za-z_]`, with the underscores around it, becomes
/// one underscore (upstream's `SanitizeMetricName`).
pub fn sanitize(stat: &str) -> String {
    INVALID.replace_all(stat, "_").into_owned()
}

/// The metric name a statistic maps to before the fixed names apply; `None` when nothing
/// is left of it (upstream would emit an invalid, empty name).
pub fn fq_name(stat: &str) -> Option<String> {
    let name = sanitize(stat).to_lowercase();
    let name = name.trim_start_matches('_');
    if name.is_empty() {
        return None;
    }
    let name = RX.replace_all(name, "${1}received${2}");
    let name = TX.replace_all(&name, "${1}transmitted${2}");
    Some(format!("node_ethtool_{name}"))
}

/// One statistic to emit.
#[derive(Debug, PartialEq)]
pub struct Stat {
    pub name: String,
    pub help: String,
    pub value: u64,
}

/// The statistics whose sanitised name matches `include`, under their metric names. Two
/// statistics that map to the same name are both dropped: neither can be told to be right.
pub fn select(stats: &BTreeMap<String, u64>, include: Option<&Regex>) -> Vec<Stat> {
    let mut by_name: BTreeMap<String, Option<(String, u64)>> = BTreeMap::new();
    for (stat, &value) in stats {
        let metric = sanitize(stat);
        if include.is_some_and(|r| !r.is_match(&metric)) {
            continue;
        }
        let Some(name) = fq_name(&metric) else {
            continue;
        };
        match by_name.entry(name) {
            Entry::Occupied(mut e) => {
                tracing::debug!(metric = %e.key(), stat, "dropping duplicate metric name");
                e.insert(None);
            }
            Entry::Vacant(e) => {
                e.insert(Some((metric, value)));
            }
        }
    }
    by_name
        .into_iter()
        .filter_map(|(name, kept)| {
            let (metric, value) = kept?;
            let stat = match FIXED.iter().find(|f| f.0 == metric) {
                Some(&(_, fixed, help)) => Stat {
                    name: fixed.to_owned(),
                    help: help.to_owned(),
                    value,
                },
                None => Stat {
                    help: format!("Network interface {metric}"),
                    name,
                    value,
                },
            };
            Some(stat)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_upstream() {
        for (stat, want) in [
            ("port.rx_errors", "node_ethtool_port_received_errors"),
            ("rx_errors", "node_ethtool_received_errors"),
            ("Queue[0] AllocFails", "node_ethtool_queue_0_allocfails"),
            (
                "Tx LPI entry count",
                "node_ethtool_transmitted_lpi_entry_count",
            ),
            (
                "port.VF_admin_queue_requests",
                "node_ethtool_port_vf_admin_queue_requests",
            ),
            ("[3]: tx_bytes", "node_ethtool_3_transmitted_bytes"),
            ("     err", "node_ethtool_err"),
            // Matches do not overlap: the `_` after the first `rx` is not reused.
            ("rx_rx", "node_ethtool_received_rx"),
            ("rx_tx", "node_ethtool_received_transmitted"),
        ] {
            assert_eq!(fq_name(stat).as_deref(), Some(want), "{stat}");
        }
        assert_eq!(fq_name("..."), None);
    }

    #[test]
    fn duplicates_dropped_fixed_names_and_filter() {
        let stats: BTreeMap<String, u64> = [
            ("duplicate metric", 1),
            ("duplicate_metric", 2),
            ("rx_packets", 3),
            ("port.tx_drops", 4),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let got = select(&stats, None);
        let names: Vec<_> = got.iter().map(|s| (s.name.as_str(), s.value)).collect();
        assert_eq!(
            names,
            [
                ("node_ethtool_port_transmitted_drops", 4),
                ("node_ethtool_received_packets_total", 3)
            ]
        );
        assert_eq!(got[0].help, "Network interface port_tx_drops");
        assert_eq!(got[1].help, "Network interface packets received");
        let only_port = Regex::new("^port_").unwrap();
        let got = select(&stats, Some(&only_port));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].name, "node_ethtool_port_transmitted_drops");
    }
}
