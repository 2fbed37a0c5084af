use std::path::PathBuf;

use super::*;

fn fixture(dir: &str, name: &str) -> PathBuf {
    pm_testsupport::testdata("blackbox").join(dir).join(name)
}

#[test]
fn good_configs_load() {
    for (dir, name) in [
        ("config", "blackbox-good.yml"),
        ("examples", "blackbox.yml"),
        ("examples", "example.yml"),
    ] {
        let config = Config::load(&fixture(dir, name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!config.modules.is_empty(), "{name}");
    }
    let config = Config::load(&fixture("config", "blackbox-good.yml")).unwrap();
    let post = &config.modules["http_post_2xx"];
    assert_eq!(post.prober, "http");
    assert_eq!(post.timeout, Duration::from_secs(5));
    assert_eq!(post.http.probe.method, "POST");
    assert_eq!(post.http.probe.body_size_limit, Base2Bytes(1 << 20));
    assert!(post.http.probe.ip_protocol_fallback, "upstream default");
    assert!(post.http.client.follow_redirects, "upstream default");
    let dns = &config.modules["dns_test"].dns;
    assert!(dns.recursion);
    assert!(!dns.ip_protocol_fallback);
    assert_eq!(config.modules["icmp_test"].icmp.ttl, DEFAULT_ICMP_TTL);
    let grpc = &config.modules["grpc_health"].grpc;
    assert_eq!(grpc.metadata["key"], ["value1", "value2"]);
    let irc = &config.modules["irc_banner"].tcp.query_response;
    assert_eq!(irc[2].send, "PONG ${1}");
    assert_eq!(irc[2].expect.as_ref().unwrap().as_str(), "PING :([^ ]+)");
}

#[test]
fn bad_configs_give_upstream_verdicts() {
    let cases = [
        ("blackbox-bad.yml", "invalid_extra_field"),
        (
            "blackbox-bad2.yml",
            "at most one of bearer_token & bearer_token_file must be configured",
        ),
        ("invalid-prober.yml", "prober 'invalid' is not valid"),
        (
            "invalid-dns-module.yml",
            "query name must be set for DNS module",
        ),
        ("invalid-dns-class.yml", "query class 'X' is not valid"),
        ("invalid-dns-type.yml", "query type 'X' is not valid"),
        (
            "invalid-http-header-match.yml",
            "regexp must be set for HTTP header matchers",
        ),
        (
            "invalid-http-body-match-regexp.yml",
            r#""Could not compile regular expression" regexp=":[""#,
        ),
        (
            "invalid-http-body-not-match-regexp.yml",
            r#""Could not compile regular expression" regexp=":[""#,
        ),
        (
            "invalid-http-header-match-regexp.yml",
            r#""Could not compile regular expression" regexp=":[""#,
        ),
        (
            "invalid-http-compression-mismatch.yml",
            r#"invalid configuration "Accept-Encoding: deflate", "compression: gzip""#,
        ),
        (
            "invalid-http-compression-mismatch-special-case.yml",
            r#"invalid configuration "accEpt-enCoding: deflate", "compression: gzip""#,
        ),
        (
            "invalid-http-request-compression-reject-all-encodings.yml",
            r#"invalid configuration "Accept-Encoding: *;q=0.0", "compression: gzip""#,
        ),
        (
            "invalid-http-http3-http2.yml",
            "HTTP/3 and HTTP/2.0/1.1 cannot be used together - only HTTP/3.0 is allowed when enable_http3 is true",
        ),
        (
            "invalid-no-versions-http3-enabled.yml",
            "when enable_http3 is true, enable_http2 must be set to false",
        ),
        (
            "invalid-http-http3-http2-version.yml",
            "HTTP/3 and HTTP/2.0/1.1 cannot be used together - only HTTP/3.0 is allowed when enable_http3 is true",
        ),
        (
            "invalid-http-http3-http2-enabled.yml",
            "when enable_http3 is true, enable_http2 must be set to false",
        ),
        ("invalid-icmp-ttl.yml", "\"ttl\" cannot be negative"),
        ("invalid-icmp-ttl-overflow.yml", "\"ttl\" cannot exceed 255"),
        (
            "invalid-tcp-query-response-regexp.yml",
            r#""Could not compile regular expression" regexp=":[""#,
        ),
        (
            "invalid-unix-query-response-regexp.yml",
            r#""Could not compile regular expression" regexp=":[""#,
        ),
        (
            "invalid-websocket-query-response-regexp.yml",
            r#""Could not compile regular expression" regexp=":[""#,
        ),
        (
            "invalid-http-body-config.yml",
            "setting body and body_file both are not allowed",
        ),
    ];
    let listed: Vec<_> = std::fs::read_dir(fixture("config", ""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "blackbox-good.yml")
        .collect();
    assert_eq!(listed.len(), cases.len(), "every bad fixture has a verdict");
    for (name, want) in cases {
        let err = Config::load(&fixture("config", name))
            .expect_err(name)
            .to_string();
        assert!(err.contains(want), "{name}: got {err:?}, want {want:?}");
        assert!(err.contains(name), "{name}: error names the file: {err}");
    }
}

#[test]
fn compression_acceptance() {
    for (compression, accept, ok) in [
        ("", "gzip", true),
        ("gzip", "gzip", true),
        ("gzip", "gzip;q=1.0", true),
        ("gzip", "compress, gzip", true),
        ("br", "gzip, compress", false),
        ("br", "gzip, compress, *", true),
        ("br", "gzip, *;q=0", false),
        ("gzip", "", true),
    ] {
        assert_eq!(
            compression_accepted(compression, accept),
            ok,
            "{compression} {accept}"
        );
    }
}

#[test]
fn config_page_hides_secrets_and_round_trips() {
    let config = Config::load(&fixture("config", "blackbox-good.yml")).unwrap();
    let text = config.to_yaml();
    assert!(!text.contains("mysecret"), "{text}");
    assert!(text.contains("timeout: 5s"), "{text}");
    assert!(text.contains("PING :([^ ]+)"), "{text}");
}

#[test]
fn deprecated_no_follow_redirects() {
    let config = Config::from_yaml(
        "modules:\n  m:\n    prober: http\n    http:\n      no_follow_redirects: true\n",
        Path::new("."),
    )
    .unwrap();
    assert!(!config.modules["m"].http.client.follow_redirects);
}

/// `units.Base2Bytes` wants a unit: upstream refuses a bare number (checked against Debian's
/// blackbox_exporter with `--config.check`).
#[test]
fn body_size_limit_needs_a_unit() {
    let yaml = |limit: &str| {
        format!("modules:\n  m:\n    prober: http\n    http:\n      body_size_limit: {limit}\n")
    };
    let config = Config::from_yaml(&yaml("1KB"), Path::new(".")).unwrap();
    assert_eq!(
        config.modules["m"].http.probe.body_size_limit,
        Base2Bytes(1024)
    );
    let err = Config::from_yaml(&yaml("100"), Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(err.contains("units: unknown unit  in 100"), "{err}");
}

#[test]
fn go_duration_text() {
    assert_eq!(format_go_duration(Duration::from_secs(5)), "5s");
    assert_eq!(format_go_duration(Duration::from_secs(90)), "1m30s");
    assert_eq!(format_go_duration(Duration::from_millis(1500)), "1.5s");
    assert_eq!(format_go_duration(Duration::from_millis(500)), "500ms");
    assert_eq!(format_go_duration(Duration::from_secs(3600)), "1h0m0s");
}
