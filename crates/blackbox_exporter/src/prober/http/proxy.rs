//! Reaching the target through an HTTP proxy as Go's transport does: plain-HTTP requests go to
//! the proxy in absolute form, HTTPS targets get a `CONNECT` tunnel (carrying
//! `proxy_connect_header`) inside which TLS runs end to end.

use std::net::SocketAddr;

use base64::Engine as _;
use http::{HeaderName, HeaderValue};
use pm_common::config::http::HttpClientConfig;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use url::Url;

use super::super::resolve::lookup;

/// The largest `CONNECT` response head accepted; a proxy answers with a few lines.
const MAX_CONNECT_HEAD: usize = 16 * 1024;

/// The proxy a hop goes through.
#[derive(Debug, Clone)]
pub struct Via {
    /// `host:port` of the proxy, dialled per hop.
    proxy_host: String,
    proxy_port: u16,
    /// From the proxy URL's user info, as Go sends it.
    authorization: Option<HeaderValue>,
    connect_headers: Vec<(HeaderName, HeaderValue)>,
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
    #[error("invalid proxy_connect_header {0:?}")]
    Header(String),
    #[error("proxyconnect: {0}")]
    Io(#[from] std::io::Error),
    #[error("proxyconnect: malformed response to CONNECT")]
    Malformed,
    /// Go reports the status text of a refused `CONNECT`.
    #[error("{0}")]
    Refused(String),
}

impl Via {
    /// The route to `proxy` for one probe.
    pub fn new(proxy: &Url, client: &HttpClientConfig) -> Result<Via, ProxyError> {
        if proxy.scheme() != "http" {
            return Err(ProxyError::Scheme(proxy.scheme().to_owned()));
        }
        let authorization = (!proxy.username().is_empty()).then(|| {
            let user = percent_encoding::percent_decode_str(proxy.username()).decode_utf8_lossy();
            let pass = percent_encoding::percent_decode_str(proxy.password().unwrap_or_default())
                .decode_utf8_lossy();
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            HeaderValue::try_from(format!("Basic {token}"))
        });
        let authorization = authorization
            .transpose()
            .map_err(|_| ProxyError::Header("Proxy-Authorization".to_owned()))?;
        let mut connect_headers = Vec::new();
        for (name, values) in &client.proxy_connect_header {
            let header = HeaderName::try_from(name.as_str())
                .map_err(|_| ProxyError::Header(name.clone()))?;
            for value in values {
                let value = HeaderValue::try_from(value.expose())
                    .map_err(|_| ProxyError::Header(name.clone()))?;
                connect_headers.push((header.clone(), value));
            }
        }
        Ok(Via {
            proxy_host: proxy.host_str().unwrap_or_default().to_owned(),
            proxy_port: proxy.port_or_known_default().unwrap_or(80),
            authorization,
            connect_headers,
        })
    }

    pub fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }

    /// Connects to the proxy (resolving its name like Go's dialer).
    pub async fn dial(&self) -> Result<TcpStream, ProxyError> {
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

    /// Asks the proxy for a tunnel to `authority` (`host:port`) over `tcp`.
    pub async fn connect(&self, tcp: &mut TcpStream, authority: &str) -> Result<(), ProxyError> {
        let mut head =
            format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
        let mut header = |name: &str, value: &HeaderValue| {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        };
        if let Some(auth) = &self.authorization {
            header("Proxy-Authorization", auth);
        }
        for (name, value) in &self.connect_headers {
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

/// Reads up to the blank line ending the response head, and not a byte further: what follows
/// belongs to the tunnelled TLS session.
async fn read_head(tcp: &mut TcpStream) -> Result<String, ProxyError> {
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
