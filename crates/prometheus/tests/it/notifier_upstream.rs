//! Our notifier posting to the real upstream Alertmanager (Debian's), then reading the alerts
//! back from its `GET /api/v2/alerts`.

use crate::notifier_support;

use std::time::{Duration, Instant};

use jiff::Timestamp;
use notifier_support::{Running, firing, start_alertmanager};
use pm_prometheus::notifier::{AlertSink as _, Annotations, NotifierOptions};
use pm_testsupport::upstream_binary;
use serde_json::{Value, json};

const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

/// The millisecond a JSON time of Alertmanager's stands for.
fn millis(v: &Value) -> i64 {
    let text = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    text.parse::<Timestamp>().unwrap().as_millisecond()
}

#[tokio::test]
async fn upstream_alertmanager_receives_our_alerts() {
    if !upstream_binary(ALERTMANAGER) {
        return;
    }
    notifier_support::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let am = start_alertmanager(
        ALERTMANAGER.as_ref(),
        dir.path(),
        "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n",
    )
    .await;
    let yaml = format!(
        "global:\n  external_labels: {{replica: a}}\nalerting:\n  alertmanagers:\n    - static_configs: [{{targets: ['{}']}}]\n",
        am.addr
    );
    let running = Running::start(&yaml, NotifierOptions::default()).await;

    let now = Timestamp::now().as_millisecond();
    let start = Timestamp::from_millisecond(now - 60_000).unwrap();
    let end = Timestamp::from_millisecond(now + 300_000).unwrap();
    let mut fire = firing("UpstreamFire");
    fire.starts_at = start;
    fire.ends_at = Some(end);
    // No end: Alertmanager gives it one (now + resolve_timeout).
    let mut open = firing("UpstreamOpen");
    open.starts_at = start;
    open.ends_at = None;
    open.annotations = Annotations::from_pairs([("description", "<b>&\"quoted\"</b>")]);
    open.generator_url.clear();
    running.notifier.send(vec![fire, open]);

    let url = format!("http://{}/api/v2/alerts", am.addr);
    let deadline = Instant::now() + Duration::from_secs(20);
    let alerts = loop {
        let body: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        if body.as_array().is_some_and(|a| a.len() == 2) {
            break body;
        }
        assert!(Instant::now() < deadline, "alerts never showed up: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let by_name = |name: &str| {
        alerts
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["labels"]["alertname"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {alerts}"))
            .clone()
    };
    let fire = by_name("UpstreamFire");
    assert_eq!(
        fire["labels"],
        json!({"alertname": "UpstreamFire", "replica": "a", "severity": "page"})
    );
    assert_eq!(
        fire["annotations"],
        json!({"summary": "UpstreamFire is on fire"})
    );
    assert_eq!(millis(&fire["startsAt"]), now - 60_000);
    assert_eq!(millis(&fire["endsAt"]), now + 300_000);
    assert_eq!(
        fire["generatorURL"],
        "http://prometheus:9090/graph?g0.expr=UpstreamFire"
    );
    assert_eq!(fire["status"]["state"], "active");

    let open = by_name("UpstreamOpen");
    assert_eq!(
        open["annotations"],
        json!({"description": "<b>&\"quoted\"</b>"})
    );
    assert_eq!(millis(&open["startsAt"]), now - 60_000);
    assert!(open.get("generatorURL").is_none_or(|u| u == ""), "{open}");
    assert!(millis(&open["endsAt"]) > now, "{open}");
    assert!(running.metrics().contains(&format!(
        "prometheus_notifications_sent_total{{alertmanager=\"http://{}/api/v2/alerts\"}} 2\n",
        am.addr
    )));
}
