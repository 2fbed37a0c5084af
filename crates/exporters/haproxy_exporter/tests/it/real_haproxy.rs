//! Against a real HAProxy started here (a frontend, a backend with two servers on loopback,
//! a stats page and a stats socket), and side by side with Debian's upstream exporter
//! scraping the same HAProxy.

use crate::support;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use support::{Proc, free_port, http_get, require, series, wait_ready};

const HAPROXY: &str = "/usr/sbin/haproxy";
const UPSTREAM: &str = "/usr/bin/prometheus-haproxy-exporter";

/// A tiny HTTP server answering 200 to everything, as a backend server.
fn backend() -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        use std::io::{Read, Write};
        // Bounded: the test sends a handful of requests and health checks are a few a second.
        for conn in listener.incoming().take(200) {
            let Ok(mut conn) = conn else { return };
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    (port, handle)
}

struct Haproxy {
    _proc: Proc,
    frontend: String,
    stats: String,
    socket: String,
    pid_file: String,
    _dir: tempfile::TempDir,
}

fn start_haproxy() -> Haproxy {
    let dir = tempfile::tempdir().unwrap();
    let (b1, _) = backend();
    let (b2, _) = backend();
    let (fe, st) = (free_port(), free_port());
    let socket = dir.path().join("admin.sock");
    let pid_file = dir.path().join("haproxy.pid");
    let cfg = format!(
        "global\n  stats socket {sock} mode 600 level admin\n\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{fe}\n  default_backend be\n\
         backend be\n  server s1 127.0.0.1:{b1} check inter 1s\n  server s2 127.0.0.1:{b2} check inter 1s\n\
         listen stats\n  bind 127.0.0.1:{st}\n  stats enable\n  stats uri /stats\n",
        sock = socket.display(),
    );
    let cfg_path = dir.path().join("haproxy.cfg");
    std::fs::write(&cfg_path, cfg).unwrap();
    let proc = Proc(
        Command::new(HAPROXY)
            .args(["-db", "-f"])
            .arg(&cfg_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haproxy"),
    );
    // In the foreground HAProxy writes no pid file: the child is the HAProxy process.
    std::fs::write(&pid_file, format!("{}\n", proc.0.id())).unwrap();
    let stats = format!("127.0.0.1:{st}");
    wait_checked(&stats);
    let frontend = format!("127.0.0.1:{fe}");
    for _ in 0..5 {
        assert_eq!(http_get(&frontend, "/").map(|r| r.0), Some(200));
    }
    Haproxy {
        _proc: proc,
        frontend,
        stats,
        socket: socket.display().to_string(),
        pid_file: pid_file.display().to_string(),
        _dir: dir,
    }
}

/// Waits until both servers are up with a health check done, so that every exporter run sees
/// the same columns filled (bounded: about ten seconds).
fn wait_checked(stats: &str) {
    for _ in 0..200 {
        if let Some((200, csv)) = http_get(stats, "/stats;csv") {
            let checked = csv
                .lines()
                .map(|l| l.split(',').collect::<Vec<_>>())
                .filter(|f| f.len() > 38 && f[0] == "be" && f[1].starts_with('s'))
                .filter(|f| f[17] == "UP" && !f[38].is_empty())
                .count();
            if checked == 2 {
                return;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("haproxy's servers never passed a health check");
}

/// Runs an exporter binary with `args` and returns one scrape of its `/metrics`.
fn scrape_with(binary: &str, args: &[String]) -> String {
    let addr = format!("127.0.0.1:{}", free_port());
    let _exporter = Proc(
        Command::new(binary)
            .arg(format!("--web.listen-address={addr}"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start exporter"),
    );
    wait_ready(&addr, "/metrics")
}

fn ours(args: &[String]) -> String {
    scrape_with(env!("CARGO_BIN_EXE_haproxy_exporter"), args)
}

fn assert_serves_haproxy(text: &str) {
    assert!(text.contains("haproxy_up 1\n"), "{text}");
    for want in [
        "haproxy_frontend_http_requests_total{frontend=\"fe\"}",
        "haproxy_backend_up{backend=\"be\"} 1",
        "haproxy_server_up{backend=\"be\",server=\"s1\"} 1",
        "haproxy_server_up{backend=\"be\",server=\"s2\"} 1",
        "haproxy_server_http_responses_total{backend=\"be\",code=\"2xx\",server=\"s1\"}",
        "haproxy_frontend_http_responses_total{code=\"2xx\",frontend=\"stats\"}",
        "haproxy_exporter_scrapes_total 1",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
}

#[test]
fn stats_page_and_socket() {
    if !require(HAPROXY) {
        return;
    }
    let h = start_haproxy();
    let http = ours(&[
        format!("--haproxy.scrape-uri=http://{}/stats;csv", h.stats),
        format!("--haproxy.pid-file={}", h.pid_file),
    ]);
    assert_serves_haproxy(&http);
    assert!(
        http.contains("haproxy_process_cpu_seconds_total "),
        "{http}"
    );
    assert!(http.contains("haproxy_exporter_build_info{"));
    assert!(!http.contains("haproxy_version_info"));

    let unix = ours(&[format!("--haproxy.scrape-uri=unix:{}", h.socket)]);
    assert_serves_haproxy(&unix);
    assert!(
        unix.contains("haproxy_version_info{release_date=\""),
        "{unix}"
    );
    assert!(
        unix.contains("haproxy_process_idle_time_percent "),
        "{unix}"
    );
    assert!(
        unix.contains("haproxy_frontend_http_requests_total{frontend=\"fe\"} 5\n"),
        "the five requests sent through {} are counted:\n{unix}",
        h.frontend
    );
}

#[test]
fn haproxy_gone_is_up_zero() {
    let port = free_port();
    let text = ours(&[format!("--haproxy.scrape-uri=http://127.0.0.1:{port}/;csv")]);
    assert!(text.contains("haproxy_up 0\n"), "{text}");
    let text = ours(&["--haproxy.scrape-uri=unix:/nonexistent/haproxy.sock".to_owned()]);
    assert!(text.contains("haproxy_up 0\n"), "{text}");
}

/// Every series upstream exposes for HAProxy (names and labels), and every other family but
/// the Go runtime's, is exposed by ours too.
#[test]
fn parity_with_upstream() {
    if !require(HAPROXY) || !require(UPSTREAM) {
        return;
    }
    let h = start_haproxy();
    for uri in [
        format!("http://{}/stats;csv", h.stats),
        format!("unix:{}", h.socket),
    ] {
        let args = [
            format!("--haproxy.scrape-uri={uri}"),
            format!("--haproxy.pid-file={}", h.pid_file),
        ];
        let (ours_series, ours_families) = series(&ours(&args));
        let (theirs_series, theirs_families) = series(&scrape_with(UPSTREAM, &args));
        let is_haproxy = |s: &&String| {
            s.starts_with("haproxy_") && !s.starts_with("haproxy_exporter_build_info")
        };
        let missing: BTreeSet<_> = theirs_series
            .iter()
            .filter(is_haproxy)
            .filter(|s| !ours_series.contains(*s))
            .collect();
        assert!(
            missing.is_empty(),
            "{uri}: series missing from ours: {missing:#?}"
        );
        let missing: BTreeSet<_> = theirs_families
            .iter()
            .filter(|f| !f.starts_with("go_"))
            .filter(|f| !ours_families.contains(*f))
            .collect();
        assert!(
            missing.is_empty(),
            "{uri}: families missing from ours: {missing:#?}"
        );
    }
}
