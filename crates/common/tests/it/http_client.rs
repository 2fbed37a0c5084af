//! The configured HTTP client against real servers on 127.0.0.1: plain HTTP and TLS with a CA,
//! server and client certificates generated here, an OAuth 2 token endpoint and a forward proxy.
//! Also checks the HTTP client fields of upstream's Prometheus config fixtures.

#[path = "http_client/support.rs"]
mod support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use pm_common::config::http::{HttpClient, HttpClientConfig, HttpClientOptions};
use pm_common::config::yaml;
use support::{Pki, Reply, Server};

fn config(text: &str) -> HttpClientConfig {
    let mut cfg: HttpClientConfig =
        yaml::from_str(text, "test.yml").unwrap_or_else(|e| panic!("{e}"));
    cfg.validate().unwrap_or_else(|e| panic!("{e}"));
    cfg
}

fn client(text: &str) -> HttpClient {
    HttpClient::new(&config(text), "test").unwrap_or_else(|e| panic!("{e}"))
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

#[tokio::test]
async fn basic_auth_reads_password_file_per_request() {
    let server = Server::start(None, |_| Reply::ok("ok")).await;
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, "s3cret\n").unwrap();
    let client = client(&format!(
        "basic_auth:\n  username: user\n  password_file: {}\n",
        password.display()
    ));

    let response = client.get(server.url("http", "/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
    std::fs::write(&password, "rotated").unwrap();
    client.get(server.url("http", "/metrics")).await.unwrap();

    let seen = server.seen();
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].target, "/metrics");
    assert_eq!(
        seen[0].header("authorization"),
        Some(basic("user", "s3cret").as_str())
    );
    assert_eq!(
        seen[1].header("authorization"),
        Some(basic("user", "rotated").as_str())
    );
}

#[tokio::test]
async fn bearer_credentials_from_file_resolved_against_config_dir() {
    let server = Server::start(None, |_| Reply::ok("ok")).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "  tok-1 \n").unwrap();
    let path = dir.path().join("client.yml");
    std::fs::write(&path, "authorization:\n  credentials_file: token\n").unwrap();

    let mut cfg: HttpClientConfig = yaml::load_file(&path).unwrap();
    cfg.set_directory(path.parent().unwrap());
    let cfg = yaml::validate(&path, cfg, HttpClientConfig::validate).unwrap();
    let client = HttpClient::new(&cfg, "test").unwrap();

    client.get(server.url("http", "/")).await.unwrap();
    std::fs::write(dir.path().join("token"), "tok-2").unwrap();
    client.get(server.url("http", "/")).await.unwrap();
    // A request that brings its own credentials keeps them, as upstream.
    let own = client
        .request(reqwest::Method::GET, server.url("http", "/"))
        .header("Authorization", "Custom mine");
    client.send(own).await.unwrap();

    let seen = server.seen();
    assert_eq!(seen[0].header("authorization"), Some("Bearer tok-1"));
    assert_eq!(seen[1].header("authorization"), Some("Bearer tok-2"));
    assert_eq!(seen[2].header_values("authorization"), ["Custom mine"]);

    std::fs::remove_file(dir.path().join("token")).unwrap();
    let err = client
        .get(server.url("http", "/"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("unable to read authorization credentials: unable to read file "),
        "{err}"
    );
}

#[tokio::test]
async fn legacy_bearer_token_and_custom_authorization_type() {
    let server = Server::start(None, |_| Reply::ok("ok")).await;
    client("bearer_token: legacy\n")
        .get(server.url("http", "/"))
        .await
        .unwrap();
    client("authorization: {type: Token, credentials: abc}\n")
        .get(server.url("http", "/"))
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].header("authorization"), Some("Bearer legacy"));
    assert_eq!(seen[1].header("authorization"), Some("Token abc"));
}

#[tokio::test]
async fn configured_headers_are_sent() {
    let server = Server::start(None, |_| Reply::ok("ok")).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tenant"), "from-file\n").unwrap();
    let mut cfg = config(
        "http_headers:\n  x-scope-orgid:\n    values: [a]\n    secrets: [b]\n    files: [tenant]\n",
    );
    cfg.set_directory(dir.path());
    let options = HttpClientOptions {
        user_agent: Some("Promethium/0.1".into()),
        ..Default::default()
    };
    let client = HttpClient::with_options(&cfg, "test", &options).unwrap();
    client.get(server.url("http", "/")).await.unwrap();
    let seen = &server.seen()[0];
    assert_eq!(seen.header_values("x-scope-orgid"), ["a", "b", "from-file"]);
    assert_eq!(seen.header("user-agent"), Some("Promethium/0.1"));
    // Upstream disables transparent compression; scrapers negotiate it themselves.
    assert_eq!(seen.header("accept-encoding"), None);
    client.get(server.url("http", "/")).await.unwrap();
    assert_eq!(
        server.seen()[0].header_values("x-scope-orgid"),
        ["a", "b", "from-file"]
    );
}

/// A token endpoint that counts its calls and hands out `tok-<n>`.
async fn token_server(expires_in: u64, accept_header_credentials: bool) -> Server {
    let calls = Arc::new(Mutex::new(0));
    Server::start(None, move |seen| {
        let has_header = seen.header("authorization").is_some();
        if has_header && !accept_header_credentials {
            return Reply {
                status: 401,
                headers: Vec::new(),
                body: "{\"error\":\"invalid_client\"}".into(),
            };
        }
        let mut calls = calls.lock().unwrap();
        *calls += 1;
        Reply {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: format!("{{\"access_token\":\"tok-{calls}\",\"token_type\":\"bearer\",\"expires_in\":{expires_in}}}"),
        }
    })
    .await
}

fn form(body: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test]
async fn oauth2_token_is_fetched_and_cached() {
    let tokens = token_server(3600, true).await;
    let target = Server::start(None, |_| Reply::ok("ok")).await;
    let client = client(&format!(
        "oauth2:\n  client_id: my id\n  client_secret: s&cret\n  scopes: [read, write]\n  token_url: {}\n  endpoint_params: {{audience: prom}}\n",
        tokens.url("http", "/token")
    ));
    client.get(target.url("http", "/a")).await.unwrap();
    client.get(target.url("http", "/b")).await.unwrap();

    let token_requests = tokens.seen();
    assert_eq!(token_requests.len(), 1, "the token is cached");
    let request = &token_requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/token");
    assert_eq!(
        request.header("authorization"),
        Some(basic("my+id", "s%26cret").as_str())
    );
    let params = form(&request.body);
    assert!(
        params.contains(&("grant_type".into(), "client_credentials".into())),
        "{params:?}"
    );
    assert!(
        params.contains(&("scope".into(), "read write".into())),
        "{params:?}"
    );
    assert!(
        params.contains(&("audience".into(), "prom".into())),
        "{params:?}"
    );

    let seen = target.seen();
    assert_eq!(seen[0].header("authorization"), Some("Bearer tok-1"));
    assert_eq!(seen[1].header("authorization"), Some("Bearer tok-1"));
}

#[tokio::test]
async fn oauth2_token_near_expiry_is_refreshed() {
    // Tokens valid for 5 s are inside the 10 s safety margin: each request needs a new one.
    let tokens = token_server(5, true).await;
    let target = Server::start(None, |_| Reply::ok("ok")).await;
    let client = client(&format!(
        "oauth2:\n  client_id: id\n  client_secret: s\n  token_url: {}\n",
        tokens.url("http", "/token")
    ));
    client.get(target.url("http", "/")).await.unwrap();
    client.get(target.url("http", "/")).await.unwrap();
    assert_eq!(tokens.seen().len(), 2);
    let seen = target.seen();
    assert_eq!(seen[0].header("authorization"), Some("Bearer tok-1"));
    assert_eq!(seen[1].header("authorization"), Some("Bearer tok-2"));
}

#[tokio::test]
async fn oauth2_falls_back_to_credentials_in_body() {
    let tokens = token_server(3600, false).await;
    let target = Server::start(None, |_| Reply::ok("ok")).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret"), "from-file\n").unwrap();
    let client = client(&format!(
        "oauth2:\n  client_id: id\n  client_secret_file: {}\n  token_url: {}\n",
        dir.path().join("secret").display(),
        tokens.url("http", "/token")
    ));
    client.get(target.url("http", "/")).await.unwrap();
    let requests = tokens.seen();
    let last = requests.last().unwrap();
    let params = form(&last.body);
    assert!(
        params.contains(&("client_id".into(), "id".into())),
        "{params:?}"
    );
    assert!(
        params.contains(&("client_secret".into(), "from-file".into())),
        "{params:?}"
    );
    assert_eq!(
        target.seen()[0].header("authorization"),
        Some("Bearer tok-1")
    );
}

#[tokio::test]
async fn oauth2_endpoint_errors_are_reported() {
    let tokens = Server::start(None, |_| Reply {
        status: 400,
        headers: Vec::new(),
        body: "nope".into(),
    })
    .await;
    let client = client(&format!(
        "oauth2:\n  client_id: id\n  token_url: {}\n",
        tokens.url("http", "/token")
    ));
    let err = client
        .get(tokens.url("http", "/"))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "oauth2: cannot fetch token: 400 Bad Request\nResponse: nope"
    );
}

#[tokio::test]
async fn custom_ca_is_trusted_and_other_cas_are_not() {
    let pki = Pki::new(&["127.0.0.1", "localhost"]);
    let server = Server::start(Some(pki.acceptor(false, rustls::ALL_VERSIONS)), |_| {
        Reply::ok("secure")
    })
    .await;

    let trusted = client(&format!("tls_config:\n  ca_file: {}\n", pki.path("ca.pem")));
    let response = trusted.get(server.url("https", "/")).await.unwrap();
    assert_eq!(response.text().await.unwrap(), "secure");

    let inline = config(&format!("tls_config:\n  ca: |\n{}", indent(&pki.ca_pem)));
    let response = HttpClient::new(&inline, "inline")
        .unwrap()
        .get(server.url("https", "/"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let other = Pki::new(&["127.0.0.1"]);
    let untrusted = client(&format!(
        "tls_config:\n  ca_file: {}\n",
        other.path("ca.pem")
    ));
    let err = untrusted.get(server.url("https", "/")).await.unwrap_err();
    assert!(format!("{err:?}").contains("InvalidCertificate"), "{err:?}");
    assert_eq!(
        server.seen().len(),
        2,
        "the untrusted client never got to send its request"
    );
}

#[tokio::test]
async fn ca_file_is_reread_when_it_changes() {
    let pki = Pki::new(&["127.0.0.1"]);
    let other = Pki::new(&["127.0.0.1"]);
    let server = Server::start(Some(pki.acceptor(false, rustls::ALL_VERSIONS)), |_| {
        Reply::ok("ok")
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &other.ca_pem).unwrap();
    let client = client(&format!("tls_config:\n  ca_file: {}\n", ca_file.display()));
    assert!(client.get(server.url("https", "/")).await.is_err());
    // Rotating the CA on disk takes effect without rebuilding the client, as upstream.
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    assert_eq!(
        client.get(server.url("https", "/")).await.unwrap().status(),
        200
    );
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

#[tokio::test]
async fn insecure_skip_verify_accepts_unknown_issuer() {
    let pki = Pki::new(&["127.0.0.1"]);
    let server = Server::start(Some(pki.acceptor(false, rustls::ALL_VERSIONS)), |_| {
        Reply::ok("ok")
    })
    .await;
    let client = client("tls_config:\n  insecure_skip_verify: true\n");
    assert_eq!(
        client.get(server.url("https", "/")).await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn server_name_overrides_the_verified_name() {
    let pki = Pki::new(&["promethium.test"]);
    let server = Server::start(Some(pki.acceptor(false, rustls::ALL_VERSIONS)), |_| {
        Reply::ok("ok")
    })
    .await;
    let ca = pki.path("ca.pem");
    let err = client(&format!("tls_config: {{ca_file: {ca}}}\n"))
        .get(server.url("https", "/"))
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("NotValidForName"), "{err:?}");
    let named = client(&format!(
        "tls_config: {{ca_file: {ca}, server_name: promethium.test}}\n"
    ));
    assert_eq!(
        named.get(server.url("https", "/")).await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn client_certificate_is_presented() {
    let pki = Pki::new(&["127.0.0.1"]);
    let server = Server::start(Some(pki.acceptor(true, rustls::ALL_VERSIONS)), |_| {
        Reply::ok("mtls")
    })
    .await;
    let ca = pki.path("ca.pem");
    let without = client(&format!("tls_config: {{ca_file: {ca}}}\n"));
    assert!(without.get(server.url("https", "/")).await.is_err());
    assert!(server.seen().is_empty());

    let with = client(&format!(
        "tls_config: {{ca_file: {ca}, cert_file: {}, key_file: {}}}\n",
        pki.path("client.pem"),
        pki.path("client.key")
    ));
    let response = with.get(server.url("https", "/")).await.unwrap();
    assert_eq!(response.text().await.unwrap(), "mtls");
}

#[tokio::test]
async fn min_version_is_honoured() {
    let pki = Pki::new(&["127.0.0.1"]);
    let tls12_only = Server::start(
        Some(pki.acceptor(false, &[&rustls::version::TLS12])),
        |_| Reply::ok("ok"),
    )
    .await;
    let ca = pki.path("ca.pem");
    let default = client(&format!("tls_config: {{ca_file: {ca}}}\n"));
    assert_eq!(
        default
            .get(tls12_only.url("https", "/"))
            .await
            .unwrap()
            .status(),
        200
    );
    let tls13 = client(&format!(
        "tls_config: {{ca_file: {ca}, min_version: TLS13}}\n"
    ));
    assert!(tls13.get(tls12_only.url("https", "/")).await.is_err());
}

#[tokio::test]
async fn redirects_follow_the_policy() {
    let server = Server::start(None, |seen| match seen.target.as_str() {
        "/old" => Reply {
            status: 302,
            headers: vec![("Location", "/new".into())],
            body: String::new(),
        },
        _ => Reply::ok("moved here"),
    })
    .await;
    let following = client("");
    let response = following.get(server.url("http", "/old")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "moved here");

    let not_following = client("follow_redirects: false\n");
    let response = not_following.get(server.url("http", "/old")).await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/new");
}

#[tokio::test]
async fn proxy_url_is_used_and_no_proxy_skips_loopback() {
    let proxy = Server::start(None, |_| Reply::ok("via proxy")).await;
    let target = Server::start(None, |_| Reply::ok("direct")).await;

    let proxied = client(&format!(
        "proxy_url: {}\nproxy_connect_header:\n  X-Proxy-Token: [abc]\n",
        proxy.url("http", "")
    ));
    let response = proxied.get(target.url("http", "/metrics")).await.unwrap();
    assert_eq!(response.text().await.unwrap(), "via proxy");
    let seen = proxy.seen();
    assert_eq!(seen[0].target, target.url("http", "/metrics").as_str());
    // Go sends proxy_connect_header only with CONNECT; reqwest also adds it to plain-HTTP
    // requests made through the proxy. Both reach only the proxy.
    assert_eq!(seen[0].header("x-proxy-token"), Some("abc"));

    // With no_proxy upstream switches to rules that never proxy loopback targets.
    let direct = client(&format!(
        "proxy_url: {}\nno_proxy: example.com\n",
        proxy.url("http", "")
    ));
    let response = direct.get(target.url("http", "/")).await.unwrap();
    assert_eq!(response.text().await.unwrap(), "direct");
}

#[tokio::test]
async fn socks5_proxy_url_tunnels_with_credentials_and_remote_names() {
    let proxy = pm_testsupport::Socks5Proxy::start();
    let target = Server::start(None, |_| Reply::ok("through socks")).await;
    let port = target.addr.port();
    let socks = client(&format!("proxy_url: socks5://user:secret@{}\n", proxy.addr));
    let url = format!("http://localhost:{port}/metrics");
    let response = socks.get(url.parse().unwrap()).await.unwrap();
    assert_eq!(response.text().await.unwrap(), "through socks");
    // As Go's dialer, the host name goes to the proxy unresolved.
    assert_eq!(
        proxy.seen(),
        ["user:secret".to_owned(), format!("localhost:{port}")]
    );
}

#[test]
fn invalid_configs_are_refused_with_upstream_messages() {
    let cases = [
        (
            "basic_auth: {username: u}\nauthorization: {credentials: c}\n",
            "at most one of basic_auth, oauth2 & authorization must be configured",
        ),
        (
            "oauth2: {client_id: x}\n",
            "oauth2 token_url must be configured",
        ),
        (
            "tls_config: {ca: 'garbage'}\n",
            "unable to use specified CA cert inline",
        ),
        (
            "tls_config: {max_version: TLS10}\n",
            "tls_config.max_version TLS10 is not supported: the lowest available version is TLS12",
        ),
    ];
    for (text, message) in cases {
        let cfg: HttpClientConfig = yaml::from_str(text, "bad.yml").unwrap();
        let err = HttpClient::new(&cfg, "bad").unwrap_err().to_string();
        assert_eq!(err, message, "{text}");
    }
}

// --- upstream fixtures -------------------------------------------------------------------

fn fixture(name: &str) -> PathBuf {
    pm_testsupport::testdata("prometheus-config").join(name)
}

/// The HTTP client part of every remote write/read, scrape and Alertmanager entry of a
/// Prometheus config fixture, parsed and validated.
fn http_configs(name: &str) -> Vec<Result<HttpClientConfig, String>> {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    let doc: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    let sections = [
        doc.get("remote_write"),
        doc.get("remote_read"),
        doc.get("scrape_configs"),
        doc.get("alerting").and_then(|a| a.get("alertmanagers")),
    ];
    sections
        .into_iter()
        .flatten()
        .filter_map(|section| section.as_sequence())
        .flatten()
        .map(|entry| {
            let mut http = serde_norway::Mapping::new();
            for key in HttpClientConfig::FIELDS {
                if let Some(value) = entry.get(key) {
                    http.insert(key.into(), value.clone());
                }
            }
            let text = serde_norway::to_string(&http).unwrap();
            let mut cfg: HttpClientConfig =
                yaml::from_str(&text, name).map_err(|e| e.to_string())?;
            cfg.validate().map_err(|e| e.to_string())?;
            Ok(cfg)
        })
        .collect()
}

#[test]
fn fixture_conf_good_http_client_configs_load() {
    let configs = http_configs("conf.good.yml");
    assert!(
        configs.len() > 10,
        "conf.good.yml has many HTTP client configs"
    );
    for (i, cfg) in configs.iter().enumerate() {
        assert!(cfg.is_ok(), "entry {i}: {cfg:?}");
    }
    let with_oauth2 = configs
        .iter()
        .flatten()
        .find_map(|c| c.oauth2.clone())
        .expect("an oauth2 block");
    assert!(!with_oauth2.client_id.is_empty());
    let with_headers = configs
        .iter()
        .flatten()
        .find(|c| !c.http_headers.is_empty())
        .expect("http_headers");
    assert_eq!(with_headers.http_headers["foo"].values, ["foobar"]);
    assert!(configs.iter().flatten().any(|c| !c.enable_http2));
}

#[test]
fn fixture_bad_http_client_configs_are_refused() {
    let cases = [
        (
            "bearertoken.bad.yml",
            "at most one of bearer_token & bearer_token_file must be configured",
        ),
        (
            "bearertoken_basicauth.bad.yml",
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
        ),
    ];
    for (name, message) in cases {
        let configs = http_configs(name);
        assert_eq!(configs[0].as_ref().unwrap_err(), message, "{name}");
    }
}
