//! The collector over upstream's ethtool fixtures gives upstream's expected output.

use std::path::PathBuf;

use super::fixture::Fixture;
use super::*;
use crate::exposition::Page;

fn fixtures() -> PathBuf {
    pm_testsupport::testdata("node_exporter/ethtool")
}

/// A sysfs with the devices of upstream's fixture tree that matter here: `eth0` (all three
/// fixture files), `bond0` (statistics fail with EPERM), `int` (no fixtures: EOPNOTSUPP)
/// and the `bonding_masters` file, which is not a device.
fn sysfs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("class/net");
    for device in ["bond0", "eth0", "int"] {
        std::fs::create_dir_all(net.join(device)).unwrap();
    }
    std::fs::write(net.join("bonding_masters"), "bond0\n").unwrap();
    dir
}

fn scrape(args: &[&str]) -> String {
    let sys = sysfs();
    let mut argv = vec!["node_exporter", "--collector.ethtool"];
    argv.extend_from_slice(args);
    let mut settings = crate::cli::parse_from(argv).unwrap();
    settings.paths.sysfs = sys.path().to_path_buf();
    let collector = Ethtool::new(&settings, Box::new(Fixture(fixtures()))).unwrap();
    let mut out = Vec::new();
    collector.update(&mut out).unwrap();
    let (_, body) = Page::new(out).render(Vec::new(), None);
    String::from_utf8(body).unwrap()
}

/// Upstream's expected exposition for its fixtures (collector/ethtool_linux_test.go).
const EXPECTED: &str = r#"# HELP node_ethtool_align_errors Network interface align_errors
# TYPE node_ethtool_align_errors untyped
node_ethtool_align_errors{device="eth0"} 0
# HELP node_ethtool_info A metric with a constant '1' value labeled by bus_info, device, driver, expansion_rom_version, firmware_version, version.
# TYPE node_ethtool_info gauge
node_ethtool_info{bus_info="0000:00:1f.6",device="eth0",driver="e1000e",expansion_rom_version="",firmware_version="0.5-4",version="5.11.0-22-generic"} 1
# HELP node_ethtool_port_received_dropped Network interface port_rx_dropped
# TYPE node_ethtool_port_received_dropped untyped
node_ethtool_port_received_dropped{device="eth0"} 12028
# HELP node_ethtool_received_broadcast Network interface rx_broadcast
# TYPE node_ethtool_received_broadcast untyped
node_ethtool_received_broadcast{device="eth0"} 5792
# HELP node_ethtool_received_errors_total Number of received frames with errors
# TYPE node_ethtool_received_errors_total untyped
node_ethtool_received_errors_total{device="eth0"} 0
# HELP node_ethtool_received_missed Network interface rx_missed
# TYPE node_ethtool_received_missed untyped
node_ethtool_received_missed{device="eth0"} 401
# HELP node_ethtool_received_multicast Network interface rx_multicast
# TYPE node_ethtool_received_multicast untyped
node_ethtool_received_multicast{device="eth0"} 23973
# HELP node_ethtool_received_packets_total Network interface packets received
# TYPE node_ethtool_received_packets_total untyped
node_ethtool_received_packets_total{device="eth0"} 1.260062e+06
# HELP node_ethtool_received_unicast Network interface rx_unicast
# TYPE node_ethtool_received_unicast untyped
node_ethtool_received_unicast{device="eth0"} 1.230297e+06
# HELP node_ethtool_transmitted_aborted Network interface tx_aborted
# TYPE node_ethtool_transmitted_aborted untyped
node_ethtool_transmitted_aborted{device="eth0"} 0
# HELP node_ethtool_transmitted_errors_total Number of sent frames with errors
# TYPE node_ethtool_transmitted_errors_total untyped
node_ethtool_transmitted_errors_total{device="eth0"} 0
# HELP node_ethtool_transmitted_multi_collisions Network interface tx_multi_collisions
# TYPE node_ethtool_transmitted_multi_collisions untyped
node_ethtool_transmitted_multi_collisions{device="eth0"} 0
# HELP node_ethtool_transmitted_packets_total Network interface packets sent
# TYPE node_ethtool_transmitted_packets_total untyped
node_ethtool_transmitted_packets_total{device="eth0"} 961500
# HELP node_ethtool_transmitted_single_collisions Network interface tx_single_collisions
# TYPE node_ethtool_transmitted_single_collisions untyped
node_ethtool_transmitted_single_collisions{device="eth0"} 0
# HELP node_ethtool_transmitted_underrun Network interface tx_underrun
# TYPE node_ethtool_transmitted_underrun untyped
node_ethtool_transmitted_underrun{device="eth0"} 0
# HELP node_network_advertised_speed_bytes Combination of speeds and features offered by network device
# TYPE node_network_advertised_speed_bytes gauge
node_network_advertised_speed_bytes{device="eth0",duplex="full",mode="1000baseT"} 1.25e+08
node_network_advertised_speed_bytes{device="eth0",duplex="full",mode="100baseT"} 1.25e+07
node_network_advertised_speed_bytes{device="eth0",duplex="full",mode="10baseT"} 1.25e+06
node_network_advertised_speed_bytes{device="eth0",duplex="half",mode="100baseT"} 1.25e+07
node_network_advertised_speed_bytes{device="eth0",duplex="half",mode="10baseT"} 1.25e+06
# HELP node_network_asymmetricpause_advertised If this port device offers asymmetric pause capability
# TYPE node_network_asymmetricpause_advertised gauge
node_network_asymmetricpause_advertised{device="eth0"} 0
# HELP node_network_asymmetricpause_supported If this port device supports asymmetric pause frames
# TYPE node_network_asymmetricpause_supported gauge
node_network_asymmetricpause_supported{device="eth0"} 0
# HELP node_network_autonegotiate If this port is using autonegotiate
# TYPE node_network_autonegotiate gauge
node_network_autonegotiate{device="eth0"} 1
# HELP node_network_autonegotiate_advertised If this port device offers autonegotiate
# TYPE node_network_autonegotiate_advertised gauge
node_network_autonegotiate_advertised{device="eth0"} 1
# HELP node_network_autonegotiate_supported If this port device supports autonegotiate
# TYPE node_network_autonegotiate_supported gauge
node_network_autonegotiate_supported{device="eth0"} 1
# HELP node_network_pause_advertised If this port device offers pause capability
# TYPE node_network_pause_advertised gauge
node_network_pause_advertised{device="eth0"} 1
# HELP node_network_pause_supported If this port device supports pause frames
# TYPE node_network_pause_supported gauge
node_network_pause_supported{device="eth0"} 1
# HELP node_network_supported_port_info Type of ports or PHYs supported by network device
# TYPE node_network_supported_port_info gauge
node_network_supported_port_info{device="eth0",type="MII"} 1
node_network_supported_port_info{device="eth0",type="TP"} 1
# HELP node_network_supported_speed_bytes Combination of speeds and features supported by network device
# TYPE node_network_supported_speed_bytes gauge
node_network_supported_speed_bytes{device="eth0",duplex="full",mode="10000baseT"} 1.25e+09
node_network_supported_speed_bytes{device="eth0",duplex="full",mode="1000baseT"} 1.25e+08
node_network_supported_speed_bytes{device="eth0",duplex="full",mode="100baseT"} 1.25e+07
node_network_supported_speed_bytes{device="eth0",duplex="full",mode="10baseT"} 1.25e+06
node_network_supported_speed_bytes{device="eth0",duplex="half",mode="100baseT"} 1.25e+07
node_network_supported_speed_bytes{device="eth0",duplex="half",mode="10baseT"} 1.25e+06
"#;

#[test]
fn fixtures_give_upstreams_output() {
    assert_eq!(scrape(&[]), EXPECTED);
}

#[test]
fn device_and_metric_filters() {
    let text = scrape(&["--collector.ethtool.device-exclude=^eth"]);
    assert!(!text.contains("eth0"), "{text}");
    let text = scrape(&["--collector.ethtool.device-include=^bond"]);
    assert!(!text.contains("eth0"), "{text}");
    let text = scrape(&["--collector.ethtool.metrics-include=^tx_"]);
    assert!(text.contains("node_ethtool_transmitted_aborted"), "{text}");
    assert!(!text.contains("node_ethtool_received_"), "{text}");
    assert!(!text.contains("node_ethtool_align_errors"), "{text}");
    // Driver and link information do not depend on the statistics filter.
    assert!(text.contains("node_ethtool_info{"), "{text}");
    assert!(text.contains("node_network_autonegotiate{"), "{text}");
}

#[test]
fn no_devices_is_no_data() {
    let sys = tempfile::tempdir().unwrap();
    let mut settings = crate::cli::parse_from(["node_exporter"]).unwrap();
    settings.paths.sysfs = sys.path().to_path_buf();
    let collector = Ethtool::new(&settings, Box::new(Fixture(fixtures()))).unwrap();
    let err = collector.update(&mut Vec::new()).unwrap_err();
    assert!(err.is_no_data(), "{err}");
    std::fs::create_dir_all(sys.path().join("class/net")).unwrap();
    let err = collector.update(&mut Vec::new()).unwrap_err();
    assert!(!err.is_no_data());
    assert!(
        err.to_string().ends_with("no network devices found"),
        "{err}"
    );
}
