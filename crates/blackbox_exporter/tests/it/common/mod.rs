//! Real peers on 127.0.0.1 for the probe tests: HTTP(S) servers, a TCP dialogue server and a
//! DNS server, each on an ephemeral port and stopped when its guard drops.

pub mod exporter;

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;

/// Aborts the server task on drop.
pub struct Peer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn routes() -> Router {
    Router::new()
        .route("/", get(|| async { "hello blackbox" }))
        .route(
            "/notfound",
            get(|| async { (StatusCode::NOT_FOUND, "gone") }),
        )
        .route(
            "/redirect",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/")], "") }),
        )
        .route(
            "/loop",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")], "") }),
        )
        .route(
            "/headers",
            get(|| async {
                (
                    [
                        ("access-control-allow-origin", "example.com"),
                        ("last-modified", "Wed, 21 Oct 2015 07:28:00 GMT"),
                    ],
                    "with headers",
                )
            }),
        )
        .route(
            "/whoami",
            get(|headers: axum::http::HeaderMap| async move {
                headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("anonymous")
                    .to_owned()
            }),
        )
        .route(
            "/to-whoami",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/whoami")], "") }),
        )
        .route(
            "/gzip",
            get(|| async {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                enc.write_all(b"compressed body here").unwrap();
                ([(header::CONTENT_ENCODING, "gzip")], enc.finish().unwrap()).into_response()
            }),
        )
}

pub async fn http_server() -> Peer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, routes()).await.unwrap();
    });
    Peer { addr, task }
}

/// A self-signed certificate for `localhost`/127.0.0.1 expiring at `not_after` (Unix seconds).
pub fn certificate(
    not_after: i64,
) -> (
    rustls_pki_types::CertificateDer<'static>,
    rustls_pki_types::PrivateKeyDer<'static>,
    String,
) {
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "blackbox test");
    params.not_after =
        rcgen::date_time_ymd(1970, 1, 1) + std::time::Duration::from_secs(not_after as u64);
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let pem = cert.pem();
    (
        cert.der().clone(),
        rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        pem,
    )
}

pub fn tls_acceptor(not_after: i64, alpn: &[&[u8]]) -> (tokio_rustls::TlsAcceptor, String) {
    let (cert, key, pem) = certificate(not_after);
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), pem)
}

/// An HTTPS server with a certificate expiring at `not_after`; returns the CA PEM too.
pub async fn https_server(not_after: i64) -> (Peer, String) {
    let (acceptor, pem) = tls_acceptor(not_after, &[b"h2", b"http/1.1"]);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            // As real servers do: without it the response waits behind the unacknowledged TLS
            // session tickets for the client's delayed ACK (~40 ms of "processing").
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(routes());
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (Peer { addr, task }, pem)
}

/// An SMTP-like dialogue: banner, EHLO, optional STARTTLS, QUIT.
pub async fn smtp_server(starttls: Option<tokio_rustls::TlsAcceptor>) -> Peer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let starttls = starttls.clone();
            tokio::spawn(async move {
                let mut stream = BufReader::new(tcp);
                let _ = stream
                    .get_mut()
                    .write_all(b"220 mail.example ESMTP\r\n")
                    .await;
                let mut line = String::new();
                for _ in 0..8 {
                    line.clear();
                    if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let reply: &[u8] = if line.starts_with("EHLO") {
                        b"250-mail.example\r\n250-STARTTLS\r\n250 OK\r\n"
                    } else if line.starts_with("STARTTLS") {
                        let _ = stream.get_mut().write_all(b"220 go ahead\r\n").await;
                        let Some(acceptor) = starttls else { return };
                        let Ok(mut tls) = acceptor.accept(stream.into_inner()).await else {
                            return;
                        };
                        let mut tls_lines = BufReader::new(&mut tls);
                        let mut l = String::new();
                        let _ = tls_lines.read_line(&mut l).await;
                        let _ = tls
                            .write_all(b"250-mail.example\r\n250-AUTH PLAIN\r\n250 OK\r\n")
                            .await;
                        let mut rest = String::new();
                        let _ = BufReader::new(&mut tls).read_line(&mut rest).await;
                        return;
                    } else {
                        let _ = stream.get_mut().write_all(b"221 bye\r\n").await;
                        return;
                    };
                    let _ = stream.get_mut().write_all(reply).await;
                }
            });
        }
    });
    Peer { addr, task }
}

/// A DNS server answering every query with one A record 192.0.2.1 (TTL 300) for the
/// question's name, over UDP and TCP on the same port.
pub async fn dns_server() -> Peer {
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = udp.local_addr().unwrap();
    let tcp = TcpListener::bind(addr).await.unwrap();
    let task = tokio::spawn(async move {
        let tcp_task = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            loop {
                let Ok((mut s, _)) = tcp.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let Ok(len) = s.read_u16().await else { return };
                    let mut q = vec![0u8; usize::from(len)];
                    if s.read_exact(&mut q).await.is_err() {
                        return;
                    }
                    let r = dns_answer(&q);
                    let mut out = (r.len() as u16).to_be_bytes().to_vec();
                    out.extend_from_slice(&r);
                    let _ = s.write_all(&out).await;
                });
            }
        });
        let mut buf = [0u8; 512];
        loop {
            let Ok((n, from)) = udp.recv_from(&mut buf).await else {
                break;
            };
            let _ = udp.send_to(&dns_answer(&buf[..n]), from).await;
        }
        tcp_task.abort();
    });
    Peer { addr, task }
}

fn dns_answer(query: &[u8]) -> Vec<u8> {
    let mut r = query.to_vec();
    r[2] |= 0x80; // QR
    r[3] = 0x80; // RA, NOERROR
    r[6] = 0;
    r[7] = 1;
    r.extend_from_slice(&[0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0x01, 0x2C, 0, 4, 192, 0, 2, 1]);
    r
}

/// Request heads (request line and headers) a test peer received, in order.
pub type Seen = Arc<Mutex<Vec<String>>>;

/// A forward proxy: answers absolute-form requests itself with `via proxy`, and tunnels every
/// `CONNECT` to `tunnel_to` (whatever authority was asked for), or refuses it with 403.
pub async fn proxy_server(tunnel_to: Option<SocketAddr>) -> (Peer, Seen) {
    proxy_server_with(tunnel_to, None).await
}

/// [`proxy_server`] spoken over TLS (an `https://` proxy) with a certificate for
/// localhost/127.0.0.1; returns its CA PEM too.
pub async fn https_proxy_server(tunnel_to: Option<SocketAddr>) -> (Peer, Seen, String) {
    let (acceptor, pem) = tls_acceptor(1_893_456_000, &[b"http/1.1"]);
    let (peer, seen) = proxy_server_with(tunnel_to, Some(acceptor)).await;
    (peer, seen, pem)
}

async fn proxy_server_with(
    tunnel_to: Option<SocketAddr>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> (Peer, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Seen::default();
    let log = Arc::clone(&seen);
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let log = Arc::clone(&log);
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(tcp).await {
                            serve_proxy_connection(stream, log, tunnel_to).await;
                        }
                    }
                    None => serve_proxy_connection(tcp, log, tunnel_to).await,
                }
            });
        }
    });
    (Peer { addr, task }, seen)
}

async fn serve_proxy_connection<S>(mut tcp: S, log: Seen, tunnel_to: Option<SocketAddr>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::AsyncReadExt;

    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16384 {
        if tcp.read(&mut byte).await.unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let connect = head.starts_with("CONNECT ");
    log.lock().unwrap().push(head);
    match (connect, tunnel_to) {
        (true, Some(backend)) => {
            let Ok(mut upstream) = tokio::net::TcpStream::connect(backend).await else {
                return;
            };
            let _ = tcp
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await;
            let _ = tokio::io::copy_bidirectional(&mut tcp, &mut upstream).await;
        }
        (true, None) => {
            let _ = tcp
                .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
        (false, _) => {
            let _ = tcp
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nvia proxy",
                )
                .await;
        }
    }
}

/// An OAuth 2 token endpoint at `/token`: the n-th request gets `tok-n`, valid for an hour.
pub async fn token_server() -> (Peer, Seen) {
    let seen = Seen::default();
    let log = Arc::clone(&seen);
    let app = Router::new().route(
        "/token",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let log = Arc::clone(&log);
            async move {
                let auth = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let mut log = log.lock().unwrap();
                log.push(format!("{auth}|{body}"));
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    format!(
                        r#"{{"access_token":"tok-{}","token_type":"bearer","expires_in":3600}}"#,
                        log.len()
                    ),
                )
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (Peer { addr, task }, seen)
}

/// A gRPC health server: tonic-health's `grpc.health.v1.Health` service, where the empty
/// service and `up` are SERVING, `down` is NOT_SERVING, and anything else is answered with
/// status NOT_FOUND. TLS (ALPN h2) when `tls` is given, else HTTP/2 with prior knowledge.
pub async fn grpc_health_server(tls: Option<tokio_rustls::TlsAcceptor>) -> Peer {
    use tonic_health::ServingStatus;

    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    reporter
        .set_service_status("up", ServingStatus::Serving)
        .await;
    reporter
        .set_service_status("down", ServingStatus::NotServing)
        .await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let tls = tls.clone();
            let service = hyper_util::service::TowerToHyperService::new(health.clone());
            tokio::spawn(async move {
                let builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
                let _ = match tls {
                    Some(acceptor) => {
                        let Ok(stream) = acceptor.accept(tcp).await else {
                            return;
                        };
                        builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await
                    }
                    None => builder.serve_connection(TokioIo::new(tcp), service).await,
                };
            });
        }
    });
    Peer { addr, task }
}
