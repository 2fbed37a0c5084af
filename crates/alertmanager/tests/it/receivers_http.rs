//! The Slack, PagerDuty and OpsGenie integrations end to end in-process: a manual clock
//! steps the dispatcher and a local HTTP server captures the requests, which must be the
//! documented payloads of each service's API.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use jiff::{SignedDuration, Timestamp};
use pm_alertmanager::alert::{Arrival, LabelSet, PostedAlert};
use pm_alertmanager::clock::{Clock as _, ManualClock};
use pm_alertmanager::daemon::{App, AppOptions};
use pm_alertmanager::notify::start_due;
use serde_json::{Value, json};

/// One request the capture server got.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Value,
}

#[derive(Clone, Default)]
struct Capture {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Statuses to answer with, in order; then 200.
    statuses: Arc<Mutex<Vec<u16>>>,
}

impl Capture {
    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

async fn receive(
    State(c): State<Capture>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], &'static str) {
    c.seen.lock().unwrap().push(Seen {
        method,
        path: uri.to_string(),
        headers,
        body: serde_json::from_slice(&body).expect("the payload is JSON"),
    });
    let mut statuses = c.statuses.lock().unwrap();
    let status = if statuses.is_empty() {
        200
    } else {
        statuses.remove(0)
    };
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "text/plain")],
        "ok",
    )
}

async fn serve(capture: Capture) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(receive).with_state(capture);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

struct Harness {
    app: Arc<App>,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new(receiver: &str) -> Harness {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alertmanager.yml");
        let config = format!(
            "route:\n  receiver: r\n  group_by: [alertname]\n  group_wait: 30s\n  group_interval: 5m\n  repeat_interval: 1h\nreceivers:\n  - name: r\n{receiver}"
        );
        std::fs::write(&path, config).unwrap();
        let clock = Arc::new(ManualClock::new("2026-01-01T00:00:00Z".parse().unwrap()));
        let app = App::new(AppOptions {
            config_file: path,
            storage_dir: None,
            clock: clock.clone(),
            retention: SignedDuration::from_hours(120),
            external_url: "http://am.test".into(),
        })
        .unwrap();
        Harness {
            app,
            clock,
            _dir: dir,
        }
    }

    /// Posts the alert `Down` (instance a, critical), ended at `end` if given.
    fn post(&self, end: Option<Timestamp>) {
        let now = self.clock.now();
        let labels: LabelSet = [
            ("alertname", "Down"),
            ("instance", "a"),
            ("severity", "critical"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let alert = PostedAlert {
            labels,
            starts_at: Some("2026-01-01T00:00:00Z".parse().unwrap()),
            ends_at: end,
            ..PostedAlert::default()
        }
        .into_alert(&Arrival::new(now, SignedDuration::from_hours(24)))
        .unwrap();
        self.app.put_alert(alert, now);
    }

    async fn step(&self, by: SignedDuration) {
        self.clock.advance(by);
        for handle in start_due(&self.app) {
            handle.await.unwrap();
        }
    }

    /// Fires the alert and flushes it, then resolves it and flushes again.
    async fn fire_then_resolve(&self, capture: &Capture) -> (Vec<Seen>, Vec<Seen>) {
        self.post(None);
        self.step(SignedDuration::from_secs(30)).await;
        let fired = capture.take();
        self.post(Some(self.clock.now()));
        self.step(SignedDuration::from_mins(5)).await;
        (fired, capture.take())
    }
}

fn sha256_hex(s: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, s.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

const GROUP_KEY: &str = r#"{}:{alertname="Down"}"#;
const AM_URL: &str = "http://am.test/#/alerts?receiver=r";

#[tokio::test]
async fn slack_gets_the_attachment_payload() {
    let capture = Capture::default();
    let url = serve(capture.clone()).await;
    let h = Harness::new(&format!(
        r#"    slack_configs:
      - api_url: '{url}/slack'
        channel: '#alerts'
        send_resolved: true
        link_names: true
        fields: [{{title: Sev, value: '{{{{ .CommonLabels.severity }}}}'}}]
        actions: [{{type: button, text: Runbook, url: 'http://rb/{{{{ .GroupLabels.alertname }}}}'}}]
"#
    ));
    let (fired, resolved) = h.fire_then_resolve(&capture).await;
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].path, "/slack");
    assert_eq!(
        fired[0].body,
        json!({
            "channel": "#alerts",
            "username": "Alertmanager",
            "link_names": true,
            "attachments": [{
                "title": "[FIRING:1] Down (a critical)",
                "title_link": AM_URL,
                "text": "",
                "fallback": format!("[FIRING:1] Down (a critical) | {AM_URL}"),
                "callback_id": "",
                "fields": [{"title": "Sev", "value": "critical", "short": false}],
                "actions": [{"type": "button", "text": "Runbook", "url": "http://rb/Down"}],
                "footer": "",
                "color": "danger",
                "mrkdwn_in": ["fallback", "pretext", "text"],
            }],
        })
    );
    assert_eq!(resolved.len(), 1);
    let attachment = &resolved[0].body["attachments"][0];
    assert_eq!(attachment["title"], "[RESOLVED] Down (a critical)");
    assert_eq!(attachment["color"], "good");
}

#[tokio::test]
async fn slack_template_errors_and_error_bodies_fail_the_notification() {
    let capture = Capture::default();
    let url = serve(capture.clone()).await;
    let h = Harness::new(&format!(
        "    slack_configs:\n      - api_url: '{url}/slack'\n        title: '{{{{ template \"nope\" . }}}}'\n"
    ));
    h.post(None);
    h.step(SignedDuration::from_secs(30)).await;
    assert!(capture.take().is_empty(), "a template error sends nothing");
    let (_, metrics) = pm_common::metrics::render(&h.app.registry.gather(), None);
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.contains(
            r#"alertmanager_notifications_failed_total{integration="slack",reason="other"} 1"#
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn pagerduty_triggers_and_resolves_by_dedup_key() {
    let capture = Capture::default();
    let url = serve(capture.clone()).await;
    let h = Harness::new(&format!(
        r#"    pagerduty_configs:
      - routing_key: rk-123
        url: '{url}/pd'
        severity: '{{{{ .CommonLabels.severity }}}}'
        class: cls
        links: [{{href: 'http://l/{{{{ .GroupLabels.alertname }}}}', text: link}}]
        details: {{extra: 'x-{{{{ len .Alerts }}}}'}}
"#
    ));
    // A rate limit is retried.
    capture.statuses.lock().unwrap().push(429);
    let (fired, resolved) = h.fire_then_resolve(&capture).await;
    assert_eq!(fired.len(), 2, "429 retried once");
    let mut body = fired[1].body.clone();
    let firing = body["payload"]["custom_details"]
        .as_object_mut()
        .unwrap()
        .remove("firing")
        .unwrap();
    assert_eq!(
        body,
        json!({
            "routing_key": "rk-123",
            "dedup_key": sha256_hex(GROUP_KEY),
            "event_action": "trigger",
            "payload": {
                "summary": "[FIRING:1] Down (a critical)",
                "source": "Alertmanager",
                "severity": "critical",
                "class": "cls",
                "custom_details": {
                    "extra": "x-1",
                    "num_firing": 1,
                    "num_resolved": 0,
                    "resolved": [],
                },
            },
            "client": "Alertmanager",
            "client_url": AM_URL,
            "links": [{"href": "http://l/Down", "text": "link"}],
        })
    );
    assert_eq!(firing[0]["labels"]["instance"], "a");
    assert_eq!(firing[0]["status"], "firing");
    assert_eq!(firing[0]["startsAt"], "2026-01-01T00:00:00Z");
    assert_eq!(resolved.len(), 1);
    let r = &resolved[0].body;
    assert_eq!(r["event_action"], "resolve");
    assert_eq!(r["dedup_key"], sha256_hex(GROUP_KEY));
    assert_eq!(r["payload"]["summary"], "[RESOLVED] Down (a critical)");
}

#[tokio::test]
async fn opsgenie_creates_updates_and_closes_by_alias() {
    let capture = Capture::default();
    let url = serve(capture.clone()).await;
    let h = Harness::new(&format!(
        r#"    opsgenie_configs:
      - api_key: gk
        api_url: '{url}/og/'
        tags: 'a, b ,,c'
        priority: P1
        update_alerts: true
        responders: [{{name: 'ops,dev', type: teams}}, {{username: u1, type: user}}]
        details: {{sev: '{{{{ .CommonLabels.severity }}}}'}}
"#
    ));
    let (fired, resolved) = h.fire_then_resolve(&capture).await;
    let alias = sha256_hex(GROUP_KEY);
    let calls: Vec<(String, String)> = fired
        .iter()
        .map(|s| (s.method.to_string(), s.path.clone()))
        .collect();
    assert_eq!(
        calls,
        [
            ("POST".to_owned(), "/og/v2/alerts".to_owned()),
            (
                "PUT".to_owned(),
                format!("/og/v2/alerts/{alias}/message?identifierType=alias")
            ),
            (
                "PUT".to_owned(),
                format!("/og/v2/alerts/{alias}/description?identifierType=alias")
            ),
        ]
    );
    assert_eq!(fired[0].headers["authorization"], "GenieKey gk");
    let description = "\nAlerts Firing:\nLabels:\n - alertname = Down\n - instance = a\n - severity = critical\nAnnotations:\nSource: \n\n";
    assert_eq!(
        fired[0].body,
        json!({
            "alias": alias,
            "message": "[FIRING:1] Down (a critical)",
            "description": description,
            "details": {"alertname": "Down", "instance": "a", "severity": "critical", "sev": "critical"},
            "source": AM_URL,
            "responders": [
                {"name": "ops", "type": "team"},
                {"name": "dev", "type": "team"},
                {"username": "u1", "type": "user"},
            ],
            "tags": ["a", "b", "c"],
            "priority": "P1",
        })
    );
    assert_eq!(
        fired[1].body,
        json!({"message": "[FIRING:1] Down (a critical)"})
    );
    assert_eq!(fired[2].body, json!({"description": description}));
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].method, Method::POST);
    assert_eq!(
        resolved[0].path,
        format!("/og/v2/alerts/{alias}/close?identifierType=alias")
    );
    assert_eq!(resolved[0].body, json!({"source": AM_URL}));
}

#[tokio::test]
async fn webhook_url_may_be_a_template() {
    let capture = Capture::default();
    let url = serve(capture.clone()).await;
    let h = Harness::new(&format!(
        "    webhook_configs:\n      - url: '{url}/hook/{{{{ .GroupLabels.alertname }}}}'\n"
    ));
    h.post(None);
    h.step(SignedDuration::from_secs(30)).await;
    let seen = capture.take();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/hook/Down");
}

const UPSTREAM: &str = "/usr/bin/prometheus-alertmanager";

/// Runs `binary` with Slack, PagerDuty and OpsGenie receivers pointing at the capture
/// server under `/<tag>/…`, and posts one alert to it.
async fn run_daemon(
    binary: &str,
    tag: &str,
    capture_url: &str,
) -> (pm_testsupport::Daemon, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = format!(
        r#"route:
  receiver: r
  group_by: [alertname]
  group_wait: 1s
receivers:
  - name: r
    slack_configs:
      - api_url: '{capture_url}/{tag}/slack'
        channel: '#alerts'
        fields: [{{title: Sev, value: '{{{{ .CommonLabels.severity }}}}'}}]
    pagerduty_configs:
      - routing_key: rk
        url: '{capture_url}/{tag}/pd'
    opsgenie_configs:
      - api_key: gk
        api_url: '{capture_url}/{tag}/og/'
        tags: 'a,b'
"#
    );
    let path = dir.join("alertmanager.yml");
    std::fs::write(&path, config).unwrap();
    let port = pm_testsupport::free_port();
    let daemon = pm_testsupport::Daemon::spawn(
        std::process::Command::new(binary)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!("--config.file={}", path.display()))
            .arg(format!("--storage.path={}", dir.join("data").display()))
            .arg("--web.external-url=http://am.test")
            .arg("--cluster.listen-address=")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
        ([127, 0, 0, 1], port).into(),
        std::time::Duration::from_secs(20),
    );
    let alerts = json!([{
        "labels": {"alertname": "Down", "instance": "a", "severity": "critical"},
        "annotations": {"summary": "it is down"},
        "generatorURL": "http://prom/graph",
    }]);
    let client = reqwest::Client::new();
    for _ in 0..100 {
        let sent = client
            .post(format!("http://127.0.0.1:{port}/api/v2/alerts"))
            .json(&alerts)
            .send()
            .await;
        if sent.is_ok_and(|r| r.status().is_success()) {
            return (daemon, tmp);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{binary} did not take the alert");
}

/// The captured requests of one daemon, by service, once all three arrived.
async fn captured(capture: &Capture, tag: &str) -> BTreeMap<String, Value> {
    for _ in 0..400 {
        let seen: BTreeMap<String, Value> = capture
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter_map(|s| {
                let rest = s.path.strip_prefix(&format!("/{tag}/"))?;
                Some((rest.to_owned(), s.body.clone()))
            })
            .collect();
        if seen.len() >= 3 {
            return seen;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{tag}: not every receiver was notified");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_templates_match_upstreams_payloads() {
    if !pm_testsupport::upstream_binary(UPSTREAM) {
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let capture = Capture::default();
    let url = serve(capture.clone()).await;
    let _upstream = run_daemon(UPSTREAM, "up", &url).await;
    let _ours = run_daemon(env!("CARGO_BIN_EXE_alertmanager"), "ours", &url).await;
    let up = captured(&capture, "up").await;
    let ours = captured(&capture, "ours").await;
    assert_eq!(ours["slack"], up["slack"], "Slack payload");
    assert_eq!(ours["og/v2/alerts"], up["og/v2/alerts"], "OpsGenie create");
    // 0.25 renders PagerDuty's default details as text (0.28 sends lists and numbers), so
    // only the rest of the event is compared.
    let without_details = |v: &Value| {
        let mut v = v.clone();
        v["payload"]
            .as_object_mut()
            .unwrap()
            .remove("custom_details");
        v
    };
    assert_eq!(
        without_details(&ours["pd"]),
        without_details(&up["pd"]),
        "PagerDuty event"
    );
}
