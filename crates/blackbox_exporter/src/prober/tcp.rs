//! The tcp and unix probers: connect (optionally with TLS) and run the query/response dialogue.

use std::net::SocketAddr;

use tokio::net::{TcpSocket, TcpStream, UnixStream};

use super::query_response::{Stream, dialogue};
use super::resolve::{choose_protocol, split_host_port};
use super::{Probe, tls};

pub async fn probe(probe: &Probe<'_>) -> bool {
    let cfg = &probe.module.tcp;
    let (host, port) = match split_host_port(probe.target) {
        Ok(hp) => hp,
        Err(err) => {
            probe
                .log
                .error("Error splitting target address and port", &[("err", &err)]);
            return false;
        }
    };
    let ip = match choose_protocol(probe, &cfg.ip_protocol, cfg.ip_protocol_fallback, &host).await {
        Ok((ip, _)) => ip,
        Err(err) => {
            probe.log.error("Error resolving address", &[("err", &err)]);
            return false;
        }
    };
    let stream = match connect(probe, SocketAddr::new(ip, port), &cfg.source_ip_address).await {
        Ok(stream) => stream,
        Err(err) => {
            probe.log.error("Error dialing TCP", &[("err", &err)]);
            return false;
        }
    };
    let stream = if cfg.tls {
        probe.log.debug("Dialing TCP with TLS", &[]);
        match tls_handshake(probe, stream, &host).await {
            Some(s) => Stream::Tls(Box::new(s)),
            None => return false,
        }
    } else {
        probe.log.debug("Dialing TCP without TLS", &[]);
        Stream::Plain(stream)
    };
    probe.log.debug("Successfully dialed", &[]);
    dialogue(probe, stream, &cfg.query_response, &cfg.tls_config, &host).await
}

/// The unix prober: the target is a socket path; TLS, if asked for, verifies the configured
/// `server_name` only.
pub async fn probe_unix(probe: &Probe<'_>) -> bool {
    let cfg = &probe.module.unix;
    let stream = match UnixStream::connect(probe.target).await {
        Ok(s) => s,
        Err(err) => {
            probe
                .log
                .error("Error dialing Unix socket", &[("err", &err)]);
            return false;
        }
    };
    probe.log.debug("Successfully dialed", &[]);
    let stream = if cfg.tls {
        let (connector, name) = match tls::connector(&cfg.tls_config, &[], "localhost") {
            Ok(c) => c,
            Err(err) => {
                probe
                    .log
                    .error("Error creating TLS configuration", &[("err", &err)]);
                return false;
            }
        };
        match connector.connect(name, Stream::Unix(stream)).await {
            Ok(s) => {
                tls::record(probe.metrics, s.get_ref().1);
                Stream::TlsAny(Box::new(s))
            }
            Err(err) => {
                probe
                    .log
                    .error("TLS Handshake (client) failed", &[("err", &err)]);
                return false;
            }
        }
    } else {
        Stream::Unix(stream)
    };
    dialogue(probe, stream, &cfg.query_response, &cfg.tls_config, "").await
}

async fn connect(probe: &Probe<'_>, addr: SocketAddr, source: &str) -> std::io::Result<TcpStream> {
    if source.is_empty() {
        return TcpStream::connect(addr).await;
    }
    let src: std::net::IpAddr = source.parse().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("error parsing source ip address: {source}"),
        )
    })?;
    probe.log.debug("Using local address", &[("srcIP", &src)]);
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(src, 0))?;
    socket.connect(addr).await
}

async fn tls_handshake(
    probe: &Probe<'_>,
    stream: TcpStream,
    host: &str,
) -> Option<tokio_rustls::client::TlsStream<TcpStream>> {
    let (connector, name) = match tls::connector(&probe.module.tcp.tls_config, &[], host) {
        Ok(c) => c,
        Err(err) => {
            probe
                .log
                .error("Error creating TLS configuration", &[("err", &err)]);
            return None;
        }
    };
    match connector.connect(name, stream).await {
        Ok(s) => {
            tls::record(probe.metrics, s.get_ref().1);
            Some(s)
        }
        Err(err) => {
            probe.log.error("Error dialing TCP", &[("err", &err)]);
            None
        }
    }
}
