//! The API driven in-process with a stepped clock.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::clock::{Clock as _, ManualClock};
use crate::daemon::{App, AppOptions, Limits, router};

const CONFIG: &str = r#"
global:
  resolve_timeout: 5m
  slack_api_url: http://example.com/secret
route:
  receiver: default
  group_by: [alertname]
  routes:
    - receiver: team
      matchers: [team="a"]
      continue: true
    - receiver: other
      matchers: [team=~"a|b"]
receivers:
  - name: default
  - name: team
  - name: other
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
"#;

pub(super) struct Harness {
    pub(super) dir: tempfile::TempDir,
    pub(super) clock: Arc<ManualClock>,
    pub(super) app: Arc<App>,
    router: Router,
}

pub(super) fn start() -> Harness {
    start_with(CONFIG)
}

pub(super) fn start_with(config: &str) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alertmanager.yml");
    std::fs::write(&path, config).unwrap();
    let clock = Arc::new(ManualClock::new(ts("2026-01-01T00:00:00Z")));
    let app = App::new(AppOptions {
        config_file: path,
        storage_dir: None,
        clock: clock.clone(),
        retention: SignedDuration::from_hours(120),
        external_url: "http://am.test".into(),
    })
    .unwrap();
    let limits = Arc::new(Limits::new(8, Duration::ZERO));
    let router = router(Arc::clone(&app), "", limits);
    Harness {
        dir,
        clock,
        app,
        router,
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

impl Harness {
    pub(super) async fn call(
        &self,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, String) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    async fn get_json(&self, uri: &str) -> Value {
        let (status, body) = self.call(Method::GET, uri, None).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    pub(super) async fn post_alerts(&self, alerts: Value) -> (StatusCode, String) {
        self.call(Method::POST, "/api/v2/alerts", Some(alerts))
            .await
    }
}

fn fingerprints(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a["fingerprint"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn posted_alerts_get_defaults_status_and_receivers() {
    let h = start();
    let (status, body) = h
        .post_alerts(json!([
            {"labels": {"alertname": "A", "team": "a", "severity": "warning"},
             "annotations": {"x": "y"}, "generatorURL": "http://g"},
            {"labels": {"alertname": "A", "severity": "critical"}},
        ]))
        .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
    let alerts = h.get_json("/api/v2/alerts").await;
    let expected = json!([
        {"annotations": {"x": "y"}, "endsAt": "2026-01-01T00:05:00.000Z",
         "fingerprint": "9096a31b56518752",
         "receivers": [{"name": "team"}, {"name": "other"}],
         "startsAt": "2026-01-01T00:00:00.000Z",
         "status": {"inhibitedBy": ["b807e636403824b5"], "silencedBy": [], "state": "suppressed"},
         "updatedAt": "2026-01-01T00:00:00.000Z", "generatorURL": "http://g",
         "labels": {"alertname": "A", "severity": "warning", "team": "a"}},
        {"annotations": {}, "endsAt": "2026-01-01T00:05:00.000Z",
         "fingerprint": "b807e636403824b5", "receivers": [{"name": "default"}],
         "startsAt": "2026-01-01T00:00:00.000Z",
         "status": {"inhibitedBy": [], "silencedBy": [], "state": "active"},
         "updatedAt": "2026-01-01T00:00:00.000Z",
         "labels": {"alertname": "A", "severity": "critical"}},
    ]);
    assert_eq!(alerts, expected);

    let only = |q: &str| format!("/api/v2/alerts?{q}");
    assert_eq!(
        fingerprints(&h.get_json(&only("inhibited=false")).await),
        ["b807e636403824b5"]
    );
    assert_eq!(
        fingerprints(&h.get_json(&only("active=false")).await),
        ["9096a31b56518752"]
    );
    assert_eq!(
        fingerprints(&h.get_json(&only("filter=severity%3D%22critical%22")).await),
        ["b807e636403824b5"]
    );
    assert_eq!(
        fingerprints(&h.get_json(&only("filter=team%21%3D%22%22")).await),
        ["9096a31b56518752"]
    );
    assert_eq!(
        fingerprints(&h.get_json(&only("receiver=oth.*")).await),
        ["9096a31b56518752"]
    );
    // After the resolve timeout the alerts are no longer listed, and GC drops them.
    h.clock.advance(SignedDuration::from_mins(6));
    assert_eq!(h.get_json("/api/v2/alerts").await, json!([]));
    assert_eq!(h.app.alerts.gc(h.clock.now()), 2);
}

#[tokio::test]
async fn invalid_alerts_are_refused_with_upstream_texts() {
    let h = start();
    let (status, body) = h
        .post_alerts(json!([
            {"labels": {"a": ""}},
            {"labels": {"ok": "1"}},
            {"labels": {"a b": "x"}},
        ]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        "\"at least one label pair required; invalid label set: invalid name \\\"a b\\\"\"\n"
    );
    // The valid alert of the batch was stored all the same.
    assert_eq!(h.app.alerts.len(), 1);
    let (status, body) = h.post_alerts(json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.starts_with("{\"code\":400,\"message\":\"parsing alerts body"),
        "{body}"
    );
    let (status, body) = h
        .post_alerts(json!([{"labels": {"a": "b"}, "generatorURL": "::"}]))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        "{\"code\":601,\"message\":\"0.generatorURL in body must be of type uri: \\\"::\\\"\"}"
    );
    let (status, body) = h.call(Method::GET, "/api/v2/alerts?filter=foo", None).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::BAD_REQUEST, "\"bad matcher format: foo\"\n")
    );
    let (status, body) = h.call(Method::GET, "/api/v2/alerts?receiver=(", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        "\"failed to parse receiver param: error parsing regexp: missing closing ): `^(?:()$`\"\n"
    );
}

#[tokio::test]
async fn groups_per_route_and_group_labels() {
    let h = start();
    h.post_alerts(json!([
        {"labels": {"alertname": "B", "team": "a", "instance": "2"}},
        {"labels": {"alertname": "B", "team": "a", "instance": "1"}},
        {"labels": {"alertname": "A"}},
    ]))
    .await;
    let groups = h.get_json("/api/v2/alerts/groups").await;
    let summary: Vec<(String, String, Vec<String>)> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["labels"]["alertname"].as_str().unwrap().to_owned(),
                g["receiver"]["name"].as_str().unwrap().to_owned(),
                g["alerts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["labels"]["instance"].as_str().unwrap_or("-").to_owned())
                    .collect(),
            )
        })
        .collect();
    let s = |a: &str, r: &str, i: &[&str]| {
        (
            a.to_owned(),
            r.to_owned(),
            i.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        summary,
        [
            s("A", "default", &["-"]),
            s("B", "other", &["1", "2"]),
            s("B", "team", &["1", "2"]),
        ]
    );
    // Each alert lists every receiver it reaches, sorted.
    assert_eq!(
        groups[1]["alerts"][0]["receivers"],
        json!([{"name": "other"}, {"name": "team"}])
    );
    let groups = h.get_json("/api/v2/alerts/groups?receiver=team").await;
    assert_eq!(groups.as_array().unwrap().len(), 1);
    assert_eq!(
        groups[0]["alerts"][0]["receivers"],
        json!([{"name": "team"}])
    );
}

#[tokio::test]
async fn silences_lifecycle() {
    let h = start();
    let body = json!({
        "matchers": [{"name": "team", "value": "a", "isRegex": false}],
        "startsAt": "2025-12-31T00:00:00Z", "endsAt": "2026-01-02T00:00:00Z",
        "createdBy": "me", "comment": "c"});
    let (status, created) = h
        .call(Method::POST, "/api/v2/silences", Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = serde_json::from_str::<Value>(&created).unwrap()["silenceID"]
        .as_str()
        .unwrap()
        .to_owned();
    h.post_alerts(json!([{"labels": {"alertname": "A", "team": "a"}}]))
        .await;
    let alerts = h.get_json("/api/v2/alerts").await;
    assert_eq!(alerts[0]["status"]["silencedBy"], json!([id]));
    assert_eq!(alerts[0]["status"]["state"], "suppressed");
    assert_eq!(h.get_json("/api/v2/alerts?silenced=false").await, json!([]));

    let one = h.get_json(&format!("/api/v2/silence/{id}")).await;
    assert_eq!(
        one,
        json!({"id": id, "status": {"state": "active"}, "updatedAt": "2026-01-01T00:00:00.000Z",
               "comment": "c", "createdBy": "me", "endsAt": "2026-01-02T00:00:00.000Z",
               "matchers": [{"isEqual": true, "isRegex": false, "name": "team", "value": "a"}],
               "startsAt": "2026-01-01T00:00:00.000Z"})
    );
    assert_eq!(
        h.get_json("/api/v2/silences?filter=team%3Db").await,
        json!([])
    );
    assert_eq!(
        h.get_json("/api/v2/silences?filter=team%3Da").await[0]["id"],
        json!(id)
    );

    let (status, _) = h
        .call(Method::DELETE, &format!("/api/v2/silence/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    h.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(
        h.get_json(&format!("/api/v2/silence/{id}")).await["status"]["state"],
        "expired"
    );
    assert_eq!(
        h.get_json("/api/v2/alerts").await[0]["status"]["state"],
        "active"
    );

    let unknown = "41062fcc-5551-455e-9c6e-2e79bf926d02";
    let cases = [
        (
            Method::GET,
            format!("/api/v2/silence/{unknown}"),
            StatusCode::NOT_FOUND,
            String::new(),
        ),
        (
            Method::DELETE,
            format!("/api/v2/silence/{unknown}"),
            StatusCode::INTERNAL_SERVER_ERROR,
            "\"silence not found\"\n".to_owned(),
        ),
        (
            Method::GET,
            "/api/v2/silence/xyz".to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{\"code\":601,\"message\":\"silenceID in path must be of type uuid: \\\"xyz\\\"\"}"
                .to_owned(),
        ),
    ];
    for (method, uri, want_status, want_body) in cases {
        let (status, body) = h.call(method, &uri, None).await;
        assert_eq!((status, body), (want_status, want_body), "{uri}");
    }
    let post = |patch: Value| {
        let mut b = body.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let refused = [
        (
            post(json!({"endsAt": "2025-12-01T00:00:00Z"})),
            "\"Failed to create silence: start time must be before end time\"\n",
        ),
        (
            post(json!({"startsAt": "2025-11-01T00:00:00Z", "endsAt": "2025-12-01T00:00:00Z"})),
            "\"Failed to create silence: end time can't be in the past\"\n",
        ),
        (
            post(json!({"matchers": [{"name": "a", "value": "(", "isRegex": true}]})),
            "\"silence invalid: invalid label matcher 0: invalid regular expression \\\"(\\\": \
             error parsing regexp: missing closing ): `(`\"\n",
        ),
        (post(json!({"id": unknown})), "\"silence not found\"\n"),
    ];
    for (b, want) in refused {
        let (_, got) = h.call(Method::POST, "/api/v2/silences", Some(b)).await;
        assert_eq!(got, want);
    }
}

#[tokio::test]
async fn status_receivers_reload_and_metrics() {
    let h = start();
    let status = h.get_json("/api/v2/status").await;
    assert_eq!(
        status["cluster"],
        json!({"peers": [], "status": "disabled"})
    );
    assert_eq!(status["uptime"], "2026-01-01T00:00:00.000Z");
    let original = status["config"]["original"].as_str().unwrap();
    assert!(original.contains("slack_api_url: <secret>"), "{original}");
    assert!(!original.contains("example.com/secret"));
    assert_eq!(
        h.get_json("/api/v2/receivers").await,
        json!([{"name": "default"}, {"name": "team"}, {"name": "other"}])
    );

    // A bad config is refused and the running one stays.
    let path = h.dir.path().join("alertmanager.yml");
    std::fs::write(&path, "route: {receiver: nope}\n").unwrap();
    let (code, body) = h.call(Method::POST, "/-/reload", None).await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.starts_with("failed to reload config: "), "{body}");
    assert_eq!(
        h.get_json("/api/v2/receivers")
            .await
            .as_array()
            .unwrap()
            .len(),
        3
    );
    std::fs::write(
        &path,
        "route: {receiver: only}\nreceivers: [{name: only}]\n",
    )
    .unwrap();
    assert_eq!(
        h.call(Method::POST, "/-/reload", None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        h.get_json("/api/v2/receivers").await,
        json!([{"name": "only"}])
    );

    h.post_alerts(json!([{"labels": {"a": "b"}}, {"labels": {}}]))
        .await;
    let (code, metrics) = h.call(Method::GET, "/metrics", None).await;
    assert_eq!(code, StatusCode::OK);
    for line in [
        "alertmanager_alerts{state=\"active\"} 1",
        "alertmanager_alerts_received_total{status=\"firing\",version=\"v2\"} 1",
        "alertmanager_alerts_invalid_total{version=\"v2\"} 1",
        "alertmanager_config_last_reload_successful 1",
        "alertmanager_cluster_enabled 0",
        "alertmanager_silences{state=\"active\"} 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing {line}:\n{metrics}"
        );
    }
    assert!(metrics.contains("alertmanager_build_info{"));
    assert_eq!(h.call(Method::GET, "/-/healthy", None).await.1, "OK");
    assert_eq!(h.call(Method::GET, "/-/ready", None).await.1, "OK");
}
