//! The listings' exact bytes, pinned by a golden file: every filter of `GET /api/v2/alerts`
//! and `GET /api/v2/alerts/groups` (receiver, label matchers, silenced, inhibited, active),
//! alerts in several groups (a `continue` route), escapes in labels and annotations, and
//! sub-millisecond times. The silence's random id reads as `SILENCE-ID`.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::tests::{Harness, start};

/// Creates a silence on `instance` active over the tests' clock; returns the API's answer.
async fn silence_instance(h: &Harness, value: &str, is_regex: bool) -> String {
    let silence = json!({
        "matchers": [{"name": "instance", "value": value, "isRegex": is_regex}],
        "startsAt": "2025-12-31T00:00:00Z", "endsAt": "2026-01-02T00:00:00Z",
        "createdBy": "me", "comment": "c"});
    let (status, created) = h
        .call(Method::POST, "/api/v2/silences", Some(silence))
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    created
}

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
    let created = silence_instance(&h, "3", false).await;
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

/// Routes that group by some labels, by none, and by all (`...`), a `continue` route, a
/// silence and an inhibition rule: the planned groups listing must give the plain walk's bytes
/// for every kind of matcher, receiver filter and status flag.
const PLAN_CONFIG: &str = r#"
route:
  receiver: default
  group_by: [alertname, team]
  routes:
    - receiver: all
      matchers: [severity="critical"]
      group_by: ['...']
      continue: true
    - receiver: byteam
      matchers: [team=~"a|b"]
      group_by: [team]
    - receiver: single
      matchers: [alertname="Z"]
      group_by: []
receivers:
  - name: default
  - name: all
  - name: byteam
  - name: single
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
"#;

#[tokio::test]
async fn planned_group_listing_equals_the_plain_walk() {
    use super::listing::{AlertFilter, Planning, list_groups};

    let h = super::tests::start_with(PLAN_CONFIG);
    silence_instance(&h, "1.*", true).await;
    let mut alerts = Vec::new();
    for i in 0..72 {
        let mut labels = serde_json::Map::new();
        labels.insert("alertname".into(), json!(["A", "B", "Z"][i % 3]));
        labels.insert("instance".into(), json!(i.to_string()));
        let team = ["a", "b", "c", ""][i % 4];
        if !team.is_empty() {
            labels.insert("team".into(), json!(team));
        }
        let severity = ["critical", "warning", "", "warning", "info"][i % 5];
        if !severity.is_empty() {
            labels.insert("severity".into(), json!(severity));
        }
        let mut alert = json!({"labels": labels});
        if i % 11 == 0 {
            alert["endsAt"] = json!("2025-12-31T12:00:00Z");
        }
        alerts.push(alert);
    }
    let (status, body) = h.post_alerts(json!(alerts)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));

    let filters = [
        "",
        "filter=alertname%3D%22A%22",
        "filter=alertname%3D%22A%22&filter=team%3D%22a%22",
        "filter=alertname%3D%22A%22&filter=team%3D%22%22",
        "filter=alertname%3D%22A%22&filter=team%3D%22a%22&filter=alertname%3D%22B%22",
        "filter=team%3D%22a%22",
        "filter=team%3D%22%22",
        "filter=team%21%3D%22a%22",
        "filter=team%21%3D%22%22",
        "filter=team%3D~%22a%7Cc%22",
        "filter=team%21~%22b%22",
        "filter=alertname%21%3D%22%22&filter=instance%3D~%221.*%22",
        "filter=severity%3D%22critical%22&filter=instance%21~%222.*%22",
        "filter=alertname%3D%22Z%22",
        "filter=instance%3D%227%22",
        "filter=instance%3D%22nope%22",
        "filter=severity%3D%22info%22&filter=instance%3D%224%22",
    ];
    let extras = [
        "",
        "&receiver=default%7Cbyteam%7Csingle",
        "&receiver=byteam",
        "&receiver=all",
        "&receiver=single",
        "&silenced=false",
        "&inhibited=false",
        "&active=false",
        "&receiver=default&silenced=false&inhibited=false",
    ];
    let mut shown = 0;
    for filter in filters {
        for extra in extras {
            let query = format!("{filter}{extra}");
            let f = AlertFilter::parse(Some(&query)).unwrap();
            let muting = h.app.muting();
            let planned = list_groups(&muting, &f, Planning::ByGroup, None)
                .body
                .to_vec();
            let plain = list_groups(&muting, &f, Planning::PerAlert, None)
                .body
                .to_vec();
            assert_eq!(
                String::from_utf8(planned).unwrap(),
                String::from_utf8(plain.clone()).unwrap(),
                "{query}"
            );
            shown += usize::from(plain != b"[]\n");
        }
    }
    // Most combinations show something, so the comparison is not between empty answers.
    assert!(shown > 100, "only {shown} non-empty answers");

    // A group's label summary, built by the queries above, must learn a value posted later.
    let (status, body) = h
        .post_alerts(json!([{"labels": {"alertname": "A", "team": "a", "instance": "new"}}]))
        .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
    let f = AlertFilter::parse(Some("filter=instance%3D%22new%22")).unwrap();
    let muting = h.app.muting();
    let planned = list_groups(&muting, &f, Planning::ByGroup, None)
        .body
        .to_vec();
    assert_eq!(
        planned,
        list_groups(&muting, &f, Planning::PerAlert, None)
            .body
            .to_vec()
    );
    assert!(
        String::from_utf8(planned)
            .unwrap()
            .contains(r#""instance":"new""#)
    );
}
