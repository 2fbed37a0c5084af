//! Parsing and validation of the web config file.

use std::time::Duration;

use super::*;

#[test]
fn empty_file_is_the_default_config() {
    let c = WebConfig::from_yaml("").unwrap();
    assert_eq!(c, WebConfig::default());
    assert!(c.http_server_config.http2);
    assert!(c.tls_server_config.prefer_server_cipher_suites);
    assert_eq!(c.tls_server_config.min_version, TlsVersion::Tls12);
    assert_eq!(c.tls_server_config.max_version, TlsVersion::Tls13);
    assert!(!c.tls_server_config.is_enabled());
}

#[test]
fn full_config_parses() {
    let c = WebConfig::from_yaml(
        r#"
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  client_allowed_sans: [client.example, 10.0.0.1]
  min_version: TLS13
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]
  curve_preferences: [X25519, CurveP521]
  prefer_server_cipher_suites: false
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  alice: $2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi
rate_limit:
  interval: 1.5s
  burst: 10
"#,
    )
    .unwrap();
    let tls = &c.tls_server_config;
    assert!(tls.is_enabled());
    assert_eq!(tls.min_version, TlsVersion::Tls13);
    assert_eq!(tls.cipher_suites.len(), 2);
    assert_eq!(tls.cipher_suites[1].id, 0xc013);
    assert_eq!(tls.curve_preferences, [Curve::X25519, Curve::P521]);
    assert_eq!(
        tls.client_allowed_sans.as_deref(),
        Some(&["client.example".to_owned(), "10.0.0.1".to_owned()][..])
    );
    assert!(!tls.prefer_server_cipher_suites);
    assert!(!c.http_server_config.http2);
    assert_eq!(c.rate_limit.interval, Duration::from_millis(1500));
    assert_eq!(c.rate_limit.burst, 10);
    assert_eq!(format!("{:?}", c.basic_auth_users["alice"]), "<secret>");
    c.validate_headers().unwrap();
    c.validate_users().unwrap();
}

#[test]
fn null_sections_are_empty() {
    let c = WebConfig::from_yaml("basic_auth_users:\ntls_server_config:\nhttp_server_config:\n")
        .unwrap();
    assert_eq!(c, WebConfig::default());
}

#[test]
fn unknown_keys_and_names_are_rejected() {
    let err = |yaml: &str| WebConfig::from_yaml(yaml).unwrap_err().to_string();
    assert!(err("tls_config: {}").contains("unknown field `tls_config`"));
    assert!(err("tls_server_config:\n  min_version: TLS14").contains("unknown TLS version: TLS14"));
    assert!(err("tls_server_config:\n  cipher_suites: [FOO]").contains("unknown cipher: FOO"));
    assert!(err("tls_server_config:\n  curve_preferences: [P256]").contains("unknown curve: P256"));
    assert!(err("rate_limit:\n  interval: 5x").contains("unknown unit"));
}

#[test]
fn headers_are_limited_to_upstream_list() {
    let c = WebConfig::from_yaml("http_server_config:\n  headers:\n    Server: nginx\n").unwrap();
    assert_eq!(
        c.validate_headers().unwrap_err().to_string(),
        "HTTP header \"Server\" can not be configured"
    );
    let c = WebConfig::from_yaml("http_server_config:\n  headers:\n    X-Frame-Options: allow\n")
        .unwrap();
    assert_eq!(
        c.validate_headers().unwrap_err().to_string(),
        "invalid value for X-Frame-Options. Expected one of: [\"deny\" \"sameorigin\"], but got: \"allow\""
    );
}

#[test]
fn password_entries_must_be_bcrypt_hashes() {
    let c = WebConfig::from_yaml("basic_auth_users:\n  bob: plaintext\n").unwrap();
    assert!(
        matches!(c.validate_users(), Err(ConfigError::PasswordHash { ref user, .. }) if user == "bob")
    );
}

#[test]
fn flags_use_the_daemon_default() {
    struct Prometheus;
    impl DefaultListenAddress for Prometheus {
        const ADDRESS: &'static str = "0.0.0.0:9090";
    }
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        web: WebFlags<Prometheus>,
    }
    let cli = <Cli as clap::Parser>::try_parse_from(["p"]).unwrap();
    assert_eq!(cli.web.listen_addresses, ["0.0.0.0:9090"]);
    assert_eq!(cli.web.config_file, None);
    let cli = <Cli as clap::Parser>::try_parse_from([
        "p",
        "--web.listen-address=:1",
        "--web.listen-address",
        "[::1]:2",
        "--web.config.file=web.yml",
    ])
    .unwrap();
    assert_eq!(cli.web.listen_addresses, [":1", "[::1]:2"]);
    assert_eq!(
        cli.web.config_file.as_deref(),
        Some(std::path::Path::new("web.yml"))
    );
}
