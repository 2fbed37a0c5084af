//! The http prober's HTTP client config against real local peers: proxies (absolute-form
//! requests, `CONNECT` tunnels, `no_proxy`, skipping the resolve phase) and credentials (OAuth 2
//! client credentials, `authorization` and bearer token files, basic auth).

use crate::common;

use common::exporter::{Exporter, value};

/// Certificate expiry of the HTTPS peer: 2030-01-01T00:00:00Z.
const NOT_AFTER: i64 = 1_893_456_000;

fn heads(seen: &common::Seen) -> Vec<String> {
    seen.lock().unwrap().clone()
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test]
async fn plain_http_goes_to_the_proxy_in_absolute_form() {
    let (proxy, seen) = common::proxy_server(None).await;
    let yaml = format!(
        r#"
modules:
  proxied:
    prober: http
    http:
      proxy_url: http://user:secret@{proxy}
      proxy_connect_header:
        X-Connect: [only-for-connect]
      fail_if_body_not_matches_regexp: ["^via proxy$"]
"#,
        proxy = proxy.addr
    );
    let bb = Exporter::new(&yaml);
    let body = bb.probe("proxied", "http://192.0.2.1:8080/path?q=1").await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    let heads = heads(&seen);
    assert_eq!(heads.len(), 1, "{heads:?}");
    let head = &heads[0];
    assert!(
        head.starts_with("GET http://192.0.2.1:8080/path?q=1 HTTP/1.1\r\n"),
        "{head}"
    );
    assert_eq!(header(head, "host"), Some("192.0.2.1:8080"));
    // base64("user:secret")
    assert_eq!(
        header(head, "proxy-authorization"),
        Some("Basic dXNlcjpzZWNyZXQ=")
    );
    // Go sends proxy_connect_header with CONNECT only.
    assert_eq!(header(head, "x-connect"), None, "{head}");
}

#[tokio::test]
async fn https_goes_through_a_connect_tunnel() {
    let (target, ca_pem) = common::https_server(NOT_AFTER).await;
    let (proxy, seen) = common::proxy_server(Some(target.addr)).await;
    let (refusing, refused) = common::proxy_server(None).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &ca_pem).unwrap();
    let yaml = format!(
        r#"
modules:
  tunnel:
    prober: http
    http:
      preferred_ip_protocol: ip4
      fail_if_not_ssl: true
      fail_if_body_not_matches_regexp: ["^hello blackbox$"]
      proxy_url: http://{proxy}
      proxy_connect_header:
        X-Connect: [one, two]
      tls_config:
        ca_file: ca.pem
  refused:
    prober: http
    http:
      proxy_url: http://{refusing}
      tls_config:
        ca_file: ca.pem
"#,
        proxy = proxy.addr,
        refusing = refusing.addr,
    );
    let file = dir.path().join("blackbox.yml");
    std::fs::write(&file, yaml).unwrap();
    let bb = Exporter::with_file(dir, &file);
    // The certificate names localhost; the tunnel ends at the HTTPS peer whatever is asked.
    let target_url = format!("https://localhost:{}/", target.addr.port());

    let body = bb.probe("tunnel", &target_url).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert_eq!(value(&body, "probe_http_ssl"), 1.0);
    assert_eq!(
        value(&body, "probe_ssl_earliest_cert_expiry"),
        NOT_AFTER as f64
    );
    let heads = heads(&seen);
    assert_eq!(heads.len(), 1, "{heads:?}");
    let authority = format!("127.0.0.1:{}", target.addr.port());
    assert!(
        heads[0].starts_with(&format!("CONNECT {authority} HTTP/1.1\r\n")),
        "upstream tunnels to the resolved address: {}",
        heads[0]
    );
    let connect_values: Vec<&str> = heads[0]
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("x-connect:"))
        .map(|l| l["x-connect:".len()..].trim())
        .collect();
    assert_eq!(connect_values, ["one", "two"]);

    let (status, debug) = bb
        .get(&format!(
            "/probe?module=refused&debug=true&target={}",
            percent_encoding::utf8_percent_encode(&target_url, percent_encoding::NON_ALPHANUMERIC)
        ))
        .await;
    assert_eq!(status, 200);
    assert!(debug.contains("probe_success 0"), "{debug}");
    assert!(debug.contains("Forbidden"), "{debug}");
    assert_eq!(refused.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn socks5_tunnels_http_and_https_with_credentials() {
    let proxy = pm_testsupport::Socks5Proxy::start();
    let http = common::http_server().await;
    let (https, ca) = common::https_server(NOT_AFTER).await;
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), ca).unwrap();
    let yaml = format!(
        r#"
modules:
  socks:
    prober: http
    http:
      preferred_ip_protocol: ip4
      proxy_url: socks5://user:secret@{proxy}
      fail_if_body_not_matches_regexp: ["^hello blackbox$"]
      tls_config:
        ca_file: {ca}
"#,
        proxy = proxy.addr,
        ca = ca_file.path().display()
    );
    let bb = Exporter::new(&yaml);
    let body = bb.probe("socks", &format!("http://{}/", http.addr)).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert_eq!(
        proxy.seen(),
        ["user:secret".to_owned(), http.addr.to_string()],
        "plain HTTP is tunnelled, in origin form, after username/password auth"
    );
    let target = format!("https://localhost:{}/", https.addr.port());
    let body = bb.probe("socks", &target).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert_eq!(
        value(&body, "probe_ssl_earliest_cert_expiry"),
        NOT_AFTER as f64
    );
    assert_eq!(proxy.seen().len(), 4, "{:?}", proxy.seen());
}

#[tokio::test]
async fn https_proxy_is_reached_over_tls() {
    let (target, target_ca) = common::https_server(NOT_AFTER).await;
    let (proxy, seen, proxy_ca) = common::https_proxy_server(Some(target.addr)).await;
    let dir = tempfile::tempdir().unwrap();
    // One CA file trusted for both legs, as Go's transport uses one TLS config for both.
    std::fs::write(dir.path().join("ca.pem"), format!("{target_ca}{proxy_ca}")).unwrap();
    let yaml = format!(
        r#"
modules:
  via_https:
    prober: http
    http:
      preferred_ip_protocol: ip4
      proxy_url: https://user:secret@localhost:{port}
      fail_if_body_not_matches_regexp: ["^(hello blackbox|via proxy)$"]
      tls_config:
        ca_file: ca.pem
"#,
        port = proxy.addr.port()
    );
    let file = dir.path().join("blackbox.yml");
    std::fs::write(&file, yaml).unwrap();
    let bb = Exporter::with_file(dir, &file);
    let body = bb.probe("via_https", "http://192.0.2.1:8080/").await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    let target_url = format!("https://localhost:{}/", target.addr.port());
    let body = bb.probe("via_https", &target_url).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert_eq!(
        value(&body, "probe_ssl_earliest_cert_expiry"),
        NOT_AFTER as f64
    );
    let heads = heads(&seen);
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert!(
        heads[0].starts_with("GET http://192.0.2.1:8080/ HTTP/1.1\r\n"),
        "{}",
        heads[0]
    );
    assert_eq!(
        header(&heads[0], "proxy-authorization"),
        Some("Basic dXNlcjpzZWNyZXQ=")
    );
    assert!(heads[1].starts_with("CONNECT 127.0.0.1:"), "{}", heads[1]);
}

#[tokio::test]
async fn no_proxy_and_skip_resolve_phase() {
    let (proxy, seen) = common::proxy_server(None).await;
    let direct = common::http_server().await;
    let yaml = format!(
        r#"
modules:
  no_proxy:
    prober: http
    http:
      proxy_url: http://{proxy}
      no_proxy: example.com,10.0.0.0/8
      fail_if_body_not_matches_regexp: ["^hello blackbox$"]
  skip_resolve:
    prober: http
    http:
      skip_resolve_phase_with_proxy: true
      proxy_url: http://{proxy}
      fail_if_body_not_matches_regexp: ["^via proxy$"]
"#,
        proxy = proxy.addr
    );
    let bb = Exporter::new(&yaml);

    // With no_proxy upstream never proxies loopback targets.
    let body = bb
        .probe(
            "no_proxy",
            &format!("http://127.0.0.1:{}/", direct.addr.port()),
        )
        .await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    // Not loopback and not excluded: proxied.
    let body = bb.probe("no_proxy", "http://192.0.2.1/").await;
    assert_eq!(value(&body, "probe_success"), 0.0, "body is `via proxy`");
    assert_eq!(heads(&seen).len(), 1);
    // The name is never resolved locally: the proxy gets it as written.
    let body = bb
        .probe("skip_resolve", "http://probe-target.invalid/x")
        .await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert!(
        !body.contains("phase=\"resolve\""),
        "no resolve phase: {body}"
    );
    assert!(!body.contains("probe_dns_lookup_time_seconds"), "{body}");
    let heads = heads(&seen);
    assert!(
        heads[1].starts_with("GET http://probe-target.invalid/x HTTP/1.1\r\n"),
        "{}",
        heads[1]
    );
}

#[tokio::test]
async fn oauth2_token_is_fetched_per_probe_and_reused_over_redirects() {
    let (tokens, requests) = common::token_server().await;
    let target = common::http_server().await;
    let yaml = format!(
        r#"
modules:
  oauth2:
    prober: http
    http:
      oauth2:
        client_id: my-client
        client_secret: s3cret
        scopes: [read, probe]
        token_url: http://{tokens}/token
        endpoint_params:
          audience: blackbox
      fail_if_body_not_matches_regexp: ["^Bearer tok-[0-9]+$"]
  oauth2_down:
    prober: http
    http:
      oauth2:
        client_id: my-client
        token_url: http://127.0.0.1:1/token
"#,
        tokens = tokens.addr
    );
    let bb = Exporter::new(&yaml);
    let url = format!("http://127.0.0.1:{}/to-whoami", target.addr.port());

    let body = bb.probe("oauth2", &url).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert_eq!(value(&body, "probe_http_redirects"), 1.0);
    let seen = heads(&requests);
    assert_eq!(seen.len(), 1, "one token for both hops: {seen:?}");
    let (auth, form) = seen[0].split_once('|').unwrap();
    // base64("my-client:s3cret")
    assert_eq!(auth, "Basic bXktY2xpZW50OnMzY3JldA==");
    let mut fields: Vec<&str> = form.split('&').collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "audience=blackbox",
            "grant_type=client_credentials",
            "scope=read+probe"
        ]
    );

    // Upstream builds a client, hence a token source, per probe.
    let body = bb.probe("oauth2", &url).await;
    assert_eq!(value(&body, "probe_success"), 1.0, "{body}");
    assert_eq!(heads(&requests).len(), 2);

    let body = bb.probe("oauth2_down", &url).await;
    assert_eq!(value(&body, "probe_success"), 0.0, "{body}");
}

#[tokio::test]
async fn credentials_from_config_and_files() {
    let target = common::http_server().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "file-token\n").unwrap();
    std::fs::write(dir.path().join("password"), "pw-from-file").unwrap();
    let yaml = r#"
modules:
  bearer_file:
    prober: http
    http:
      bearer_token_file: token
      fail_if_body_not_matches_regexp: ["^Bearer file-token$"]
  authorization_file:
    prober: http
    http:
      authorization:
        type: Custom
        credentials_file: token
      fail_if_body_not_matches_regexp: ["^Custom file-token$"]
  authorization_inline:
    prober: http
    http:
      authorization:
        credentials: inline
      fail_if_body_not_matches_regexp: ["^Bearer inline$"]
  basic:
    prober: http
    http:
      basic_auth:
        username: alice
        password_file: password
      # base64("alice:pw-from-file")
      fail_if_body_not_matches_regexp: ["^Basic YWxpY2U6cHctZnJvbS1maWxl$"]
  own_header_wins:
    prober: http
    http:
      headers:
        Authorization: Token mine
      basic_auth:
        username: alice
        password: x
      fail_if_body_not_matches_regexp: ["^Token mine$"]
"#;
    let file = dir.path().join("blackbox.yml");
    std::fs::write(&file, yaml).unwrap();
    let bb = Exporter::with_file(dir, &file);
    let url = format!("http://127.0.0.1:{}/whoami", target.addr.port());
    for module in [
        "bearer_file",
        "authorization_file",
        "authorization_inline",
        "basic",
        "own_header_wins",
    ] {
        let body = bb.probe(module, &url).await;
        assert_eq!(value(&body, "probe_success"), 1.0, "{module}: {body}");
    }
}
