//! The cached groups listing against a fresh encode after every kind of change: alerts
//! posted and updated, an alert's end passing, silences created, expired, starting and ending
//! by the clock, an inhibiting alert appearing and ending, a config reload, and several
//! filters asked in turn. Unchanged state must be answered from the cache.

use axum::http::{Method, StatusCode};
use jiff::SignedDuration;
use serde_json::{Value, json};

use super::listing::{AlertFilter, Planning, list_groups};
use super::tests::{Harness, start_with};

const CONFIG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - receiver: all
      matchers: [severity="critical"]
      group_by: ['...']
      continue: true
    - receiver: byteam
      matchers: [team=~"a|b"]
      group_by: [team]
receivers:
  - name: default
  - name: all
  - name: byteam
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
"#;

/// After a reload: other receivers and grouping, no inhibition.
const RELOADED: &str = r#"
route:
  receiver: fallback
  group_by: [team]
  routes:
    - receiver: crit
      matchers: [severity="critical"]
receivers:
  - name: fallback
  - name: crit
"#;

/// At most the cache's entry count, so a second round is answered from it entirely.
const QUERIES: &[&str] = &[
    "",
    "filter=alertname%3D%22A%22",
    "filter=instance%3D%221%22",
    "filter=severity%3D%22warning%22",
    "silenced=false",
    "inhibited=false&active=true",
    "active=false",
    "receiver=byteam%7Cfallback",
];

/// Every query's answer through the cache, each checked against a fresh encode; then asks
/// again and requires the cache to answer without encoding.
async fn answers(h: &Harness) -> Vec<String> {
    let mut out = Vec::new();
    for query in QUERIES {
        let f = AlertFilter::parse(Some(query)).unwrap();
        let fresh = list_groups(&h.app.muting(), &f, Planning::PerAlert).body;
        let (status, served) = h
            .call(Method::GET, &format!("/api/v2/alerts/groups?{query}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {served}");
        assert_eq!(served, String::from_utf8(fresh).unwrap(), "{query}");
        out.push(served);
    }
    for (query, first) in QUERIES.iter().zip(&out) {
        let again = h.app.groups_cache.get_or_list(&h.app, query, |_| {
            panic!("{query}: encoded again though nothing changed")
        });
        assert_eq!(&again[..], first.as_bytes(), "{query}");
    }
    out
}

/// The answers to the queries at these positions differ between two states.
fn changed(before: &[String], after: &[String], which: &[usize]) {
    for &i in which {
        assert_ne!(before[i], after[i], "{} did not change", QUERIES[i]);
    }
}

async fn post(h: &Harness, alerts: Value) {
    let (status, body) = h.post_alerts(alerts).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
}

async fn silence(h: &Harness, name: &str, value: &str, starts: &str, ends: &str) -> String {
    let body = json!({
        "matchers": [{"name": name, "value": value, "isRegex": false}],
        "startsAt": starts, "endsAt": ends, "createdBy": "me", "comment": "c"});
    let (status, created) = h.call(Method::POST, "/api/v2/silences", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    serde_json::from_str::<Value>(&created).unwrap()["silenceID"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn alert(name: &str, instance: &str, team: &str, severity: &str, ends: &str) -> Value {
    json!({"labels": {"alertname": name, "instance": instance, "team": team,
                      "severity": severity},
           "startsAt": "2025-12-31T23:00:00Z", "endsAt": ends})
}

const LATER: &str = "2026-01-02T00:00:00Z";
const LATER2: &str = "2026-01-03T00:00:00Z";

#[tokio::test]
async fn cached_groups_equal_a_fresh_encode_after_every_change() {
    let h = start_with(CONFIG);
    post(
        &h,
        json!([
            alert("A", "1", "a", "warning", LATER),
            alert("A", "2", "b", "info", LATER),
            alert("B", "1", "c", "warning", LATER),
            alert("B", "3", "a", "info", "2026-01-01T00:10:00Z"),
        ]),
    )
    .await;
    let start = answers(&h).await;

    // A new alert, then an update of one (same labels, new annotation).
    post(&h, json!([alert("C", "1", "b", "info", LATER)])).await;
    let added = answers(&h).await;
    changed(&start, &added, &[0, 2]);
    let mut updated = alert("A", "1", "a", "warning", LATER);
    updated["annotations"] = json!({"summary": "now with a summary"});
    post(&h, json!([updated])).await;
    let updated = answers(&h).await;
    changed(&added, &updated, &[0, 1, 2, 3]);

    // Prometheus' re-send: the same alerts with a later end (their encoded labels and
    // annotations are handed on), then one with a new generator URL only.
    let mut resent = vec![
        alert("A", "1", "a", "warning", LATER2),
        alert("A", "2", "b", "info", LATER2),
        alert("B", "1", "c", "warning", LATER2),
        alert("C", "1", "b", "info", LATER2),
    ];
    resent[0]["annotations"] = json!({"summary": "now with a summary"});
    post(&h, json!(resent)).await;
    let resent_answers = answers(&h).await;
    changed(&updated, &resent_answers, &[0, 1, 2, 3]);
    let mut moved = alert("A", "2", "b", "info", LATER2);
    moved["generatorURL"] = json!("http://prometheus/graph?g0.expr=up");
    post(&h, json!([moved])).await;
    let updated = answers(&h).await;
    changed(&resent_answers, &updated, &[0, 1]);
    assert!(updated[0].contains("g0.expr=up"), "{}", updated[0]);

    // The clock alone: nothing ends before 00:10, then B/3 resolves.
    h.clock.advance(SignedDuration::from_mins(9));
    assert_eq!(answers(&h).await, updated);
    h.clock.advance(SignedDuration::from_mins(1));
    let resolved = answers(&h).await;
    changed(&updated, &resolved, &[0]);

    // An active silence, then its expiry through the API.
    let id = silence(&h, "team", "a", "2026-01-01T00:00:00Z", LATER).await;
    let silenced = answers(&h).await;
    changed(&resolved, &silenced, &[0, 1, 2, 4, 6]);
    let (status, body) = h
        .call(Method::DELETE, &format!("/api/v2/silence/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Expired means ended before now: at the instant of the expiry it still mutes.
    assert_eq!(answers(&h).await, silenced);
    h.clock.advance(SignedDuration::from_nanos(1));
    assert_eq!(answers(&h).await, resolved);

    // A silence starting later: no change until it starts; it ends by the clock too (active
    // up to and including its end).
    silence(
        &h,
        "instance",
        "1",
        "2026-01-01T00:20:00Z",
        "2026-01-01T00:30:00Z",
    )
    .await;
    assert_eq!(answers(&h).await, resolved);
    h.clock.set("2026-01-01T00:19:59.999Z".parse().unwrap());
    assert_eq!(answers(&h).await, resolved);
    h.clock.set("2026-01-01T00:20:00Z".parse().unwrap());
    let pending_started = answers(&h).await;
    changed(&resolved, &pending_started, &[0, 2, 4, 6]);
    h.clock.set("2026-01-01T00:30:00Z".parse().unwrap());
    assert_eq!(answers(&h).await, pending_started);
    h.clock.advance(SignedDuration::from_nanos(1));
    assert_eq!(answers(&h).await, resolved);

    // An inhibiting alert appears (it mutes A/1, a warning), then ends by the clock: the
    // warnings-only listing never shows it, only its effect.
    post(
        &h,
        json!([alert("A", "9", "c", "critical", "2026-01-01T00:40:00Z")]),
    )
    .await;
    let inhibited = answers(&h).await;
    changed(&resolved, &inhibited, &[0, 3, 5, 6]);
    h.clock.set("2026-01-01T00:40:00Z".parse().unwrap());
    assert_eq!(answers(&h).await, resolved);

    // Another inhibiting alert, resolved by a post this time.
    post(&h, json!([alert("A", "8", "c", "critical", LATER)])).await;
    let inhibited = answers(&h).await;
    changed(&resolved, &inhibited, &[3, 5, 6]);
    post(
        &h,
        json!([alert("A", "8", "c", "critical", "2026-01-01T00:40:00Z")]),
    )
    .await;
    assert_eq!(answers(&h).await, resolved);

    // A reload: other receivers and groups, the same alerts.
    std::fs::write(h.dir.path().join("alertmanager.yml"), RELOADED).unwrap();
    h.app.reload().unwrap();
    let reloaded = answers(&h).await;
    changed(&resolved, &reloaded, &[0, 3, 7]);
}
