//! The listings' exact bytes, pinned by a golden file: every filter of `GET /api/v2/alerts`
//! and `GET /api/v2/alerts/groups` (receiver, label matchers, silenced, inhibited, active),
//! alerts in several groups (a `continue` route), escapes in labels and annotations, and
//! sub-millisecond times. The silence's random id reads as `SILENCE-ID`.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::tests::start;

const GOLDEN: &str = include_str!("testdata/listings.golden");

const QUERIES: &[&str] = &[
    "/api/v2/alerts",
    "/api/v2/alerts?receiver=other&inhibited=false",
    "/api/v2/alerts?silenced=false&active=false",
    "/api/v2/alerts?filter=instance%3D~%221%7C3%22",
    "/api/v2/alerts/groups",
    "/api/v2/alerts/groups?receiver=team",
    "/api/v2/alerts/groups?silenced=false&inhibited=false",
    "/api/v2/alerts/groups?active=false",
    "/api/v2/alerts/groups?filter=instance%3D~%221%7C3%22&filter=alertname%21%3D%22%22",
    "/api/v2/alerts/groups?filter=team%3D%22%22",
    "/api/v2/alerts/groups?receiver=nobody",
];

#[tokio::test]
async fn listings_match_the_golden_bytes() {
    let h = start();
    let silence = json!({
        "matchers": [{"name": "instance", "value": "3", "isRegex": false}],
        "startsAt": "2025-12-31T00:00:00Z", "endsAt": "2026-01-02T00:00:00Z",
        "createdBy": "me", "comment": "c"});
    let (status, created) = h
        .call(Method::POST, "/api/v2/silences", Some(silence))
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = serde_json::from_str::<serde_json::Value>(&created).unwrap()["silenceID"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = h
        .post_alerts(json!([
            {"labels": {"alertname": "B", "team": "a", "instance": "2", "severity": "warning"},
             "annotations": {"summary": "a \"quote\", ü, \u{1} and </script>"},
             "generatorURL": "http://g/x?a=1&b=2",
             "startsAt": "2025-12-31T23:59:59.123456Z"},
            {"labels": {"alertname": "B", "team": "a", "instance": "1", "severity": "critical"}},
            {"labels": {"alertname": "A", "instance": "3"}, "endsAt": "2026-01-01T01:00:00Z"},
            {"labels": {"alertname": "A", "job": "j"}},
            {"labels": {"alertname": "C", "severity": "warning"},
             "startsAt": "2025-12-30T00:00:00Z", "endsAt": "2025-12-31T00:00:00Z"},
        ]))
        .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
    let mut got = String::new();
    for uri in QUERIES {
        let (status, body) = h.call(Method::GET, uri, None).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        got.push_str(&format!("GET {uri}\n{}", body.replace(&id, "SILENCE-ID")));
    }
    for (i, (g, w)) in got.lines().zip(GOLDEN.lines()).enumerate() {
        assert_eq!(g, w, "line {}", i + 1);
    }
    assert_eq!(got, GOLDEN);
}
