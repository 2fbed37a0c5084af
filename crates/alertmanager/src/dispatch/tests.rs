use std::hash::BuildHasher as _;
use std::sync::Arc;

use hashbrown::Equivalent as _;
use jiff::{SignedDuration, Timestamp};

use super::group::GroupLookup;
use super::{Dispatcher, GroupId, RouteOpts, RouteTree};
use crate::alert::{Alert, Arrival, LabelSet, PostedAlert};
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
            .into_alert(&Arrival::new(at(now), SignedDuration::from_mins(5)))
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

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn opts(group_by: &[&str], all: bool) -> RouteOpts {
    RouteOpts {
        group_by: group_by.iter().map(|n| (*n).to_owned()).collect(),
        group_by_all: all,
        ..RouteOpts::default()
    }
}

#[test]
fn a_borrowed_lookup_hashes_and_compares_like_the_group_id() {
    let alert = labels(&[("alertname", "A"), ("instance", "h:1"), ("job", "node")]);
    let cases = [
        // group_by list, all of it present
        (
            opts(&["alertname", "job"], false),
            &[("alertname", "A"), ("job", "node")][..],
        ),
        // a grouping label the alert lacks is left out
        (opts(&["cluster", "job"], false), &[("job", "node")][..]),
        // no grouping label at all: one group for the route
        (opts(&[], false), &[][..]),
        (opts(&["cluster"], false), &[][..]),
        // `...`: every label
        (
            opts(&[], true),
            &[("alertname", "A"), ("instance", "h:1"), ("job", "node")][..],
        ),
    ];
    let sip = std::hash::RandomState::new();
    let fold = foldhash::fast::RandomState::default();
    for (route, (opts, grouping)) in cases.iter().enumerate() {
        let lookup = GroupLookup::new(route, &alert, opts);
        let id = GroupId {
            route,
            labels: labels(grouping),
        };
        assert_eq!(lookup.to_id(), id, "{grouping:?}");
        assert_eq!(sip.hash_one(lookup), sip.hash_one(&id), "{grouping:?}");
        assert_eq!(fold.hash_one(lookup), fold.hash_one(Arc::new(id.clone())));
        assert!(lookup.equivalent(&Arc::new(id.clone())));

        let mut other_route = id.clone();
        other_route.route += 1;
        assert!(!lookup.equivalent(&Arc::new(other_route)));
        let mut other_value = id.clone();
        other_value.labels.insert("job".into(), "other".into());
        assert!(!lookup.equivalent(&Arc::new(other_value)));
        let mut more = id.clone();
        more.labels.insert("zone".into(), "z".into());
        assert!(!lookup.equivalent(&Arc::new(more)));
        if let Some(first) = id.labels.keys().next().cloned() {
            let mut fewer = id.clone();
            fewer.labels.remove(&first);
            assert!(!lookup.equivalent(&Arc::new(fewer)));
        }

        let mut map: hashbrown::HashMap<Arc<GroupId>, usize, _> =
            hashbrown::HashMap::with_hasher(std::hash::RandomState::new());
        map.insert(Arc::new(id), route);
        assert_eq!(map.get(&lookup), Some(&route));
    }
}

#[test]
fn grouping_labels_past_the_64th_are_found_too() {
    let names: Vec<String> = (0..70).map(|i| format!("l{i:02}")).collect();
    let alert: LabelSet = names.iter().map(|n| (n.clone(), "v".to_owned())).collect();
    for (opts, expected) in [
        (opts(&["l03", "l66"], false), vec!["l03", "l66"]),
        (opts(&["l69"], false), vec!["l69"]),
        (opts(&[], true), names.iter().map(String::as_str).collect()),
    ] {
        let lookup = GroupLookup::new(0, &alert, &opts);
        let id = lookup.to_id();
        assert_eq!(id.labels.keys().collect::<Vec<_>>(), expected);
        assert!(lookup.equivalent(&Arc::new(id.clone())));
        let sip = std::hash::RandomState::new();
        assert_eq!(sip.hash_one(lookup), sip.hash_one(&id));
    }
}

#[test]
fn label_boundaries_do_not_collide() {
    // Without separators "ab"="c" and "a"="bc" would feed the same bytes.
    let a = GroupId {
        route: 0,
        labels: labels(&[("ab", "c")]),
    };
    let b = GroupId {
        route: 0,
        labels: labels(&[("a", "bc")]),
    };
    let sip = std::hash::RandomState::new();
    assert_ne!(sip.hash_one(&a), sip.hash_one(&b));
}

#[test]
fn alerts_find_their_group_by_its_id() {
    let d = dispatcher();
    d.ingest(&alert(&[("alertname", "A"), ("i", "1")], 0, None, 0), at(0));
    d.ingest(&alert(&[("alertname", "A"), ("i", "2")], 0, None, 0), at(0));
    d.ingest(&alert(&[("alertname", "B")], 0, None, 0), at(0));
    d.ingest(&alert(&[("i", "3")], 0, None, 0), at(0));
    assert_eq!(d.group_count(), 3);
    let count = |route: usize, grouping: &[(&str, &str)]| {
        let mut n = None;
        let id = GroupId {
            route,
            labels: labels(grouping),
        };
        d.with_group(&id, |found, alerts| {
            assert_eq!(**found, id);
            n = Some(alerts.iter().len());
        });
        n
    };
    assert_eq!(count(0, &[("alertname", "A")]), Some(2));
    assert_eq!(count(0, &[("alertname", "B")]), Some(1));
    assert_eq!(
        count(0, &[]),
        Some(1),
        "no alertname: the route's empty group"
    );
    assert_eq!(count(0, &[("alertname", "C")]), None);
}
