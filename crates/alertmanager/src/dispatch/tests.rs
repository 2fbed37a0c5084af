use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::{Dispatcher, RouteTree};
use crate::alert::{Alert, LabelSet, PostedAlert};
use crate::config::Config;

const CONFIG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  routes:
    - matchers: ['team="db"']
      receiver: db
      group_by: ['...']
receivers: [{name: default}, {name: db}]
"#;

fn t0() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn at(secs: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(secs)
}

fn dispatcher() -> Dispatcher {
    let cfg = Config::load(CONFIG, "test.yml").unwrap();
    Dispatcher::new(Arc::new(RouteTree::new(cfg.root_route())))
}

fn alert(labels: &[(&str, &str)], start: i64, end: Option<i64>, now: i64) -> Arc<Alert> {
    let labels: LabelSet = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let posted = PostedAlert {
        labels,
        starts_at: Some(at(start)),
        ends_at: end.map(at),
        ..PostedAlert::default()
    };
    Arc::new(
        posted
            .into_alert(at(now), SignedDuration::from_mins(5))
            .unwrap(),
    )
}

#[test]
fn first_flush_after_group_wait_then_every_group_interval() {
    let d = dispatcher();
    d.ingest(&alert(&[("alertname", "A"), ("i", "1")], 0, None, 0), at(0));
    d.ingest(
        &alert(&[("alertname", "A"), ("i", "2")], 10, None, 10),
        at(10),
    );
    assert_eq!(d.group_count(), 1, "grouped by alertname");
    assert_eq!(d.next_deadline(), Some(at(30)));
    assert!(d.due(at(29)).is_empty());
    let flushes = d.due(at(30));
    assert_eq!(flushes.len(), 1);
    assert_eq!(flushes[0].alerts.len(), 2);
    assert_eq!(&*flushes[0].key, r#"{}:{alertname="A"}"#);
    d.finish(&flushes[0], true, at(31));
    assert!(d.due(at(329)).is_empty());
    assert_eq!(
        d.due(at(330)).len(),
        1,
        "group_interval after the first flush"
    );
}

#[test]
fn an_old_alert_skips_group_wait() {
    let d = dispatcher();
    d.ingest(&alert(&[("alertname", "Old")], -3600, None, 0), at(0));
    assert_eq!(d.due(at(0)).len(), 1);
}

#[test]
fn resolved_alerts_leave_after_a_successful_flush() {
    let d = dispatcher();
    d.ingest(&alert(&[("alertname", "A")], 0, None, 0), at(0));
    let first = d.due(at(30));
    d.finish(&first[0], true, at(30));
    d.ingest(&alert(&[("alertname", "A")], 0, Some(60), 60), at(60));
    let second = d.due(at(330));
    assert_eq!(second[0].firing().count(), 0);
    d.finish(&second[0], false, at(330));
    assert_eq!(d.group_count(), 1, "kept: the notification failed");
    let third = d.due(at(630));
    d.finish(&third[0], true, at(630));
    assert_eq!(d.group_count(), 0);
    let mut walked = 0;
    d.for_each_group(|_, _| walked += 1);
    assert_eq!(walked, 0);
}

#[test]
fn group_by_all_makes_one_group_per_label_set() {
    let d = dispatcher();
    d.ingest(&alert(&[("team", "db"), ("i", "1")], 0, None, 0), at(0));
    d.ingest(&alert(&[("team", "db"), ("i", "2")], 0, None, 0), at(0));
    let mut keys: Vec<String> = d.due(at(30)).iter().map(|f| f.key.to_string()).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            r#"{}/{team="db"}:{i="1", team="db"}"#,
            r#"{}/{team="db"}:{i="2", team="db"}"#
        ]
    );
}

#[test]
fn a_timer_firing_during_a_flush_flushes_right_after_it() {
    let d = dispatcher();
    d.ingest(&alert(&[("alertname", "A")], 0, None, 0), at(0));
    let slow = d.due(at(30));
    assert!(d.due(at(330)).is_empty(), "still in flight");
    d.finish(&slow[0], true, at(340));
    assert_eq!(d.due(at(340)).len(), 1);
}
