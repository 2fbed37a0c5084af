//! An HTTP client built from an [`HttpClientConfig`], applying authentication and configured
//! headers to every request as upstream's round-tripper chain does.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use reqwest::{Method, Request, RequestBuilder, Response, Url, redirect};

use super::config::{ConfigError, HttpClientConfig, ProxyConfig, TlsConfig, canonical_header_key};
use super::oauth2::{OAuth2Error, OAuth2TokenSource};
use super::proxy::proxies;
use super::tls::{TlsError, client_config};
use crate::config::{Secret, SecretError, SecretSource, SigV4Signer};

/// Upstream keeps idle connections for 5 minutes: longer than any sane scrape interval, so
/// scrapes reuse their connection.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Upstream's `MaxIdleConnsPerHost`.
const MAX_IDLE_PER_HOST: usize = 1000;

/// Failure to build a client or to prepare a request.
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("invalid header {name:?}: {message}")]
    InvalidHeader { name: String, message: String },
    #[error("invalid proxy: {0}")]
    Proxy(#[source] reqwest::Error),
    #[error("building HTTP client: {0}")]
    Build(#[source] reqwest::Error),
    #[error("unable to read authorization credentials: {0}")]
    Credentials(#[source] SecretError),
    #[error("unable to read basic auth username: {0}")]
    Username(#[source] SecretError),
    #[error("unable to read basic auth password: {0}")]
    Password(#[source] SecretError),
    #[error("unable to read headers file {}: {source}", path.display())]
    HeaderFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    OAuth2(#[from] OAuth2Error),
    #[error(transparent)]
    Request(#[from] reqwest::Error),
}

impl HttpClientError {
    pub(crate) fn invalid_header(name: &str, err: impl std::fmt::Display) -> Self {
        HttpClientError::InvalidHeader {
            name: name.to_owned(),
            message: err.to_string(),
        }
    }
}

/// Options that are not part of the YAML but set by the daemon (upstream's `HTTPClientOption`).
#[derive(Debug, Clone, Default)]
pub struct HttpClientOptions {
    /// Sent as `User-Agent` on every request, e.g. `Prometheus/3.5.0`.
    pub user_agent: Option<String>,
    /// Signs every request with AWS Signature V4 (a `sigv4` block beside the HTTP config).
    pub sigv4: Option<SigV4Signer>,
}

#[derive(Debug)]
enum Auth {
    None,
    Authorization {
        kind: String,
        credentials: Option<SecretSource>,
    },
    Basic {
        username: Option<SecretSource>,
        password: Option<SecretSource>,
    },
    OAuth2(Box<OAuth2TokenSource>),
}

/// One `http_headers` entry, ready to send.
#[derive(Debug)]
struct ConfiguredHeader {
    name: HeaderName,
    values: Vec<HeaderValue>,
    files: Vec<PathBuf>,
}

#[derive(Debug)]
struct Inner {
    name: String,
    client: reqwest::Client,
    auth: Auth,
    headers: Vec<ConfiguredHeader>,
    sigv4: Option<SigV4Signer>,
}

/// A configured HTTP client; cheap to clone (clones share connections and the OAuth 2 token).
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

impl HttpClient {
    /// Builds the client for `cfg`. `name` identifies it (upstream labels connection metrics
    /// with it). The config is validated first, so an unvalidated one is safe to pass.
    pub fn new(cfg: &HttpClientConfig, name: &str) -> Result<HttpClient, HttpClientError> {
        Self::with_options(cfg, name, &HttpClientOptions::default())
    }

    pub fn with_options(
        cfg: &HttpClientConfig,
        name: &str,
        options: &HttpClientOptions,
    ) -> Result<HttpClient, HttpClientError> {
        let mut cfg = cfg.clone();
        cfg.validate()?;
        let client = build_reqwest(
            &cfg.tls_config,
            cfg.proxy(),
            cfg.enable_http2,
            cfg.follow_redirects,
            options.user_agent.as_deref(),
        )?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                client,
                auth: auth(&cfg)?,
                headers: headers(&cfg)?,
                sigv4: options.sigv4.clone(),
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Starts a request; send it with [`HttpClient::send`] so that authentication is applied.
    pub fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.inner.client.request(method, url)
    }

    pub async fn get(&self, url: Url) -> Result<Response, HttpClientError> {
        self.send(self.request(Method::GET, url)).await
    }

    pub async fn send(&self, request: RequestBuilder) -> Result<Response, HttpClientError> {
        self.execute(request.build()?).await
    }

    /// Adds the configured headers and credentials, then sends. Credentials already present in
    /// the request win over basic auth and `authorization`, as upstream; an OAuth 2 token always
    /// replaces them (Go's `oauth2.Transport` does the same).
    pub async fn execute(&self, mut request: Request) -> Result<Response, HttpClientError> {
        let inner = &*self.inner;
        let headers = request.headers_mut();
        for header in &inner.headers {
            for value in &header.values {
                headers.append(header.name.clone(), value.clone());
            }
            for path in &header.files {
                let text = std::fs::read_to_string(path).map_err(|source| {
                    HttpClientError::HeaderFile {
                        path: path.clone(),
                        source,
                    }
                })?;
                let value = HeaderValue::try_from(text.trim())
                    .map_err(|err| HttpClientError::invalid_header(header.name.as_str(), err))?;
                headers.append(header.name.clone(), value);
            }
        }
        let has_authorization = headers.contains_key(AUTHORIZATION);
        match &inner.auth {
            Auth::None => {}
            Auth::Authorization { .. } | Auth::Basic { .. } if has_authorization => {}
            Auth::Authorization { kind, credentials } => {
                let credentials =
                    fetch(credentials.as_ref()).map_err(HttpClientError::Credentials)?;
                let value = format!("{kind} {credentials}");
                headers.insert(AUTHORIZATION, sensitive(&value)?);
            }
            Auth::Basic { username, password } => {
                let username = fetch(username.as_ref()).map_err(HttpClientError::Username)?;
                let password = fetch(password.as_ref()).map_err(HttpClientError::Password)?;
                let encoded = BASE64.encode(format!("{username}:{password}"));
                headers.insert(AUTHORIZATION, sensitive(&format!("Basic {encoded}"))?);
            }
            Auth::OAuth2(oauth2) => {
                let value = oauth2.header().await?;
                headers.insert(AUTHORIZATION, value);
            }
        }
        // Last, so that every header set so far is signed (sigv4 excludes the other kinds of
        // credentials, so it never replaces one).
        if let Some(signer) = &inner.sigv4 {
            signer.sign_request(&mut request);
        }
        Ok(inner.client.execute(request).await?)
    }
}

fn fetch(source: Option<&SecretSource>) -> Result<String, SecretError> {
    source.map_or_else(|| Ok(String::new()), SecretSource::fetch)
}

fn sensitive(value: &str) -> Result<HeaderValue, HttpClientError> {
    let mut value = HeaderValue::try_from(value)
        .map_err(|err| HttpClientError::invalid_header(AUTHORIZATION.as_str(), err))?;
    value.set_sensitive(true);
    Ok(value)
}

fn auth(cfg: &HttpClientConfig) -> Result<Auth, HttpClientError> {
    // `validate` has turned bearer_token(_file) into `authorization`.
    if let Some(authorization) = &cfg.authorization {
        return Ok(Auth::Authorization {
            kind: authorization.kind.clone(),
            credentials: SecretSource::from_pair(
                &authorization.credentials,
                &authorization.credentials_file,
            ),
        });
    }
    if let Some(basic) = &cfg.basic_auth {
        return Ok(Auth::Basic {
            username: SecretSource::from_pair(
                &Secret::new(basic.username.as_str()),
                &basic.username_file,
            ),
            password: SecretSource::from_pair(&basic.password, &basic.password_file),
        });
    }
    if let Some(oauth2) = &cfg.oauth2 {
        return Ok(Auth::OAuth2(Box::new(OAuth2TokenSource::new(oauth2)?)));
    }
    Ok(Auth::None)
}

fn headers(cfg: &HttpClientConfig) -> Result<Vec<ConfiguredHeader>, HttpClientError> {
    cfg.http_headers
        .iter()
        .map(|(name, header)| {
            let canonical = canonical_header_key(name);
            let invalid =
                |err: &dyn std::fmt::Display| HttpClientError::invalid_header(&canonical, err);
            let header_name = HeaderName::try_from(canonical.as_str()).map_err(|e| invalid(&e))?;
            let plain = header.values.iter().map(String::as_str);
            let secret = header.secrets.iter().map(Secret::expose);
            let values = plain
                .chain(secret)
                .map(|v| HeaderValue::try_from(v).map_err(|e| invalid(&e)))
                .collect::<Result<_, _>>()?;
            Ok(ConfiguredHeader {
                name: header_name,
                values,
                files: header.files.iter().map(PathBuf::from).collect(),
            })
        })
        .collect()
}

/// The transport shared by scrape/API clients and the OAuth 2 token client.
pub(crate) fn build_reqwest(
    tls: &TlsConfig,
    proxy: ProxyConfig<'_>,
    enable_http2: bool,
    follow_redirects: bool,
    user_agent: Option<&str>,
) -> Result<reqwest::Client, HttpClientError> {
    let alpn: &[&[u8]] = if enable_http2 {
        &[b"h2", b"http/1.1"]
    } else {
        &[b"http/1.1"]
    };
    let tls = client_config(tls, alpn)?;
    // Upstream disables transparent decompression: scrapers negotiate and decode themselves.
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_gzip()
        .pool_idle_timeout(IDLE_TIMEOUT)
        .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
        .redirect(if follow_redirects {
            redirect::Policy::limited(10)
        } else {
            redirect::Policy::none()
        })
        .no_proxy();
    if !enable_http2 {
        builder = builder.http1_only();
    }
    if let Some(user_agent) = user_agent {
        builder = builder.user_agent(user_agent);
    }
    for proxy in proxies(proxy)? {
        builder = builder.proxy(proxy);
    }
    builder.build().map_err(HttpClientError::Build)
}
