//! End-to-end probes through the `/probe` handler against real local peers.

use crate::common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::exporter::{Exporter, value};
use pm_blackbox_exporter::web;
use tower::ServiceExt;

/// Certificate expiry used by the HTTPS and STARTTLS peers: 2030-01-01T00:00:00Z.
const NOT_AFTER: i64 = 1_893_456_000;

const CONFIG: &str = r#"
modules:
  http_2xx:
    prober: http
    timeout: 5s
  http_body:
    prober: http
    http:
      fail_if_body_not_matches_regexp: ["hello"]
      fail_if_body_matches_regexp: ["secret"]
  http_body_fail:
    prober: http
    http:
      fail_if_body_matches_regexp: ["blackbox$"]
  http_no_redirect:
    prober: http
    http:
      follow_redirects: false
      valid_status_codes: [302]
  http_headers:
    prober: http
    http:
      fail_if_header_not_matches:
        - header: Access-Control-Allow-Origin
          regexp: '(\*|example\.com)'
      fail_if_header_matches:
        - header: X-Missing
          regexp: '.*'
          allow_missing: true
  http_gzip:
    prober: http
    http:
      compression: gzip
  http_ssl_required:
    prober: http
    http:
      fail_if_not_ssl: true
  http_limit:
    prober: http
    http:
      body_size_limit: 4B
  http_v4:
    prober: http
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      valid_http_versions: ["HTTP/1.1"]
  tcp_connect:
    prober: tcp
  smtp:
    prober: tcp
    tcp:
      query_response:
        - expect: "^220 ([^ ]+)"
          labels:
            - name: host
              value: "${1}"
        - send: "EHLO prober\r"
        - expect: "^250-STARTTLS"
        - send: "QUIT\r"
  smtp_bad:
    prober: tcp
    tcp:
      query_response:
        - send: "QUIT\r"
        - expect: "^999"
  dns_a:
    prober: dns
    dns:
      query_name: example.com
      query_type: A
      validate_answer_rrs:
        fail_if_not_matches_regexp: ["example\\.com\\.\t300\tIN\tA\t192\\.0\\.2\\.1"]
  dns_tcp:
    prober: dns
    dns:
      transport_protocol: tcp
      query_name: example.org
      preferred_ip_protocol: ip4
  dns_fail_match:
    prober: dns
    dns:
      query_name: example.com
      validate_answer_rrs:
        fail_if_matches_regexp: ["192\\.0\\.2"]
  dns_rcode:
    prober: dns
    dns:
      query_name: example.com
      valid_rcodes: [NXDOMAIN]
  icmp:
    prober: icmp
    icmp:
      preferred_ip_protocol: ip4
  grpc:
    prober: grpc
    grpc:
      preferred_ip_protocol: ip4
  grpc_down:
    prober: grpc
    grpc:
      service: down
      preferred_ip_protocol: ip4
  grpc_unknown:
    prober: grpc
    grpc:
      service: nope
      preferred_ip_protocol: ip4
  icmp_df:
    prober: icmp
    icmp:
      preferred_ip_protocol: ip4
      dont_fragment: true
      payload_size: 1200
"#;

#[tokio::test]
async fn http_probes() {
    let peer = common::http_server().await;
    let bb = Exporter::new(CONFIG);
    let base = format!("http://{}", peer.addr);

    let body = bb.probe("http_2xx", &base).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert_eq!(value(&body, "probe_http_status_code"), 200.0);
    assert_eq!(value(&body, "probe_http_content_length"), 14.0);
    assert_eq!(value(&body, "probe_http_uncompressed_body_length"), 14.0);
    assert_eq!(value(&body, "probe_http_ssl"), 0.0);
    assert_eq!(value(&body, "probe_http_version"), 1.1);
    assert_eq!(value(&body, "probe_ip_protocol"), 4.0);
    assert_eq!(value(&body, "probe_ip_addr_hash"), 3_668_918_509.0);
    for phase in ["resolve", "connect", "tls", "processing", "transfer"] {
        assert!(
            body.contains(&format!("probe_http_duration_seconds{{phase=\"{phase}\"}}")),
            "{phase}: {body}"
        );
    }
    // Without a scheme the target is taken as http.
    let body = bb.probe("http_2xx", &peer.addr.to_string()).await;
    assert_eq!(value(&body, "probe_success"), 1.0);

    let body = bb.probe("http_2xx", &format!("{base}/notfound")).await;
    assert_eq!(value(&body, "probe_success"), 0.0);
    assert_eq!(value(&body, "probe_http_status_code"), 404.0);

    let body = bb.probe("http_2xx", &format!("{base}/redirect")).await;
    assert_eq!(value(&body, "probe_success"), 1.0);
    assert_eq!(value(&body, "probe_http_redirects"), 1.0);
    let body = bb
        .probe("http_no_redirect", &format!("{base}/redirect"))
        .await;
    assert_eq!(value(&body, "probe_http_status_code"), 302.0);
    assert_eq!(
        value(&body, "probe_success"),
        0.0,
        "a redirect not followed fails like upstream's client error"
    );
    let body = bb.probe("http_2xx", &format!("{base}/loop")).await;
    assert_eq!(value(&body, "probe_success"), 0.0);
    assert_eq!(value(&body, "probe_http_redirects"), 11.0);

    let body = bb.probe("http_body", &base).await;
    assert_eq!(value(&body, "probe_success"), 1.0);
    assert_eq!(value(&body, "probe_failed_due_to_regex"), 0.0);
    let body = bb.probe("http_body_fail", &base).await;
    assert_eq!(value(&body, "probe_success"), 0.0);
    assert_eq!(value(&body, "probe_failed_due_to_regex"), 1.0);

    let body = bb.probe("http_headers", &format!("{base}/headers")).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert_eq!(
        value(&body, "probe_http_last_modified_timestamp_seconds"),
        1_445_412_480.0
    );
    let body = bb.probe("http_headers", &base).await;
    assert_eq!(value(&body, "probe_success"), 0.0, "header missing");

    let body = bb.probe("http_gzip", &format!("{base}/gzip")).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert_eq!(value(&body, "probe_http_uncompressed_body_length"), 20.0);

    let body = bb.probe("http_ssl_required", &base).await;
    assert_eq!(value(&body, "probe_success"), 0.0);
    let body = bb.probe("http_limit", &base).await;
    assert_eq!(value(&body, "probe_success"), 0.0);
    let body = bb.probe("http_v4", &base).await;
    assert_eq!(value(&body, "probe_success"), 1.0);

    // Nothing listens here any more: connection refused, no panic, a failed probe.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let body = bb.probe("http_2xx", &format!("http://{closed}/")).await;
    assert_eq!(value(&body, "probe_success"), 0.0);
}

#[tokio::test]
async fn https_probe_reports_certificate() {
    let (peer, ca_pem) = common::https_server(NOT_AFTER).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &ca_pem).unwrap();
    let yaml = "modules:\n  https:\n    prober: http\n    http:\n      fail_if_not_ssl: true\n      tls_config:\n        ca_file: ca.pem\n  https_h1:\n    prober: http\n    http:\n      enable_http2: false\n      tls_config:\n        ca_file: ca.pem\n  https_untrusted:\n    prober: http\n  https_forbidden:\n    prober: http\n    http:\n      fail_if_ssl: true\n      tls_config:\n        insecure_skip_verify: true\n";
    let file = dir.path().join("blackbox.yml");
    std::fs::write(&file, yaml).unwrap();
    let bb = Exporter::with_file(dir, &file);
    let target = format!("https://localhost:{}/", peer.addr.port());

    let body = bb.probe("https", &target).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert_eq!(value(&body, "probe_http_ssl"), 1.0);
    assert_eq!(value(&body, "probe_http_version"), 2.0);
    assert_eq!(
        value(&body, "probe_ssl_earliest_cert_expiry"),
        NOT_AFTER as f64
    );
    assert_eq!(
        value(&body, "probe_ssl_last_chain_expiry_timestamp_seconds"),
        NOT_AFTER as f64
    );
    assert!(
        body.contains("probe_tls_version_info{version=\"TLS 1.3\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("probe_tls_cipher_info{cipher=\"TLS_"),
        "{body}"
    );
    assert!(body.contains("subject=\"CN=blackbox test\""), "{body}");
    assert!(
        body.contains("subjectalternative=\"localhost,127.0.0.1\"")
            || body.contains("subjectalternative=\"localhost\""),
        "{body}"
    );

    let body = bb.probe("https_h1", &target).await;
    assert_eq!(value(&body, "probe_http_version"), 1.1);
    let body = bb.probe("https_untrusted", &target).await;
    assert_eq!(
        value(&body, "probe_success"),
        0.0,
        "self-signed is not trusted by default"
    );
    let body = bb.probe("https_forbidden", &target).await;
    assert_eq!(value(&body, "probe_success"), 0.0);
    assert_eq!(value(&body, "probe_http_ssl"), 1.0);
}

#[tokio::test]
async fn tcp_probes() {
    let peer = common::smtp_server(None).await;
    let bb = Exporter::new(CONFIG);
    let target = peer.addr.to_string();

    let body = bb.probe("tcp_connect", &target).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    let body = bb.probe("smtp", &target).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert!(
        body.contains("probe_expect_info{host=\"mail.example\"} 1"),
        "{body}"
    );
    assert_eq!(value(&body, "probe_failed_due_to_regex"), 0.0);
    let body = bb.probe("smtp_bad", &target).await;
    assert_eq!(value(&body, "probe_success"), 0.0);
    assert_eq!(value(&body, "probe_failed_due_to_regex"), 1.0);
    let body = bb.probe("tcp_connect", "127.0.0.1").await;
    assert_eq!(
        value(&body, "probe_success"),
        0.0,
        "no port: upstream refuses the target"
    );
}

#[tokio::test]
async fn tcp_starttls_reports_certificate() {
    let (acceptor, ca_pem) = common::tls_acceptor(NOT_AFTER, &[]);
    let peer = common::smtp_server(Some(acceptor)).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &ca_pem).unwrap();
    let yaml = "modules:\n  smtp_starttls:\n    prober: tcp\n    tcp:\n      tls_config:\n        ca_file: ca.pem\n        server_name: localhost\n      query_response:\n        - expect: \"^220 \"\n        - send: \"EHLO prober\\r\"\n        - expect: \"^250-STARTTLS\"\n        - send: \"STARTTLS\\r\"\n        - expect: \"^220\"\n        - starttls: true\n        - send: \"EHLO prober\\r\"\n        - expect: \"^250-AUTH\"\n        - send: \"QUIT\\r\"\n";
    let file = dir.path().join("blackbox.yml");
    std::fs::write(&file, yaml).unwrap();
    let bb = Exporter::with_file(dir, &file);
    let body = bb.probe("smtp_starttls", &peer.addr.to_string()).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert_eq!(
        value(&body, "probe_ssl_earliest_cert_expiry"),
        NOT_AFTER as f64
    );
}

#[tokio::test]
async fn dns_probes() {
    let peer = common::dns_server().await;
    let bb = Exporter::new(CONFIG);
    let target = peer.addr.to_string();

    let body = bb.probe("dns_a", &target).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert_eq!(value(&body, "probe_dns_answer_rrs"), 1.0);
    assert_eq!(value(&body, "probe_dns_query_succeeded"), 1.0);
    for phase in ["resolve", "connect", "request"] {
        assert!(
            body.contains(&format!("probe_dns_duration_seconds{{phase=\"{phase}\"}}")),
            "{body}"
        );
    }
    let body = bb.probe("dns_tcp", &target).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    let body = bb.probe("dns_fail_match", &target).await;
    assert_eq!(value(&body, "probe_success"), 0.0);
    let body = bb.probe("dns_rcode", &target).await;
    assert_eq!(
        value(&body, "probe_success"),
        0.0,
        "NOERROR is not NXDOMAIN"
    );
}

#[tokio::test]
async fn icmp_probe_to_loopback() {
    let bb = Exporter::new(CONFIG);
    for target in ["127.0.0.1", "::1"] {
        let body = bb.probe("icmp", target).await;
        if value(&body, "probe_success") == 0.0 {
            let (_, debug) = bb
                .get(&format!("/probe?module=icmp&target={target}&debug=true"))
                .await;
            if debug.contains("Error listening to socket") {
                println!(
                    "SKIP icmp {target}: the kernel refuses both ICMP datagram and raw sockets here"
                );
                continue;
            }
            panic!("icmp probe of {target} failed:\n{debug}");
        }
        assert!(
            body.contains("probe_icmp_duration_seconds{phase=\"rtt\"}"),
            "{body}"
        );
        // Read from the reply's control message whatever the socket kind, as upstream does;
        // loopback does not decrement Linux's default of 64.
        assert_eq!(value(&body, "probe_icmp_reply_hop_limit"), 64.0, "{body}");
    }
    // dont_fragment needs a raw socket, as upstream.
    let body = bb.probe("icmp_df", "127.0.0.1").await;
    if value(&body, "probe_success") == 0.0 {
        let (_, debug) = bb
            .get("/probe?module=icmp_df&target=127.0.0.1&debug=true")
            .await;
        if debug.contains("Error listening to socket") {
            println!("SKIP icmp dont_fragment: raw ICMP sockets need root or CAP_NET_RAW");
            return;
        }
        panic!("icmp dont_fragment probe failed:\n{debug}");
    }
}

#[tokio::test]
async fn grpc_health_checks() {
    let plain = common::grpc_health_server(None).await;
    let bb = Exporter::new(CONFIG);
    let target = plain.addr.to_string();
    let body = bb.probe("grpc", &target).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert_eq!(value(&body, "probe_grpc_status_code"), 0.0);
    assert_eq!(value(&body, "probe_grpc_ssl"), 0.0);
    assert!(
        body.contains("probe_grpc_healthcheck_response{serving_status=\"SERVING\"} 1"),
        "{body}"
    );
    assert!(body.contains("probe_grpc_duration_seconds{phase=\"check\"}"));
    let body = bb.probe("grpc_down", &target).await;
    assert_eq!(value(&body, "probe_success"), 0.0, "{body}");
    assert!(
        body.contains("probe_grpc_healthcheck_response{serving_status=\"NOT_SERVING\"} 1"),
        "{body}"
    );
    let body = bb.probe("grpc_unknown", &target).await;
    assert_eq!(value(&body, "probe_success"), 0.0, "{body}");
    assert_eq!(value(&body, "probe_grpc_status_code"), 5.0, "NOT_FOUND");
    drop(plain);
    let body = bb.probe("grpc", &target).await;
    assert_eq!(value(&body, "probe_success"), 0.0, "{body}");
    assert_eq!(
        value(&body, "probe_grpc_status_code"),
        14.0,
        "UNAVAILABLE when nothing listens"
    );

    let (acceptor, ca_pem) = common::tls_acceptor(NOT_AFTER, &[b"h2"]);
    let tls = common::grpc_health_server(Some(acceptor)).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &ca_pem).unwrap();
    let file = dir.path().join("blackbox.yml");
    std::fs::write(
        &file,
        "modules:\n  grpc_tls:\n    prober: grpc\n    grpc:\n      tls: true\n      preferred_ip_protocol: ip4\n      tls_config:\n        ca_file: ca.pem\n",
    )
    .unwrap();
    let bb = Exporter::with_file(dir, &file);
    let body = bb
        .probe("grpc_tls", &format!("localhost:{}", tls.addr.port()))
        .await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert_eq!(value(&body, "probe_grpc_ssl"), 1.0);
    assert_eq!(
        value(&body, "probe_ssl_earliest_cert_expiry"),
        NOT_AFTER as f64
    );
}

#[tokio::test]
async fn bad_requests_get_upstream_answers() {
    let bb = Exporter::new(CONFIG);
    let (status, body) = bb.get("/probe?module=nope&target=x").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::BAD_REQUEST, "Unknown module \"nope\"\n")
    );
    let (status, body) = bb.get("/probe?module=http_2xx").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::BAD_REQUEST, "Target parameter is missing\n")
    );
    let (status, body) = bb.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("blackbox_module_unknown_total 1"), "{body}");
    assert!(
        body.contains("blackbox_exporter_config_last_reload_successful 1"),
        "{body}"
    );
    assert!(body.contains("blackbox_exporter_build_info{"), "{body}");
    let body = bb.probe("http_2xx", "http://[::1").await;
    assert_eq!(
        value(&body, "probe_success"),
        0.0,
        "unparsable target fails the probe"
    );
}

#[tokio::test]
async fn debug_output_history_and_config() {
    let peer = common::http_server().await;
    let bb = Exporter::new(CONFIG);
    let target = format!("http://{}/", peer.addr);
    let (status, body) = bb
        .get(&format!(
            "/probe?module=http_2xx&debug=true&target={target}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with("Logs for the probe:\n"), "{body}");
    assert!(
        body.contains("msg=\"Beginning probe\" module=http_2xx"),
        "{body}"
    );
    assert!(
        body.contains("\n\n\nMetrics that would have been returned:\n"),
        "{body}"
    );
    assert!(body.contains("probe_success 1"), "{body}");
    assert!(
        body.contains("\n\n\nModule configuration:\nprober: http\ntimeout: 5s\n"),
        "{body}"
    );

    let (_, page) = bb.get("/").await;
    assert!(page.contains("<td>http_2xx</td>"), "{page}");
    assert!(page.contains("logs?id=0"), "{page}");
    let (status, logs) = bb.get("/logs?id=0").await;
    assert_eq!(status, StatusCode::OK);
    assert!(logs.starts_with("Logs for the probe:"));
    let (status, _) = bb.get("/logs?id=42").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = bb
        .get(&format!("/logs?target={target}&module=http_2xx"))
        .await;
    assert_eq!(status, StatusCode::OK);

    let (_, config) = bb.get("/config").await;
    assert!(config.contains("http_2xx:"), "{config}");
}

#[tokio::test]
async fn reload_keeps_old_config_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("blackbox.yml");
    std::fs::write(&file, "modules:\n  a:\n    prober: tcp\n").unwrap();
    let bb = Exporter::with_file(dir, &file);
    std::fs::write(&file, "modules:\n  b:\n    prober: bogus\n").unwrap();
    let router = web::router(Arc::clone(&bb.app), "http://localhost:9115/");
    let resp = router
        .oneshot(Request::post("/-/reload").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(bb.app.config().modules.contains_key("a"));
    let (_, metrics) = bb.get("/metrics").await;
    assert!(
        metrics.contains("blackbox_exporter_config_last_reload_successful 0"),
        "{metrics}"
    );
    std::fs::write(&file, "modules:\n  b:\n    prober: tcp\n").unwrap();
    bb.app.reload().unwrap();
    assert!(bb.app.config().modules.contains_key("b"));
    let (status, _) = bb.get("/-/reload").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}
