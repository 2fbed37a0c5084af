//! The email integration through a real SMTP server on loopback: Python's `aiosmtpd`, which
//! stores every message it accepts in a Maildir the test then reads.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use pm_alertmanager::alert::{LabelSet, PostedAlert};
use pm_alertmanager::clock::{Clock as _, ManualClock};
use pm_alertmanager::daemon::{App, AppOptions};
use pm_alertmanager::notify::start_due;

/// The SMTP server, killed when dropped.
struct Smtp {
    child: Child,
    port: u16,
    maildir: PathBuf,
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

/// Starts aiosmtpd with a Maildir handler, or explains why not.
async fn start_smtp(dir: &Path) -> Option<Smtp> {
    if !aiosmtpd_available() {
        assert!(
            std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
            "python3 with aiosmtpd is required (PM_REQUIRE_UPSTREAM is set)"
        );
        println!("skipping: python3 with aiosmtpd is not installed");
        return None;
    }
    let port = pm_testsupport::free_port();
    let maildir = dir.join("maildir");
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aiosmtpd");
    let smtp = Smtp {
        child,
        port,
        maildir,
    };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(smtp);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("aiosmtpd did not listen on port {port}");
}

/// The messages in the Maildir.
fn delivered(maildir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(maildir.join("new")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect()
}

#[tokio::test]
async fn email_arrives_with_headers_and_both_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let Some(smtp) = start_smtp(dir.path()).await else {
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
    let labels: LabelSet = [("alertname", "Down"), ("instance", "a<b>")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let now = clock.now();
    let alert = PostedAlert {
        labels,
        starts_at: Some(now),
        ..PostedAlert::default()
    }
    .into_alert(now, SignedDuration::from_hours(24))
    .unwrap();
    app.put_alert(alert, now);
    clock.advance(SignedDuration::from_secs(30));
    for handle in start_due(&app) {
        handle.await.unwrap();
    }

    let messages = delivered(&smtp.maildir);
    assert_eq!(messages.len(), 1, "one message delivered");
    let m = &messages[0];
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
    assert_eq!(header("X-MailFrom"), "am@example.org");
    assert_eq!(header("X-RcptTo"), "ops@example.org, dev@example.org");
}
