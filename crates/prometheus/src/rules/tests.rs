use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use pm_common::model::{Labels, is_stale_nan};
use pm_promql::engine::{Engine, EngineOptions};
use pm_storage::{Appendable, MemStorage, SampleValue, SeriesRef};

use super::*;
use crate::notifier::{Alert, AlertSink, Annotations};
use crate::template::Env;

#[derive(Default)]
struct RecordingSink(Mutex<Vec<Alert>>);

impl RecordingSink {
    fn take(&self) -> Vec<Alert> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl AlertSink for RecordingSink {
    fn send(&self, alerts: Vec<Alert>) {
        self.0.lock().unwrap().extend(alerts);
    }
}

struct Fixture {
    storage: MemStorage,
    sink: Arc<RecordingSink>,
    ctx: EvalContext,
}

fn fixture() -> Fixture {
    let storage = MemStorage::new();
    let sink = Arc::new(RecordingSink::default());
    let ctx = EvalContext {
        queryable: Arc::new(storage.clone()),
        appendable: Arc::new(storage.clone()),
        engine: Engine::new(EngineOptions::default()),
        sink: Some(sink.clone()),
        template: Env {
            external_url: "http://prom:9090".into(),
            query: None,
        },
        external_url: "http://prom:9090".into(),
        resend_delay: Duration::from_secs(60),
        outage_tolerance: Duration::from_secs(3600),
        for_grace_period: Duration::from_secs(600),
        default_query_offset: AtomicU64::new(0),
        metrics: RuleMetrics::unregistered(),
    };
    Fixture { storage, sink, ctx }
}

/// Base of the tests' clock, in seconds.
const T0: i64 = 1_700_000_000;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(T0 + secs).unwrap()
}

fn ms(secs: i64) -> i64 {
    (T0 + secs) * 1000
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn push(storage: &MemStorage, l: &Labels, secs: i64, v: f64) {
    let mut app = storage.appender();
    app.append(SeriesRef::UNKNOWN, l, ms(secs), v).unwrap();
    app.commit().unwrap();
}

fn floats(storage: &MemStorage, l: &Labels) -> Vec<(i64, f64)> {
    storage
        .samples(l)
        .into_iter()
        .map(|s| match s.value {
            SampleValue::Float(v) => (s.t, v),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

fn group(yaml: &str, should_restore: bool) -> Group {
    let parsed = rulefmt::parse(yaml, "rules.yml", &rulefmt::ParseOptions::default()).unwrap();
    let options = LoadOptions {
        interval: Duration::from_secs(60),
        external_labels: labels(&[("dc", "eu")]),
        external_url: "http://prom:9090".into(),
        should_restore,
        parse: rulefmt::ParseOptions::default(),
    };
    build_groups(parsed, "rules.yml", &options)
        .unwrap()
        .pop()
        .unwrap()
}

fn alerting(g: &Group, i: usize) -> &AlertingRule {
    match &g.rules()[i] {
        Rule::Alerting(r) => r,
        Rule::Recording(_) => panic!("rule {i} is a recording rule"),
    }
}

#[test]
fn recording_results_feed_later_rules_and_go_stale() {
    let f = fixture();
    let xa = labels(&[("__name__", "x"), ("job", "a")]);
    let xb = labels(&[("__name__", "x"), ("job", "b")]);
    push(&f.storage, &xa, 0, 1.0);
    push(&f.storage, &xb, 0, 2.0);
    let g = group(
        "groups:\n- name: g\n  labels: {team: t}\n  rules:\n  - record: job:x:sum\n    expr: sum by (job) (x)\n  - record: job:x:double\n    expr: job:x:sum * 2\n    labels: {team: own}\n",
        false,
    );
    g.eval(&f.ctx, at(60));
    let sum_a = labels(&[("__name__", "job:x:sum"), ("job", "a"), ("team", "t")]);
    let sum_b = labels(&[("__name__", "job:x:sum"), ("job", "b"), ("team", "t")]);
    assert_eq!(floats(&f.storage, &sum_a), [(ms(60), 1.0)]);
    let double_b = labels(&[("__name__", "job:x:double"), ("job", "b"), ("team", "own")]);
    assert_eq!(floats(&f.storage, &double_b), [(ms(60), 4.0)]);
    for r in g.rules() {
        assert_eq!(r.status().health, Health::Ok);
        assert!(r.status().evaluation_timestamp.is_some());
    }

    push(&f.storage, &xb, 70, pm_common::model::stale_nan());
    g.eval(&f.ctx, at(120));
    assert_eq!(floats(&f.storage, &sum_a), [(ms(60), 1.0), (ms(120), 1.0)]);
    let b = floats(&f.storage, &sum_b);
    assert_eq!(b.len(), 2);
    assert_eq!(b[1].0, ms(120));
    assert!(is_stale_nan(b[1].1), "{b:?}");
}

#[test]
fn query_offset_shifts_query_and_sample_time() {
    let f = fixture();
    let x = labels(&[("__name__", "x")]);
    push(&f.storage, &x, 0, 1.0);
    push(&f.storage, &x, 50, 5.0);
    let g = group(
        "groups:\n- name: g\n  query_offset: 30s\n  rules:\n  - record: y\n    expr: x\n",
        false,
    );
    g.eval(&f.ctx, at(60));
    assert_eq!(
        floats(&f.storage, &labels(&[("__name__", "y")])),
        [(ms(30), 1.0)]
    );
}

const ALERT: &str = "groups:\n- name: g\n  rules:\n  - alert: High\n    expr: x > 0\n    for: 2m\n    labels: {severity: page, instance: '{{ $labels.job }}-i'}\n    annotations: {summary: '{{ $labels.job }} is {{ $value }} in {{ $externalLabels.dc }}', runbook: '{{ $labels.runbook }}'}\n";

#[test]
fn alert_goes_pending_then_firing_then_resolves() {
    let f = fixture();
    let x = labels(&[("__name__", "x"), ("job", "a")]);
    push(&f.storage, &x, 0, 1.0);
    let g = group(ALERT, false);
    let rule = alerting(&g, 0);
    assert_eq!(rule.state(), AlertState::Unknown);

    g.eval(&f.ctx, at(60));
    assert_eq!(rule.state(), AlertState::Pending);
    let alerts = rule.active_alerts();
    assert_eq!(alerts.len(), 1);
    let want = labels(&[
        ("alertname", "High"),
        ("instance", "a-i"),
        ("job", "a"),
        ("severity", "page"),
    ]);
    // An annotation that expands to "" is kept, as upstream (a label would be dropped).
    assert_eq!(alerts[0].labels, want);
    assert_eq!(
        alerts[0].annotations,
        Annotations::from_pairs([("runbook", ""), ("summary", "a is 1 in eu")])
    );
    assert_eq!(alerts[0].active_at, at(60));
    let series = |name: &str, state: Option<&str>| {
        let mut b = want.builder();
        b.set("__name__", name);
        if let Some(s) = state {
            b.set("alertstate", s);
        }
        b.labels()
    };
    assert_eq!(
        floats(&f.storage, &series("ALERTS", Some("pending"))),
        [(ms(60), 1.0)]
    );
    assert_eq!(
        floats(&f.storage, &series("ALERTS_FOR_STATE", None)),
        [(ms(60), (T0 + 60) as f64)]
    );
    assert!(f.sink.take().is_empty(), "pending alerts are not sent");

    g.eval(&f.ctx, at(120));
    assert_eq!(rule.state(), AlertState::Pending);
    g.eval(&f.ctx, at(180));
    assert_eq!(rule.state(), AlertState::Firing);
    let sent = f.sink.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].labels, want);
    assert_eq!(sent[0].annotations.get("runbook"), Some(""));
    assert_eq!(sent[0].starts_at, at(180));
    assert_eq!(sent[0].ends_at, Some(at(180 + 240)));
    assert_eq!(
        sent[0].generator_url,
        "http://prom:9090/graph?g0.expr=x+%3E+0&g0.tab=1"
    );
    let pending = floats(&f.storage, &series("ALERTS", Some("pending")));
    assert!(is_stale_nan(pending.last().unwrap().1), "{pending:?}");
    assert_eq!(
        floats(&f.storage, &series("ALERTS", Some("firing"))),
        [(ms(180), 1.0)]
    );

    g.eval(&f.ctx, at(200));
    assert!(
        f.sink.take().is_empty(),
        "resent only after the resend delay"
    );
    g.eval(&f.ctx, at(241));
    assert_eq!(f.sink.take().len(), 1);

    push(&f.storage, &x, 250, pm_common::model::stale_nan());
    g.eval(&f.ctx, at(300));
    assert_eq!(rule.state(), AlertState::Inactive);
    assert!(rule.active_alerts().is_empty());
    let sent = f.sink.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].ends_at,
        Some(at(300)),
        "resolved alerts end when they resolved"
    );
    let firing = floats(&f.storage, &series("ALERTS", Some("firing")));
    assert!(is_stale_nan(firing.last().unwrap().1));
    g.eval(&f.ctx, at(330));
    assert!(
        f.sink.take().is_empty(),
        "a resolved alert is resent only after the delay"
    );
}

#[test]
fn keep_firing_for_holds_a_vanished_alert() {
    let f = fixture();
    let x = labels(&[("__name__", "x")]);
    push(&f.storage, &x, 0, 1.0);
    let g = group(
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: x > 0\n    keep_firing_for: 2m\n",
        false,
    );
    let rule = alerting(&g, 0);
    g.eval(&f.ctx, at(60));
    assert_eq!(rule.state(), AlertState::Firing, "no `for`: fires at once");
    push(&f.storage, &x, 70, pm_common::model::stale_nan());
    g.eval(&f.ctx, at(120));
    assert_eq!(rule.state(), AlertState::Firing);
    assert_eq!(rule.active_alerts()[0].keep_firing_since, Some(at(120)));
    g.eval(&f.ctx, at(180));
    assert_eq!(rule.state(), AlertState::Firing);
    g.eval(&f.ctx, at(240));
    assert_eq!(rule.state(), AlertState::Inactive);
}

#[test]
fn errors_read_as_upstreams() {
    let f = fixture();
    push(
        &f.storage,
        &labels(&[("__name__", "x"), ("job", "a")]),
        0,
        1.0,
    );
    push(
        &f.storage,
        &labels(&[("__name__", "x"), ("job", "b")]),
        0,
        1.0,
    );
    let g = group(
        "groups:\n- name: g\n  limit: 1\n  rules:\n  - record: r\n    expr: x\n    labels: {job: same}\n  - record: r2\n    expr: x\n  - alert: A\n    expr: x\n",
        false,
    );
    g.eval(&f.ctx, at(60));
    let errors: Vec<Option<String>> = g.rules().iter().map(|r| r.status().last_error).collect();
    assert_eq!(
        errors,
        [
            Some(
                "vector contains metrics with the same labelset after applying rule labels".into()
            ),
            Some("exceeded limit of 1 with 2 series".into()),
            Some("exceeded limit of 1 with 2 alerts".into()),
        ]
    );
    assert!(g.rules().iter().all(|r| r.status().health == Health::Err));
    assert!(alerting(&g, 2).active_alerts().is_empty());
}

#[test]
fn eval_timestamps_are_spread_but_stable() {
    let g = group(
        "groups:\n- name: g\n  rules:\n  - record: r\n    expr: x\n",
        false,
    );
    let now = at(1234);
    let slot = g.eval_timestamp(now);
    assert!(slot <= now && now.duration_since(slot) < jiff::SignedDuration::from_secs(60));
    let later = g.eval_timestamp(at(1234 + 60));
    assert_eq!(
        later.duration_since(slot),
        jiff::SignedDuration::from_secs(60)
    );
    assert_eq!(g.eval_timestamp(slot), slot);
}

#[test]
fn restore_for_state_discounts_the_outage() {
    let f = fixture();
    let x = |job: &str| labels(&[("__name__", "x"), ("job", job)]);
    let yaml = "groups:\n- name: g\n  rules:\n  - alert: Slow\n    expr: x > 0\n    for: 30m\n";
    let now = 10_000;
    for job in ["a", "b", "c"] {
        push(&f.storage, &x(job), now - 10, 1.0);
    }
    let for_state = |job: &str| {
        labels(&[
            ("__name__", "ALERTS_FOR_STATE"),
            ("alertname", "Slow"),
            ("job", job),
        ])
    };
    // a: active 20m before going down 20m ago: 10m remain, counted from now.
    push(
        &f.storage,
        &for_state("a"),
        now - 1200,
        (T0 + now - 2400) as f64,
    );
    // b: 25m pending when down: 5m remain, less than the grace period of 10m.
    push(
        &f.storage,
        &for_state("b"),
        now - 1200,
        (T0 + now - 2700) as f64,
    );
    // c: no state: starts over.
    let g = group(yaml, true);
    g.eval(&f.ctx, at(now));
    let rule = alerting(&g, 0);
    assert!(!rule.restored());
    assert!(
        f.storage
            .samples(&labels(&[
                ("__name__", "ALERTS"),
                ("alertname", "Slow"),
                ("alertstate", "pending"),
                ("job", "a")
            ]))
            .is_empty(),
        "no ALERTS series before the state is restored"
    );
    g.restore_for_state(&f.ctx, at(now));
    assert!(rule.restored());
    let active: Vec<(String, Timestamp)> = rule
        .active_alerts()
        .into_iter()
        .map(|a| (a.labels.get("job").unwrap().to_owned(), a.active_at))
        .collect();
    assert_eq!(
        active,
        [
            ("a".to_owned(), at(now - 1200)),
            ("b".to_owned(), at(now + 600 - 1800)),
            ("c".to_owned(), at(now)),
        ]
    );
}

#[test]
fn reload_keeps_alert_state_by_rule_name_and_labels() {
    let f = fixture();
    push(&f.storage, &labels(&[("__name__", "x")]), 0, 1.0);
    let old = group(ALERT, false);
    old.eval(&f.ctx, at(60));
    assert!(old.equals(&group(ALERT, false)));
    let changed = format!("{ALERT}  - record: y\n    expr: x\n");
    let new = group(&changed, false);
    assert!(!old.equals(&new));
    new.copy_state(&old);
    let alerts = alerting(&new, 0).active_alerts();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].active_at, at(60));
}

#[test]
fn table_links_escape_as_go() {
    assert_eq!(
        table_link("sum(rate(x{a=\"b\"}[5m])) > 0.5*~"),
        "/graph?g0.expr=sum%28rate%28x%7Ba%3D%22b%22%7D%5B5m%5D%29%29+%3E+0.5%2A~&g0.tab=1"
    );
}
