//! Against a real memcached (Debian's) started here on loopback: plain and TLS, the
//! `/metrics` and `/scrape?target=` endpoints, the pid-file process metrics, and
//! `memcached_up 0` when memcached is gone.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

const MEMCACHED: &str = "/usr/bin/memcached";

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn require_memcached() -> bool {
    if Path::new(MEMCACHED).exists() {
        return true;
    }
    assert!(
        std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
        "{MEMCACHED} is missing and PM_REQUIRE_UPSTREAM is set"
    );
    eprintln!("SKIP: {MEMCACHED} is not installed");
    false
}

/// Polls until `addr` accepts connections (bounded: about ten seconds).
fn wait_listening(addr: &str) {
    for _ in 0..200 {
        if TcpStream::connect(addr).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{addr} never accepted connections");
}

/// memcached on a free loopback port; `extra` adds options (TLS).
fn start_memcached(extra: &[String]) -> (Proc, String) {
    let port = free_port();
    let mut cmd = Command::new(MEMCACHED);
    cmd.args([
        "-l",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-U",
        "0",
        "-m",
        "16",
    ]);
    // memcached refuses to run as root without naming a user.
    if is_root() {
        cmd.args(["-u", "root"]);
    }
    let child = cmd
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start memcached");
    let addr = format!("127.0.0.1:{port}");
    wait_listening(&addr);
    (Proc(child), addr)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next().map(|u| u == "0"))
                .unwrap_or(false)
        })
        .unwrap_or(false)
}

/// Stores, reads and misses a few keys, so that the counters are not all zero.
fn warm_up(addr: &str) {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    conn.write_all(b"set foo 0 0 3\r\nbar\r\nset foo 0 0 3\r\nbaz\r\nget foo\r\nget qux\r\nset large 0 0 130\r\n")
        .unwrap();
    conn.write_all(&[b'.'; 130]).unwrap();
    conn.write_all(b"\r\nquit\r\n").unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).unwrap();
    assert_eq!(reply.matches("STORED").count(), 3, "{reply}");
}

fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut conn = TcpStream::connect(addr).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = String::new();
    conn.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "unexpected chunked reply"
    );
    Some((status, body.to_owned()))
}

/// Runs our exporter with `args`; returns it and its address once `/metrics` answers.
fn exporter(args: &[String]) -> (Proc, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_memcached_exporter"))
        .arg(format!("--web.listen-address={addr}"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start exporter");
    let proc = Proc(child);
    for _ in 0..200 {
        if let Some((200, _)) = http_get(&addr, "/metrics") {
            return (proc, addr);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("exporter on {addr} never answered");
}

fn assert_memcached_metrics(text: &str) {
    for want in [
        "memcached_up 1\n",
        "memcached_commands_total{command=\"get\",status=\"hit\"} 1\n",
        "memcached_commands_total{command=\"get\",status=\"miss\"} 1\n",
        "memcached_commands_total{command=\"set\",status=\"hit\"} 3\n",
        "memcached_current_items 2\n",
        "memcached_max_connections 1024\n",
        "memcached_lru_crawler_enabled 1\n",
        "memcached_version{version=\"1.6",
        "memcached_process_system_cpu_seconds_total ",
        "memcached_malloced_bytes ",
        "memcached_slab_chunk_size_bytes{slab=\"1\"} 96\n",
        "memcached_slab_current_items{slab=\"1\"} 1\n",
        "memcached_slab_lru_hits_total{lru=\"hot\",slab=\"1\"}",
        "memcached_slab_commands_total{command=\"set\",slab=\"1\",status=\"hit\"} 2\n",
        "memcached_slab_mem_requested_bytes{slab=\"1\"}",
    ] {
        assert!(text.contains(want), "{want:?} missing from\n{text}");
    }
}

#[test]
fn metrics_scrape_and_pid_file() {
    if !require_memcached() {
        return;
    }
    let (mc, mc_addr) = start_memcached(&[]);
    warm_up(&mc_addr);
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("memcached.pid");
    std::fs::write(&pid_file, format!("{}\n", mc.0.id())).unwrap();
    let (_exporter, addr) = exporter(&[
        format!("--memcached.address={mc_addr}"),
        format!("--memcached.pid-file={}", pid_file.display()),
    ]);
    let (status, text) = http_get(&addr, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert_memcached_metrics(&text);
    for want in [
        "memcached_process_cpu_seconds_total ",
        "memcached_process_resident_memory_bytes ",
        "memcached_exporter_build_info{",
        "process_open_fds ",
        "promhttp_metric_handler_requests_total{code=\"200\"}",
    ] {
        assert!(text.contains(want), "{want:?} missing from\n{text}");
    }

    // The multi-target endpoint: only the target's families.
    let (status, text) = http_get(&addr, &format!("/scrape?target={mc_addr}")).unwrap();
    assert_eq!(status, 200);
    assert_memcached_metrics(&text);
    assert!(!text.contains("process_open_fds"), "{text}");
    let (status, text) = http_get(&addr, "/scrape").unwrap();
    assert_eq!(
        (status, text.as_str()),
        (400, "'target' parameter must be specified\n")
    );
    let (status, text) = http_get(&addr, "/").unwrap();
    assert_eq!(status, 200);
    assert!(text.contains("memcached_exporter"), "{text}");
}

#[test]
fn memcached_gone_is_up_zero() {
    let port = free_port();
    let (_exporter, addr) = exporter(&[format!("--memcached.address=127.0.0.1:{port}")]);
    let (status, text) = http_get(&addr, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(text.contains("memcached_up 0\n"), "{text}");
    assert!(!text.contains("memcached_version"), "{text}");
    let (status, text) = http_get(&addr, "/scrape?target=127.0.0.1:1").unwrap();
    assert_eq!(status, 200);
    assert!(text.contains("memcached_up 0\n"), "{text}");
}

#[test]
fn tls() {
    if !require_memcached() {
        return;
    }
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ca_file, cert_file, key_file) = (
        dir.path().join("ca.pem"),
        dir.path().join("server.pem"),
        dir.path().join("server.key"),
    );
    std::fs::write(&ca_file, ca.pem()).unwrap();
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let (_mc, mc_addr) = start_memcached(&[
        "-Z".to_owned(),
        "-o".to_owned(),
        format!(
            "ssl_chain_cert={},ssl_key={}",
            cert_file.display(),
            key_file.display()
        ),
    ]);
    let (_exporter, addr) = exporter(&[
        format!("--memcached.address={mc_addr}"),
        "--memcached.tls.enable".to_owned(),
        format!("--memcached.tls.ca-file={}", ca_file.display()),
        "--memcached.tls.server-name=localhost".to_owned(),
    ]);
    let (_, text) = http_get(&addr, "/metrics").unwrap();
    assert!(text.contains("memcached_up 1\n"), "{text}");
    assert!(text.contains("memcached_max_connections 1024\n"), "{text}");

    // A certificate that does not match the name is refused: up 0.
    let (_exporter, addr) = exporter(&[
        format!("--memcached.address={mc_addr}"),
        "--memcached.tls.enable".to_owned(),
        format!("--memcached.tls.ca-file={}", ca_file.display()),
        "--memcached.tls.server-name=other.example".to_owned(),
    ]);
    let (_, text) = http_get(&addr, "/metrics").unwrap();
    assert!(text.contains("memcached_up 0\n"), "{text}");
}

#[test]
fn bad_flags_fail_start_up() {
    let out = Command::new(env!("CARGO_BIN_EXE_memcached_exporter"))
        .args([
            "--memcached.tls.enable",
            "--memcached.address=/run/memcached.sock",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("you must also specify --memcached.tls.server-name"),
        "{stderr}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_memcached_exporter"))
        .arg("--memcached.timeout=soon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
