//! Upstream's test scenarios, compared with its expected outputs in
//! `shared/testdata/haproxy/*.metrics`. The CSV inputs are written here, as upstream keeps
//! them in its Go tests.

use crate::support;

use std::time::Duration;

use pm_haproxy_exporter::exporter::{Exporter, Options, all_server_fields};
use support::{expected, fixture, http_server, normalize, socket_server};

const SERVER_WITHOUT_CHECKS: &str = "test,127.0.0.1:8080,0,0,0,0,0,0,0,0,,0,,0,0,0,0,no check,1,1,0,0,,,0,,1,1,1,,0,,2,0,,0,,,,0,0,0,0,0,0,0,,,,0,0,,,,,,,,,,,";

const BROKEN_CSV: &str = "foo,FRONTEND,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,5007,0,,1,8,1,,0,,2,0,,0,L4OK,,0,,,,,,,0,,,,0,0,,,,,,,,,,,
foo,bug-missing-comma,0,0,0,0,,0,0,0,,0,,0,0,0,0,DRAIN (agent)1,1,0,0,0,5007,0,,1,8,1,,0,,2,0,,0,L4OK,,0,,,,,,,0,,,,0,0,,,,,,,,,,,
foo,foo-instance-0,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,5007,0,,1,8,1,,0,,2,0,,0,L4OK,,0,,,,,,,0,,,,0,0,,,,,,,,,,,
foo,BACKEND,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,5007,0,,1,8,1,,0,,2,0,,0,L4OK,,0,,,,,,,0,,,,0,0,,,,,,,,,,,
";

const OLDER_VERSIONS: &str =
    "foo,FRONTEND,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,5007,0,,1,8,1,,0,,2,
foo,foo-instance-0,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,5007,0,,1,8,1,,0,,2,
foo,BACKEND,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,5007,0,,1,8,1,,0,,2,
";

const TEST_INFO: &str = "Release_date: test date\nVersion: test version\nIdle_pct: 100\n";

fn exporter(uri: &str, timeout: Duration) -> Exporter {
    Exporter::new(&Options {
        scrape_uri: uri.to_owned(),
        ssl_verify: true,
        proxy_from_env: false,
        server_metric_fields: all_server_fields(),
        server_exclude_states: String::new(),
        timeout,
    })
    .unwrap()
}

async fn scrape_http(status: u16, body: Option<&[u8]>, timeout: Duration) -> String {
    let (url, server) = http_server(status, body.map(<[u8]>::to_vec)).await;
    let got = normalize(exporter(&url, timeout).collect().await);
    server.abort();
    got
}

#[tokio::test]
async fn invalid_config() {
    let got = scrape_http(200, Some(b"not,enough,fields"), Duration::from_secs(5)).await;
    assert_eq!(got, expected("invalid_config.metrics"));
}

#[tokio::test]
async fn server_without_checks() {
    let got = scrape_http(
        200,
        Some(SERVER_WITHOUT_CHECKS.as_bytes()),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(got, expected("server_without_checks.metrics"));
}

#[tokio::test]
async fn server_broken_csv() {
    let got = scrape_http(200, Some(BROKEN_CSV.as_bytes()), Duration::from_secs(5)).await;
    assert_eq!(got, expected("server_broken_csv.metrics"));
}

#[tokio::test]
async fn older_haproxy_versions() {
    let got = scrape_http(200, Some(OLDER_VERSIONS.as_bytes()), Duration::from_secs(5)).await;
    assert_eq!(got, expected("older_haproxy_versions.metrics"));
}

#[tokio::test]
async fn deadline() {
    let got = scrape_http(200, None, Duration::from_millis(300)).await;
    assert_eq!(got, expected("deadline.metrics"));
}

#[tokio::test]
async fn not_found() {
    let got = scrape_http(404, Some(b"404 page not found\n"), Duration::from_secs(1)).await;
    assert_eq!(got, expected("not_found.metrics"));
}

#[tokio::test]
async fn unix_domain() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("haproxy.sock");
    let server = socket_server(
        &sock,
        Some((TEST_INFO.to_owned(), format!("{SERVER_WITHOUT_CHECKS}\n"))),
    );
    let e = exporter(&format!("unix:{}", sock.display()), Duration::from_secs(5));
    let got = normalize(e.collect().await);
    server.abort();
    assert_eq!(got, expected("unix_domain.metrics"));
}

#[tokio::test]
async fn unix_domain_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("missing.sock");
    let e = exporter(&format!("unix:{}", sock.display()), Duration::from_secs(1));
    assert_eq!(
        normalize(e.collect().await),
        expected("unix_domain_not_found.metrics")
    );
}

#[tokio::test]
async fn unix_domain_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("haproxy.sock");
    let server = socket_server(&sock, None);
    let e = exporter(
        &format!("unix:{}", sock.display()),
        Duration::from_millis(300),
    );
    let got = normalize(e.collect().await);
    server.abort();
    assert_eq!(got, expected("unix_domain_deadline.metrics"));
}

#[test]
fn invalid_scheme() {
    let err = Exporter::new(&Options {
        scrape_uri: "gopher://gopher.quux.org".into(),
        ssl_verify: true,
        proxy_from_env: false,
        server_metric_fields: all_server_fields(),
        server_exclude_states: String::new(),
        timeout: Duration::from_secs(1),
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "unsupported scheme: \"gopher\"");
}

/// Upstream's benchmark input: every row parses, and each of its frontends, backends and
/// servers is exported.
#[tokio::test]
async fn large_csv() {
    let csv = fixture("haproxy.csv");
    let rows = csv.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
    let got = scrape_http(200, Some(&csv), Duration::from_secs(5)).await;
    assert!(got.contains("haproxy_up 1\n"));
    assert!(got.contains("haproxy_exporter_csv_parse_failures_total 0\n"));
    let ups = got
        .lines()
        .filter(|l| l.starts_with("haproxy_server_up{") || l.starts_with("haproxy_backend_up{"))
        .count();
    let frontends = got
        .lines()
        .filter(|l| l.starts_with("haproxy_frontend_sessions_total{"))
        .count();
    assert_eq!(ups + frontends, rows);
}
