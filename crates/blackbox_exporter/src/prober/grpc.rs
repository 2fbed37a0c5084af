//! The grpc prober: one call of the standard health-checking protocol
//! (`grpc.health.v1.Health/Check`) over HTTP/2, with or without TLS.
//!
//! The request and response messages have one field each, so they are encoded by hand rather
//! than generated: `HealthCheckRequest { string service = 1 }` and
//! `HealthCheckResponse { ServingStatus status = 1 }`.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderName, HeaderValue, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use url::Url;

use super::Probe;
use super::resolve::resolve_phase;
use super::tls::{self, TlsInfo};

const DURATION: (&str, &str) = (
    "probe_grpc_duration_seconds",
    "Duration of gRPC request by phase",
);
const SSL: (&str, &str) = (
    "probe_grpc_ssl",
    "Indicates if SSL was used for the connection",
);
const STATUS: (&str, &str) = ("probe_grpc_status_code", "Response gRPC status code");
const RESPONSE: (&str, &str) = (
    "probe_grpc_healthcheck_response",
    "Response HealthCheck response",
);
/// The serving statuses by enum number.
const SERVING_STATUS: [&str; 4] = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];
/// gRPC's `Unavailable`, what a client reports when it cannot reach the server.
const UNAVAILABLE: u32 = 14;

/// The outcome of the call: gRPC status code, serving status, TLS session.
struct Call {
    code: u32,
    serving: Option<usize>,
    tls: Option<TlsInfo>,
}

pub async fn probe(probe: &Probe<'_>) -> bool {
    let m = probe.metrics;
    let cfg = &probe.module.grpc;
    m.declare(DURATION.0, DURATION.1, &["phase"]);
    m.set_labelled(DURATION.0, DURATION.1, &["phase"], &["resolve"], 0.0);
    m.declare(SSL.0, SSL.1, &[]);
    m.declare(STATUS.0, STATUS.1, &[]);
    m.declare(RESPONSE.0, RESPONSE.1, &["serving_status"]);
    // Upstream registers this plain gauge up front, so it shows 0 without TLS.
    m.set(tls::EARLIEST_EXPIRY.0, tls::EARLIEST_EXPIRY.1, 0.0);
    let target = if probe.target.starts_with("http://") || probe.target.starts_with("https://") {
        probe.target.to_owned()
    } else {
        format!("http://{}", probe.target)
    };
    let url = match Url::parse(&target) {
        Ok(u) if u.host_str().is_some() => u,
        _ => {
            probe
                .log
                .error("Could not parse target URL", &[("target", &probe.target)]);
            return false;
        }
    };
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port().unwrap_or(if cfg.tls { 443 } else { 80 });
    let Some(ip) = resolve_phase(
        probe,
        &cfg.preferred_ip_protocol,
        cfg.ip_protocol_fallback,
        &host,
        DURATION,
    )
    .await
    else {
        return false;
    };
    let start = Instant::now();
    let result = call(probe, SocketAddr::new(ip, port), &host).await;
    m.set_labelled(
        DURATION.0,
        DURATION.1,
        &["phase"],
        &["check"],
        start.elapsed().as_secs_f64(),
    );
    for name in SERVING_STATUS {
        m.set_labelled(RESPONSE.0, RESPONSE.1, &["serving_status"], &[name], 0.0);
    }
    let call = match result {
        Ok(call) => call,
        Err(err) => {
            m.set(STATUS.0, STATUS.1, f64::from(UNAVAILABLE));
            probe
                .log
                .error("can't connect grpc server:", &[("err", &err)]);
            return false;
        }
    };
    if let Some(status) = call.serving.and_then(|s| SERVING_STATUS.get(s)) {
        m.set_labelled(RESPONSE.0, RESPONSE.1, &["serving_status"], &[status], 1.0);
    }
    if let Some(info) = &call.tls {
        m.set(SSL.0, SSL.1, 1.0);
        tls::record_info(m, info);
    }
    m.set(STATUS.0, STATUS.1, f64::from(call.code));
    let ok = call.code == 0 && call.serving == Some(1);
    if ok {
        probe.log.debug("connect the grpc server successfully", &[]);
    } else {
        probe
            .log
            .error("can't connect grpc server:", &[("code", &call.code)]);
    }
    ok
}

async fn call(probe: &Probe<'_>, addr: SocketAddr, host: &str) -> Result<Call, String> {
    let cfg = &probe.module.grpc;
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    // Go's dialer disables Nagle's algorithm too; small HTTP/2 frames must not wait for ACKs.
    let _ = tcp.set_nodelay(true);
    let authority = if addr.port() == 80 || addr.port() == 443 {
        host.to_owned()
    } else {
        format!("{host}:{}", addr.port())
    };
    let request = build_request(&cfg.service, &cfg.metadata, cfg.tls, &authority)?;
    if cfg.tls {
        probe.log.debug("Dialing GRPC with TLS", &[]);
        let (connector, name) = tls::connector(&cfg.tls_config, &[b"h2"], host)?;
        let stream = connector
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        let info = TlsInfo::from_conn(stream.get_ref().1);
        let mut call = exchange(TokioIo::new(stream), request).await?;
        call.tls = Some(info);
        Ok(call)
    } else {
        probe.log.debug("Dialing GRPC without TLS", &[]);
        exchange(TokioIo::new(tcp), request).await
    }
}

fn build_request(
    service: &str,
    metadata: &std::collections::BTreeMap<String, Vec<String>>,
    tls: bool,
    authority: &str,
) -> Result<Request<Full<Bytes>>, String> {
    let mut message = Vec::with_capacity(service.len() + 8);
    if !service.is_empty() {
        message.push(0x0a);
        put_varint(&mut message, service.len() as u64);
        message.extend_from_slice(service.as_bytes());
    }
    let mut body = BytesMut::with_capacity(message.len() + 5);
    body.extend_from_slice(&[0]);
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(&message);
    let scheme = if tls { "https" } else { "http" };
    let mut builder = Request::post(format!(
        "{scheme}://{authority}/grpc.health.v1.Health/Check"
    ))
    .version(http::Version::HTTP_2)
    .header("content-type", "application/grpc")
    .header("te", "trailers");
    for (key, values) in metadata {
        let name = HeaderName::from_bytes(key.to_ascii_lowercase().as_bytes())
            .map_err(|e| e.to_string())?;
        for value in values {
            builder = builder.header(
                name.clone(),
                HeaderValue::from_str(value).map_err(|e| e.to_string())?,
            );
        }
    }
    builder
        .body(Full::new(body.freeze()))
        .map_err(|e| e.to_string())
}

async fn exchange<T>(io: TokioIo<T>, request: Request<Full<Bytes>>) -> Result<Call, String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    if response.status() != http::StatusCode::OK {
        return Err(format!("unexpected HTTP status code {}", response.status()));
    }
    let head_status = grpc_status(response.headers());
    let collected = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    let code = collected
        .trailers()
        .and_then(grpc_status)
        .or(head_status)
        .ok_or("missing grpc-status")?;
    let mut data = collected.to_bytes();
    let serving = if code == 0 && data.len() >= 5 {
        data.advance(5);
        Some(parse_status(&data)?)
    } else {
        None
    };
    Ok(Call {
        code,
        serving,
        tls: None,
    })
}

fn grpc_status(headers: &http::HeaderMap) -> Option<u32> {
    headers.get("grpc-status")?.to_str().ok()?.parse().ok()
}

/// Field 1 (varint) of `HealthCheckResponse`; absent means 0 (`UNKNOWN`).
fn parse_status(mut msg: &[u8]) -> Result<usize, String> {
    let mut status = 0;
    while !msg.is_empty() {
        let key = get_varint(&mut msg)?;
        match (key >> 3, key & 7) {
            (1, 0) => status = get_varint(&mut msg)? as usize,
            (_, 0) => {
                get_varint(&mut msg)?;
            }
            (_, 2) => {
                let len = get_varint(&mut msg)? as usize;
                msg = msg.get(len..).ok_or("truncated health check response")?;
            }
            _ => return Err("malformed health check response".to_owned()),
        }
    }
    Ok(status)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(msg: &mut &[u8]) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = msg.split_first().ok_or("truncated varint")?;
        *msg = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("varint too long".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_messages() {
        assert_eq!(parse_status(&[0x08, 0x01]).unwrap(), 1);
        assert_eq!(parse_status(&[]).unwrap(), 0);
        assert_eq!(parse_status(&[0x12, 0x01, 0x41, 0x08, 0x02]).unwrap(), 2);
        assert!(parse_status(&[0x08]).is_err());
        let req = build_request("svc", &Default::default(), false, "h:1").unwrap();
        assert_eq!(req.uri(), "http://h:1/grpc.health.v1.Health/Check");
    }
}
