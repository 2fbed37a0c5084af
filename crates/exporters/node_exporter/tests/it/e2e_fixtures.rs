//! Upstream's end-to-end test, on our binary: the fixture tree, the same collectors and
//! flags, and the expected `/metrics` output compared family by family.

use crate::support;

use std::collections::BTreeMap;

use regex::Regex;
use support::{Family, FixtureTree, families, free_port, get, start};

/// The collectors upstream's end-to-end test enables explicitly.
const ENABLED: &[&str] = &[
    "arp",
    "bcache",
    "bcachefs",
    "bonding",
    "btrfs",
    "buddyinfo",
    "cgroups",
    "conntrack",
    "cpu",
    "cpufreq",
    "cpu_vulnerabilities",
    "diskstats",
    "dmi",
    "drbd",
    "edac",
    "entropy",
    "fibrechannel",
    "filefd",
    "hwmon",
    "infiniband",
    "interrupts",
    "ipvs",
    "kernel_hung",
    "ksmd",
    "lnstat",
    "loadavg",
    "mdadm",
    "meminfo",
    "meminfo_numa",
    "mountstats",
    "netdev",
    "netstat",
    "nfs",
    "nfsd",
    "pcidevice",
    "pressure",
    "processes",
    "qdisc",
    "rapl",
    "schedstat",
    "slabinfo",
    "sockstat",
    "softirqs",
    "stat",
    "sysctl",
    "textfile",
    "thermal_zone",
    "tls",
    "udp_queues",
    "vmstat",
    "watchdog",
    "wifi",
    "xfrm",
    "xfs",
    "zfs",
    "zoneinfo",
];

/// The collectors it disables.
const DISABLED: &[&str] = &["selinux", "filesystem", "timex", "uname"];

/// Its collector flags (x86_64 variant).
const FLAGS: &[&str] = &[
    "--collector.cpu.info",
    "--collector.arp.device-exclude=nope",
    "--collector.bcache.priorityStats",
    "--collector.cpu.info.bugs-include=^(cpu_meltdown|spectre_.*|mds)$",
    "--collector.cpu.info.flags-include=^(aes|avx.?|constant_tsc)$",
    "--collector.hwmon.chip-include=(applesmc|asus_nb_wmi|coretemp|hwmon4|ieee80211|nct6779)",
    "--collector.netclass.ignore-invalid-speed",
    "--collector.netclass.ignored-devices=(dmz|int)",
    "--collector.netdev.device-include=lo",
    "--collector.qdisc.device-include=(wlan0|eth0)",
    "--collector.qdisc.fixtures=collector/fixtures/qdisc/",
    "--collector.stat.softirq",
    "--collector.sysctl.include-info=kernel.seccomp.actions_avail",
    "--collector.sysctl.include=fs.file-nr",
    "--collector.sysctl.include=fs.file-nr:total,current,max",
    "--collector.sysctl.include=kernel.threads-max",
    "--collector.textfile.directory=collector/fixtures/textfile/two_metric_files/",
    "--collector.wifi.fixtures=collector/fixtures/wifi",
    "--no-collector.arp.netlink",
];

/// What upstream's test drops before comparing.
const SKIP: &str = r"^(go_|node_exporter_build_info|node_scrape_collector_duration_seconds|process_|node_textfile_mtime_seconds|node_time_(zone|seconds)|node_network_(receive|transmit)_(bytes|packets)_total)";

/// Families of the expected output we do not produce yet, by name prefix, with the reason.
/// The test fails if an entry no longer hides anything, so the list only shrinks.
const NOT_YET: &[(&str, &str)] = &[
    ("node_bcachefs_", "bcachefs collector not implemented yet"),
    (
        "node_dmmultipath_",
        "dmmultipath collector not implemented yet",
    ),
    ("node_pcidevice_", "pcidevice collector not implemented yet"),
    ("node_qdisc_", "qdisc collector not implemented yet"),
];

/// Collectors of the expected output we do not have; their `node_scrape_collector_success`
/// samples are left out of the comparison.
fn missing_collector(name: &str) -> bool {
    pm_node_exporter::collector::find(name).is_none()
}

fn long_flag_known(flag: &str) -> bool {
    let name = flag.trim_start_matches("--").split('=').next().unwrap();
    let name = name.strip_prefix("no-").unwrap_or(name);
    pm_node_exporter::cli::command()
        .get_arguments()
        .any(|a| a.get_long() == Some(name))
}

fn args(port: u16) -> Vec<String> {
    let mut args: Vec<String> = [
        "--path.rootfs=collector/fixtures",
        "--path.procfs=collector/fixtures/proc",
        "--path.sysfs=collector/fixtures/sys",
        "--path.udev.data=collector/fixtures/udev/data",
    ]
    .map(String::from)
    .to_vec();
    for c in ENABLED.iter().filter(|c| !missing_collector(c)) {
        args.push(format!("--collector.{c}"));
    }
    for c in DISABLED.iter().filter(|c| !missing_collector(c)) {
        args.push(format!("--no-collector.{c}"));
    }
    // Upstream's test, too, passes only the flags its build defines.
    args.extend(
        FLAGS
            .iter()
            .filter(|f| long_flag_known(f))
            .map(|f| f.to_string()),
    );
    args.push(format!("--web.listen-address=127.0.0.1:{port}"));
    args.push("--log.level=debug".into());
    args
}

fn compare(expected: &BTreeMap<String, Family>, got: &BTreeMap<String, Family>) -> Vec<String> {
    let skip = Regex::new(SKIP).unwrap();
    let mut problems = Vec::new();
    let mut used = vec![false; NOT_YET.len()];
    for (name, want) in expected.iter().filter(|(n, _)| !skip.is_match(n)) {
        let mut want = want.clone();
        if name == "node_scrape_collector_success" {
            want.samples.retain(|s| {
                let c = s.split('"').nth(1).unwrap_or_default();
                !missing_collector(c)
            });
        }
        if let Some(i) = NOT_YET.iter().position(|(p, _)| name.starts_with(p))
            && got.get(name) != Some(&want)
        {
            used[i] = true;
            continue;
        }
        match got.get(name) {
            None => problems.push(format!("missing family {name}")),
            Some(have) if *have != want => problems.push(format!(
                "family {name} differs:\n  want {want:?}\n  have {have:?}"
            )),
            Some(_) => {}
        }
    }
    for name in got.keys().filter(|n| !skip.is_match(n)) {
        if !expected.contains_key(name) {
            problems.push(format!("unexpected family {name}"));
        }
    }
    for (i, (prefix, _)) in NOT_YET.iter().enumerate() {
        if !used[i] {
            problems.push(format!(
                "NOT_YET entry {prefix:?} hides nothing any more: remove it"
            ));
        }
    }
    problems
}

#[test]
fn end_to_end_output_matches_upstream_fixture() {
    let tree = FixtureTree::new();
    let expected = std::fs::read_to_string(support::fixtures().join("e2e-output.txt")).unwrap();
    let port = free_port();
    let daemon = start(
        std::path::Path::new(env!("CARGO_BIN_EXE_node_exporter")),
        tree.root(),
        &args(port),
        port,
    );
    // The second scrape answers from state the first one left behind (the netstat filter's
    // remembered decisions, a trimmed heap), so it must match as well, but for the count of
    // scrapes served.
    let mut expected = families(&expected);
    for scrape in 1..=2 {
        let (status, body) = get(daemon.addr, "/metrics");
        assert_eq!(status, 200, "{body}");
        let mut got = families(&body);
        if scrape > 1 {
            for counted in [&mut expected, &mut got] {
                counted.remove("promhttp_metric_handler_requests_total");
            }
        }
        let problems = compare(&expected, &got);
        assert!(
            problems.is_empty(),
            "scrape {scrape}: {} differences:\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
}
