//! The `graphite_exporter` binary fed upstream's end-to-end inputs over TCP and UDP, with
//! upstream's mapping fixtures (`../shared/testdata/graphite/e2e/`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pm_testsupport::{Daemon, free_port};

fn fixture(name: &str) -> PathBuf {
    pm_testsupport::testdata("graphite/e2e").join(name)
}

struct Exporter {
    _daemon: Daemon,
    http: SocketAddr,
    graphite: SocketAddr,
}

fn start(args: &[String]) -> Exporter {
    let http: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let graphite: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_graphite_exporter"));
    cmd.arg(format!("--web.listen-address={http}"))
        .arg(format!("--graphite.listen-address={graphite}"))
        .args(args)
        .stderr(Stdio::null());
    Exporter {
        _daemon: Daemon::spawn(&mut cmd, http, Duration::from_secs(20)),
        http,
        graphite,
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn scrape(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn scrape_until(addr: SocketAddr, want: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = scrape(addr);
        if want.iter().all(|w| body.lines().any(|l| l == *w)) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "missing some of {want:?} in:\n{body}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn send_tcp(to: SocketAddr, text: &str) {
    TcpStream::connect(to)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

const RSPAMD: &str = "rspamd.actions.add_header 2 NOW\nrspamd.actions.greylist 0 NOW\nrspamd.connections 1 NOW\nrspamd.spam_count 3 NOW\n";

#[test]
fn rspamd_with_mapping() {
    let e = start(&[format!(
        "--graphite.mapping-config={}",
        fixture("mapping.yml").display()
    )]);
    send_tcp(e.graphite, &RSPAMD.replace("NOW", &now().to_string()));
    scrape_until(
        e.http,
        &[
            r#"rspamd_actions{action="add_header"} 2"#,
            "rspamd_connections 1",
            "rspamd_spam_count 3",
        ],
    );
}

#[test]
fn rspamd_without_mapping() {
    let e = start(&[]);
    send_tcp(e.graphite, &RSPAMD.replace("NOW", &now().to_string()));
    let body = scrape_until(
        e.http,
        &["rspamd_actions_add_header 2", "rspamd_connections 1"],
    );
    assert!(body.contains("# HELP rspamd_connections Graphite metric rspamd_connections\n# TYPE rspamd_connections gauge\n"));
    assert!(body.contains("graphite_exporter_build_info{"));
}

#[test]
fn tagged_samples() {
    let e = start(&[format!(
        "--graphite.mapping-config={}",
        fixture("mapping.yml").display()
    )]);
    let input = "rspamd.actions;action=add_header 2 NOW\nrspamd.actions;action=greylist 0 NOW\nrspamd.actions;action2=add_header 2 NOW\nrspamd.actions;action2=greylist 0 NOW\n";
    send_tcp(e.graphite, &input.replace("NOW", &now().to_string()));
    scrape_until(
        e.http,
        &[
            r#"rspamd_actions{action="add_header"} 2"#,
            r#"rspamd_actions{action="greylist"} 0"#,
            r#"rspamd_actions{action2="add_header"} 2"#,
            r#"rspamd_actions{action2="greylist"} 0"#,
        ],
    );
}

#[test]
fn backtracking_mapping() {
    let e = start(&[format!(
        "--graphite.mapping-config={}",
        fixture("backtrack.yml").display()
    )]);
    let input = "a.x.x.b 1 NOW\na.x.y.b 2 NOW\na.b.c.b 3 NOW\na.b.c.d 4 NOW\n";
    send_tcp(e.graphite, &input.replace("NOW", &now().to_string()));
    scrape_until(
        e.http,
        &[
            r#"axxb{one="x",two="x"} 1"#,
            r#"axxb{one="x",two="y"} 2"#,
            r#"axxb{one="b",two="c"} 3"#,
            "abcd 4",
        ],
    );
}

/// Upstream's issue 90: strict matching with `glob_disable_ordering`, lines sent one per UDP
/// packet; the scrape must succeed and show the mapped flink metrics only.
#[test]
fn issue90_over_udp_with_strict_match() {
    let e = start(&[
        "--graphite.mapping-strict-match".into(),
        format!(
            "--graphite.mapping-config={}",
            fixture("issue90.yml").display()
        ),
    ]);
    let input = std::fs::read_to_string(fixture("issue90_in.txt")).unwrap();
    let stamp = (now() - 2).to_string();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut sent = 0;
    for line in input.lines().filter(|l| !l.is_empty()) {
        socket
            .send_to(line.replace("NOW", &stamp).as_bytes(), e.graphite)
            .unwrap();
        sent += 1;
        // Paced so that a busy machine does not overflow the socket's receive buffer.
        if sent % 50 == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    assert!(sent > 0);
    let mapped = |path: &str| path.starts_with("flink.tsk.") && path.split('.').count() == 7;
    let want_dropped = input
        .lines()
        .filter(|l| !l.is_empty() && !mapped(l.split(' ').next().unwrap_or_default()))
        .count();
    let dropped = format!("graphite_dropped_samples_total {want_dropped}");
    let body = scrape_until(e.http, &[&dropped]);
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.lines().any(|l| l.starts_with("flink_")), "{body}");
}
