//! The grpc prober: one call of the standard health-checking protocol
//! (`grpc.health.v1.Health/Check`) with tonic, with or without TLS.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tonic::metadata::{
    AsciiMetadataKey, AsciiMetadataValue, BinaryMetadataKey, BinaryMetadataValue,
};
use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
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
/// Every serving status, each reported (0 or 1) whatever the answer, as upstream does.
const SERVING_STATUSES: [ServingStatus; 4] = [
    ServingStatus::Unknown,
    ServingStatus::Serving,
    ServingStatus::NotServing,
    ServingStatus::ServiceUnknown,
];

/// The outcome of the call: gRPC status code, serving status, TLS session.
struct Call {
    code: i32,
    serving: Option<i32>,
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
    let tls = if cfg.tls {
        match tls::connector(&cfg.tls_config, &[b"h2"], &host) {
            Ok(tls) => Some(tls),
            Err(err) => {
                probe
                    .log
                    .error("Error creating TLS configuration", &[("err", &err)]);
                return false;
            }
        }
    } else {
        None
    };
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
    let result = call(probe, SocketAddr::new(ip, port), &host, tls).await;
    m.set_labelled(
        DURATION.0,
        DURATION.1,
        &["phase"],
        &["check"],
        start.elapsed().as_secs_f64(),
    );
    for status in SERVING_STATUSES {
        m.set_labelled(
            RESPONSE.0,
            RESPONSE.1,
            &["serving_status"],
            &[status.as_str_name()],
            0.0,
        );
    }
    let call = match result {
        Ok(call) => call,
        Err(err) => {
            probe
                .log
                .error("can't connect grpc server:", &[("err", &err)]);
            return false;
        }
    };
    if let Some(serving) = call.serving {
        // Go prints a value outside the enum as its number.
        let name = ServingStatus::try_from(serving)
            .map_or_else(|_| serving.to_string(), |s| s.as_str_name().to_owned());
        m.set_labelled(RESPONSE.0, RESPONSE.1, &["serving_status"], &[&name], 1.0);
    }
    if let Some(info) = &call.tls {
        m.set(SSL.0, SSL.1, 1.0);
        tls::record_info(m, info);
    }
    m.set(STATUS.0, STATUS.1, f64::from(call.code));
    let ok = call.code == 0 && call.serving == Some(ServingStatus::Serving as i32);
    if ok {
        probe.log.debug("connect the grpc server successfully", &[]);
    } else {
        probe
            .log
            .error("can't connect grpc server:", &[("code", &call.code)]);
    }
    ok
}

/// Makes the call over a connection to `addr`, over TLS when `tls` is given; `Err` when the
/// request cannot be built, before anything is sent.
async fn call(
    probe: &Probe<'_>,
    addr: SocketAddr,
    host: &str,
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
) -> Result<Call, String> {
    let cfg = &probe.module.grpc;
    let session = Arc::new(Mutex::new(None));
    if tls.is_some() {
        probe.log.debug("Dialing GRPC with TLS", &[]);
    } else {
        probe.log.debug("Dialing GRPC without TLS", &[]);
    }
    let request = build_request(&cfg.service, &cfg.metadata)?;
    // As grpc-go's client, the authority always names the port (80 or 443 by default).
    let scheme = if tls.is_some() { "https" } else { "http" };
    let authority = match addr.ip() {
        IpAddr::V6(_) if host.contains(':') => format!("[{host}]:{}", addr.port()),
        _ => format!("{host}:{}", addr.port()),
    };
    let endpoint =
        Endpoint::from_shared(format!("{scheme}://{authority}")).map_err(|e| e.to_string())?;
    let dialer = Dialer {
        addr,
        tls,
        session: session.clone(),
    };
    // Lazy, so that failing to connect surfaces as the call's status (Unavailable), as
    // grpc-go reports it.
    let channel = endpoint
        .connect_with_connector_lazy(tower::service_fn(move |_: http::Uri| dialer.clone().dial()));
    let result = HealthClient::new(channel).check(request).await;
    let tls = session.lock().map_or(None, |mut s| s.take());
    Ok(match result {
        Ok(response) => Call {
            code: 0,
            serving: Some(response.into_inner().status),
            tls,
        },
        Err(status) => Call {
            code: i32::from(status.code()),
            serving: None,
            tls,
        },
    })
}

/// The byte stream a gRPC connection runs over: plain TCP or TLS over it.
trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// tonic's connector: dials the address the resolve phase chose (tonic would resolve the
/// name again, and not with upstream's protocol preference) and does TLS with the module's
/// rustls config, keeping the session for the TLS metrics.
#[derive(Clone)]
struct Dialer {
    addr: SocketAddr,
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    session: Arc<Mutex<Option<TlsInfo>>>,
}

impl Dialer {
    async fn dial(self) -> std::io::Result<TokioIo<Box<dyn Stream>>> {
        let tcp = TcpStream::connect(self.addr).await?;
        // Go's dialer disables Nagle's algorithm too; small HTTP/2 frames must not wait for ACKs.
        tcp.set_nodelay(true)?;
        let Some((connector, name)) = self.tls else {
            return Ok(TokioIo::new(Box::new(tcp)));
        };
        let stream = connector.connect(name, tcp).await?;
        if let Ok(mut session) = self.session.lock() {
            *session = Some(TlsInfo::from_conn(stream.get_ref().1));
        }
        Ok(TokioIo::new(Box::new(stream)))
    }
}

/// The health check request with the module's metadata, keys lower-cased as gRPC requires;
/// values of `-bin` keys are sent base64-encoded, as grpc-go sends them.
fn build_request(
    service: &str,
    metadata: &BTreeMap<String, Vec<String>>,
) -> Result<tonic::Request<HealthCheckRequest>, String> {
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: service.to_owned(),
    });
    let map = request.metadata_mut();
    for (key, values) in metadata {
        let key = key.to_ascii_lowercase();
        for value in values {
            if key.ends_with("-bin") {
                let name =
                    BinaryMetadataKey::from_bytes(key.as_bytes()).map_err(|e| e.to_string())?;
                map.append_bin(name, BinaryMetadataValue::from_bytes(value.as_bytes()));
            } else {
                let name =
                    AsciiMetadataKey::from_bytes(key.as_bytes()).map_err(|e| e.to_string())?;
                let value =
                    AsciiMetadataValue::try_from(value.as_str()).map_err(|e| e.to_string())?;
                map.append(name, value);
            }
        }
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_goes_into_the_request() {
        let metadata = BTreeMap::from([
            ("X-Token".to_owned(), vec!["a".to_owned(), "b".to_owned()]),
            ("trace-bin".to_owned(), vec!["raw".to_owned()]),
        ]);
        let request = build_request("svc", &metadata).unwrap();
        assert_eq!(request.get_ref().service, "svc");
        let values: Vec<_> = request.metadata().get_all("x-token").iter().collect();
        assert_eq!(values, ["a", "b"]);
        assert_eq!(
            request
                .metadata()
                .get_bin("trace-bin")
                .unwrap()
                .to_bytes()
                .unwrap(),
            "raw".as_bytes()
        );
        let bad = BTreeMap::from([("x".to_owned(), vec!["line\nbreak".to_owned()])]);
        assert!(build_request("", &bad).is_err());
    }
}
