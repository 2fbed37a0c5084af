use jiff::Timestamp;
use pm_common::metrics::Registry;
use pm_common::model::Labels;
use pm_discovery::TargetGroup;

use super::queue::Queue;
use super::send::relabel_alerts;
use super::*;
use crate::config::{Config, load_str};

fn alert(name: &str) -> Alert {
    Alert {
        labels: Labels::from_pairs([("alertname", name)]),
        annotations: Annotations::default(),
        starts_at: Timestamp::from_millisecond(1_700_000_000_123).unwrap(),
        ends_at: None,
        generator_url: String::new(),
    }
}

fn names(alerts: &[Alert]) -> Vec<&str> {
    alerts
        .iter()
        .map(|a| a.labels.get_or_empty("alertname"))
        .collect()
}

fn config(yaml: &str) -> Config {
    load_str(yaml, "test.yml").unwrap()
}

#[test]
fn full_queue_drops_the_oldest() {
    let mut q = Queue::new(3);
    assert_eq!(q.push(vec![alert("a"), alert("b")]).queued, 0);
    let overflow = q.push(vec![alert("c"), alert("d")]);
    assert_eq!((overflow.batch, overflow.queued), (0, 1));
    assert_eq!(names(&q.next_batch(10)), ["b", "c", "d"]);
    // A batch larger than the whole queue keeps its newest alerts.
    q.push(vec![alert("x")]);
    let overflow = q.push((0..5).map(|i| alert(&i.to_string())).collect());
    assert_eq!((overflow.batch, overflow.queued), (2, 1));
    assert_eq!(names(&q.next_batch(10)), ["2", "3", "4"]);
}

#[test]
fn batches_of_at_most_256() {
    let mut q = Queue::new(10_000);
    q.push((0..600).map(|i| alert(&i.to_string())).collect());
    let sizes: Vec<usize> = std::iter::from_fn(|| {
        let batch = q.next_batch(256);
        (!batch.is_empty()).then_some(batch.len())
    })
    .collect();
    assert_eq!(sizes, [256, 256, 88]);
}

#[test]
fn overflowing_sends_count_as_dropped() {
    let registry = Registry::new();
    let options = NotifierOptions {
        queue_capacity: 4,
        ..NotifierOptions::default()
    };
    let notifier = Notifier::new(options, &registry).unwrap();
    notifier.send((0..3).map(|i| alert(&i.to_string())).collect());
    notifier.send((0..6).map(|i| alert(&i.to_string())).collect());
    assert_eq!(notifier.queue_len(), 4);
    let text = render(&registry);
    assert!(
        text.contains("prometheus_notifications_dropped_total 5\n"),
        "{text}"
    );
    assert!(
        text.contains("prometheus_notifications_queue_length 4\n"),
        "{text}"
    );
    assert!(
        text.contains("prometheus_notifications_queue_capacity 4\n"),
        "{text}"
    );
}

fn render(registry: &Registry) -> String {
    let (_, body) = pm_common::metrics::render(&registry.gather(), None);
    String::from_utf8(body).unwrap()
}

#[test]
fn external_labels_then_alert_relabeling() {
    let cfg = config(
        r#"
global:
  external_labels: {region: eu, alertname: ignored}
alerting:
  alert_relabel_configs:
    - source_labels: [severity]
      regex: low
      action: drop
    - target_label: team
      replacement: ops
"#,
    );
    let mut low = alert("Low");
    low.labels = Labels::from_pairs([("alertname", "Low"), ("severity", "low")]);
    let mut own_region = alert("Own");
    own_region.labels = Labels::from_pairs([("alertname", "Own"), ("region", "us")]);
    let external = Labels::from_pairs(&cfg.global.external_labels);
    let out = relabel_alerts(
        &cfg.alerting.alert_relabel_configs,
        &external,
        vec![alert("A"), low, own_region],
    );
    assert_eq!(
        out.iter().map(|a| a.labels.clone()).collect::<Vec<_>>(),
        [
            Labels::from_pairs([("alertname", "A"), ("region", "eu"), ("team", "ops")]),
            Labels::from_pairs([("alertname", "Own"), ("region", "us"), ("team", "ops")]),
        ]
    );
}

#[test]
fn relabel_dropped_alerts_are_not_queued_nor_counted() {
    let registry = Registry::new();
    let notifier = Notifier::new(NotifierOptions::default(), &registry).unwrap();
    notifier
        .apply_config(&config(
            "alerting:\n  alert_relabel_configs:\n    - {source_labels: [alertname], regex: Drop, action: drop}\n",
        ))
        .unwrap();
    notifier.send(vec![alert("Drop"), alert("Keep")]);
    assert_eq!(notifier.queue_len(), 1);
    assert!(render(&registry).contains("prometheus_notifications_dropped_total 0\n"));
}

#[test]
fn alerts_path_joins_and_cleans_like_go() {
    assert_eq!(alerts_path(""), "/api/v2/alerts");
    assert_eq!(alerts_path("/"), "/api/v2/alerts");
    assert_eq!(alerts_path("prefix"), "/prefix/api/v2/alerts");
    assert_eq!(alerts_path("/a//b/"), "/a/b/api/v2/alerts");
    assert_eq!(alerts_path("/a/../b/./c"), "/b/c/api/v2/alerts");
    assert_eq!(alerts_path("../../x"), "/x/api/v2/alerts");
}

fn group(targets: &[&[(&str, &str)]], labels: &[(&str, &str)]) -> TargetGroup {
    TargetGroup {
        source: "0".into(),
        targets: targets
            .iter()
            .map(|t| Labels::from_pairs(t.iter().copied()))
            .collect(),
        labels: Labels::from_pairs(labels.iter().copied()),
    }
}

#[test]
fn targets_from_discovered_groups() {
    let cfg = config(
        r#"
alerting:
  alertmanagers:
    - scheme: https
      path_prefix: /am/
      relabel_configs:
        - source_labels: [__address__]
          regex: "drop-me:.*"
          action: drop
        - source_labels: [zone]
          target_label: __alerts_path__
          regex: "b"
          replacement: /zone-b/api/v2/alerts
      static_configs:
        - targets: [x:1]
"#,
    );
    let settings = &cfg.alerting.alertmanagers[0].settings;
    let g = group(
        &[
            &[("__address__", "am1:9093"), ("__scheme__", "http")],
            &[("__address__", "drop-me:9093")],
            &[("__address__", "am2:80"), ("zone", "a")],
        ],
        &[("zone", "b")],
    );
    let (active, dropped) = targets_from_group(&g, settings).unwrap();
    let urls: Vec<String> = active.iter().map(AlertmanagerTarget::url).collect();
    // The configured scheme replaces the target's; the target's own zone beats the group's.
    assert_eq!(
        urls,
        [
            "https://am1:9093/zone-b/api/v2/alerts",
            "https://am2:80/am/api/v2/alerts"
        ]
    );
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].url(), "https://drop-me:9093/am/api/v2/alerts");
    assert_eq!(dropped[0].labels().get("zone"), Some("b"));

    let bad = group(&[&[("__address__", "host/path")]], &[]);
    let err = targets_from_group(&bad, settings).unwrap_err();
    assert_eq!(err.to_string(), r#""host/path" is not a valid hostname"#);
}

#[test]
fn urls_are_written_as_go_writes_them() {
    let url = |pairs: &[(&str, &str)]| {
        AlertmanagerTarget::new(Labels::from_pairs(pairs.iter().copied())).url()
    };
    assert_eq!(
        url(&[
            ("__scheme__", "http"),
            ("__address__", "[::1]:9093"),
            ("__alerts_path__", "/a b?/c")
        ]),
        "http://[::1]:9093/a%20b%3F/c"
    );
    assert_eq!(
        url(&[
            ("__scheme__", "http"),
            ("__address__", "h:1"),
            ("__alerts_path__", "rel")
        ]),
        "http://h:1/rel"
    );
    assert_eq!(
        url(&[("__address__", "h:1"), ("__alerts_path__", "/p")]),
        "//h:1/p"
    );
    assert_eq!(
        url(&[("__scheme__", "http"), ("__alerts_path__", "/p")]),
        "http:///p"
    );
    assert_eq!(url(&[("__alerts_path__", "a:b")]), "./a:b");
}

#[test]
fn encodes_postable_alerts_as_upstream() {
    let firing = Alert {
        labels: Labels::from_pairs([("alertname", "Up<&>"), ("job", "node")]),
        annotations: Annotations::from_pairs([("summary", "line\n\"two\"")]),
        starts_at: Timestamp::from_millisecond(1_700_000_000_123).unwrap(),
        ends_at: Some(Timestamp::new(1_700_000_300, 999_999_999).unwrap()),
        generator_url: "http://prom:9090/graph?g0.expr=up".into(),
    };
    let bare = Alert {
        labels: Labels::default(),
        ..alert("x")
    };
    assert_eq!(
        encode_alerts(&[firing, bare]),
        concat!(
            r#"[{"annotations":{"summary":"line\n\"two\""},"endsAt":"2023-11-14T22:18:20.999Z","#,
            r#""startsAt":"2023-11-14T22:13:20.123Z","generatorURL":"http://prom:9090/graph?g0.expr=up","#,
            r#""labels":{"alertname":"Up\u003c\u0026\u003e","job":"node"}},"#,
            r#"{"endsAt":"0001-01-01T00:00:00.000Z","startsAt":"2023-11-14T22:13:20.123Z","labels":{}}]"#
        )
    );
    assert_eq!(encode_alerts(&[]), "[]");
}

#[test]
fn reload_keeps_discovered_alertmanagers_of_unchanged_sets() {
    let registry = Registry::new();
    let notifier = Notifier::new(NotifierOptions::default(), &registry).unwrap();
    let two = "alerting:\n  alertmanagers:\n    - static_configs: [{targets: [a:1]}]\n    - path_prefix: /x\n      static_configs: [{targets: [b:1]}]\n";
    notifier.apply_config(&config(two)).unwrap();
    assert!(notifier.alertmanagers().is_empty());
    notifier.reload(&pm_discovery::TargetSets::from([
        (
            "config-0".into(),
            vec![group(&[&[("__address__", "a:1")]], &[])],
        ),
        (
            "config-1".into(),
            vec![group(&[&[("__address__", "b:1")]], &[])],
        ),
        (
            "config-9".into(),
            vec![group(&[&[("__address__", "c:1")]], &[])],
        ),
    ]));
    assert_eq!(
        notifier.alertmanagers(),
        ["http://a:1/api/v2/alerts", "http://b:1/x/api/v2/alerts"]
    );
    assert!(render(&registry).contains("prometheus_notifications_alertmanagers_discovered 2\n"));
    // The second set changes: it waits for discovery; the first keeps its Alertmanager.
    let changed = two.replace("/x", "/y");
    notifier.apply_config(&config(&changed)).unwrap();
    assert_eq!(notifier.alertmanagers(), ["http://a:1/api/v2/alerts"]);
    assert!(render(&registry).contains("prometheus_notifications_alertmanagers_discovered 1\n"));
}
