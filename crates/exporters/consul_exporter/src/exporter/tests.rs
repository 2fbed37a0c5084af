use std::time::Duration;

use pm_common::expfmt::encode::write_text;

use super::*;
use crate::client::{ConnectOptions, QueryOptions};

fn exporter(meta_filter: &str) -> Exporter {
    let connect = ConnectOptions {
        server: "127.0.0.1:1".into(),
        timeout: Duration::from_millis(100),
        ..ConnectOptions::default()
    };
    let options = Options {
        kv_prefix: String::new(),
        kv_filter: regex::Regex::new(".*").unwrap(),
        meta_filter: regex::Regex::new(meta_filter).unwrap(),
        health_summary: true,
        agent_only: false,
        request_limit: 0,
    };
    Exporter::new(
        Client::new(&connect, QueryOptions::default()).unwrap(),
        options,
    )
}

fn text(sink: Sink) -> String {
    let mut out = String::new();
    for family in sink.into_families() {
        write_text(&mut out, &family).unwrap();
    }
    out
}

fn service(tags: &[&str], meta: &[(&str, &str)]) -> Service {
    Service {
        id: "web-1".into(),
        service: "web".into(),
        tags: Some(tags.iter().map(|t| t.to_string()).collect()),
        meta: Some(
            meta.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
    }
}

fn checks(statuses: &[&str]) -> Vec<CheckStatus> {
    statuses
        .iter()
        .map(|s| CheckStatus {
            status: s.to_string(),
        })
        .collect()
}

#[test]
fn an_instance_is_healthy_only_when_every_check_passes() {
    let e = exporter("^$");
    let sink = Sink::default();
    e.push_instance(
        &sink,
        "n1",
        &service(&[], &[]),
        &checks(&["passing", "passing"]),
    );
    e.push_instance(
        &sink,
        "n2",
        &service(&[], &[]),
        &checks(&["passing", "warning"]),
    );
    e.push_instance(&sink, "n3", &service(&[], &[]), &[]);
    let out = text(sink);
    for want in [
        "consul_catalog_service_node_healthy{node=\"n1\",service_id=\"web-1\",service_name=\"web\"} 1\n",
        "consul_catalog_service_node_healthy{node=\"n2\",service_id=\"web-1\",service_name=\"web\"} 0\n",
        "consul_catalog_service_node_healthy{node=\"n3\",service_id=\"web-1\",service_name=\"web\"} 1\n",
    ] {
        assert!(out.contains(want), "{want} missing from\n{out}");
    }
    assert!(!out.contains("consul_service_meta_info"), "{out}");
}

#[test]
fn tags_once_each_and_meta_by_unanchored_filter() {
    let e = exporter("ver");
    let sink = Sink::default();
    let svc = service(
        &["a", "b", "a"],
        &[("version", "1"), ("owner", "x"), ("server", "y")],
    );
    e.push_instance(&sink, "n1", &svc, &[]);
    let out = text(sink);
    assert_eq!(out.matches("consul_service_tag{").count(), 2, "{out}");
    assert!(out.contains(
        "consul_service_meta_info{key=\"version\",node=\"n1\",service_id=\"web-1\",value=\"1\"} 1\n"
    ));
    assert!(out.contains("key=\"server\""), "{out}");
    assert!(!out.contains("key=\"owner\""), "{out}");
}

#[tokio::test]
async fn unreachable_consul_gives_only_up_zero() {
    let families = exporter("^$").collect().await;
    assert_eq!(families.len(), 1);
    assert_eq!(families[0].name(), "consul_up");
    assert_eq!(families[0].metric[0].gauge.as_ref().unwrap().value(), 0.0);
}
