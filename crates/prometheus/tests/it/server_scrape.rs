//! The assembled server scrapes: a static target is discovered, scraped into the TSDB and
//! queryable; `/api/v1/targets` shows it up; a reload that drops the job removes the target;
//! SIGTERM stops the scrape loops before the TSDB closes, so the database closes cleanly.

use crate::server_support;

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use server_support::{OURS, start};

/// A target on 127.0.0.1 serving a fixed text exposition; returns its address.
async fn target() -> String {
    let app = Router::new().route(
        "/metrics",
        get(|| async { "# TYPE widgets_total counter\nwidgets_total{kind=\"round\"} 42\n" }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr.to_string()
}

/// Polls `path` until `done` holds for its body (bounded by 40 s: discovery and the scrape
/// manager each apply updates at most every 5 s, as upstream's do).
async fn poll(server: &server_support::Server, path: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let (code, body) = server.get(path).await;
        if code == 200 && done(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "{path} never satisfied: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_a_static_target_into_the_tsdb() {
    let addr = target().await;
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: widgets\n    static_configs:\n      - targets: ['{addr}']\n"
    );
    let mut server = start(
        OURS,
        dir.path(),
        &dir.path().join("data"),
        &config,
        &["--web.enable-lifecycle"],
    )
    .await;

    let body = poll(&server, "/api/v1/query?query=up", |b| b.contains("\"1\"")).await;
    assert!(body.contains("\"job\":\"widgets\""), "{body}");
    assert!(body.contains(&format!("\"instance\":\"{addr}\"")), "{body}");
    let (_, body) = server.get("/api/v1/query?query=widgets_total").await;
    assert!(body.contains("\"kind\":\"round\""), "{body}");
    assert!(body.contains("\"42\""), "{body}");
    let (_, body) = server
        .get("/api/v1/query?query=scrape_samples_scraped")
        .await;
    assert!(body.contains("\"1\""), "{body}");

    let (_, targets) = server.get("/api/v1/targets").await;
    assert!(targets.contains("\"health\":\"up\""), "{targets}");
    assert!(targets.contains("\"scrapePool\":\"widgets\""), "{targets}");
    assert!(
        targets.contains(&format!("\"scrapeUrl\":\"http://{addr}/metrics\"")),
        "{targets}"
    );
    let (_, metadata) = server.get("/api/v1/metadata?metric=widgets_total").await;
    assert!(metadata.contains("\"type\":\"counter\""), "{metadata}");

    std::fs::write(&server.config, "global:\n  scrape_interval: 1s\n").unwrap();
    let (code, body) = server.post("/-/reload", None).await;
    assert_eq!(code, 200, "{body}");
    poll(&server, "/api/v1/targets", |b| !b.contains("widgets")).await;

    server.signal("TERM");
    assert_eq!(server.wait_exit(), Some(0));
    // The database was closed (not abandoned while scrape loops still held it): its lock file
    // is gone.
    assert!(!dir.path().join("data/lock").exists());
}
