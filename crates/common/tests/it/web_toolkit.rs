//! The exporter toolkit end to end: real servers on 127.0.0.1 with ephemeral ports, real TLS
//! with a throw-away CA, real bcrypt.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use axum::Router;
use axum::routing::get;
use pm_common::web::{
    self, ConfigError, DefaultListenAddress, LandingConfig, LandingLink, Readiness, Server,
    WebFlags,
};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::oneshot;

struct Test;
impl DefaultListenAddress for Test {
    const ADDRESS: &'static str = "127.0.0.1:0";
}

/// A CA, a server certificate for 127.0.0.1, a client certificate from the CA and one from an
/// unrelated CA, written as PEM files into a temporary directory with the web config.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let ca = issuer("Test CA")?;
        std::fs::write(dir.path().join("ca.crt"), ca.pem())?;
        let server_sans = vec!["127.0.0.1".into(), "localhost".into()];
        leaf(
            &ca,
            server_sans,
            ExtendedKeyUsagePurpose::ServerAuth,
            &dir.path().join("server"),
        )?;
        let client_sans = vec!["client.example".into()];
        leaf(
            &ca,
            client_sans.clone(),
            ExtendedKeyUsagePurpose::ClientAuth,
            &dir.path().join("client"),
        )?;
        let rogue = issuer("Rogue CA")?;
        leaf(
            &rogue,
            client_sans,
            ExtendedKeyUsagePurpose::ClientAuth,
            &dir.path().join("rogue"),
        )?;
        Ok(Self { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `web.yml` and returns its path.
    fn web_config(&self, yaml: &str) -> PathBuf {
        let path = self.path("web.yml");
        std::fs::write(&path, yaml).unwrap();
        path
    }

    /// A client trusting the test CA, presenting `identity` (`client` / `rogue`) if given.
    fn client(&self, identity: Option<&str>) -> reqwest::Client {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        let ca = std::fs::read(self.path("ca.crt")).unwrap();
        roots
            .add(CertificateDer::from_pem_slice(&ca).unwrap())
            .unwrap();
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let mut config = match identity {
            Some(name) => {
                let cert = std::fs::read(self.path(&format!("{name}.crt"))).unwrap();
                let key = std::fs::read(self.path(&format!("{name}.key"))).unwrap();
                let chain = CertificateDer::pem_slice_iter(&cert)
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap();
                let key = PrivateKeyDer::from_pem_slice(&key).unwrap();
                builder.with_client_auth_cert(chain, key).unwrap()
            }
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        reqwest::Client::builder()
            .no_proxy()
            .tls_backend_preconfigured(config)
            .build()
            .unwrap()
    }
}

/// A client for plain HTTP. reqwest is built without a default TLS provider (the workspace
/// picks ring explicitly), so even a client that never speaks TLS needs one installed.
fn plain_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn issuer(name: &str) -> Result<CertifiedIssuer<'static, KeyPair>> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    Ok(CertifiedIssuer::self_signed(params, KeyPair::generate()?)?)
}

fn leaf(
    ca: &CertifiedIssuer<'static, KeyPair>,
    sans: Vec<String>,
    usage: ExtendedKeyUsagePurpose,
    base: &Path,
) -> Result<()> {
    let mut params = CertificateParams::new(sans)?;
    params.extended_key_usages = vec![usage];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, ca)?;
    std::fs::write(base.with_extension("crt"), cert.pem())?;
    std::fs::write(base.with_extension("key"), key.serialize_pem())?;
    Ok(())
}

/// A running server and the means to stop it.
struct Running {
    addr: std::net::SocketAddr,
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn start(router: Router, config: Option<PathBuf>) -> Result<Self, web::ServeError> {
        let flags = WebFlags::<Test>::new(vec!["127.0.0.1:0".into()], config);
        let server = Server::bind(&flags).await?;
        let addr = server.local_addrs()[0];
        let (stop, stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(server.run(router, async {
            let _ = stopped.await;
        }));
        Ok(Self { addr, stop, done })
    }

    fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://{}{path}", self.addr)
    }

    async fn shutdown(self) {
        let _ = self.stop.send(());
        self.done.await.unwrap();
    }
}

fn hello() -> Router {
    Router::new().route("/hello", get(|| async { "hello" }))
}

#[tokio::test]
async fn plain_http() -> Result<()> {
    let server = Running::start(hello(), None).await?;
    let resp = plain_client()
        .get(server.url("http", "/hello"))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await?, "hello");
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn tls_with_http2_and_without() -> Result<()> {
    let pki = Pki::new()?;
    let tls = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";
    let server = Running::start(hello(), Some(pki.web_config(tls))).await?;
    let resp = pki
        .client(None)
        .get(server.url("https", "/hello"))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.text().await?, "hello");
    // Plain HTTP against a TLS listener gets nowhere.
    assert!(
        plain_client()
            .get(server.url("http", "/hello"))
            .send()
            .await
            .is_err()
    );
    server.shutdown().await;

    let config = pki.web_config(&format!("{tls}http_server_config:\n  http2: false\n"));
    let server = Running::start(hello(), Some(config)).await?;
    let resp = pki
        .client(None)
        .get(server.url("https", "/hello"))
        .send()
        .await?;
    assert_eq!(resp.version(), reqwest::Version::HTTP_11);
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn mutual_tls_requires_a_cert_from_the_ca() -> Result<()> {
    let pki = Pki::new()?;
    let config = pki.web_config(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  \
         client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n",
    );
    let server = Running::start(hello(), Some(config)).await?;
    let url = server.url("https", "/hello");
    let resp = pki.client(Some("client")).get(&url).send().await?;
    assert_eq!(resp.status(), 200);
    assert!(
        pki.client(None).get(&url).send().await.is_err(),
        "no client certificate"
    );
    assert!(
        pki.client(Some("rogue")).get(&url).send().await.is_err(),
        "certificate from another CA"
    );
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn client_allowed_sans_are_enforced() -> Result<()> {
    let pki = Pki::new()?;
    let base = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  \
                client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n";
    let config = pki.web_config(&format!("{base}  client_allowed_sans: [client.example]\n"));
    let server = Running::start(hello(), Some(config.clone())).await?;
    let url = server.url("https", "/hello");
    assert_eq!(
        pki.client(Some("client")).get(&url).send().await?.status(),
        200
    );
    // The config is re-read per connection: narrowing the list locks the client out.
    std::fs::write(
        &config,
        format!("{base}  client_allowed_sans: [other.example, 10.1.2.3]\n"),
    )?;
    assert!(pki.client(Some("client")).get(&url).send().await.is_err());
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn basic_auth() -> Result<()> {
    let pki = Pki::new()?;
    let hash = bcrypt::hash("s3cret", 4)?;
    let config = pki.web_config(&format!("basic_auth_users:\n  alice: {hash}\n"));
    let server = Running::start(hello(), Some(config.clone())).await?;
    let client = plain_client();
    let url = server.url("http", "/hello");

    let ok = client
        .get(&url)
        .basic_auth("alice", Some("s3cret"))
        .send()
        .await?;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await?, "hello");
    // Second time from the cache, same answer.
    assert_eq!(
        client
            .get(&url)
            .basic_auth("alice", Some("s3cret"))
            .send()
            .await?
            .status(),
        200
    );

    for request in [
        client.get(&url).basic_auth("alice", Some("wrong")),
        client.get(&url).basic_auth("mallory", Some("s3cret")),
        client.get(&url),
    ] {
        let resp = request.send().await?;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers()["www-authenticate"], "Basic");
        assert_eq!(resp.text().await?, "Unauthorized\n");
    }

    // A changed password applies without restart, and the old one stops working.
    let new_hash = bcrypt::hash("n3w-secret", 4)?;
    std::fs::write(
        &config,
        format!("basic_auth_users:\n  alice: {new_hash}\n  bob: {new_hash}\n"),
    )?;
    assert_eq!(
        client
            .get(&url)
            .basic_auth("alice", Some("s3cret"))
            .send()
            .await?
            .status(),
        401
    );
    assert_eq!(
        client
            .get(&url)
            .basic_auth("bob", Some("n3w-secret"))
            .send()
            .await?
            .status(),
        200
    );

    // A broken config fails requests (and is logged) until it is fixed.
    std::fs::write(&config, "basic_auth_users: [\n")?;
    let broken = client
        .get(&url)
        .basic_auth("bob", Some("n3w-secret"))
        .send()
        .await?;
    assert_eq!(broken.status(), 500);
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn configured_headers_are_added() -> Result<()> {
    let pki = Pki::new()?;
    let config = pki.web_config(
        "http_server_config:\n  headers:\n    X-Frame-Options: deny\n    \
         Content-Security-Policy: default-src 'self'\n",
    );
    let router = hello().route(
        "/own",
        get(|| async { ([("x-frame-options", "sameorigin")], "own") }),
    );
    let server = Running::start(router, Some(config)).await?;
    let client = plain_client();
    let resp = client.get(server.url("http", "/hello")).send().await?;
    assert_eq!(resp.headers()["x-frame-options"], "deny");
    assert_eq!(
        resp.headers()["content-security-policy"],
        "default-src 'self'"
    );
    let resp = client.get(server.url("http", "/own")).send().await?;
    assert_eq!(
        resp.headers()["x-frame-options"],
        "sameorigin",
        "the handler's own value wins"
    );
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() -> Result<()> {
    let (entered_tx, entered_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let gates = Arc::new(std::sync::Mutex::new(Some((entered_tx, release_rx))));
    let router = Router::new().route(
        "/slow",
        get(move || {
            let gates = gates.lock().unwrap().take();
            async move {
                let (entered, release) = gates.expect("one slow request");
                let _ = entered.send(());
                let _ = release.await;
                "finished"
            }
        }),
    );
    let server = Running::start(router, None).await?;
    let url = server.url("http", "/slow");
    let addr = server.addr;
    let request = tokio::spawn(async move { plain_client().get(url).send().await?.text().await });
    entered_rx.await?;
    let Running { stop, done, .. } = server;
    stop.send(()).unwrap();
    // Once the listener is closed new connections are refused, while the old one lives on.
    let refused = async {
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), refused).await?;
    assert!(
        !done.is_finished(),
        "shutdown waits for the in-flight request"
    );
    release_tx.send(()).unwrap();
    assert_eq!(request.await??, "finished");
    tokio::time::timeout(Duration::from_secs(10), done).await??;
    Ok(())
}

#[tokio::test]
async fn invalid_config_stops_start_up() -> Result<()> {
    let pki = Pki::new()?;
    let config = pki.web_config("tls_server_config:\n  key_file: server.key\n");
    let err = Running::start(hello(), Some(config))
        .await
        .err()
        .expect("start-up fails");
    assert_eq!(err.to_string(), "missing one of cert or cert_file");
    Ok(())
}

#[test]
fn check_web_config_reports_upstream_errors() -> Result<()> {
    let pki = Pki::new()?;
    let check = |yaml: &str| web::check_web_config(&pki.web_config(yaml));
    let tls = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";

    check("")?;
    check(tls)?;
    check(&format!(
        "{tls}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"
    ))?;
    check(&format!("{tls}  client_auth_type: RequestClientCert\n"))?;

    let cases: &[(String, &str)] = &[
        (
            "tls_server_config:\n  cert_file: server.crt\n".into(),
            "missing one of key or key_file",
        ),
        (
            format!("{tls}  client_ca_file: ca.crt\n"),
            "client CA's have been configured without a Client Auth Policy",
        ),
        (
            format!("{tls}  client_auth_type: Sometimes\n"),
            "invalid ClientAuth: Sometimes",
        ),
        (
            "tls_server_config:\n  cert_file: nope.crt\n  key_file: server.key\n".into(),
            "failed to read cert_file",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n".into(),
            "failed to load X509KeyPair",
        ),
        (
            "basic_auth_users:\n  bob: hunter2\n".into(),
            "invalid bcrypt hash for user \"bob\"",
        ),
        (
            "http_server_config:\n  headers:\n    Server: x\n".into(),
            "HTTP header \"Server\" can not be configured",
        ),
        (
            "tls_server_config:\n  foo: bar\n".into(),
            "unknown field `foo`",
        ),
    ];
    for (yaml, want) in cases {
        let err = check(yaml).expect_err(yaml);
        assert!(
            err.to_string().contains(want),
            "{yaml}: got {err}, want {want}"
        );
    }
    assert!(matches!(
        web::check_web_config(&pki.path("missing.yml")),
        Err(ConfigError::Read { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn landing_health_and_ready() -> Result<()> {
    let readiness = Readiness::default();
    let landing = LandingConfig {
        name: "test_exporter".into(),
        version: "0.1.0".into(),
        links: vec![LandingLink::new("Metrics", "/metrics")],
        ..LandingConfig::default()
    };
    let router = Router::new()
        .route("/", web::landing_page(landing))
        .route("/-/healthy", web::healthy("OK"))
        .route("/-/ready", web::ready("OK", readiness.clone()));
    let server = Running::start(router, None).await?;
    let client = plain_client();
    let page = client.get(server.url("http", "/")).send().await?;
    assert_eq!(page.headers()["content-type"], "text/html; charset=UTF-8");
    assert!(
        page.text()
            .await?
            .contains("<a href=\"/metrics\">Metrics</a>")
    );
    let healthy = client.get(server.url("http", "/-/healthy")).send().await?;
    assert_eq!(
        (healthy.status().as_u16(), healthy.text().await?),
        (200, "OK".to_owned())
    );
    let not_ready = client.get(server.url("http", "/-/ready")).send().await?;
    assert_eq!(not_ready.status(), 503);
    readiness.set_ready(true);
    let ready = client.get(server.url("http", "/-/ready")).send().await?;
    assert_eq!(
        (ready.status().as_u16(), ready.text().await?),
        (200, "OK".to_owned())
    );
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn rate_limit_refuses_beyond_the_burst() -> Result<()> {
    let pki = Pki::new()?;
    let config = pki.web_config("rate_limit:\n  interval: 1h\n  burst: 2\n");
    let server = Running::start(hello(), Some(config)).await?;
    let client = plain_client();
    let url = server.url("http", "/hello");
    assert_eq!(client.get(&url).send().await?.status(), 200);
    assert_eq!(client.get(&url).send().await?.status(), 200);
    let refused = client.get(&url).send().await?;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.text().await?, "Too Many Requests\n");
    server.shutdown().await;
    Ok(())
}
