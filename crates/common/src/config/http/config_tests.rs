use std::path::Path;

use super::*;
use crate::config::yaml;

fn parse(text: &str) -> HttpClientConfig {
    yaml::from_str(text, "test.yml").unwrap_or_else(|err| panic!("{err}"))
}

fn validate(text: &str) -> Result<HttpClientConfig, String> {
    let mut cfg: HttpClientConfig = yaml::from_str(text, "test.yml").map_err(|e| e.to_string())?;
    cfg.validate().map_err(|e| e.to_string())?;
    Ok(cfg)
}

#[test]
fn empty_config_has_upstream_defaults() {
    let cfg = parse("");
    assert!(cfg.follow_redirects);
    assert!(cfg.enable_http2);
    assert_eq!(cfg, HttpClientConfig::default());
    let cfg = parse("follow_redirects: false\nenable_http2: false\n");
    assert!(!cfg.follow_redirects && !cfg.enable_http2);
}

#[test]
fn full_config_parses() {
    let cfg = parse(
        r#"
oauth2:
  client_id: id
  client_secret_file: secret.txt
  scopes: [a, b]
  token_url: https://auth.example/token
  endpoint_params: {audience: x}
  tls_config: {ca_file: oauth-ca.pem}
  proxy_url: http://proxy.example:3128
  no_proxy: internal.example
tls_config:
  ca_file: ca.pem
  cert_file: cert.pem
  key_file: /abs/key.pem
  server_name: target.example
  insecure_skip_verify: true
  min_version: TLS12
  max_version: TLS13
proxy_from_environment: true
proxy_connect_header:
  Proxy-Authorization: [Basic abc]
http_headers:
  X-Tenant:
    values: [a]
    secrets: [s]
    files: [tenant.txt]
follow_redirects: false
"#,
    );
    let oauth2 = cfg.oauth2.as_ref().unwrap();
    assert_eq!(oauth2.scopes, ["a", "b"]);
    assert_eq!(oauth2.endpoint_params["audience"], "x");
    assert_eq!(
        oauth2.proxy_url.as_ref().unwrap().as_str(),
        "http://proxy.example:3128/"
    );
    assert_eq!(cfg.tls_config.min_version, Some(TlsVersion::Tls12));
    assert_eq!(cfg.tls_config.max_version, Some(TlsVersion::Tls13));
    assert!(cfg.tls_config.insecure_skip_verify);
    assert_eq!(cfg.http_headers["X-Tenant"].secrets[0].expose(), "s");
    assert_eq!(
        cfg.proxy_connect_header["Proxy-Authorization"][0].expose(),
        "Basic abc"
    );

    let mut cfg = cfg;
    cfg.set_directory(Path::new("/etc/prom"));
    let oauth2 = cfg.oauth2.as_ref().unwrap();
    assert_eq!(oauth2.client_secret_file, "/etc/prom/secret.txt");
    assert_eq!(oauth2.tls_config.ca_file, "/etc/prom/oauth-ca.pem");
    assert_eq!(cfg.tls_config.ca_file, "/etc/prom/ca.pem");
    assert_eq!(cfg.tls_config.cert_file, "/etc/prom/cert.pem");
    assert_eq!(cfg.tls_config.key_file, "/abs/key.pem");
    assert_eq!(cfg.http_headers["X-Tenant"].files, ["/etc/prom/tenant.txt"]);
}

#[test]
fn unknown_fields_and_versions_are_rejected() {
    let err = validate("tls_config:\n  min_version: TLS14\n").unwrap_err();
    assert!(err.contains("unknown TLS version: TLS14"), "{err}");
    let err = validate("basic_auth:\n  user: x\n").unwrap_err();
    assert!(
        err.starts_with(
            "parsing YAML file test.yml: line 2 column 3: basic_auth: unknown field `user`"
        ),
        "{err}"
    );
}

#[test]
fn validation_errors_match_upstream() {
    let cases = [
        (
            "bearer_token: a\nbearer_token_file: b\n",
            "at most one of bearer_token & bearer_token_file must be configured",
        ),
        (
            "bearer_token: a\nbasic_auth: {username: u}\n",
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
        ),
        (
            "bearer_token_file: a\noauth2: {client_id: i, token_url: t}\n",
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
        ),
        (
            "basic_auth: {username: u, username_file: f}\n",
            "at most one of basic_auth username, username_file & username_ref must be configured",
        ),
        (
            "basic_auth: {username: u, password: p, password_file: f}\n",
            "at most one of basic_auth password, password_file & password_ref must be configured",
        ),
        (
            "authorization: {credentials: c}\nbearer_token: b\n",
            "authorization is not compatible with bearer_token & bearer_token_file",
        ),
        (
            "authorization: {credentials: c, credentials_file: f}\n",
            "at most one of authorization credentials & credentials_file must be configured",
        ),
        (
            "authorization: {type: Basic, credentials: c}\n",
            "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
        ),
        (
            "authorization: {credentials: c}\nbasic_auth: {username: u}\n",
            "at most one of basic_auth, oauth2 & authorization must be configured",
        ),
        (
            "oauth2: {client_id: i, token_url: t}\nbasic_auth: {username: u}\n",
            "at most one of basic_auth, oauth2 & authorization must be configured",
        ),
        (
            "oauth2: {token_url: t}\n",
            "oauth2 client_id must be configured",
        ),
        (
            "oauth2: {client_id: i}\n",
            "oauth2 token_url must be configured",
        ),
        (
            "oauth2: {client_id: i, token_url: t, client_secret: s, client_secret_file: f}\n",
            "at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured",
        ),
        (
            "proxy_connect_header: {X: [y]}\n",
            "if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured",
        ),
        (
            "proxy_from_environment: true\nproxy_url: http://p\n",
            "if proxy_from_environment is configured, proxy_url must not be configured",
        ),
        (
            "proxy_from_environment: true\nno_proxy: x\n",
            "if proxy_from_environment is configured, no_proxy must not be configured",
        ),
        (
            "no_proxy: x\n",
            "if no_proxy is configured, proxy_url must also be configured",
        ),
        (
            "tls_config: {ca: x, ca_file: y}\n",
            "at most one of ca, ca_file & ca_ref must be configured",
        ),
        (
            "tls_config: {cert: x, cert_file: y, key: k}\n",
            "at most one of cert, cert_file & cert_ref must be configured",
        ),
        (
            "tls_config: {cert: x, key: k, key_file: y}\n",
            "at most one of key and key_file must be configured",
        ),
        (
            "tls_config: {cert_file: x}\n",
            "exactly one of key or key_file must be configured when a client certificate is configured",
        ),
        (
            "tls_config: {key_file: x}\n",
            "exactly one of cert or cert_file must be configured when a client key is configured",
        ),
        (
            "tls_config: {min_version: TLS13, max_version: TLS12}\n",
            "tls_config.max_version must be greater than or equal to tls_config.min_version if both are specified",
        ),
        (
            "oauth2: {client_id: i, token_url: t, tls_config: {cert_file: x}}\n",
            "exactly one of key or key_file must be configured when a client certificate is configured",
        ),
        (
            "http_headers: {user-agent: {values: [x]}}\n",
            "setting header \"User-Agent\" is not allowed",
        ),
        (
            "http_headers: {x-amz-date: {values: [x]}}\n",
            "setting header \"X-Amz-Date\" is not allowed",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(validate(text).unwrap_err(), message, "{text}");
    }
}

#[test]
fn header_files_are_not_read_at_load_time() {
    assert!(validate("http_headers: {x-tenant: {files: [/nonexistent/tenant]}}\n").is_ok());
}

#[test]
fn bearer_token_becomes_authorization() {
    let cfg = validate("bearer_token: abc\n").unwrap();
    let authorization = cfg.authorization.unwrap();
    assert_eq!(authorization.kind, "Bearer");
    assert_eq!(authorization.credentials.expose(), "abc");
    assert!(cfg.bearer_token.is_empty());

    let cfg = validate("bearer_token_file: /t\n").unwrap();
    assert_eq!(cfg.authorization.unwrap().credentials_file, "/t");

    let cfg = validate("authorization: {type: '  Token ', credentials: c}\n").unwrap();
    assert_eq!(cfg.authorization.unwrap().kind, "Token");
    let cfg = validate("authorization: {credentials: c}\n").unwrap();
    assert_eq!(cfg.authorization.unwrap().kind, "Bearer");
}

#[test]
fn serialization_hides_secrets() {
    let cfg = validate(
        "basic_auth: {username: u, password: hunter2}\nproxy_url: http://user:pw@proxy:3128\n",
    )
    .unwrap();
    let text = serde_norway::to_string(&cfg).unwrap();
    assert!(text.contains("password: <secret>"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(
        text.contains("proxy_url: http://user:xxxxx@proxy:3128/"),
        "{text}"
    );
    assert!(text.contains("follow_redirects: true"), "{text}");
}

#[test]
fn empty_proxy_url_means_unset() {
    let cfg = validate("proxy_url: ''\n").unwrap();
    assert!(cfg.proxy_url.is_none());
}

#[test]
fn canonical_header_keys_follow_go() {
    assert_eq!(canonical_header_key("x-scope-orgid"), "X-Scope-Orgid");
    assert_eq!(canonical_header_key("USER-AGENT"), "User-Agent");
}

#[test]
fn fields_lists_every_serialized_key() {
    let cfg = HttpClientConfig {
        basic_auth: Some(BasicAuth::default()),
        authorization: Some(Authorization::default()),
        oauth2: Some(OAuth2::default()),
        bearer_token: "t".into(),
        bearer_token_file: "f".into(),
        proxy_url: Some(ProxyUrl::parse("http://p").unwrap()),
        no_proxy: "n".into(),
        proxy_from_environment: true,
        proxy_connect_header: BTreeMap::from([("h".into(), vec![])]),
        http_headers: BTreeMap::from([("h".into(), Header::default())]),
        ..HttpClientConfig::default()
    };
    let value = serde_json::to_value(&cfg).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut fields = HttpClientConfig::FIELDS.to_vec();
    keys.sort_unstable();
    fields.sort_unstable();
    assert_eq!(keys, fields);
}
