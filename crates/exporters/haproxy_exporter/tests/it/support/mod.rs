//! Test support: fixtures, exposition normalising, and small stand-ins for HAProxy's stats
//! page and socket on loopback.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pm_common::expfmt::dto::MetricFamily;
use pm_common::expfmt::encode::write_text;
use pm_common::expfmt::textparse::decode_text_families;
use pm_common::metrics::{Collector, Registry};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, UnixListener};
use tokio::task::JoinHandle;

/// `shared/testdata/haproxy`, or a clear failure when the fixtures are missing.
pub fn fixtures() -> PathBuf {
    pm_testsupport::testdata("haproxy")
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Families as client_golang's gatherer orders them, in the text format.
pub fn normalize(families: Vec<MetricFamily>) -> String {
    struct Once(std::sync::Mutex<Vec<MetricFamily>>);
    impl Collector for Once {
        fn collect(&self, out: &mut Vec<MetricFamily>) {
            out.append(&mut self.0.lock().unwrap());
        }
    }
    let registry = Registry::new();
    registry.register(Arc::new(Once(std::sync::Mutex::new(families))));
    let mut text = String::new();
    for f in registry.gather() {
        write_text(&mut text, &f).unwrap();
    }
    text
}

/// A `.metrics` fixture, normalised.
pub fn expected(name: &str) -> String {
    normalize(decode_text_families(&fixture(name)).expect("fixture parses"))
}

/// Serves `body` with `status` to every HTTP request; `None` never answers.
pub async fn http_server(status: u16, body: Option<Vec<u8>>) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/;csv", listener.local_addr().unwrap());
    let body = Arc::new(body);
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let body = Arc::clone(&body);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut request = Vec::new();
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let Some(body) = body.as_ref() else {
                    // Hold the connection open without answering.
                    let _ = conn.read(&mut buf).await;
                    return;
                };
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes()).await;
                let _ = conn.write_all(body).await;
            });
        }
    });
    (url, task)
}

/// A stats socket at `path` answering `show info` and `show stat` once per connection; with
/// `None` it accepts and never answers.
pub fn socket_server(path: &Path, replies: Option<(String, String)>) -> JoinHandle<()> {
    let listener = UnixListener::bind(path).unwrap();
    let replies = Arc::new(replies);
    tokio::spawn(async move {
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                return;
            };
            let replies = Arc::clone(&replies);
            tokio::spawn(async move {
                let mut conn = BufReader::new(conn);
                let mut line = String::new();
                if conn.read_line(&mut line).await.is_err() {
                    return;
                }
                let Some((info, stat)) = replies.as_ref() else {
                    let _ = conn.read_line(&mut line).await;
                    return;
                };
                let reply = match line.as_str() {
                    "show info\n" => info,
                    "show stat\n" => stat,
                    _ => return,
                };
                let _ = conn.get_mut().write_all(reply.as_bytes()).await;
            });
        }
    })
}

/// A child process killed when dropped.
pub struct Proc(pub std::process::Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A blocking `GET` returning the status and body, or `None` when nothing answers.
pub fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).ok()?;
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).ok()?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Some((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Polls `GET path` until it answers 200 (bounded: about ten seconds).
pub fn wait_ready(addr: &str, path: &str) -> String {
    for _ in 0..200 {
        if let Some((200, body)) = http_get(addr, path) {
            return body;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{addr}{path} did not become ready");
}

/// Whether an outside binary is there; without it the test skips, unless
/// `PM_REQUIRE_UPSTREAM` is set, when it fails.
pub fn require(path: &str) -> bool {
    if Path::new(path).exists() {
        return true;
    }
    assert!(
        std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
        "{path} is missing and PM_REQUIRE_UPSTREAM is set"
    );
    eprintln!("SKIP: {path} is not installed");
    false
}

/// Each series of a text exposition as `name{labels}` (values dropped), and each family name.
pub fn series(
    text: &str,
) -> (
    std::collections::BTreeSet<String>,
    std::collections::BTreeSet<String>,
) {
    let mut series = std::collections::BTreeSet::new();
    let mut families = std::collections::BTreeSet::new();
    for f in decode_text_families(text.as_bytes()).expect("exposition parses") {
        for m in &f.metric {
            let labels: Vec<String> = m
                .label
                .iter()
                .map(|l| format!("{}={:?}", l.name(), l.value()))
                .collect();
            series.insert(format!("{}{{{}}}", f.name(), labels.join(",")));
        }
        families.insert(f.name().to_owned());
    }
    (series, families)
}
