//! One HTTP round trip over a fresh connection, timed phase by phase the way Go's
//! `httptrace` hooks time it upstream: connect, TLS handshake, waiting for the first
//! response byte (processing) and reading the body (transfer).

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use http::header::PROXY_AUTHORIZATION;
use http::{Request, Response, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pm_common::config::http::TlsConfig;
use tokio::net::TcpStream;

use super::super::tls::{self, TlsInfo};
use super::proxy::{Conn, ProxyError, Via};

/// What a round trip learned, for metrics and the next redirect hop.
pub struct Exchange {
    pub response: Response<Incoming>,
    /// The TLS session, when the connection was TLS.
    pub tls: Option<TlsInfo>,
    pub timings: Timings,
}

/// Phase durations of one round trip up to the response head, in seconds; reading the body
/// (transfer) is timed by the caller.
#[derive(Debug, Default, Clone, Copy)]
pub struct Timings {
    pub connect: f64,
    pub tls: f64,
    pub processing: f64,
}

/// Where and how to connect.
pub struct Endpoint<'a> {
    pub route: Route<'a>,
    pub https: bool,
    pub server_name: &'a str,
    pub tls_config: &'a TlsConfig,
    pub http2: bool,
}

/// Straight to the target, or through a proxy.
pub enum Route<'a> {
    Direct(SocketAddr),
    /// `authority` (`host:port`) is what a `CONNECT` asks for.
    Proxy {
        via: &'a Via,
        authority: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RoundTripError {
    #[error("dial tcp {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    #[error("{0}")]
    TlsConfig(String),
    #[error("tls: {0}")]
    Handshake(#[source] std::io::Error),
    #[error("{0}")]
    Http(#[from] hyper::Error),
}

/// Sends `request` (absolute URI) to `endpoint` and waits for the response head.
pub async fn round_trip(
    endpoint: &Endpoint<'_>,
    mut request: Request<Full<Bytes>>,
) -> Result<Exchange, RoundTripError> {
    let mut timings = Timings::default();
    let start = Instant::now();
    let tcp: Conn = match &endpoint.route {
        Route::Direct(addr) => {
            let tcp = TcpStream::connect(addr)
                .await
                .map_err(|source| RoundTripError::Connect {
                    addr: *addr,
                    source,
                })?;
            let _ = tcp.set_nodelay(true);
            Box::new(tcp)
        }
        Route::Proxy { via, authority } => {
            via.open(authority, endpoint.https, endpoint.tls_config)
                .await?
        }
    };
    timings.connect = start.elapsed().as_secs_f64();
    if !endpoint.https {
        let request = match &endpoint.route {
            Route::Direct(_) => origin_form(request),
            Route::Proxy { via, .. } if via.tunnels_plain_http() => origin_form(request),
            // An HTTP proxy takes the absolute URI, plus the credentials from its own URL.
            Route::Proxy { via, .. } => {
                if let Some(auth) = via.authorization() {
                    request
                        .headers_mut()
                        .insert(PROXY_AUTHORIZATION, auth.clone());
                }
                request
            }
        };
        let sent = Instant::now();
        let response = send_http1(TokioIo::new(tcp), request).await?;
        timings.processing = sent.elapsed().as_secs_f64();
        return Ok(Exchange {
            response,
            tls: None,
            timings,
        });
    }
    let alpn: &[&[u8]] = if endpoint.http2 {
        &[b"h2", b"http/1.1"]
    } else {
        &[b"http/1.1"]
    };
    let (connector, name) = tls::connector(endpoint.tls_config, alpn, endpoint.server_name)
        .map_err(RoundTripError::TlsConfig)?;
    let tls_start = Instant::now();
    let stream = connector
        .connect(name, tcp)
        .await
        .map_err(RoundTripError::Handshake)?;
    timings.tls = tls_start.elapsed().as_secs_f64();
    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let session = TlsInfo::from_conn(stream.get_ref().1);
    let sent = Instant::now();
    let response = if h2 {
        *request.version_mut() = Version::HTTP_2;
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await?;
        tokio::spawn(conn);
        sender.send_request(request).await?
    } else {
        send_http1(TokioIo::new(stream), origin_form(request)).await?
    };
    timings.processing = sent.elapsed().as_secs_f64();
    Ok(Exchange {
        response,
        tls: Some(session),
        timings,
    })
}

/// HTTP/1.1 wants `/path?query` on the request line and the authority in `Host`.
fn origin_form(mut request: Request<Full<Bytes>>) -> Request<Full<Bytes>> {
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    if let Ok(uri) = path.parse() {
        *request.uri_mut() = uri;
    }
    request
}

async fn send_http1<T>(
    io: TokioIo<T>,
    request: Request<Full<Bytes>>,
) -> Result<Response<Incoming>, hyper::Error>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(conn);
    sender.send_request(request).await
}

/// Reads the whole body.
pub async fn read_body(body: Incoming) -> Result<Bytes, String> {
    let mut body = body;
    let mut out = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Ok(data) = frame.into_data() {
            out.extend_from_slice(&data);
        }
    }
    Ok(out.freeze())
}
