//! Queries through `remote_read`: our server A has no data of its own and reads from a
//! server B that scraped a target (ours, then Debian's upstream `prometheus` when installed).
//! A answers instant queries, range queries and series lookups with B's data; a second,
//! unreachable endpoint only adds a warning; a `required_matchers` entry the query lacks
//! keeps an endpoint out; the external label both share is asked for and taken off.

use crate::server_support;

use std::path::Path;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use serde_json::Value;
use server_support::{OURS, Server, UPSTREAM, start};

/// A target exposing `only_in_b 42`; returns its address.
async fn target() -> String {
    let app = Router::new().route(
        "/metrics",
        get(|| async { "# TYPE only_in_b gauge\nonly_in_b{room=\"lab\"} 42\n" }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr.to_string()
}

async fn json(server: &Server, path: &str) -> Value {
    let (code, body) = server.get(path).await;
    assert_eq!(code, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Polls `path` on `server` until its result is not empty (bounded by 30 s).
async fn poll_result(server: &Server, path: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = json(server, path).await;
        let result = &v["data"]["result"];
        if result.as_array().is_some_and(|r| !r.is_empty()) {
            return v;
        }
        assert!(Instant::now() < deadline, "{path} stayed empty: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn reads_through(remote_binary: &str, dir: &Path) {
    let addr = target().await;
    let b_config = format!(
        "global:\n  scrape_interval: 1s\n  external_labels: {{site: a}}\nscrape_configs:\n  - job_name: b\n    static_configs:\n      - targets: ['{addr}']\n"
    );
    let b = start(remote_binary, dir, &dir.join("b"), &b_config, &[]).await;
    poll_result(&b, "/api/v1/query?query=only_in_b").await;

    let a_config = format!(
        "global:\n  external_labels: {{site: a}}\nremote_read:\n  - url: {}/api/v1/read\n  - url: http://127.0.0.1:1/api/v1/read\n    name: dead\n  - url: {}/api/v1/read\n    name: picky\n    required_matchers: {{job: other}}\n",
        b.base, b.base
    );
    let a = start(OURS, dir, &dir.join("a"), &a_config, &[]).await;

    let v = poll_result(&a, "/api/v1/query?query=only_in_b").await;
    let result = v["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 1, "{v}");
    assert_eq!(result[0]["metric"]["job"], "b");
    assert_eq!(result[0]["metric"]["room"], "lab");
    assert_eq!(result[0]["value"][1], "42");
    // Both have `site="a"`: A asks for it and takes it off the answer.
    assert!(result[0]["metric"].get("site").is_none(), "{v}");
    // The unreachable endpoint is a warning, not a failure.
    let warnings = v["warnings"]
        .as_array()
        .expect("a warning for the dead endpoint");
    assert!(
        warnings
            .iter()
            .all(|w| w.as_str().unwrap().starts_with("remote_read: ")),
        "{v}"
    );

    // B's first sample may be younger than a second: the range ends a little ahead of now.
    let now = jiff::Timestamp::now().as_second();
    let range = poll_result(
        &a,
        &format!(
            "/api/v1/query_range?query=sum(only_in_b)&start={}&end={}&step=1",
            now - 30,
            now + 5
        ),
    )
    .await;
    let values = range["data"]["result"][0]["values"].as_array().unwrap();
    assert!(
        !values.is_empty() && values.iter().all(|p| p[1] == "42"),
        "{range}"
    );

    let series = json(&a, "/api/v1/series?match[]=only_in_b").await;
    let series = series["data"].as_array().unwrap();
    assert_eq!(series.len(), 1, "{series:?}");
    assert_eq!(series[0]["__name__"], "only_in_b");

    // Remote read has no label lookups: upstream warns `not implemented`.
    let labels = json(&a, "/api/v1/labels").await;
    assert!(
        labels["warnings"]
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w == "not implemented")),
        "{labels}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_server_reads_from_ours() {
    let dir = tempfile::tempdir().unwrap();
    reads_through(OURS, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_server_reads_from_upstream() {
    if !pm_testsupport::upstream_binary(UPSTREAM) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    reads_through(UPSTREAM, dir.path()).await;
}
