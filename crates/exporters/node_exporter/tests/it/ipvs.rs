//! The ipvs collector against upstream's expected outputs for `--collector.ipvs.backend-labels`
//! (`ip_vs_result*.txt`, from the fixture procfs).

use crate::support;

use std::sync::{Arc, Mutex};

use pm_common::expfmt::dto::MetricFamily;
use pm_common::metrics::{Collector as RegistryCollector, Registry, render};
use pm_node_exporter::collector::find;

/// Families handed to a registry so they come out sorted and rendered as upstream's are.
struct Gathered(Mutex<Vec<MetricFamily>>);

impl RegistryCollector for Gathered {
    fn collect(&self, out: &mut Vec<MetricFamily>) {
        out.append(&mut self.0.lock().unwrap());
    }
}

fn scrape(labels: Option<&str>) -> Result<String, String> {
    let procfs = support::fixtures().join("proc");
    let mut args = vec![
        "node_exporter".to_owned(),
        format!("--path.procfs={}", procfs.display()),
    ];
    if let Some(l) = labels {
        args.push(format!("--collector.ipvs.backend-labels={l}"));
    }
    let settings = pm_node_exporter::parse_from(args).map_err(|e| e.to_string())?;
    let collector =
        (find("ipvs").expect("ipvs is registered").build)(&settings).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    collector.update(&mut out).map_err(|e| e.to_string())?;
    let registry = Registry::new();
    registry.register(Arc::new(Gathered(Mutex::new(out))));
    let (_, body) = render(&registry.gather(), None);
    Ok(String::from_utf8(body).unwrap())
}

#[test]
fn backend_labels_match_upstream_outputs() {
    let fixtures = support::fixtures();
    for (labels, file) in [
        (None, "ip_vs_result.txt"),
        (Some(""), "ip_vs_result_lbs_none.txt"),
        (Some("local_port"), "ip_vs_result_lbs_local_port.txt"),
        (
            Some("local_address,local_port"),
            "ip_vs_result_lbs_local_address_local_port.txt",
        ),
    ] {
        let want = std::fs::read_to_string(fixtures.join(file)).unwrap();
        let got = scrape(labels).unwrap();
        assert_eq!(
            got.trim_end(),
            want.trim_end(),
            "labels {labels:?} ({file})"
        );
    }
}

#[test]
fn unknown_backend_labels_are_refused() {
    let err = scrape(Some("invalid_label,bad_label")).unwrap_err();
    assert!(
        err.contains(r#"unknown IPVS backend labels: "bad_label, invalid_label""#),
        "{err}"
    );
}
