//! The binary end to end, and parity with Debian's upstream blackbox_exporter: the same
//! probes with the same config must yield the same metric names and label names (values such
//! as durations aside).

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const UPSTREAM: &str = "/usr/bin/prometheus-blackbox-exporter";

/// Metrics upstream added after 0.23 (the Debian version); ours follows the current release.
const NEWER_THAN_DEBIAN: [&str; 4] = [
    "probe_timeout_seconds",
    "probe_tls_cipher_info",
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

async fn start(binary: &str, config: &Path) -> (Daemon, String) {
    start_with(binary, config, Launch::default()).await
}

/// Extra flags, environment and a file for stderr.
#[derive(Default)]
struct Launch<'a> {
    args: &'a [&'a str],
    env: &'a [(&'a str, &'a str)],
    stderr: Option<std::fs::File>,
    /// Polled for readiness instead of `/-/healthy`.
    healthy_path: Option<&'a str>,
}

async fn start_with(binary: &str, config: &Path, launch: Launch<'_>) -> (Daemon, String) {
    let port = pm_testsupport::free_port();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(launch.args)
        .envs(launch.env.iter().copied())
        .stdout(Stdio::null())
        .stderr(launch.stderr.map_or_else(Stdio::null, Stdio::from))
        .spawn()
        .unwrap_or_else(|e| panic!("starting {binary}: {e}"));
    let daemon = Daemon(child);
    let base = format!("http://127.0.0.1:{port}");
    let healthy = launch.healthy_path.unwrap_or("/-/healthy");
    for _ in 0..200 {
        if get(&format!("{base}{healthy}")).await.is_ok() {
            return (daemon, base);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{binary} did not become healthy");
}

async fn get(url: &str) -> Result<(u16, String), String> {
    let (status, _, body) = fetch(url).await?;
    Ok((status, body))
}

/// Status, `Location` header and body.
async fn fetch(url: &str) -> Result<(u16, Option<String>, String), String> {
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
    let location = resp
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .map_err(|e| e.to_string())?;
    Ok((
        status,
        location,
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
    if !pm_testsupport::upstream_binary(UPSTREAM) {
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

/// The first line of each request head a peer saw, minus those of `before`.
fn first_lines(seen: &common::Seen, before: usize) -> Vec<String> {
    seen.lock().unwrap()[before..]
        .iter()
        .map(|h| h.lines().next().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_config_and_other_probers_match_upstream() {
    if !pm_testsupport::upstream_binary(UPSTREAM) {
        return;
    }
    let http = common::http_server().await;
    let (https, ca_pem) = common::https_server(1_893_456_000).await;
    let (proxy, proxy_seen) = common::proxy_server(Some(https.addr)).await;
    let (tokens, token_seen) = common::token_server().await;
    let grpc = common::grpc_health_server(None).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &ca_pem).unwrap();
    let config = dir.path().join("blackbox.yml");
    std::fs::write(
        &config,
        format!(
            r#"
modules:
  https:
    prober: http
    http:
      tls_config: {{ca_file: {ca}}}
  http_headers:
    prober: http
    http:
      fail_if_header_not_matches:
        - header: Access-Control-Allow-Origin
          regexp: 'example\.com'
      fail_if_header_matches:
        - header: Last-Modified
          regexp: '2015'
  http_gzip:
    prober: http
    http:
      compression: gzip
  http_limit:
    prober: http
    http:
      body_size_limit: 4B
  http_versions:
    prober: http
    http:
      valid_http_versions: ["HTTP/2.0"]
  http_proxy:
    prober: http
    http:
      proxy_url: http://u:p@{proxy}
      proxy_connect_header:
        X-Connect: [yes]
  http_proxy_skip_resolve:
    prober: http
    http:
      proxy_url: http://{proxy}
      skip_resolve_phase_with_proxy: true
  https_proxy:
    prober: http
    http:
      preferred_ip_protocol: ip4
      proxy_url: http://{proxy}
      proxy_connect_header:
        X-Connect: [yes]
      tls_config: {{ca_file: {ca}}}
  http_oauth2:
    prober: http
    http:
      oauth2:
        client_id: id
        client_secret: secret
        token_url: http://{tokens}/token
      fail_if_body_not_matches_regexp: ["^Bearer tok-"]
  grpc:
    prober: grpc
    grpc:
      preferred_ip_protocol: ip4
  grpc_down:
    prober: grpc
    grpc:
      service: down
      preferred_ip_protocol: ip4
  icmp:
    prober: icmp
    icmp:
      preferred_ip_protocol: ip4
"#,
            ca = ca.display(),
            proxy = proxy.addr,
            tokens = tokens.addr,
        ),
    )
    .unwrap();
    let (_ours, ours) = start(env!("CARGO_BIN_EXE_blackbox_exporter"), &config).await;
    let (_theirs, theirs) = start(UPSTREAM, &config).await;
    let plain = |path: &str| format!("http://{}{path}", http.addr);
    let cases = [
        ("https", format!("https://localhost:{}/", https.addr.port())),
        ("http_headers", plain("/headers")),
        ("http_gzip", plain("/gzip")),
        ("http_limit", plain("/")),
        ("http_versions", plain("/")),
        ("http_proxy", "http://192.0.2.1:8080/p?q=1".to_owned()),
        (
            "http_proxy_skip_resolve",
            "http://probe-target.invalid/".to_owned(),
        ),
        (
            "https_proxy",
            format!("https://localhost:{}/", https.addr.port()),
        ),
        ("http_oauth2", plain("/to-whoami")),
        ("grpc", grpc.addr.to_string()),
        ("grpc_down", grpc.addr.to_string()),
        ("icmp", "127.0.0.1".to_owned()),
    ];
    for (module, target) in cases {
        let target_param =
            percent_encoding::utf8_percent_encode(&target, percent_encoding::NON_ALPHANUMERIC);
        let path = format!("/probe?module={module}&target={target_param}");
        let before = proxy_seen.lock().unwrap().len();
        let (s1, a) = get(&format!("{ours}{path}")).await.unwrap();
        let mid = proxy_seen.lock().unwrap().len();
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
        let ours_seen = first_lines(&proxy_seen, before);
        let theirs_seen = first_lines(&proxy_seen, mid);
        assert_eq!(
            ours_seen[..mid - before],
            theirs_seen,
            "{module}: what the proxy saw"
        );
    }
    // One token per probe, as upstream builds a client per probe.
    assert_eq!(token_seen.lock().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_from_environment() {
    let (proxy, seen) = common::proxy_server(None).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("blackbox.yml");
    std::fs::write(
        &config,
        "modules:\n  env:\n    prober: http\n    http:\n      proxy_from_environment: true\n      fail_if_body_not_matches_regexp: [\"^via proxy$\"]\n",
    )
    .unwrap();
    let proxy_url = format!("http://{}", proxy.addr);
    let launch = Launch {
        env: &[
            ("HTTP_PROXY", &proxy_url),
            ("NO_PROXY", "example.com"),
            ("http_proxy", ""),
            ("no_proxy", ""),
        ],
        ..Launch::default()
    };
    let (_daemon, base) =
        start_with(env!("CARGO_BIN_EXE_blackbox_exporter"), &config, launch).await;
    let (status, body) = get(&format!(
        "{base}/probe?module=env&target=http://192.0.2.1:8080/env"
    ))
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("probe_success 1"), "{body}");
    assert_eq!(
        first_lines(&seen, 0),
        ["GET http://192.0.2.1:8080/env HTTP/1.1"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_prefix_external_url_and_prober_log() {
    let http = common::http_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("blackbox.yml");
    std::fs::write(&config, CONFIG).unwrap();
    let log = dir.path().join("stderr.log");
    let flags = [
        "--web.route-prefix=/bb",
        "--web.external-url=http://example.test:9115/bb/",
    ];
    let ours_flags = [
        flags[0],
        flags[1],
        "--log.level=debug",
        "--log.prober=debug",
    ];
    let (_ours, ours) = start_with(
        env!("CARGO_BIN_EXE_blackbox_exporter"),
        &config,
        Launch {
            args: &ours_flags,
            stderr: Some(std::fs::File::create(&log).unwrap()),
            healthy_path: Some("/bb/-/healthy"),
            ..Launch::default()
        },
    )
    .await;
    let probe = format!("probe?module=http_2xx&target=http://{}/", http.addr);
    let (status, _, body) = fetch(&format!("{ours}/bb/{probe}")).await.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("probe_success 1"), "{body}");
    let (status, location, _) = fetch(&format!("{ours}/")).await.unwrap();
    assert_eq!(
        (status, location.as_deref()),
        (302, Some("http://example.test:9115/bb"))
    );
    assert_eq!(fetch(&format!("{ours}/{probe}")).await.unwrap().0, 404);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("Received HTTP response"),
        "--log.prober=debug forwards the probe log:\n{logged}"
    );

    if !pm_testsupport::upstream_binary(UPSTREAM) {
        return;
    }
    let (_theirs, theirs) = start_with(
        UPSTREAM,
        &config,
        Launch {
            args: &flags,
            healthy_path: Some("/bb/-/healthy"),
            ..Launch::default()
        },
    )
    .await;
    for path in ["/", "/bb", "/bb/", "/bb/metrics", "/metrics", "/-/healthy"] {
        let (s1, l1, _) = fetch(&format!("{ours}{path}")).await.unwrap();
        let (s2, l2, _) = fetch(&format!("{theirs}{path}")).await.unwrap();
        assert_eq!((s1, l1), (s2, l2), "{path}");
    }
}
