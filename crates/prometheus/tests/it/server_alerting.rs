//! End to end alerting: our `prometheus` binary scrapes a local target and evaluates a rule
//! file; the alert goes pending, then firing, and reaches an Alertmanager (Debian's upstream
//! one, then our own binary), whose webhook notifies a receiver in the test. The server
//! restarts on the same data and the alert comes back firing with its restored activation
//! (no new pending period); then the target's value drops and the receiver is told the alert
//! resolved, with its `endsAt`.
//!
//! Our Alertmanager is another package's binary, which this test cannot name through
//! `CARGO_BIN_EXE_*`: it is looked up in this test's profile directory
//! (`target/<profile>/alertmanager`), where building pm-alertmanager's tests puts it.

use crate::server_support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use jiff::Timestamp;
use pm_testsupport::{Daemon, available, upstream_binary};
use serde_json::Value;
use server_support::{OURS, Server, start};

const UPSTREAM_ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

/// A target exposing `temperature <value>`, the value set through the returned handle.
async fn target() -> (String, Arc<AtomicU64>) {
    let value = Arc::new(AtomicU64::new(100));
    let app = Router::new()
        .route(
            "/metrics",
            get(|State(v): State<Arc<AtomicU64>>| async move {
                format!(
                    "# TYPE temperature gauge\ntemperature{{room=\"lab\"}} {}\n",
                    v.load(Ordering::SeqCst)
                )
            }),
        )
        .with_state(value.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr.to_string(), value)
}

type Notifications = Arc<Mutex<Vec<Value>>>;

/// The Alertmanager webhook's receiver: keeps every notification body.
async fn receiver() -> (String, Notifications) {
    let seen = Notifications::default();
    let app = Router::new()
        .route(
            "/hook",
            post(
                |State(seen): State<Notifications>, body: axum::Json<Value>| async move {
                    seen.lock().unwrap().push(body.0);
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), seen)
}

/// An Alertmanager (`binary`) that notifies `hook` at once, and again each second.
async fn alertmanager(binary: &Path, dir: &Path, hook: &str) -> Daemon {
    let config = format!(
        "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: '{hook}'\n        send_resolved: true\n"
    );
    crate::notifier_support::start_alertmanager(binary, dir, &config).await
}

/// Polls `done` every 100 ms for at most 60 s.
async fn wait_for<F: std::future::Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const RULES: &str = "groups:
- name: temperatures
  interval: 1s
  rules:
  - alert: Hot
    expr: temperature > 50
    for: 4s
    labels:
      severity: page
    annotations:
      summary: '{{ $labels.room }} is at {{ $value }}'
      runbook: '{{ $labels.runbook }}'
";

/// The `Hot` alert of our server's `/api/v1/alerts`, if listed.
async fn hot(server: &Server) -> Option<Value> {
    let (code, body) = server.get("/api/v1/alerts").await;
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["data"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["alertname"] == "Hot")
        .cloned()
}

fn active_at(alert: &Value) -> Timestamp {
    alert["activeAt"].as_str().unwrap().parse().unwrap()
}

/// The webhook notifications so far with `status`.
fn notified(seen: &Notifications, status: &str) -> Vec<Value> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|n| n["status"] == status)
        .cloned()
        .collect()
}

/// The whole scenario against the Alertmanager `binary`.
async fn scenario(binary: &Path) {
    // reqwest's rustls needs a process-wide provider before the first request.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (target_addr, value) = target().await;
    let (hook, seen) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let am = alertmanager(binary, dir.path(), &hook).await;
    std::fs::write(dir.path().join("rules.yml"), RULES).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ['rules.yml']\nalerting:\n  alertmanagers:\n    - static_configs: [{{targets: ['{}']}}]\nscrape_configs:\n  - job_name: thermo\n    static_configs:\n      - targets: ['{target_addr}']\n",
        am.addr
    );
    let data = dir.path().join("data");
    // The default resend delay (1m) makes alerts valid for 4m in the Alertmanager, so the
    // restart does not resolve them there.
    let flags = ["--rules.alert.for-grace-period=1s"];
    let mut server = start(OURS, dir.path(), &data, &config, &flags).await;
    let s = &server;

    // Pending first, then firing.
    wait_for("Hot pending", || async move {
        hot(s).await.is_some_and(|a| a["state"] == "pending")
    })
    .await;
    wait_for("Hot firing", || async move {
        hot(s).await.is_some_and(|a| a["state"] == "firing")
    })
    .await;
    let since = active_at(&hot(&server).await.unwrap());

    // Through the Alertmanager to its receiver.
    wait_for("a firing notification", || {
        let n = notified(&seen, "firing").len();
        async move { n > 0 }
    })
    .await;
    let firing = &notified(&seen, "firing")[0];
    let alert = &firing["alerts"][0];
    assert_eq!(alert["labels"]["alertname"], "Hot");
    assert_eq!(alert["labels"]["severity"], "page");
    assert_eq!(alert["labels"]["room"], "lab");
    assert_eq!(alert["annotations"]["summary"], "lab is at 100");
    // An annotation that expands to "" reaches the receiver, as with upstream's server.
    assert_eq!(alert["annotations"]["runbook"], "");
    assert_eq!(alert["status"], "firing");
    // As upstream, the Alertmanager is told when the alert fired: its activation plus `for`
    // (4 s), at the first 1 s evaluation after that.
    let starts: Timestamp = alert["startsAt"].as_str().unwrap().parse().unwrap();
    let waited = starts.as_millisecond() - since.as_millisecond();
    assert!(
        (4000..6000).contains(&waited),
        "startsAt {starts} vs activeAt {since}"
    );

    // The for-state must be on disk before the restart.
    wait_for("ALERTS_FOR_STATE", || async move {
        let (_, body) = s
            .get("/api/v1/query?query=ALERTS_FOR_STATE%7Balertname%3D%22Hot%22%7D")
            .await;
        !serde_json::from_str::<Value>(&body).unwrap()["data"]["result"]
            .as_array()
            .unwrap()
            .is_empty()
    })
    .await;
    server.signal("TERM");
    assert_eq!(server.wait_exit(), Some(0));
    drop(server);

    // Restarted: the alert fires again with its old activation (a new pending period would
    // have started it after the restart). ALERTS_FOR_STATE keeps whole seconds.
    let server = start(OURS, dir.path(), &data, &config, &flags).await;
    let s = &server;
    wait_for("Hot firing after the restart", || async move {
        hot(s).await.is_some_and(|a| a["state"] == "firing")
    })
    .await;
    let restored = active_at(&hot(&server).await.unwrap());
    assert!(
        restored.as_second().abs_diff(since.as_second()) <= 1,
        "activation reset by the restart: {restored}, was {since}"
    );

    // Cooled down: resolved, and the receiver is told when it ended.
    assert!(
        notified(&seen, "resolved").is_empty(),
        "resolved before it cooled down: {:?}",
        seen.lock().unwrap()
    );
    value.store(10, Ordering::SeqCst);
    wait_for("a resolved notification", || {
        let n = notified(&seen, "resolved").len();
        async move { n > 0 }
    })
    .await;
    let resolved = &notified(&seen, "resolved")[0]["alerts"][0];
    assert_eq!(resolved["labels"]["alertname"], "Hot");
    assert_eq!(resolved["status"], "resolved");
    let ends: Timestamp = resolved["endsAt"].as_str().unwrap().parse().unwrap();
    assert!(ends > since, "endsAt {ends} not after activation {since}");
    assert!(ends <= Timestamp::now(), "endsAt {ends} in the future");
    assert!(hot(&server).await.is_none());
    drop(am);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_reaches_upstream_alertmanager_across_a_restart() {
    if !upstream_binary(UPSTREAM_ALERTMANAGER) {
        return;
    }
    scenario(Path::new(UPSTREAM_ALERTMANAGER)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_reaches_our_alertmanager_across_a_restart() {
    let Some(binary) = our_alertmanager() else {
        return;
    };
    scenario(&binary).await;
}

/// Our `alertmanager` binary beside this test's profile directory. `cargo test --workspace`
/// builds it (for pm-alertmanager's own tests) before any test runs; a narrower selection
/// must include one of those tests. A nested cargo build would wait forever on the build
/// directory's lock, which the running `cargo test` holds.
fn our_alertmanager() -> Option<PathBuf> {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> -> target/<profile>/alertmanager
    let binary = exe.parent()?.parent()?.join("alertmanager");
    available(
        &format!(
            "our alertmanager binary {} (build it with `cargo test --workspace`, or add \
             `-p pm-alertmanager --test it` to the selection)",
            binary.display()
        ),
        binary.exists(),
    )
    .then_some(binary)
}
