//! End to end: our `alertmanager` binary and upstream's (Debian's prometheus-alertmanager
//! 0.25) on loopback with the same config receive the same requests; the API answers and
//! upstream's `amtool` output must be the same once times and random IDs are masked. Also
//! reloads of our binary by SIGHUP.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use regex::Regex;

const UPSTREAM: &str = "/usr/bin/prometheus-alertmanager";
const AMTOOL: &str = "/usr/bin/amtool";

const CONFIG: &str = r#"
global:
  resolve_timeout: 5m
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

/// A daemon killed when dropped.
struct Daemon {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(binary: &str, config: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), config).unwrap();
    launch(binary, dir).await
}

/// Starts `binary` with the config and storage in `dir`.
async fn launch(binary: &str, dir: tempfile::TempDir) -> Daemon {
    // reqwest is built without a default TLS provider; plain HTTP still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config_path = dir.path().join("alertmanager.yml");
    let port = pm_testsupport::free_port();
    let child = Command::new(binary)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {binary}: {e}"));
    let daemon = Daemon {
        child,
        url: format!("http://127.0.0.1:{port}"),
        dir,
    };
    let client = reqwest::Client::new();
    for _ in 0..400 {
        if let Ok(r) = client.get(format!("{}/-/ready", daemon.url)).send().await
            && r.status().is_success()
        {
            return daemon;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{binary} did not become ready on {}", daemon.url);
}

/// Masks what legitimately differs between two servers: timestamps, silence IDs.
fn mask(text: &str) -> String {
    let iso = Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z").unwrap();
    let plain = Regex::new(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC").unwrap();
    let uuid = Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let text = iso.replace_all(text, "<time>");
    let text = plain.replace_all(&text, "<time>");
    uuid.replace_all(&text, "<id>").into_owned()
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<&str>,
) -> String {
    let mut req = client.request(method, url);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_owned());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    format!("{status} {}", resp.text().await.unwrap())
}

#[tokio::test]
async fn api_matches_upstream() {
    if !pm_testsupport::upstream_binary(UPSTREAM) {
        return;
    }
    let ours = start(env!("CARGO_BIN_EXE_alertmanager"), CONFIG).await;
    let upstream = start(UPSTREAM, CONFIG).await;
    let client = reqwest::Client::new();
    let far = "2099-01-01T00:00:00Z";
    let silence = format!(
        r#"{{"matchers":[{{"name":"team","value":"b","isRegex":false}}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"{far}","createdBy":"me","comment":"c"}}"#
    );
    let requests: Vec<(reqwest::Method, &str, Option<String>)> = vec![
        (
            reqwest::Method::POST,
            "/api/v2/alerts",
            Some(
                r#"[{"labels":{"alertname":"A","team":"a","severity":"warning","instance":"2"},"annotations":{"x":"y"},"generatorURL":"http://g"},
                    {"labels":{"alertname":"A","team":"a","severity":"warning","instance":"1"}},
                    {"labels":{"alertname":"A","severity":"critical"}},
                    {"labels":{"alertname":"B","team":"b","job":"j"}},
                    {"labels":{"alertname":"C","empty":""},"endsAt":"2000-01-01T00:00:00Z"}]"#
                    .to_owned(),
            ),
        ),
        (reqwest::Method::POST, "/api/v2/silences", Some(silence)),
        (
            reqwest::Method::POST,
            "/api/v2/alerts",
            Some(r#"[{"labels":{"a":""}},{"labels":{"a b":"x"}},{"labels":{"a":"b"},"annotations":{"":"x"}}]"#.to_owned()),
        ),
        (
            reqwest::Method::POST,
            "/api/v2/alerts",
            Some(r#"[{"labels":{"a":"b"},"startsAt":"2026-01-01T03:00:00Z","endsAt":"2026-01-01T01:00:00Z"}]"#.to_owned()),
        ),
        (reqwest::Method::GET, "/api/v2/alerts", None),
        (reqwest::Method::GET, "/api/v2/alerts?silenced=false", None),
        (reqwest::Method::GET, "/api/v2/alerts?inhibited=false&active=true", None),
        (reqwest::Method::GET, "/api/v2/alerts?active=false", None),
        (reqwest::Method::GET, "/api/v2/alerts?filter=team%3D~%22a%7Cb%22&filter=instance!%3D%221%22", None),
        (reqwest::Method::GET, "/api/v2/alerts?receiver=oth.*", None),
        (reqwest::Method::GET, "/api/v2/alerts?filter=foo", None),
        (reqwest::Method::GET, "/api/v2/alerts?receiver=(", None),
        (reqwest::Method::GET, "/api/v2/alerts/groups", None),
        (reqwest::Method::GET, "/api/v2/alerts/groups?receiver=team", None),
        (reqwest::Method::GET, "/api/v2/alerts/groups?silenced=false&filter=alertname%3D%22A%22", None),
        (reqwest::Method::GET, "/api/v2/receivers", None),
        (reqwest::Method::GET, "/api/v2/silences", None),
        (reqwest::Method::GET, "/api/v2/silences?filter=team%3D%22a%22", None),
        (reqwest::Method::GET, "/api/v2/silence/41062fcc-5551-455e-9c6e-2e79bf926d02", None),
        (reqwest::Method::GET, "/api/v2/silence/xyz", None),
        (reqwest::Method::DELETE, "/api/v2/silence/41062fcc-5551-455e-9c6e-2e79bf926d02", None),
        (
            reqwest::Method::POST,
            "/api/v2/silences",
            Some(format!(r#"{{"matchers":[{{"name":"a","value":"(","isRegex":true}}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"{far}","createdBy":"me","comment":"c"}}"#)),
        ),
        (
            reqwest::Method::POST,
            "/api/v2/silences",
            Some(r#"{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"2020-02-01T00:00:00Z","createdBy":"me","comment":"c"}"#.to_owned()),
        ),
    ];
    for (method, path, body) in requests {
        let a = call(
            &client,
            method.clone(),
            &format!("{}{path}", upstream.url),
            body.as_deref(),
        )
        .await;
        let b = call(
            &client,
            method.clone(),
            &format!("{}{path}", ours.url),
            body.as_deref(),
        )
        .await;
        assert_eq!(mask(&b), mask(&a), "{method} {path}");
    }
    // Expiring a silence, then reading it back.
    let list = call(
        &client,
        reqwest::Method::GET,
        &format!("{}/api/v2/silences", ours.url),
        None,
    )
    .await;
    let id = Regex::new(r#""id":"([^"]+)""#)
        .unwrap()
        .captures(&list)
        .unwrap()[1]
        .to_owned();
    let deleted = call(
        &client,
        reqwest::Method::DELETE,
        &format!("{}/api/v2/silence/{id}", ours.url),
        None,
    )
    .await;
    assert_eq!(deleted, "200 ");
    let after = call(
        &client,
        reqwest::Method::GET,
        &format!("{}/api/v2/silence/{id}", ours.url),
        None,
    )
    .await;
    assert!(after.contains(r#""state":"expired""#), "{after}");

    let status = call(
        &client,
        reqwest::Method::GET,
        &format!("{}/api/v2/status", ours.url),
        None,
    )
    .await;
    assert!(
        status.starts_with(
            r#"200 {"cluster":{"peers":[],"status":"disabled"},"config":{"original":"#
        ),
        "{status}"
    );
}

fn amtool(url: &str, args: &[&str]) -> (String, bool) {
    let out = Command::new(AMTOOL)
        .arg(format!("--alertmanager.url={url}"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {AMTOOL}: {e}"));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.success(),
    )
}

/// The same session of upstream's amtool against a server: returns each step's output.
fn amtool_session(url: &str) -> Vec<(String, bool)> {
    let mut out = vec![
        amtool(
            url,
            &[
                "alert",
                "add",
                "alertname=Z",
                "severity=warning",
                "team=b",
                "--annotation=summary=hi",
            ],
        ),
        amtool(
            url,
            &[
                "alert",
                "add",
                "alertname=Y",
                "severity=critical",
                "--end=2000-01-01T00:00:00Z",
            ],
        ),
        amtool(url, &["alert", "query"]),
        amtool(url, &["alert", "query", "-o", "extended", "alertname=Z"]),
    ];
    let (id, ok) = amtool(
        url,
        &[
            "silence", "add", "team=b", "-c", "cm", "-a", "me", "-d", "1h",
        ],
    );
    out.push((mask(&id), ok));
    out.push(amtool(url, &["silence", "query"]));
    out.push(amtool(url, &["silence", "query", "-q"]));
    out.push(amtool(url, &["alert", "query", "-s"]));
    out.push(amtool(url, &["alert", "query", "-i"]));
    out.push(amtool(url, &["silence", "expire", id.trim()]));
    out.push(amtool(url, &["silence", "query", "--expired"]));
    out.push(amtool(url, &["silence", "expire", id.trim()]));
    out.push(amtool(
        url,
        &["silence", "expire", "41062fcc-5551-455e-9c6e-2e79bf926d02"],
    ));
    out.into_iter().map(|(s, ok)| (mask(&s), ok)).collect()
}

#[tokio::test]
async fn upstream_amtool_sees_the_same() {
    if !pm_testsupport::upstream_binary(UPSTREAM) || !pm_testsupport::upstream_binary(AMTOOL) {
        return;
    }
    let ours = start(env!("CARGO_BIN_EXE_alertmanager"), CONFIG).await;
    let upstream = start(UPSTREAM, CONFIG).await;
    let (ours_url, upstream_url) = (ours.url.clone(), upstream.url.clone());
    let want = tokio::task::spawn_blocking(move || amtool_session(&upstream_url))
        .await
        .unwrap();
    let got = tokio::task::spawn_blocking(move || amtool_session(&ours_url))
        .await
        .unwrap();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "amtool step {i}");
    }
    // The session did something: an alert listed, a silence made.
    assert!(got[2].0.contains("Z "), "{:?}", got[2]);
    assert!(got[5].0.contains("team=\"b\""), "{:?}", got[5]);
}

#[tokio::test]
async fn sighup_reload_keeps_the_old_config_when_the_new_is_bad() {
    let daemon = start(env!("CARGO_BIN_EXE_alertmanager"), CONFIG).await;
    let client = reqwest::Client::new();
    let receivers = || async {
        call(
            &client,
            reqwest::Method::GET,
            &format!("{}/api/v2/receivers", daemon.url),
            None,
        )
        .await
    };
    let config = daemon.dir.path().join("alertmanager.yml");
    let hup = || {
        let ok = Command::new("kill")
            .args(["-HUP", &daemon.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -HUP failed");
    };
    let wait_for = |want: &'static str| async move {
        for _ in 0..200 {
            if receivers().await == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("receivers never became {want}");
    };
    std::fs::write(&config, "route: {receiver: nope}\n").unwrap();
    hup();
    // The bad file is refused: the reload metric drops and the old receivers stay.
    for _ in 0..200 {
        let m = call(
            &client,
            reqwest::Method::GET,
            &format!("{}/metrics", daemon.url),
            None,
        )
        .await;
        if m.contains("alertmanager_config_last_reload_successful 0") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        receivers().await,
        "200 [{\"name\":\"default\"},{\"name\":\"team\"},{\"name\":\"other\"}]\n"
    );
    std::fs::write(
        &config,
        "route: {receiver: only}\nreceivers: [{name: only}]\n",
    )
    .unwrap();
    hup();
    wait_for("200 [{\"name\":\"only\"}]\n").await;
}

#[tokio::test]
async fn silences_survive_a_restart() {
    let mut daemon = start(env!("CARGO_BIN_EXE_alertmanager"), CONFIG).await;
    let client = reqwest::Client::new();
    let body = r#"{"matchers":[{"name":"team","value":"a","isRegex":false}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z","createdBy":"me","comment":"keep"}"#;
    let created = call(
        &client,
        reqwest::Method::POST,
        &format!("{}/api/v2/silences", daemon.url),
        Some(body),
    )
    .await;
    assert!(created.starts_with("200 "), "{created}");
    let before = call(
        &client,
        reqwest::Method::GET,
        &format!("{}/api/v2/silences", daemon.url),
        None,
    )
    .await;

    // SIGTERM writes the snapshot; the next process loads it from --storage.path.
    let ok = Command::new("kill")
        .args(["-TERM", &daemon.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM failed");
    let status = daemon.child.wait().unwrap();
    assert!(status.success(), "{status}");
    let snapshot = daemon.dir.path().join("data/silences");
    assert!(snapshot.exists(), "no snapshot at {}", snapshot.display());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), CONFIG).unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::copy(&snapshot, dir.path().join("data/silences")).unwrap();
    let restarted = launch(env!("CARGO_BIN_EXE_alertmanager"), dir).await;
    let after = call(
        &client,
        reqwest::Method::GET,
        &format!("{}/api/v2/silences", restarted.url),
        None,
    )
    .await;
    assert_eq!(after, before);
    assert!(after.contains("keep"), "{after}");
}

/// A webhook receiver on an ephemeral loopback port that keeps the bodies it gets.
async fn webhook_sink() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = std::sync::Arc::clone(&bodies);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| async move {
            kept.lock().unwrap().push(body);
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), bodies)
}

/// Polls `/metrics` until it holds `line`.
async fn wait_for_metric(client: &reqwest::Client, url: &str, line: &str) {
    for _ in 0..400 {
        let m = call(
            client,
            reqwest::Method::GET,
            &format!("{url}/metrics"),
            None,
        )
        .await;
        if m.lines().any(|l| l == line) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{url}/metrics never showed {line}");
}

#[tokio::test]
async fn a_sent_notification_is_not_sent_again_after_a_restart() {
    let (hook, bodies) = webhook_sink().await;
    let config = format!(
        "route: {{receiver: hook, group_by: [alertname], group_wait: 100ms, group_interval: 1m}}\n\
         receivers: [{{name: hook, webhook_configs: [{{url: '{hook}'}}]}}]\n"
    );
    let alert = r#"[{"labels":{"alertname":"Restart","instance":"a"}}]"#;
    let mut daemon = start(env!("CARGO_BIN_EXE_alertmanager"), &config).await;
    let client = reqwest::Client::new();
    let posted = call(
        &client,
        reqwest::Method::POST,
        &format!("{}/api/v2/alerts", daemon.url),
        Some(alert),
    )
    .await;
    assert!(posted.starts_with("200"), "{posted}");
    wait_for_metric(
        &client,
        &daemon.url,
        "alertmanager_notifications_total{integration=\"webhook\"} 1",
    )
    .await;
    {
        let bodies = bodies.lock().unwrap();
        assert_eq!(bodies.len(), 1);
        let message: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
        assert_eq!(message["groupKey"], "{}:{alertname=\"Restart\"}");
        assert_eq!(message["alerts"][0]["labels"]["instance"], "a");
    }

    let ok = Command::new("kill")
        .args(["-TERM", &daemon.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM failed");
    assert!(daemon.child.wait().unwrap().success());
    let nflog = daemon.dir.path().join("data/nflog");
    assert!(nflog.exists(), "no notification log at {}", nflog.display());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), &config).unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::copy(&nflog, dir.path().join("data/nflog")).unwrap();
    let restarted = launch(env!("CARGO_BIN_EXE_alertmanager"), dir).await;
    call(
        &client,
        reqwest::Method::POST,
        &format!("{}/api/v2/alerts", restarted.url),
        Some(alert),
    )
    .await;
    // The group was flushed and checked against the log, and nothing was sent.
    wait_for_metric(
        &client,
        &restarted.url,
        "alertmanager_nflog_queries_total 1",
    )
    .await;
    assert_eq!(
        bodies.lock().unwrap().len(),
        1,
        "sent again after the restart"
    );
    let metrics = call(
        &client,
        reqwest::Method::GET,
        &format!("{}/metrics", restarted.url),
        None,
    )
    .await;
    assert!(metrics.contains("alertmanager_notifications_total{integration=\"webhook\"} 0"));
    assert!(metrics.contains("alertmanager_dispatcher_aggregation_groups 1"));
    assert!(metrics.contains("alertmanager_config_hash "));
}

/// Each family of an exposition: its type and the label names its series use (bucket and
/// quantile labels aside).
fn families(text: &str) -> BTreeMap<String, (String, BTreeSet<String>)> {
    let mut out: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            out.entry(name.to_owned()).or_default().0 = kind.to_owned();
        } else if !line.starts_with('#') && !line.is_empty() {
            let series = line.split(' ').next().unwrap();
            let (name, labels) = series.split_once('{').unwrap_or((series, ""));
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s).filter(|f| out.contains_key(*f)))
                .unwrap_or(name);
            let names = labels
                .split(',')
                .filter_map(|pair| pair.split_once('=').map(|(n, _)| n.to_owned()))
                .filter(|n| n != "le" && n != "quantile");
            out.entry(family.to_owned()).or_default().1.extend(names);
        }
    }
    out
}

#[tokio::test]
async fn metric_families_match_upstream() {
    if !pm_testsupport::upstream_binary(UPSTREAM) {
        return;
    }
    let ours = start(env!("CARGO_BIN_EXE_alertmanager"), CONFIG).await;
    let upstream = start(UPSTREAM, CONFIG).await;
    let client = reqwest::Client::new();
    let mut expositions = Vec::new();
    for daemon in [&ours, &upstream] {
        let url = &daemon.url;
        let alert = r#"[{"labels":{"alertname":"A","team":"a"}}]"#;
        let silence = r#"{"matchers":[{"name":"team","value":"b","isRegex":false}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z","createdBy":"me","comment":"c"}"#;
        call(
            &client,
            reqwest::Method::POST,
            &format!("{url}/api/v2/alerts"),
            Some(alert),
        )
        .await;
        call(
            &client,
            reqwest::Method::POST,
            &format!("{url}/api/v2/silences"),
            Some(silence),
        )
        .await;
        call(
            &client,
            reqwest::Method::GET,
            &format!("{url}/api/v2/alerts"),
            None,
        )
        .await;
        call(
            &client,
            reqwest::Method::GET,
            &format!("{url}/-/healthy"),
            None,
        )
        .await;
        call(
            &client,
            reqwest::Method::GET,
            &format!("{url}/metrics"),
            None,
        )
        .await;
        let text = call(
            &client,
            reqwest::Method::GET,
            &format!("{url}/metrics"),
            None,
        )
        .await;
        expositions.push(families(text.strip_prefix("200 ").expect("metrics served")));
    }
    let (ours, theirs) = (&expositions[0], &expositions[1]);
    // The Go runtime's families have no equivalent; net_conntrack_* (per-receiver dialer
    // counters of Go's HTTP client) are listed as absent in docs/alertmanager.md.
    let compared = |name: &str| {
        !["go_", "promhttp_", "net_conntrack_"]
            .iter()
            .any(|p| name.starts_with(p))
    };
    let mut missing = Vec::new();
    for (name, (kind, labels)) in theirs.iter().filter(|(n, _)| compared(n)) {
        match ours.get(name) {
            Some((our_kind, our_labels)) if our_kind == kind && our_labels == labels => {}
            // Labels newer upstream releases added, which ours carries too: `tags` on the
            // build info, the failure `reason` on failed notifications.
            Some((our_kind, our_labels))
                if [
                    "alertmanager_build_info",
                    "alertmanager_notifications_failed_total",
                ]
                .contains(&name.as_str())
                    && our_kind == kind
                    && our_labels.is_superset(labels) => {}
            other => missing.push(format!("{name} {kind} {labels:?}: ours {other:?}")),
        }
    }
    assert!(
        missing.is_empty(),
        "families differing from upstream's:\n{}",
        missing.join("\n")
    );
    assert!(ours.contains_key("alertmanager_nflog_maintenance_total"));
}
