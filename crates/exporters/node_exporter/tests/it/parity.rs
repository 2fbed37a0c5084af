//! Ours and Debian's upstream `prometheus-node-exporter` on this machine's real /proc and
//! /sys, default collectors: every family upstream exposes must be exposed by ours with the
//! same label names, apart from the exceptions below.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use support::{free_port, get, start};

const UPSTREAM: &str = "/usr/bin/prometheus-node-exporter";

/// Families we do not expose, by name prefix, with the reason.
const EXCEPTIONS: &[(&str, &str)] = &[("go_", "Go runtime metrics: there is no Go runtime")];

/// Families (by name prefix) where ours may carry more labels than Debian's older upstream,
/// with the reason.
const LABEL_SUPERSETS: &[(&str, &str)] = &[
    (
        "node_exporter_build_info",
        "Debian's 1.5 predates the `tags` label current upstream adds",
    ),
    (
        "node_disk_info",
        "current upstream adds `rotational` (the fixture output has it)",
    ),
    (
        "node_filesystem_",
        "current upstream adds `device_error` to every filesystem family",
    ),
    (
        "node_network_info",
        "current upstream adds `adminstate` (the fixture output has it)",
    ),
];

/// Label names per family.
fn label_names(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, family) in support::families(text) {
        let set = out.entry(name).or_default();
        for s in &family.samples {
            if let Some((_, rest)) = s.split_once('{') {
                let labels = rest.rsplit_once('}').map_or(rest, |(l, _)| l);
                for pair in labels.split("\",").filter(|p| !p.is_empty()) {
                    if let Some((k, _)) = pair.split_once('=') {
                        set.insert(k.trim_start_matches(',').to_owned());
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_upstream_family_is_exposed_with_the_same_labels() {
    if !Path::new(UPSTREAM).exists() {
        assert!(
            std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
            "{UPSTREAM} missing and PM_REQUIRE_UPSTREAM is set"
        );
        eprintln!("SKIP: {UPSTREAM} not installed (apt-get install prometheus-node-exporter)");
        return;
    }
    let cwd = std::env::temp_dir();
    let scrape = |program: &Path| {
        let port = free_port();
        let daemon = start(
            program,
            &cwd,
            &[format!("--web.listen-address=127.0.0.1:{port}")],
            port,
        );
        let (status, body) = get(daemon.addr, "/metrics");
        assert_eq!(status, 200, "{}: {body}", program.display());
        label_names(&body)
    };
    let upstream = scrape(Path::new(UPSTREAM));
    let ours = scrape(Path::new(env!("CARGO_BIN_EXE_node_exporter")));
    let mut problems = Vec::new();
    for (name, labels) in &upstream {
        let excepted = EXCEPTIONS.iter().any(|(p, _)| name.starts_with(p));
        match ours.get(name) {
            Some(have)
                if have != labels
                    && !(LABEL_SUPERSETS.iter().any(|(p, _)| name.starts_with(p))
                        && have.is_superset(labels)) =>
            {
                problems.push(format!(
                    "{name}: labels differ: upstream {labels:?}, ours {have:?}"
                ))
            }
            None if !excepted => problems.push(format!("{name}: missing")),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Whether Debian's upstream is installed; when it is not, fails under
/// `PM_REQUIRE_UPSTREAM` and otherwise prints a skip line.
fn upstream_installed(test: &str) -> bool {
    if Path::new(UPSTREAM).exists() {
        return true;
    }
    assert!(
        std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
        "{UPSTREAM} missing and PM_REQUIRE_UPSTREAM is set"
    );
    eprintln!("SKIP {test}: {UPSTREAM} not installed (apt-get install prometheus-node-exporter)");
    false
}

/// Label names per family of one scrape of `program` started with `args`.
fn scrape_label_names(program: &Path, args: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let port = free_port();
    let mut argv = vec![format!("--web.listen-address=127.0.0.1:{port}")];
    argv.extend(args.iter().map(|a| a.to_string()));
    let daemon = start(program, &std::env::temp_dir(), &argv, port);
    let (status, body) = get(daemon.addr, "/metrics");
    assert_eq!(status, 200, "{}: {body}", program.display());
    label_names(&body)
}

/// The ethtool collector alone, over this machine's interfaces (a virtio_net `eth0` and
/// `lo` here): the same families with the same label names as upstream, both ways.
#[test]
fn ethtool_families_and_labels_match_upstream() {
    if !upstream_installed("ethtool_families_and_labels_match_upstream") {
        return;
    }
    let args = ["--collector.disable-defaults", "--collector.ethtool"];
    let ethtool = |program: &Path| {
        let mut families = scrape_label_names(program, &args);
        families.retain(|name, _| {
            name.starts_with("node_ethtool_") || name.starts_with("node_network_")
        });
        families
    };
    let upstream = ethtool(Path::new(UPSTREAM));
    let ours = ethtool(Path::new(env!("CARGO_BIN_EXE_node_exporter")));
    assert!(
        upstream.contains_key("node_ethtool_info"),
        "upstream reports no ethtool data here: {upstream:?}"
    );
    assert_eq!(ours, upstream);
}
