//! Listen addresses with Go's `net.Listen("tcp", …)` semantics, which users' flags rely on:
//! `:9100` is every interface over IPv4 and IPv6, a host name binds its first IPv4 address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;

use super::error::ServeError;

/// Go's listen backlog on Linux comes from `somaxconn`; this is its usual value.
const BACKLOG: i32 = 4096;

/// Binds one `--web.listen-address` value.
pub(crate) async fn bind(address: &str) -> Result<TcpListener, ServeError> {
    let bad = |reason: &str| ServeError::Address {
        address: address.to_owned(),
        reason: reason.to_owned(),
    };
    let (host, port) = split_host_port(address).map_err(bad)?;
    let port: u16 = port.parse().map_err(|_| bad("unknown port"))?;
    let bind_err = |source| ServeError::Bind {
        address: address.to_owned(),
        source,
    };

    if host.is_empty() {
        // Dual-stack wildcard, falling back to IPv4 on hosts without IPv6.
        let v6 = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
        return match listen(v6, true) {
            Ok(l) => Ok(l),
            Err(_) => {
                listen(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)), false).map_err(bind_err)
            }
        };
    }
    let ip = match host.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| bad(&format!("lookup {host}: {e}")))?
                .collect();
            addrs
                .iter()
                .find(|a| a.is_ipv4())
                .or_else(|| addrs.first())
                .ok_or_else(|| bad(&format!("lookup {host}: no addresses")))?
                .ip()
        }
    };
    listen(SocketAddr::new(ip, port), false).map_err(bind_err)
}

/// A Go listen address as Rust's socket APIs take it: Go's `:port` means every interface,
/// which `[::]:port` gives on Linux (dual-stack). For the exporters' own UDP and TCP ingest
/// listeners; `--web.listen-address` has its own binding with an IPv4 fallback.
pub fn go_listen_address(addr: &str) -> String {
    match addr.strip_prefix(':') {
        Some(port) => format!("[::]:{port}"),
        None => addr.to_owned(),
    }
}

/// Splits `host:port`, `[v6]:port` or `:port` as Go's `net.SplitHostPort`.
fn split_host_port(address: &str) -> Result<(&str, &str), &'static str> {
    if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("missing ']' in address")?;
        let port = after.strip_prefix(':').ok_or("missing port in address")?;
        return Ok((host, port));
    }
    let (host, port) = address.rsplit_once(':').ok_or("missing port in address")?;
    if host.contains(':') {
        return Err("too many colons in address");
    }
    Ok((host, port))
}

fn listen(addr: SocketAddr, dual_stack: bool) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if dual_stack {
        socket.set_only_v6(false)?;
    }
    // As Go does, so a restarted daemon can bind while old connections sit in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    TcpListener::from_std(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_go() {
        assert_eq!(split_host_port(":9100"), Ok(("", "9100")));
        assert_eq!(split_host_port("[::1]:9100"), Ok(("::1", "9100")));
        assert_eq!(split_host_port("localhost:80"), Ok(("localhost", "80")));
        assert!(split_host_port("::1:9100").is_err());
        assert!(split_host_port("9100").is_err());
        assert!(split_host_port("[::1]9100").is_err());
    }

    #[tokio::test]
    async fn wildcard_is_dual_stack() {
        let l = bind(":0").await.unwrap();
        let addr = l.local_addr().unwrap();
        // On hosts without IPv6 the fallback is the IPv4 wildcard.
        assert!(addr.ip().is_unspecified(), "{addr}");
        if addr.is_ipv6() {
            let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port()));
            tokio::net::TcpStream::connect(v4)
                .await
                .expect("IPv4 client reaches [::]");
        }
    }

    #[tokio::test]
    async fn bad_port_is_reported() {
        let err = bind("127.0.0.1:http-alt").await.unwrap_err();
        assert!(err.to_string().contains("unknown port"), "{err}");
    }
}
