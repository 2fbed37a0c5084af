//! Reaching the target through a proxy as Go's transport does. Through an `http://` or
//! `https://` proxy (the latter over TLS checked with the module's `tls_config`, as Go's
//! transport uses its TLS config for both), plain-HTTP requests go to the proxy in absolute form
//! and HTTPS targets get a `CONNECT` tunnel (carrying `proxy_connect_header`) inside which TLS
//! runs end to end. Through a `socks5://`
//! (or `socks5h://`) proxy every target gets a SOCKS5 tunnel, with the proxy URL's user info as
//! username/password authentication.

use std::net::SocketAddr;

use base64::Engine as _;
use http::{HeaderName, HeaderValue};
use pm_common::config::http::{HttpClientConfig, TlsConfig};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_socks::tcp::Socks5Stream;
use url::Url;

use super::super::resolve::lookup;
use super::super::tls;

/// A connection a request runs over: TCP, or TLS to an HTTPS proxy (a target's own TLS then
/// runs inside it).
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

pub type Conn = Box<dyn Stream>;

/// The largest `CONNECT` response head accepted; a proxy answers with a few lines.
const MAX_CONNECT_HEAD: usize = 16 * 1024;

/// The proxy a hop goes through.
#[derive(Debug, Clone)]
pub struct Via {
    /// `host:port` of the proxy, dialled per hop.
    proxy_host: String,
    proxy_port: u16,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Http {
        /// An `https://` proxy: the connection to it is TLS.
        tls: bool,
        /// From the proxy URL's user info, as Go sends it.
        authorization: Option<HeaderValue>,
        connect_headers: Vec<(HeaderName, HeaderValue)>,
    },
    Socks5 {
        /// Username and password from the proxy URL's user info.
        credentials: Option<(String, String)>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("proxyconnect tcp: unsupported proxy scheme {0:?}")]
    Scheme(String),
    #[error("proxyconnect tcp: dial tcp {addr}: {source}")]
    Dial {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("proxyconnect tcp: {0}")]
    Tls(String),
    #[error("invalid proxy_connect_header {0:?}")]
    Header(String),
    #[error("proxyconnect: {0}")]
    Io(#[from] std::io::Error),
    #[error("proxyconnect: malformed response to CONNECT")]
    Malformed,
    /// Go reports the status text of a refused `CONNECT`.
    #[error("{0}")]
    Refused(String),
    /// Worded as Go's SOCKS dialer words it.
    #[error("socks connect tcp {proxy}->{target}: {source}")]
    Socks {
        proxy: String,
        target: String,
        #[source]
        source: tokio_socks::Error,
    },
}

impl Via {
    /// The route to `proxy` for one probe.
    pub fn new(proxy: &Url, client: &HttpClientConfig) -> Result<Via, ProxyError> {
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let user_info = (!proxy.username().is_empty()).then(|| {
            (
                decode(proxy.username()),
                decode(proxy.password().unwrap_or_default()),
            )
        });
        let (kind, default_port) = match proxy.scheme() {
            "http" => (http_kind(false, user_info, client)?, 80),
            "https" => (http_kind(true, user_info, client)?, 443),
            "socks5" | "socks5h" => (
                Kind::Socks5 {
                    credentials: user_info,
                },
                1080,
            ),
            other => return Err(ProxyError::Scheme(other.to_owned())),
        };
        Ok(Via {
            proxy_host: proxy.host_str().unwrap_or_default().to_owned(),
            proxy_port: proxy.port().unwrap_or(default_port),
            kind,
        })
    }

    /// The `Proxy-Authorization` an absolute-form request carries; `None` for a SOCKS proxy,
    /// which tunnels plain HTTP too.
    pub fn authorization(&self) -> Option<&HeaderValue> {
        match &self.kind {
            Kind::Http { authorization, .. } => authorization.as_ref(),
            Kind::Socks5 { .. } => None,
        }
    }

    /// Whether a plain-HTTP request is tunnelled (and sent in origin form) rather than handed
    /// to the proxy in absolute form.
    pub fn tunnels_plain_http(&self) -> bool {
        matches!(self.kind, Kind::Socks5 { .. })
    }

    /// A connection through the proxy on which to speak to `authority` (`host:port`): a SOCKS5
    /// or `CONNECT` tunnel, or (a plain-HTTP target through an HTTP proxy) the connection to
    /// the proxy itself.
    pub async fn open(
        &self,
        authority: &str,
        https: bool,
        tls_config: &TlsConfig,
    ) -> Result<Conn, ProxyError> {
        let tcp = self.dial().await?;
        match &self.kind {
            Kind::Socks5 { credentials } => {
                let socks_err = |source| ProxyError::Socks {
                    proxy: format!("{}:{}", self.proxy_host, self.proxy_port),
                    target: authority.to_owned(),
                    source,
                };
                let stream = match credentials {
                    Some((user, pass)) => {
                        Socks5Stream::connect_with_password_and_socket(tcp, authority, user, pass)
                            .await
                    }
                    None => Socks5Stream::connect_with_socket(tcp, authority).await,
                };
                // The handshake reads exactly its replies: nothing of the target's is buffered.
                Ok(Box::new(stream.map_err(socks_err)?.into_inner()))
            }
            Kind::Http { tls, .. } => {
                let mut conn: Conn = if *tls {
                    let (connector, name) =
                        tls::connector(tls_config, &[b"http/1.1"], &self.proxy_host)
                            .map_err(ProxyError::Tls)?;
                    Box::new(connector.connect(name, tcp).await?)
                } else {
                    Box::new(tcp)
                };
                if https {
                    self.connect(&mut conn, authority).await?;
                }
                Ok(conn)
            }
        }
    }

    /// Connects to the proxy (resolving its name like Go's dialer).
    async fn dial(&self) -> Result<TcpStream, ProxyError> {
        let host = self
            .proxy_host
            .trim_start_matches('[')
            .trim_end_matches(']');
        let addr = format!("{}:{}", self.proxy_host, self.proxy_port);
        let dial_err = |source| ProxyError::Dial {
            addr: addr.clone(),
            source,
        };
        let ips = lookup(host).await.map_err(dial_err)?;
        let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no such host");
        for ip in ips {
            match TcpStream::connect(SocketAddr::new(ip, self.proxy_port)).await {
                Ok(tcp) => {
                    let _ = tcp.set_nodelay(true);
                    return Ok(tcp);
                }
                Err(err) => last = err,
            }
        }
        Err(dial_err(last))
    }

    /// Asks an HTTP proxy for a tunnel to `authority` (`host:port`) over `tcp`.
    async fn connect(&self, tcp: &mut Conn, authority: &str) -> Result<(), ProxyError> {
        let Kind::Http {
            authorization,
            connect_headers,
            ..
        } = &self.kind
        else {
            return Ok(());
        };
        let mut head =
            format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
        let mut header = |name: &str, value: &HeaderValue| {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        };
        if let Some(auth) = authorization {
            header("Proxy-Authorization", auth);
        }
        for (name, value) in connect_headers {
            header(name.as_str(), value);
        }
        head.extend_from_slice(b"\r\n");
        tcp.write_all(&head).await?;
        let response = read_head(tcp).await?;
        let status_line = response.split("\r\n").next().unwrap_or_default();
        let mut parts = status_line.splitn(3, ' ');
        let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
            return Err(ProxyError::Malformed);
        };
        if !version.starts_with("HTTP/1.") || code.len() != 3 {
            return Err(ProxyError::Malformed);
        }
        if code != "200" {
            let text = parts.next().unwrap_or(code);
            return Err(ProxyError::Refused(text.to_owned()));
        }
        Ok(())
    }
}

/// An HTTP proxy's settings: Basic credentials from the URL, and `proxy_connect_header`.
fn http_kind(
    tls: bool,
    user_info: Option<(String, String)>,
    client: &HttpClientConfig,
) -> Result<Kind, ProxyError> {
    let authorization = user_info
        .map(|(user, pass)| {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            HeaderValue::try_from(format!("Basic {token}"))
                .map_err(|_| ProxyError::Header("Proxy-Authorization".to_owned()))
        })
        .transpose()?;
    let mut connect_headers = Vec::new();
    for (name, values) in &client.proxy_connect_header {
        let header =
            HeaderName::try_from(name.as_str()).map_err(|_| ProxyError::Header(name.clone()))?;
        for value in values {
            let value = HeaderValue::try_from(value.expose())
                .map_err(|_| ProxyError::Header(name.clone()))?;
            connect_headers.push((header.clone(), value));
        }
    }
    Ok(Kind::Http {
        tls,
        authorization,
        connect_headers,
    })
}

/// Reads up to the blank line ending the response head, and not a byte further: what follows
/// belongs to the tunnelled TLS session.
async fn read_head(tcp: &mut Conn) -> Result<String, ProxyError> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_CONNECT_HEAD || tcp.read(&mut byte).await? == 0 {
            return Err(ProxyError::Malformed);
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).map_err(|_| ProxyError::Malformed)
}
