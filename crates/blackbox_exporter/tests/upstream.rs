//! The binary end to end, and parity with Debian's upstream blackbox_exporter: the same
//! probes with the same config must yield the same metric names and label names (values such
//! as durations aside).

mod common;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const UPSTREAM: &str = "/usr/bin/prometheus-blackbox-exporter";

/// Metrics upstream added after 0.23 (the Debian version); ours follows the current release.
const NEWER_THAN_DEBIAN: [&str; 3] = [
    "probe_timeout_seconds",
    "probe_ssl_last_chain_info",
    "probe_failed_due_to_bytes",
];

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(binary: &str, config: &Path) -> (Daemon, String) {
    let port = free_port();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {binary}: {e}"));
    let daemon = Daemon(child);
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if get(&format!("{base}/-/healthy")).await.is_ok() {
            return (daemon, base);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{binary} did not become healthy");
}

async fn get(url: &str) -> Result<(u16, String), String> {
    let url: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| e.to_string())?;
    let authority = url.authority().unwrap().to_string();
    let stream = tokio::net::TcpStream::connect(&authority)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let req = http::Request::get(url.path_and_query().unwrap().as_str())
        .header("host", authority)
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .map_err(|e| e.to_string())?;
    Ok((
        status,
        String::from_utf8_lossy(&body.to_bytes()).into_owned(),
    ))
}

/// `name{label names}` for every sample line.
fn shape(body: &str) -> BTreeSet<String> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let series = l.rsplit_once(' ').map_or(l, |(s, _)| s);
            match series.split_once('{') {
                None => series.to_owned(),
                Some((name, labels)) => {
                    let names: Vec<&str> = labels
                        .trim_end_matches('}')
                        .split("\",")
                        .filter_map(|kv| kv.split_once('=').map(|(k, _)| k))
                        .collect();
                    format!("{name}{{{}}}", names.join(","))
                }
            }
        })
        .filter(|s| !NEWER_THAN_DEBIAN.iter().any(|n| s.starts_with(n)))
        .collect()
}

const CONFIG: &str = r#"
modules:
  http_2xx:
    prober: http
    timeout: 5s
  http_body:
    prober: http
    http:
      fail_if_body_not_matches_regexp: ["hello"]
  http_404:
    prober: http
  tcp_connect:
    prober: tcp
  smtp:
    prober: tcp
    tcp:
      query_response:
        - expect: "^220 ([^ ]+)"
          send: "EHLO ${1}\r"
        - expect: "^250-STARTTLS"
  dns_a:
    prober: dns
    dns:
      query_name: example.com
      query_type: A
  dns_soa:
    prober: dns
    dns:
      query_name: example.com
      query_type: SOA
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_probes_and_config_check() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("blackbox.yml");
    std::fs::write(&config, CONFIG).unwrap();
    let ours = env!("CARGO_BIN_EXE_blackbox_exporter");
    let ok = Command::new(ours)
        .args([
            "--config.check",
            &format!("--config.file={}", config.display()),
        ])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "modules:\n  x:\n    prober: nope\n").unwrap();
    let out = Command::new(ours)
        .args([
            "--config.check",
            &format!("--config.file={}", bad.display()),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("prober 'nope' is not valid"));

    let peer = common::http_server().await;
    let (_daemon, base) = start(ours, &config).await;
    let (status, body) = get(&format!(
        "{base}/probe?module=http_2xx&target=http://{}/",
        peer.addr
    ))
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("probe_success 1"), "{body}");
    let (status, body) = get(&format!("{base}/metrics")).await.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("process_cpu_seconds_total"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_metric_shapes_as_upstream() {
    if !Path::new(UPSTREAM).exists() {
        assert!(
            std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
            "{UPSTREAM} is missing and PM_REQUIRE_UPSTREAM is set"
        );
        println!(
            "SKIP parity: {UPSTREAM} not installed (apt-get install prometheus-blackbox-exporter)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("blackbox.yml");
    std::fs::write(&config, CONFIG).unwrap();
    let http = common::http_server().await;
    let smtp = common::smtp_server(None).await;
    let dns = common::dns_server().await;
    let (_ours, ours) = start(env!("CARGO_BIN_EXE_blackbox_exporter"), &config).await;
    let (_theirs, theirs) = start(UPSTREAM, &config).await;
    let cases = [
        ("http_2xx", format!("http://{}/", http.addr)),
        ("http_body", format!("http://{}/", http.addr)),
        ("http_404", format!("http://{}/notfound", http.addr)),
        ("tcp_connect", smtp.addr.to_string()),
        ("smtp", smtp.addr.to_string()),
        ("dns_a", dns.addr.to_string()),
        ("dns_soa", dns.addr.to_string()),
    ];
    for (module, target) in cases {
        let path = format!("/probe?module={module}&target={target}");
        let (s1, a) = get(&format!("{ours}{path}")).await.unwrap();
        let (s2, b) = get(&format!("{theirs}{path}")).await.unwrap();
        assert_eq!(s1, s2, "{module}: status");
        assert_eq!(
            shape(&a),
            shape(&b),
            "{module}: metric shapes differ\nours:\n{a}\nupstream:\n{b}"
        );
        let success = |body: &str| body.lines().any(|l| l == "probe_success 1");
        assert_eq!(
            success(&a),
            success(&b),
            "{module}: verdict\nours:\n{a}\nupstream:\n{b}"
        );
    }
    for path in ["/probe?module=nope&target=x", "/probe?module=http_2xx"] {
        assert_eq!(
            get(&format!("{ours}{path}")).await.unwrap(),
            get(&format!("{theirs}{path}")).await.unwrap(),
            "{path}"
        );
    }
}
