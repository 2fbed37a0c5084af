//! The notifier against local HTTP receivers: the v2 body, headers and path, errors, several
//! Alertmanagers and sets, batching and the shutdown drain.

use crate::notifier_support;

use notifier_support::{Receiver, Running, firing};
use pm_prometheus::notifier::{AlertSink as _, NotifierOptions};
use serde_json::json;

fn one_set(receivers: &[&Receiver], extra: &str) -> String {
    let targets: Vec<String> = receivers.iter().map(|r| format!("'{}'", r.addr)).collect();
    format!(
        "alerting:\n  alertmanagers:\n    - static_configs: [{{targets: [{}]}}]\n{extra}",
        targets.join(",")
    )
}

#[tokio::test]
async fn alerts_arrive_in_the_v2_shape() {
    let am = Receiver::start(200).await;
    let yaml = format!(
        "global:\n  external_labels: {{region: eu}}\nalerting:\n  alertmanagers:\n    - path_prefix: /pfx/\n      static_configs: [{{targets: ['{}']}}]\n",
        am.addr
    );
    let running = Running::start(&yaml, NotifierOptions::default()).await;
    let mut resolved = firing("Resolved");
    resolved.annotations = Default::default();
    resolved.generator_url.clear();
    running.notifier.send(vec![firing("Fire"), resolved]);
    let posts = am.wait_posts(1).await;
    let post = &posts[0];
    assert_eq!(post.path, "/pfx/api/v2/alerts");
    assert_eq!(post.content_type, "application/json");
    assert!(
        post.user_agent.starts_with("Prometheus/"),
        "{}",
        post.user_agent
    );
    assert_eq!(
        post.body,
        json!([
            {
                "annotations": {"summary": "Fire is on fire"},
                "endsAt": "2025-11-24T16:04:00.250Z",
                "startsAt": "2025-11-24T16:00:00.250Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=Fire",
                "labels": {"alertname": "Fire", "region": "eu", "severity": "page"}
            },
            {
                "endsAt": "2025-11-24T16:04:00.250Z",
                "startsAt": "2025-11-24T16:00:00.250Z",
                "labels": {"alertname": "Resolved", "region": "eu", "severity": "page"}
            }
        ])
    );
    let url = format!("http://{}/pfx/api/v2/alerts", am.addr);
    let metrics = running.metrics();
    assert!(
        metrics.contains(&format!(
            "prometheus_notifications_sent_total{{alertmanager=\"{url}\"}} 2\n"
        )),
        "{metrics}"
    );
    assert!(metrics.contains(&format!(
        "prometheus_notifications_errors_total{{alertmanager=\"{url}\"}} 0\n"
    )));
    assert!(metrics.contains(&format!(
        "prometheus_notifications_latency_seconds_count{{alertmanager=\"{url}\"}} 1\n"
    )));
    assert!(metrics.contains("prometheus_notifications_alertmanagers_discovered 1\n"));
}

#[tokio::test]
async fn an_error_status_counts_errors_and_drops() {
    let am = Receiver::start(500).await;
    let running = Running::start(&one_set(&[&am], ""), NotifierOptions::default()).await;
    running
        .notifier
        .send(vec![firing("A"), firing("B"), firing("C")]);
    am.wait_posts(1).await;
    let url = format!("http://{}/api/v2/alerts", am.addr);
    let notifier = running.notifier.clone();
    let registry = running.registry.clone();
    let metrics = move || {
        let (_, body) = pm_common::metrics::render(&registry.gather(), None);
        String::from_utf8(body).unwrap()
    };
    let m = metrics.clone();
    notifier_support::wait_until("the drop to be counted", move || {
        m().contains("prometheus_notifications_dropped_total 3\n")
    })
    .await;
    let text = metrics();
    assert!(text.contains(&format!(
        "prometheus_notifications_errors_total{{alertmanager=\"{url}\"}} 3\n"
    )));
    assert!(text.contains(&format!(
        "prometheus_notifications_sent_total{{alertmanager=\"{url}\"}} 3\n"
    )));
    assert_eq!(notifier.queue_len(), 0);
}

#[tokio::test]
async fn every_alertmanager_of_every_set_receives() {
    let a = Receiver::start(200).await;
    let b = Receiver::start(200).await;
    let c = Receiver::start(200).await;
    // The second set only takes pages, and renames them on the way.
    let yaml = format!(
        "{}    - static_configs: [{{targets: ['{}']}}]\n      alert_relabel_configs:\n        - {{source_labels: [severity], regex: page, action: keep}}\n        - {{target_label: routed, replacement: 'yes'}}\n",
        one_set(&[&a, &b], ""),
        c.addr
    );
    let running = Running::start(&yaml, NotifierOptions::default()).await;
    let mut ticket = firing("Ticket");
    ticket.labels =
        pm_common::model::Labels::from_pairs([("alertname", "Ticket"), ("severity", "ticket")]);
    running.notifier.send(vec![firing("Page"), ticket]);
    for am in [&a, &b] {
        let body = &am.wait_posts(1).await[0].body;
        let names: Vec<&str> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|alert| alert["labels"]["alertname"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Page", "Ticket"]);
    }
    let body = &c.wait_posts(1).await[0].body;
    assert_eq!(body.as_array().unwrap().len(), 1);
    assert_eq!(
        body[0]["labels"],
        json!({"alertname": "Page", "routed": "yes", "severity": "page"})
    );
}

#[tokio::test]
async fn queued_alerts_go_out_in_batches_of_256() {
    let am = Receiver::start(200).await;
    let running = Running::start(&one_set(&[&am], ""), NotifierOptions::default()).await;
    running
        .notifier
        .send((0..600).map(|i| firing(&format!("A{i}"))).collect());
    let posts = am.wait_posts(3).await;
    let sizes: Vec<usize> = posts
        .iter()
        .map(|p| p.body.as_array().unwrap().len())
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 600);
    assert!(sizes.iter().all(|&n| n <= 256), "{sizes:?}");
    // The first batch went out with the first alerts, oldest first.
    assert_eq!(posts[0].body[0]["labels"]["alertname"], "A0");
}

#[tokio::test]
async fn shutdown_drains_the_queue() {
    let am = Receiver::start(200).await;
    let running = Running::start(&one_set(&[&am], ""), NotifierOptions::default()).await;
    running
        .notifier
        .send((0..300).map(|i| firing(&format!("A{i}"))).collect());
    running.stop().await;
    let total: usize = am
        .posts()
        .iter()
        .map(|p| p.body.as_array().unwrap().len())
        .sum();
    assert_eq!(total, 300);
}

#[tokio::test]
async fn shutdown_without_drain_drops_and_counts() {
    let options = NotifierOptions {
        drain_on_shutdown: false,
        ..NotifierOptions::default()
    };
    let registry = pm_common::metrics::Registry::new();
    let notifier = pm_prometheus::notifier::Notifier::new(options, &registry).unwrap();
    // Queued, then stopped before the sender ever runs: shutdown finds both alerts.
    notifier.send(vec![firing("A"), firing("B")]);
    notifier.stop();
    let (_targets, rx) = tokio::sync::watch::channel(Default::default());
    tokio::time::timeout(std::time::Duration::from_secs(10), notifier.run(rx))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(notifier.queue_len(), 0);
    let (_, body) = pm_common::metrics::render(&registry.gather(), None);
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("prometheus_notifications_dropped_total 2\n"),
        "{text}"
    );
}

#[tokio::test]
async fn without_alertmanagers_nothing_is_dropped() {
    let running = Running::start("alerting: {}\n", NotifierOptions::default()).await;
    running.notifier.send(vec![firing("A")]);
    let n = running.notifier.clone();
    notifier_support::wait_until("the queue to empty", move || n.queue_len() == 0).await;
    assert!(
        running
            .metrics()
            .contains("prometheus_notifications_dropped_total 0\n")
    );
}
