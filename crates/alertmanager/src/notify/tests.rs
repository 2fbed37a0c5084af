//! The pipeline end to end in-process: a manual clock steps the dispatcher's timers and a
//! local HTTP server stands in for the webhook receiver.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::State;
use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::start_due;
use crate::alert::{Arrival, LabelSet, PostedAlert};
use crate::clock::{Clock as _, ManualClock};
use crate::daemon::{App, AppOptions};
use crate::labels::{MatchType, Matcher};
use crate::silence::Silence;

#[derive(Clone, Default)]
struct Hook {
    bodies: Arc<Mutex<Vec<Value>>>,
    status: Arc<Mutex<Option<StatusCode>>>,
}

impl Hook {
    fn take(&self) -> Vec<Value> {
        std::mem::take(&mut *self.bodies.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

async fn receive(State(hook): State<Hook>, body: axum::body::Bytes) -> StatusCode {
    hook.bodies
        .lock()
        .unwrap()
        .push(serde_json::from_slice(&body).expect("the message is JSON"));
    hook.status.lock().unwrap().unwrap_or(StatusCode::OK)
}

/// Serves the hook on an ephemeral loopback port; the task ends with the test's runtime.
async fn serve(hook: Hook) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(hook);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/hook")
}

fn config(url: &str) -> String {
    format!(
        r#"
route:
  receiver: team
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
receivers:
  - name: team
    webhook_configs:
      - url: '{url}'
        max_alerts: 2
"#
    )
}

fn app(dir: &Path, url: &str, clock: &Arc<ManualClock>) -> Arc<App> {
    let path = dir.join("alertmanager.yml");
    std::fs::write(&path, config(url)).unwrap();
    App::new(AppOptions {
        config_file: path,
        storage_dir: Some(dir.to_owned()),
        clock: clock.clone(),
        retention: SignedDuration::from_hours(120),
        external_url: "http://am.test".into(),
    })
    .unwrap()
}

fn post(app: &App, labels: &[(&str, &str)], end: Option<Timestamp>) {
    let now = app.clock.now();
    let alert = PostedAlert {
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<LabelSet>(),
        starts_at: Some(now),
        ends_at: end,
        ..PostedAlert::default()
    }
    // A long resolve timeout: these alerts fire until the test resolves them.
    .into_alert(&Arrival::new(now, SignedDuration::from_hours(24)))
    .unwrap();
    app.put_alert(alert, now);
}

/// Advances the clock and runs every flush that became due to its end.
async fn step(app: &Arc<App>, clock: &ManualClock, by: SignedDuration) {
    clock.advance(by);
    for handle in start_due(app) {
        handle.await.unwrap();
    }
}

fn t0() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

#[tokio::test]
async fn webhook_gets_upstreams_message_once_per_change() {
    let hook = Hook::default();
    let url = serve(hook.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let app = app(dir.path(), &url, &clock);
    for i in ["1", "2", "3"] {
        post(&app, &[("alertname", "Down"), ("instance", i)], None);
    }

    step(&app, &clock, SignedDuration::from_secs(29)).await;
    assert!(hook.take().is_empty(), "group_wait not over");
    step(&app, &clock, SignedDuration::from_secs(1)).await;
    let sent = hook.take();
    assert_eq!(sent.len(), 1);
    let m = &sent[0];
    assert_eq!(m["version"], "4");
    assert_eq!(m["status"], "firing");
    assert_eq!(m["receiver"], "team");
    assert_eq!(m["groupKey"], r#"{}:{alertname="Down"}"#);
    assert_eq!(m["groupLabels"], serde_json::json!({"alertname": "Down"}));
    assert_eq!(m["commonLabels"], serde_json::json!({"alertname": "Down"}));
    assert_eq!(m["externalURL"], "http://am.test");
    assert_eq!(m["truncatedAlerts"], 1, "max_alerts: 2");
    let alerts = m["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[0]["labels"]["instance"], "1");
    assert_eq!(alerts[0]["startsAt"], "2026-01-01T00:00:00Z");
    assert_eq!(alerts[0]["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(alerts[0]["status"], "firing");
    assert_eq!(alerts[0]["fingerprint"].as_str().unwrap().len(), 16);

    step(&app, &clock, SignedDuration::from_mins(5)).await;
    assert!(hook.take().is_empty(), "nothing changed");

    // Resolving one alert sends (send_resolved defaults to true for webhooks).
    post(
        &app,
        &[("alertname", "Down"), ("instance", "3")],
        Some(clock.now()),
    );
    step(&app, &clock, SignedDuration::from_mins(5)).await;
    let sent = hook.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["status"], "firing", "two alerts still fire");

    // Past repeat_interval, the same alerts are sent again.
    step(&app, &clock, SignedDuration::from_mins(61)).await;
    assert_eq!(hook.take().len(), 1);

    let (_, metrics) = pm_common::metrics::render(&app.registry.gather(), None);
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(metrics.contains("alertmanager_notifications_total{integration=\"webhook\"} 3"));
    assert!(metrics.contains("alertmanager_dispatcher_aggregation_groups 1"));
}

#[tokio::test]
async fn a_restart_does_not_send_again() {
    let hook = Hook::default();
    let url = serve(hook.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let first = app(dir.path(), &url, &clock);
    post(&first, &[("alertname", "Down")], None);
    step(&first, &clock, SignedDuration::from_secs(30)).await;
    assert_eq!(hook.take().len(), 1);
    first.maintain();
    assert!(first.notify_metrics.nflog_snapshot_size.get() > 0.0);
    assert_eq!(first.notify_metrics.nflog_maintenance.get(), 1.0);
    drop(first);

    let second = app(dir.path(), &url, &clock);
    assert_eq!(second.nflog.len(), 1);
    post(&second, &[("alertname", "Down")], None);
    step(&second, &clock, SignedDuration::from_secs(30)).await;
    assert!(hook.take().is_empty(), "the notification log remembers");
}

#[tokio::test]
async fn silenced_alerts_are_not_sent_and_failures_keep_the_group() {
    let hook = Hook::default();
    let url = serve(hook.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let app = app(dir.path(), &url, &clock);
    app.silences
        .set(Silence {
            id: String::new(),
            matchers: vec![Matcher::new(MatchType::Equal, "alertname", "Quiet").unwrap()],
            starts_at: t0(),
            ends_at: t0() + SignedDuration::from_hours(1),
            updated_at: t0(),
            created_by: "test".into(),
            comment: "quiet".into(),
        })
        .unwrap();
    post(&app, &[("alertname", "Quiet")], None);
    post(&app, &[("alertname", "Loud")], None);
    *hook.status.lock().unwrap() = Some(StatusCode::BAD_REQUEST);
    step(&app, &clock, SignedDuration::from_secs(30)).await;
    let sent = hook.take();
    assert_eq!(sent.len(), 1, "one attempt: a 4xx is not retried");
    assert_eq!(sent[0]["groupLabels"]["alertname"], "Loud");
    assert!(app.nflog.is_empty(), "a failed notification is not logged");

    *hook.status.lock().unwrap() = None;
    step(&app, &clock, SignedDuration::from_mins(5)).await;
    assert_eq!(hook.take().len(), 1, "retried at the next group interval");
    assert_eq!(app.nflog.len(), 1);
}
