//! The assembled server evaluates rules: a recording rule's series is queryable, an alert on a
//! scraped value goes pending then firing in `/api/v1/alerts` and `/api/v1/rules`, a restart
//! on the same data keeps the alert's `for` progress, and the JSON has the shape of Debian's
//! upstream `prometheus` on the same rule file.

use crate::server_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use jiff::Timestamp;
use serde_json::Value;
use server_support::{OURS, Server, UPSTREAM, start};

/// A target on 127.0.0.1 exposing `temperature 100`; returns its address.
async fn target() -> String {
    let app = Router::new().route(
        "/metrics",
        get(|| async { "# TYPE temperature gauge\ntemperature{room=\"lab\"} 100\n" }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr.to_string()
}

const RULES: &str = r#"groups:
- name: temperatures
  interval: 1s
  rules:
  - record: room:temperature:max
    expr: max by (room) (temperature)
  - alert: Hot
    expr: temperature > 50
    for: 2s
    labels:
      severity: page
    annotations:
      summary: "{{ $labels.room }} is at {{ $value }}"
      runbook: "{{ $labels.runbook }}"
      note: ""
- name: slow
  interval: 1s
  rules:
  - alert: Warm
    expr: temperature > 20
    for: 1h
"#;

/// Writes the rule file beside a config scraping `addr` every second; returns the config.
fn setup(dir: &Path, addr: &str) -> String {
    std::fs::write(dir.join("rules.yml"), RULES).unwrap();
    format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ['rules.yml']\nscrape_configs:\n  - job_name: thermo\n    static_configs:\n      - targets: ['{addr}']\n"
    )
}

/// Polls `path` until `done` holds for its JSON (bounded by 40 s).
async fn poll(server: &Server, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let (code, body) = server.get(path).await;
        if code == 200 {
            let v: Value = serde_json::from_str(&body).unwrap();
            if done(&v) {
                return v;
            }
        }
        assert!(Instant::now() < deadline, "{path} never satisfied: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn alerts(v: &Value) -> &Vec<Value> {
    v["data"]["alerts"].as_array().unwrap()
}

fn alert<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    alerts(v).iter().find(|a| a["labels"]["alertname"] == name)
}

fn active_at(a: &Value) -> Timestamp {
    a["activeAt"].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_fire_and_survive_a_restart() {
    let addr = target().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = setup(dir.path(), &addr);
    let flags = ["--rules.alert.for-grace-period=1s"];
    let mut server = start(OURS, dir.path(), &data, &config, &flags).await;

    let firing = poll(&server, "/api/v1/alerts", |v| {
        alert(v, "Hot").is_some_and(|a| a["state"] == "firing")
    })
    .await;
    let hot = alert(&firing, "Hot").unwrap();
    assert_eq!(hot["labels"]["severity"], "page");
    assert_eq!(hot["labels"]["room"], "lab");
    assert_eq!(hot["annotations"]["summary"], "lab is at 100");
    // Annotations that are or expand to "" are kept, unlike labels.
    assert_eq!(hot["annotations"]["runbook"], "");
    assert_eq!(hot["annotations"]["note"], "");
    assert_eq!(hot["value"], "1e+02");

    let rules = poll(&server, "/api/v1/rules", |v| {
        v["data"]["groups"][0]["rules"][0]["health"] == "ok"
    })
    .await;
    let groups = rules["data"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    let group = &groups[1];
    assert_eq!(group["name"], "temperatures");
    assert_eq!(
        group["file"],
        dir.path().join("rules.yml").display().to_string()
    );
    assert_eq!(group["interval"], 1);
    assert_eq!(group["rules"][0]["type"], "recording");
    assert_eq!(group["rules"][0]["query"], "max by (room) (temperature)");
    assert_eq!(group["rules"][1]["type"], "alerting");
    assert_eq!(group["rules"][1]["duration"], 2);
    let (_, only_recording) = server
        .get("/api/v1/rules?type=record&rule_group[]=temperatures")
        .await;
    let only: Value = serde_json::from_str(&only_recording).unwrap();
    assert_eq!(only["data"]["groups"].as_array().unwrap().len(), 1);
    assert_eq!(
        only["data"]["groups"][0]["rules"].as_array().unwrap().len(),
        1
    );

    let recorded = poll(&server, "/api/v1/query?query=room:temperature:max", |v| {
        !v["data"]["result"].as_array().unwrap().is_empty()
    })
    .await;
    assert_eq!(recorded["data"]["result"][0]["value"][1], "100");
    let (_, metrics) = server.get("/metrics").await;
    assert!(
        metrics.contains("prometheus_rule_group_rules{rule_group=\""),
        "{metrics}"
    );

    // `Warm` stays pending for an hour; once its for-state is stored, restart.
    poll(
        &server,
        "/api/v1/query?query=ALERTS_FOR_STATE{alertname=\"Warm\"}",
        |v| !v["data"]["result"].as_array().unwrap().is_empty(),
    )
    .await;
    let before = poll(&server, "/api/v1/alerts", |v| alert(v, "Warm").is_some()).await;
    let warm_since = active_at(alert(&before, "Warm").unwrap());
    // Let it be pending a while, so that a restored activation is clearly before the restart.
    while Timestamp::now().duration_since(warm_since) < jiff::SignedDuration::from_secs(6) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.signal("TERM");
    assert_eq!(server.wait_exit(), Some(0));
    drop(server);

    let restarted_at = Timestamp::now();
    let server = start(OURS, dir.path(), &data, &config, &flags).await;
    let restored = poll(&server, "/api/v1/alerts", |v| {
        alert(v, "Warm").is_some_and(|a| active_at(a) < restarted_at)
    })
    .await;
    let warm = active_at(alert(&restored, "Warm").unwrap());
    assert!(warm >= warm_since, "{warm} before {warm_since}");
}

/// The set of key paths in `v` (array elements merged), to compare shapes.
fn shape(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                // Label and annotation names are data, not shape.
                if matches!(k.as_str(), "labels" | "annotations") {
                    out.insert(format!("{prefix}.{k}"));
                    continue;
                }
                let path = format!("{prefix}.{k}");
                out.insert(path.clone());
                shape(child, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                shape(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_and_alerts_json_match_upstream() {
    if !pm_testsupport::upstream_binary(UPSTREAM) {
        return;
    }
    let addr = target().await;
    let dir = tempfile::tempdir().unwrap();
    let config = setup(dir.path(), &addr);
    let ours = start(OURS, dir.path(), &dir.path().join("ours"), &config, &[]).await;
    let upstream = start(
        UPSTREAM,
        dir.path(),
        &dir.path().join("upstream"),
        &config,
        &[],
    )
    .await;

    let firing = |v: &Value| alert(v, "Hot").is_some_and(|a| a["state"] == "firing");
    let all_ok = |v: &Value| {
        v["data"]["groups"].as_array().is_some_and(|gs| {
            gs.iter().all(|g| {
                g["rules"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["health"] == "ok")
            })
        })
    };
    for path in ["/api/v1/alerts", "/api/v1/rules"] {
        let ready = |v: &Value| {
            if path.ends_with("alerts") {
                firing(v)
            } else {
                all_ok(v)
            }
        };
        let a = poll(&ours, path, ready).await;
        let b = poll(&upstream, path, ready).await;
        let (mut ours_shape, mut upstream_shape) = (BTreeSet::new(), BTreeSet::new());
        shape(&a, "", &mut ours_shape);
        shape(&b, "", &mut upstream_shape);
        let missing: Vec<_> = upstream_shape.difference(&ours_shape).collect();
        assert!(
            missing.is_empty(),
            "{path}: we lack {missing:?}\nours: {a}\nupstream: {b}"
        );
        // Fields 3.x added since Debian's 2.42.
        let newer = ["limit", "keepFiringFor"];
        let extra: Vec<_> = ours_shape
            .difference(&upstream_shape)
            .filter(|p| !newer.iter().any(|n| p.ends_with(&format!(".{n}"))))
            .collect();
        assert!(
            extra.is_empty(),
            "{path}: upstream lacks {extra:?}\nours: {a}\nupstream: {b}"
        );
        if path.ends_with("alerts") {
            let (x, y) = (alert(&a, "Hot").unwrap(), alert(&b, "Hot").unwrap());
            for field in ["labels", "annotations", "state", "value"] {
                assert_eq!(x[field], y[field], "{field}");
            }
        } else {
            for (ga, gb) in a["data"]["groups"]
                .as_array()
                .unwrap()
                .iter()
                .zip(b["data"]["groups"].as_array().unwrap())
            {
                for field in ["name", "interval"] {
                    assert_eq!(ga[field], gb[field], "{field}");
                }
                for (ra, rb) in ga["rules"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .zip(gb["rules"].as_array().unwrap())
                {
                    for field in ["name", "query", "duration", "health", "type"] {
                        assert_eq!(ra[field], rb[field], "{field} of {ra}");
                    }
                    // 2.42 writes empty label sets as `null`, 3.x as `{}`.
                    for field in ["labels", "annotations"] {
                        let norm = |v: &Value| {
                            if v.is_null() {
                                serde_json::json!({})
                            } else {
                                v.clone()
                            }
                        };
                        assert_eq!(norm(&ra[field]), norm(&rb[field]), "{field} of {ra}");
                    }
                }
            }
        }
    }
}
