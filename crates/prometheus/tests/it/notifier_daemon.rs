//! Our server with an `alerting` block: `/api/v1/alertmanagers` lists the active and dropped
//! Alertmanagers from the notify discovery manager, follows a reload, and the notifier's
//! metrics and flags are exposed.

use crate::notifier_support;
use crate::server_support;

use std::time::{Duration, Instant};

use notifier_support::Receiver;
use serde_json::{Value, json};
use server_support::{OURS, Server};

fn config(am: &Receiver, path_prefix: &str, drop_rule: bool) -> String {
    let mut yaml = format!(
        "alerting:\n  alertmanagers:\n    - path_prefix: '{path_prefix}'\n      static_configs: [{{targets: ['{}', 'dropped.example:9093']}}]\n",
        am.addr
    );
    if drop_rule {
        yaml.push_str(
            "      relabel_configs:\n        - {source_labels: [__address__], regex: 'dropped.*', action: drop}\n",
        );
    }
    yaml
}

/// Polls the API (bounded: discovery publishes every 5 s) until `done` holds for its data.
async fn wait_for_alertmanagers(server: &Server, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = server.get("/api/v1/alertmanagers").await;
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        if done(&body["data"]) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "alertmanagers never matched: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanagers_api_lists_active_and_dropped_and_follows_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let am = Receiver::start(200).await;
    let server = server_support::start(
        OURS,
        dir.path(),
        &dir.path().join("data"),
        &config(&am, "", true),
        &[],
    )
    .await;
    let body = wait_for_alertmanagers(&server, |d| {
        d["activeAlertmanagers"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    })
    .await;
    assert_eq!(
        body,
        json!({
            "status": "success",
            "data": {
                "activeAlertmanagers": [{"url": format!("http://{}/api/v2/alerts", am.addr)}],
                "droppedAlertmanagers": [{"url": "http://dropped.example:9093/api/v2/alerts"}]
            }
        })
    );
    let (_, metrics) = server.get("/metrics").await;
    for line in [
        "prometheus_notifications_alertmanagers_discovered 1\n",
        "prometheus_notifications_queue_capacity 10000\n",
        "prometheus_notifications_queue_length 0\n",
        "prometheus_notifications_dropped_total 0\n",
        "prometheus_sd_discovered_targets{config=\"config-0\",name=\"notify\"} 2\n",
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
    let (_, flags) = server.get("/api/v1/status/flags").await;
    let flags: Value = serde_json::from_str(&flags).unwrap();
    assert_eq!(
        flags["data"]["alertmanager.notification-queue-capacity"],
        "10000"
    );
    assert_eq!(
        flags["data"]["alertmanager.drain-notification-queue-on-shutdown"],
        "true"
    );

    std::fs::write(&server.config, config(&am, "/new", false)).unwrap();
    server.signal("HUP");
    let body = wait_for_alertmanagers(&server, |d| {
        d["activeAlertmanagers"]
            .as_array()
            .is_some_and(|a| a.len() == 2)
    })
    .await;
    assert_eq!(body["data"]["droppedAlertmanagers"], json!([]));
    assert_eq!(
        body["data"]["activeAlertmanagers"],
        json!([
            {"url": format!("http://{}/new/api/v2/alerts", am.addr)},
            {"url": "http://dropped.example:9093/new/api/v2/alerts"}
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_alerting_the_lists_are_empty() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = server_support::start(
        OURS,
        dir.path(),
        &dir.path().join("data"),
        "global: {}\n",
        &["--alertmanager.notification-queue-capacity=7"],
    )
    .await;
    let (_, body) = server.get("/api/v1/alertmanagers").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":{"activeAlertmanagers":[],"droppedAlertmanagers":[]}}"#
    );
    let (_, metrics) = server.get("/metrics").await;
    assert!(
        metrics.contains("prometheus_notifications_queue_capacity 7\n"),
        "{metrics}"
    );
    server.signal("TERM");
    assert_eq!(server.wait_exit(), Some(0));
}
