use std::collections::BTreeMap;
use std::path::PathBuf;

use pm_common::expfmt::dto::MetricFamily;

use super::*;

/// `name{labels} value` lines of the families, labels sorted as rendered.
fn lines(families: &[MetricFamily]) -> Vec<String> {
    let mut out = Vec::new();
    for f in families {
        for m in &f.metric {
            let labels: Vec<String> = m
                .label
                .iter()
                .map(|l| format!("{}={:?}", l.name(), l.value()))
                .collect();
            let value = m
                .gauge
                .as_ref()
                .map(|g| g.value())
                .or(m.counter.as_ref().map(|c| c.value()))
                .unwrap();
            out.push(format!("{}{{{}}} {value}", f.name(), labels.join(",")));
        }
    }
    out
}

fn testdata() -> PathBuf {
    pm_testsupport::testdata("node_exporter/wifi")
}

#[test]
fn fixture_source_reads_upstreams_files() {
    let mut src = fixtures::Fixtures::new(testdata());
    let ifis = src.interfaces().unwrap();
    assert_eq!(ifis.len(), 3);
    assert_eq!((ifis[0].name.as_str(), ifis[0].kind), ("wlan0", 2));
    assert_eq!(ifis[1].frequency_mhz, 2412);
    assert_eq!((ifis[2].name.as_str(), ifis[2].kind), ("", 10));
    let bss = src.bss(&ifis[0]).unwrap().unwrap();
    assert_eq!(mac(&bss.bssid), "00:11:22:33:44:55");
    assert_eq!((bss.ssid.as_str(), bss.status), ("Example", 1));
    assert_eq!(src.bss(&ifis[1]).unwrap(), None, "wlan1 has no bss.json");
    let stations = src.stations(&ifis[0]).unwrap().unwrap();
    assert_eq!(stations.len(), 2);
    assert_eq!(mac(&stations[0].mac), "aa:bb:cc:dd:ee:ff");
    assert_eq!(stations[0].connected_ns, 30_000_000_000);
    assert_eq!(stations[1].signal_dbm, -26);
    assert_eq!(src.stations(&ifis[1]).unwrap(), None);
}

#[test]
fn fixture_keys_match_case_insensitively_and_bad_files_fail() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("interfaces.json"),
        r#"[{"Name": "wlp2s0", "Frequency": 5180, "HardwareAddr": null}]"#,
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("wlp2s0")).unwrap();
    std::fs::write(dir.path().join("wlp2s0/bss.json"), "{not json").unwrap();
    let mut src = fixtures::Fixtures::new(dir.path().to_path_buf());
    let ifis = src.interfaces().unwrap();
    assert_eq!(ifis[0].name, "wlp2s0");
    assert_eq!(ifis[0].frequency_mhz, 5180);
    assert!(ifis[0].mac.is_empty());
    assert!(matches!(
        src.bss(&ifis[0]),
        Err(CollectorError::Parse { .. })
    ));
    let missing = fixtures::Fixtures::new(dir.path().join("nope")).interfaces();
    assert!(missing.is_err_and(|e| e.is_no_data()));
}

#[test]
fn collector_output_matches_upstreams_expected_lines() {
    let mut families = Families::new();
    collect(&mut fixtures::Fixtures::new(testdata()), &mut families).unwrap();
    let mut out = Vec::new();
    families.append_to(&mut out);
    let got = lines(&out);
    let want = [
        r#"node_wifi_interface_frequency_hertz{device="wlan0"} 2412000000"#,
        r#"node_wifi_interface_frequency_hertz{device="wlan1"} 2412000000"#,
        r#"node_wifi_station_info{bssid="00:11:22:33:44:55",device="wlan0",mode="client",ssid="Example"} 1"#,
        r#"node_wifi_station_connected_seconds_total{device="wlan0",mac_address="aa:bb:cc:dd:ee:ff"} 30"#,
        r#"node_wifi_station_connected_seconds_total{device="wlan0",mac_address="01:02:03:04:05:06"} 60"#,
        r#"node_wifi_station_inactive_seconds{device="wlan0",mac_address="aa:bb:cc:dd:ee:ff"} 0.4"#,
        r#"node_wifi_station_inactive_seconds{device="wlan0",mac_address="01:02:03:04:05:06"} 0.8"#,
    ];
    for w in want {
        assert!(got.contains(&w.to_string()), "missing {w} in {got:#?}");
    }
    // 2 frequencies, 1 info, 12 families × 2 stations.
    assert_eq!(got.len(), 2 + 1 + 24);
}

/// A source with scripted answers, to drive the collector's skip and failure paths.
#[derive(Default)]
struct Scripted {
    interfaces: Vec<Interface>,
    bss: BTreeMap<String, Bss>,
    stations: BTreeMap<String, Vec<Station>>,
    failing_stations: Option<String>,
}

impl Source for Scripted {
    fn interfaces(&mut self) -> Result<Vec<Interface>, CollectorError> {
        Ok(self.interfaces.clone())
    }

    fn bss(&mut self, ifi: &Interface) -> Result<Option<Bss>, CollectorError> {
        Ok(self.bss.get(&ifi.name).cloned())
    }

    fn stations(&mut self, ifi: &Interface) -> Result<Option<Vec<Station>>, CollectorError> {
        if self.failing_stations.as_ref() == Some(&ifi.name) {
            return Err(CollectorError::NoData("scripted failure".into()));
        }
        Ok(self.stations.get(&ifi.name).cloned())
    }
}

fn named(name: &str, mhz: i64) -> Interface {
    Interface {
        name: name.into(),
        frequency_mhz: mhz,
        ..Interface::default()
    }
}

#[test]
fn failure_keeps_what_was_gathered_and_modes_follow_upstream() {
    let mut src = Scripted {
        interfaces: vec![
            named("adhoc0", 2437),
            named("mesh0", 5180),
            named("wlan9", 1),
        ],
        failing_stations: Some("mesh0".into()),
        ..Scripted::default()
    };
    for (name, status) in [("adhoc0", 3), ("mesh0", 2)] {
        src.bss.insert(
            name.into(),
            Bss {
                bssid: vec![1, 2, 3, 4, 5, 6],
                ssid: "x".into(),
                status,
            },
        );
    }
    src.stations.insert("adhoc0".into(), Vec::new());
    let mut families = Families::new();
    assert!(collect(&mut src, &mut families).is_err());
    let mut out = Vec::new();
    families.append_to(&mut out);
    let got = lines(&out);
    assert_eq!(
        got,
        [
            r#"node_wifi_interface_frequency_hertz{device="adhoc0"} 2437000000"#,
            r#"node_wifi_interface_frequency_hertz{device="mesh0"} 5180000000"#,
            r#"node_wifi_station_info{bssid="01:02:03:04:05:06",device="adhoc0",mode="ad-hoc",ssid="x"} 1"#,
            r#"node_wifi_station_info{bssid="01:02:03:04:05:06",device="mesh0",mode="unknown",ssid="x"} 1"#,
        ]
    );
}

#[test]
fn values_convert_as_upstream() {
    assert_eq!(go_seconds(400_000_000), 0.4);
    assert_eq!(go_seconds(61_500_000_000), 61.5);
    assert_eq!(mhz_to_hz(5180), 5.18e9);
    assert_eq!(mode(0), "client");
    assert_eq!(mode(1), "client");
    assert_eq!(mode(7), "unknown");
    assert_eq!(mac(&[]), "");
    assert_eq!(mac(&[0xab, 0x0c]), "ab:0c");
}
