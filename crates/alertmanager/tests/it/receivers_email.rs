//! The email integration through a real SMTP server on loopback: Python's `aiosmtpd`
//! (`tests/support/smtp_server.py`), which records every message it accepts, with the TLS
//! state and the credentials that authenticated the session, as a JSON file the test reads.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use pm_alertmanager::alert::{Arrival, LabelSet, PostedAlert};
use pm_alertmanager::clock::{Clock as _, ManualClock};
use pm_alertmanager::config::Config;
use pm_alertmanager::daemon::{App, AppOptions};
use pm_alertmanager::notify::{Job, Notifier, NotifyError, start_due};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use serde_json::Value;

const SERVER_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");

/// The SMTP server, killed when dropped.
struct Smtp {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn aiosmtpd_available() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Server options beyond port and output directory (see the script's docstring).
#[derive(Default)]
struct Options<'a> {
    implicit_tls: bool,
    cert: Option<&'a Pki>,
    exclude: &'a [&'a str],
    auth_require_tls: bool,
}

/// Starts the server, or explains why not.
async fn start_smtp(dir: &Path, opts: Options<'_>) -> Option<Smtp> {
    if !aiosmtpd_available() {
        assert!(
            std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
            "python3 with aiosmtpd is required (PM_REQUIRE_UPSTREAM is set)"
        );
        println!("skipping: python3 with aiosmtpd is not installed");
        return None;
    }
    let port = pm_testsupport::free_port();
    let out = dir.join("messages");
    std::fs::create_dir_all(&out).unwrap();
    let mut options = serde_json::json!({
        "port": port,
        "dir": out,
        "mode": if opts.implicit_tls { "implicit" } else { "plain" },
        "exclude": opts.exclude,
        "auth_require_tls": opts.auth_require_tls,
    });
    if let Some(pki) = opts.cert {
        options["cert"] = pki.cert.to_str().unwrap().into();
        options["key"] = pki.key.to_str().unwrap().into();
    }
    let child = Command::new("python3")
        .arg(SERVER_SCRIPT)
        .arg(options.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the SMTP server");
    let smtp = Smtp { child, port, out };
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(smtp);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the SMTP server did not listen on port {port}");
}

/// The messages the server accepted.
fn delivered(out: &Path) -> Vec<Value> {
    let mut messages: Vec<Value> = std::fs::read_dir(out)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap())
        .collect();
    messages.sort_by_key(|m| m["content"].as_str().unwrap_or_default().to_owned());
    messages
}

/// A CA and a certificate it signed for `localhost` and 127.0.0.1, as PEM files.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn pki(dir: &Path) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let leaf = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &ca).unwrap();
    let pki = Pki {
        ca: dir.join("ca.crt"),
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
    };
    std::fs::write(&pki.ca, ca.pem()).unwrap();
    std::fs::write(&pki.cert, cert.pem()).unwrap();
    std::fs::write(&pki.key, key.serialize_pem()).unwrap();
    pki
}

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Sends one firing alert through the first integration of receiver `r` of this config
/// (the `email_configs` entry given, under a global block pointing at the server).
async fn send(smtp: &Smtp, global: &str, email: &str) -> Result<(), NotifyError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let yaml = format!(
        "global:\n  smtp_smarthost: '127.0.0.1:{port}'\n  smtp_from: am@example.org\n{global}\
         route:\n  receiver: r\nreceivers:\n  - name: r\n    email_configs:\n      - to: ops@example.org\n{email}",
        port = smtp.port
    );
    let config = Config::load(&yaml, "").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let notifier = Notifier::new(&config).unwrap();
    let now = jiff::Timestamp::now();
    let alert = PostedAlert {
        labels: labels(&[("alertname", "Down")]),
        starts_at: Some(now),
        ..PostedAlert::default()
    }
    .into_alert(&Arrival::new(now, SignedDuration::from_mins(5)))
    .unwrap();
    let alerts = vec![Arc::new(alert)];
    let job = Job {
        group_key: Arc::from("{}:{alertname=\"Down\"}"),
        receiver: "r".into(),
        group_labels: labels(&[("alertname", "Down")]),
        alerts: alerts.clone(),
        at: now,
        repeat: Duration::from_secs(3600),
        external_url: "http://am.test".into(),
        deadline: Instant::now() + Duration::from_secs(30),
    };
    notifier.integrations("r")[0].notify(&job, &alerts).await
}

fn indent(block: &str, spaces: usize) -> String {
    block
        .lines()
        .map(|l| format!("{}{l}\n", " ".repeat(spaces)))
        .collect()
}

#[tokio::test]
async fn starttls_with_a_ca_file_then_plain_auth_with_identity() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let opts = Options {
        cert: Some(&pki),
        exclude: &["LOGIN"],
        ..Options::default()
    };
    let Some(smtp) = start_smtp(dir.path(), opts).await else {
        return;
    };
    let email = format!(
        "require_tls: true\nauth_username: alice\nauth_password: s3cret\nauth_identity: admin\n\
         tls_config:\n  ca_file: {}\n  server_name: localhost\n",
        pki.ca.display()
    );
    send(&smtp, "", &indent(&email, 8)).await.unwrap();
    let messages = delivered(&smtp.out);
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m["tls"], true, "{m}");
    assert_eq!(
        m["auth"],
        serde_json::json!({"mechanism": "PLAIN", "identity": "admin", "username": "alice", "password": "s3cret"})
    );
    assert_eq!(m["mail_from"], "am@example.org");
    assert_eq!(m["rcpt_tos"], serde_json::json!(["ops@example.org"]));
    assert!(
        m["content"]
            .as_str()
            .unwrap()
            .contains("Subject: [FIRING:1] Down"),
        "{m}"
    );
}

#[tokio::test]
async fn starttls_verification_and_insecure_skip_verify() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let opts = Options {
        cert: Some(&pki),
        exclude: &["PLAIN"],
        ..Options::default()
    };
    let Some(smtp) = start_smtp(dir.path(), opts).await else {
        return;
    };
    // An unknown CA fails the handshake, and that is worth retrying.
    let err = send(
        &smtp,
        "",
        &indent("auth_username: alice\nauth_password: s3cret\n", 8),
    )
    .await
    .unwrap_err();
    assert!(err.retry, "{err}");
    assert!(
        err.to_string().starts_with("send STARTTLS command: "),
        "{err}"
    );
    assert!(delivered(&smtp.out).is_empty());

    // Skipping verification gets through; the server offers only LOGIN.
    let email =
        "auth_username: alice\nauth_password: s3cret\ntls_config:\n  insecure_skip_verify: true\n";
    send(&smtp, "", &indent(email, 8)).await.unwrap();
    let messages = delivered(&smtp.out);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["tls"], true);
    assert_eq!(
        messages[0]["auth"],
        serde_json::json!({"mechanism": "LOGIN", "username": "alice", "password": "s3cret"})
    );
}

#[tokio::test]
async fn implicit_tls_when_forced() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let opts = Options {
        implicit_tls: true,
        cert: Some(&pki),
        ..Options::default()
    };
    let Some(smtp) = start_smtp(dir.path(), opts).await else {
        return;
    };
    // The server lists CRAM-MD5 LOGIN PLAIN: with a secret, upstream's choice is CRAM-MD5.
    let email = format!(
        "force_implicit_tls: true\nauth_username: alice\nauth_password: s3cret\nauth_secret: s3cret\n\
         tls_config:\n  ca_file: {}\n",
        pki.ca.display()
    );
    send(&smtp, "", &indent(&email, 8)).await.unwrap();
    let messages = delivered(&smtp.out);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["tls"], true);
    assert_eq!(
        messages[0]["auth"],
        serde_json::json!({"mechanism": "CRAM-MD5", "username": "alice", "password": "s3cret"})
    );
}

#[tokio::test]
async fn the_servers_mechanism_order_and_missing_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let Some(smtp) = start_smtp(dir.path(), Options::default()).await else {
        return;
    };
    let global = "  smtp_require_tls: false\n";
    // Offered CRAM-MD5 LOGIN PLAIN; without a secret the first usable one is LOGIN.
    send(
        &smtp,
        global,
        &indent("auth_username: alice\nauth_password: s3cret\n", 8),
    )
    .await
    .unwrap();
    // No username: AUTH is offered but the message goes unauthenticated.
    send(&smtp, global, "").await.unwrap();
    let messages = delivered(&smtp.out);
    assert_eq!(messages.len(), 2);
    let mut auths: Vec<&Value> = messages.iter().map(|m| &m["auth"]).collect();
    auths.sort_by_key(|a| a.is_null());
    assert_eq!(
        auths,
        [
            &serde_json::json!({"mechanism": "LOGIN", "username": "alice", "password": "s3cret"}),
            &Value::Null
        ]
    );
    assert!(messages.iter().all(|m| m["tls"] == false));

    // A username without password or secret: nothing fits, nothing is sent.
    let err = send(&smtp, global, &indent("auth_username: alice\n", 8))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "find auth mechanism: missing secret for CRAM-MD5 auth mechanism; \
         missing password for LOGIN auth mechanism; missing password for PLAIN auth mechanism"
    );
    assert!(err.retry);
    assert_eq!(delivered(&smtp.out).len(), 2);
}

#[tokio::test]
async fn without_auth_offered_credentials_are_not_used() {
    let dir = tempfile::tempdir().unwrap();
    // AUTH only after TLS, and no TLS: the server never offers it.
    let opts = Options {
        auth_require_tls: true,
        ..Options::default()
    };
    let Some(smtp) = start_smtp(dir.path(), opts).await else {
        return;
    };
    let email = "require_tls: false\nauth_username: alice\nauth_password: s3cret\n";
    send(&smtp, "", &indent(email, 8)).await.unwrap();
    let messages = delivered(&smtp.out);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["auth"], Value::Null);

    // STARTTLS required but not offered (no certificate): refused before sending.
    let err = send(&smtp, "", "").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "'require_tls' is true (default) but \"127.0.0.1:{}\" does not advertise the STARTTLS extension",
            smtp.port
        )
    );
    assert_eq!(delivered(&smtp.out).len(), 1);
}

#[tokio::test]
async fn email_arrives_with_headers_and_both_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let Some(smtp) = start_smtp(dir.path(), Options::default()).await else {
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = format!(
        r#"global:
  smtp_smarthost: '127.0.0.1:{port}'
  smtp_from: 'Alertmanager <am@example.org>'
  smtp_require_tls: false
route:
  receiver: r
  group_by: [alertname]
  group_wait: 30s
receivers:
  - name: r
    email_configs:
      - to: 'ops@example.org, dev@example.org'
        text: 'Text: {{{{ template "__subject" . }}}}'
        headers:
          x-team: '{{{{ .GroupLabels.alertname }}}}'
"#,
        port = smtp.port
    );
    let path = dir.path().join("alertmanager.yml");
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
    let now = clock.now();
    let alert = PostedAlert {
        labels: labels(&[("alertname", "Down"), ("instance", "a<b>")]),
        starts_at: Some(now),
        ..PostedAlert::default()
    }
    .into_alert(&Arrival::new(now, SignedDuration::from_hours(24)))
    .unwrap();
    app.put_alert(alert, now);
    clock.advance(SignedDuration::from_secs(30));
    for handle in start_due(&app) {
        handle.await.unwrap();
    }

    let messages = delivered(&smtp.out);
    assert_eq!(messages.len(), 1, "one message delivered");
    let m = messages[0]["content"].as_str().unwrap();
    let header = |name: &str| {
        m.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} header in\n{m}"))
            .to_owned()
    };
    assert_eq!(header("Subject"), "[FIRING:1] Down (a<b>)");
    assert_eq!(header("To"), "ops@example.org, dev@example.org");
    assert_eq!(header("From"), "Alertmanager <am@example.org>");
    assert_eq!(header("X-Team"), "Down");
    assert!(header("Message-ID").starts_with('<'));
    assert!(header("Date").ends_with("+0000"), "{m}");
    assert!(
        header("Content-Type").starts_with("multipart/alternative"),
        "{m}"
    );
    assert!(m.contains("Content-Type: text/plain"), "{m}");
    assert!(m.contains("Text: [FIRING:1] Down (a<b>)"), "{m}");
    assert!(m.contains("Content-Type: text/html"), "{m}");
    // The HTML body escapes label values.
    assert!(m.contains("a&lt;b&gt;"), "{m}");
    // The envelope, as the server saw it.
    assert_eq!(messages[0]["mail_from"], "am@example.org");
    assert_eq!(
        messages[0]["rcpt_tos"],
        serde_json::json!(["ops@example.org", "dev@example.org"])
    );
    assert_eq!(messages[0]["auth"], Value::Null);
}
