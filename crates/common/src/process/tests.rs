use super::*;

fn value(f: &dto::MetricFamily) -> f64 {
    let m = &f.metric[0];
    m.gauge
        .as_ref()
        .and_then(|g| g.value)
        .or_else(|| m.counter.as_ref().and_then(|c| c.value))
        .unwrap()
}

#[test]
fn stat_fields_survive_odd_command_names() {
    let line = "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 130 0 0 20 0 8 0 \
                 123456 987654321 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
    let stat = Stat::parse(line).unwrap();
    assert_eq!(
        stat,
        Stat {
            utime: 250,
            stime: 130,
            starttime: 123456,
            vsize: 987654321
        }
    );
    assert_eq!(Stat::parse("garbage"), None);
}

#[test]
fn limits_parse_soft_values() {
    let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                  Max open files            1024                 524288               files     \n\
                  Max address space         unlimited            unlimited            bytes     \n";
    assert_eq!(soft_limit(limits, "Max open files"), Some(1024.0));
    assert_eq!(
        soft_limit(limits, "Max address space"),
        Some(1.8446744073709552e19)
    );
    assert_eq!(soft_limit(limits, "Max processes"), None);
}

#[test]
fn net_dev_is_summed_over_interfaces() {
    let dev = "Inter-|   Receive                                                |  Transmit\n \
               face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
               lo:  1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0\n  \
               eth0:  2500      20    0    0    0     0          0         0      700       7    0    0    0     0       0          0\n";
    assert_eq!(net_totals(dev), Some((3500.0, 1700.0)));
}

#[test]
fn resident_memory_comes_from_vmrss() {
    assert_eq!(
        resident_bytes("Name:\tx\nVmRSS:\t    2048 kB\n"),
        Some(2048.0 * 1024.0)
    );
    assert_eq!(resident_bytes("Name:\tx\n"), None);
}

#[cfg(target_os = "linux")]
#[test]
fn collects_upstream_families_for_this_process() {
    let mut out = Vec::new();
    ProcessCollector::new().collect(&mut out);
    let by_name: std::collections::HashMap<&str, &dto::MetricFamily> =
        out.iter().map(|f| (f.name(), f)).collect();
    for (name, kind) in [
        ("process_cpu_seconds_total", dto::MetricType::Counter),
        ("process_open_fds", dto::MetricType::Gauge),
        ("process_max_fds", dto::MetricType::Gauge),
        ("process_virtual_memory_bytes", dto::MetricType::Gauge),
        ("process_virtual_memory_max_bytes", dto::MetricType::Gauge),
        ("process_resident_memory_bytes", dto::MetricType::Gauge),
        ("process_start_time_seconds", dto::MetricType::Gauge),
        (
            "process_network_receive_bytes_total",
            dto::MetricType::Counter,
        ),
        (
            "process_network_transmit_bytes_total",
            dto::MetricType::Counter,
        ),
    ] {
        let family = by_name
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(family.r#type(), kind, "{name}");
        assert!(!family.help().is_empty());
    }
    assert!(value(by_name["process_open_fds"]) >= 3.0);
    assert!(value(by_name["process_resident_memory_bytes"]) > 0.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let start = value(by_name["process_start_time_seconds"]);
    assert!(
        start > 1.0e9 && start <= now + 1.0,
        "start {start}, now {now}"
    );
}

#[test]
fn build_info_has_upstream_shape() {
    let f = build_info_family("node_exporter", "1.9.0", "abc123", "main");
    assert_eq!(f.name(), "node_exporter_build_info");
    assert_eq!(f.r#type(), dto::MetricType::Gauge);
    assert!(
        f.help().ends_with(
            "from which node_exporter was built, and the goos and goarch for the build."
        )
    );
    let labels: Vec<(&str, &str)> = f.metric[0]
        .label
        .iter()
        .map(|l| (l.name(), l.value()))
        .collect();
    let names: Vec<&str> = labels.iter().map(|l| l.0).collect();
    assert_eq!(
        names,
        [
            "branch",
            "goarch",
            "goos",
            "goversion",
            "revision",
            "tags",
            "version"
        ]
    );
    assert!(labels.contains(&("version", "1.9.0")));
    assert!(labels.contains(&("revision", "abc123")));
    assert!(labels.contains(&("branch", "main")));
    assert_eq!(value(&f), 1.0);
    if cfg!(target_arch = "x86_64") {
        assert!(labels.contains(&("goarch", "amd64")));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn pid_file_names_the_process_and_the_namespace_prefixes_the_names() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("haproxy.pid");
    std::fs::write(&pid_file, format!("{}\n", std::process::id())).unwrap();
    let mut out = Vec::new();
    ProcessCollector::for_pid_file("haproxy", &pid_file).collect(&mut out);
    let names: Vec<&str> = out.iter().map(|f| f.name()).collect();
    for want in [
        "haproxy_process_cpu_seconds_total",
        "haproxy_process_open_fds",
        "haproxy_process_max_fds",
        "haproxy_process_virtual_memory_bytes",
        "haproxy_process_resident_memory_bytes",
        "haproxy_process_start_time_seconds",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
}

#[test]
fn missing_or_malformed_pid_file_gives_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pid");
    std::fs::write(&bad, "not a pid\n").unwrap();
    for file in [dir.path().join("missing.pid"), bad] {
        let mut out = Vec::new();
        ProcessCollector::for_pid_file("haproxy", &file).collect(&mut out);
        assert!(out.is_empty(), "{}", file.display());
    }
}

#[test]
fn build_info_collector_reports_the_version() {
    let mut out = Vec::new();
    BuildInfo::new("x_exporter", "9.9.9").collect(&mut out);
    assert_eq!(out[0].name(), "x_exporter_build_info");
    assert!(
        out[0].metric[0]
            .label
            .iter()
            .any(|l| l.name() == "version" && l.value() == "9.9.9")
    );
}
