//! The icmp prober: one echo request, answered by a matching echo reply.
//!
//! Like upstream on Linux it first tries an unprivileged ICMP datagram socket (allowed by
//! `net.ipv4.ping_group_range`), where the kernel owns the identifier, and falls back to a
//! raw socket (root or CAP_NET_RAW). The reply's TTL (hop limit for IPv6) comes from the
//! `IP_TTL` / `IPV6_HOPLIMIT` control message, as upstream reads it, for both socket kinds.
//!
//! surge-ping is not used: it cannot set DF and reports no hop limit for IPv6 or datagram
//! sockets (see docs/blackbox_exporter.md, "Design notes").

use std::io::IoSliceMut;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Instant;

use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt,
};
use rustix::net::sockopt::{Ipv4PathMtuDiscovery, set_ip_mtu_discover};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::Probe;
use super::resolve::resolve_phase;

const DURATION: (&str, &str) = (
    "probe_icmp_duration_seconds",
    "Duration of icmp request by phase",
);
const HOP_LIMIT: (&str, &str) = (
    "probe_icmp_reply_hop_limit",
    "Replied packet hop limit (TTL for ipv4)",
);
const DEFAULT_PAYLOAD: &[u8] = b"Prometheus Blackbox Exporter";

static SEQUENCE: AtomicU16 = AtomicU16::new(0);

struct IcmpSocket {
    socket: UdpSocket,
    /// Raw sockets see the IPv4 header and our own identifier; datagram sockets see neither.
    raw: bool,
    /// Whether the kernel was asked to attach the reply's TTL / hop limit to each datagram.
    hop_limit: bool,
}

/// One datagram read from the socket.
struct Received {
    len: usize,
    from: Option<IpAddr>,
    hop_limit: Option<i32>,
}

pub async fn probe(probe: &Probe<'_>) -> bool {
    let m = probe.metrics;
    let cfg = &probe.module.icmp;
    m.declare(DURATION.0, DURATION.1, &["phase"]);
    for phase in ["resolve", "setup", "rtt"] {
        m.set_labelled(DURATION.0, DURATION.1, &["phase"], &[phase], 0.0);
    }
    let Some(ip) = resolve_phase(
        probe,
        &cfg.ip_protocol,
        cfg.ip_protocol_fallback,
        probe.target,
        DURATION,
    )
    .await
    else {
        return false;
    };
    let source: Option<IpAddr> = if cfg.source_ip_address.is_empty() {
        None
    } else {
        match cfg.source_ip_address.parse() {
            Ok(ip) => {
                probe.log.debug("Using source address", &[("srcIP", &ip)]);
                Some(ip)
            }
            Err(_) => {
                probe.log.error(
                    "Error parsing source ip address",
                    &[("srcIP", &cfg.source_ip_address)],
                );
                return false;
            }
        }
    };
    let setup_start = Instant::now();
    probe.log.debug("Creating socket", &[]);
    let socket = match open(ip, source, cfg.ttl, cfg.dont_fragment) {
        Ok(s) => {
            if !s.hop_limit {
                probe.log.debug(
                    "Failed to set Control Message for retrieving Hop Limit",
                    &[],
                );
            }
            s
        }
        Err(err) => {
            probe
                .log
                .error("Error listening to socket", &[("err", &err)]);
            return false;
        }
    };
    let id = std::process::id() as u16;
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let payload = payload(usize::try_from(cfg.payload_size).unwrap_or(0));
    probe
        .log
        .debug("Creating ICMP packet", &[("seq", &seq), ("id", &id)]);
    let packet = echo_request(ip.is_ipv4(), id, seq, &payload);
    m.set_labelled(
        DURATION.0,
        DURATION.1,
        &["phase"],
        &["setup"],
        setup_start.elapsed().as_secs_f64(),
    );
    probe.log.debug("Writing out packet", &[]);
    let rtt_start = Instant::now();
    if let Err(err) = socket.socket.send_to(&packet, SocketAddr::new(ip, 0)).await {
        probe.log.error("Error writing to socket", &[("err", &err)]);
        return false;
    }
    probe.log.debug("Waiting for reply packets", &[]);
    let mut buf = vec![0u8; 65536];
    // Bounded by the probe deadline around the whole prober.
    loop {
        let received = match socket.recv(&mut buf).await {
            Ok(r) => r,
            Err(err) => {
                probe
                    .log
                    .error("Error reading from socket", &[("err", &err)]);
                return false;
            }
        };
        if received.from != Some(ip) {
            continue;
        }
        let data = &buf[..received.len];
        let icmp = if socket.raw && ip.is_ipv4() {
            data.get(usize::from(data[0] & 0x0F) * 4..)
                .unwrap_or_default()
        } else {
            data
        };
        if is_reply(icmp, ip.is_ipv4(), socket.raw.then_some(id), seq, &payload) {
            m.set_labelled(
                DURATION.0,
                DURATION.1,
                &["phase"],
                &["rtt"],
                rtt_start.elapsed().as_secs_f64(),
            );
            match received.hop_limit {
                Some(hops) => m.set(HOP_LIMIT.0, HOP_LIMIT.1, f64::from(hops)),
                None => probe.log.debug(
                    "Cannot get Hop Limit from the received packet. 'probe_icmp_reply_hop_limit' will be missing.",
                    &[],
                ),
            }
            probe.log.debug("Found matching reply packet", &[]);
            return true;
        }
    }
}

/// Upstream's echo data: its default text, cut or zero-padded to `size` when one is set.
fn payload(size: usize) -> Vec<u8> {
    if size == 0 {
        return DEFAULT_PAYLOAD.to_vec();
    }
    let mut data = vec![0; size];
    let n = size.min(DEFAULT_PAYLOAD.len());
    data[..n].copy_from_slice(&DEFAULT_PAYLOAD[..n]);
    data
}

impl IcmpSocket {
    /// Reads one datagram with its sender and, when the kernel attached it, its TTL / hop limit.
    async fn recv(&self, buf: &mut [u8]) -> std::io::Result<Received> {
        let fd = self.socket.as_raw_fd();
        let mut control = nix::cmsg_space!(i32);
        self.socket
            .async_io(Interest::READABLE, || {
                let mut iov = [IoSliceMut::new(buf)];
                let msg = recvmsg::<SockaddrStorage>(
                    fd,
                    &mut iov,
                    Some(&mut control),
                    MsgFlags::empty(),
                )?;
                let from = msg.address.and_then(|a| {
                    a.as_sockaddr_in()
                        .map(|v4| IpAddr::V4(v4.ip()))
                        .or_else(|| a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip())))
                });
                let hop_limit = msg.cmsgs().ok().and_then(|mut cmsgs| {
                    cmsgs.find_map(|c| match c {
                        ControlMessageOwned::Ipv4Ttl(hops)
                        | ControlMessageOwned::Ipv6HopLimit(hops) => Some(hops),
                        _ => None,
                    })
                });
                Ok(Received {
                    len: msg.bytes,
                    from,
                    hop_limit,
                })
            })
            .await
    }
}

/// Opens the socket for one echo. `dont_fragment` applies to IPv4 only, as upstream, and like
/// upstream needs a raw socket; the kernel then sets DF on the packet it sends.
fn open(
    ip: IpAddr,
    source: Option<IpAddr>,
    ttl: i64,
    dont_fragment: bool,
) -> std::io::Result<IcmpSocket> {
    let (domain, protocol) = if ip.is_ipv4() {
        (Domain::IPV4, Protocol::ICMPV4)
    } else {
        (Domain::IPV6, Protocol::ICMPV6)
    };
    let dont_fragment = dont_fragment && ip.is_ipv4();
    let datagram = if dont_fragment {
        None
    } else {
        Socket::new(domain, Type::DGRAM, Some(protocol)).ok()
    };
    let (socket, raw) = match datagram {
        Some(s) => (s, false),
        None => (Socket::new(domain, Type::RAW, Some(protocol))?, true),
    };
    if dont_fragment {
        set_ip_mtu_discover(&socket, Ipv4PathMtuDiscovery::DO)?;
    }
    if ttl > 0 {
        let ttl = ttl as u32;
        if ip.is_ipv4() {
            socket.set_ttl_v4(ttl)?;
        } else {
            socket.set_unicast_hops_v6(ttl)?;
        }
    }
    if let Some(src) = source {
        socket.bind(&SocketAddr::new(src, 0).into())?;
    }
    let hop_limit = if ip.is_ipv4() {
        setsockopt(&socket, sockopt::Ipv4RecvTtl, &true).is_ok()
    } else {
        socket.set_recv_hoplimit_v6(true).is_ok()
    };
    socket.set_nonblocking(true)?;
    let std_socket: std::net::UdpSocket = socket.into();
    Ok(IcmpSocket {
        socket: UdpSocket::from_std(std_socket)?,
        raw,
        hop_limit,
    })
}

fn echo_request(v4: bool, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut packet = vec![if v4 { 8 } else { 128 }, 0, 0, 0];
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(payload);
    if v4 {
        // The kernel fills the ICMPv6 checksum (it covers a pseudo-header); ICMPv4 is ours.
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    packet
}

fn is_reply(icmp: &[u8], v4: bool, id: Option<u16>, seq: u16, payload: &[u8]) -> bool {
    if icmp.len() < 8 || icmp[0] != if v4 { 0 } else { 129 } || icmp[1] != 0 {
        return false;
    }
    let id_ok = id.is_none_or(|id| icmp[4..6] == id.to_be_bytes());
    id_ok && icmp[6..8] == seq.to_be_bytes() && &icmp[8..] == payload
}

/// The Internet checksum (RFC 1071).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_upstream_text_cut_or_zero_padded() {
        assert_eq!(payload(0), DEFAULT_PAYLOAD);
        assert_eq!(payload(10), b"Prometheus");
        let padded = payload(32);
        assert_eq!(&padded[..28], DEFAULT_PAYLOAD);
        assert_eq!(&padded[28..], [0, 0, 0, 0]);
    }

    #[test]
    fn echo_packets_round_trip() {
        let packet = echo_request(true, 7, 9, b"abc");
        assert_eq!(
            checksum(&packet),
            0,
            "a packet with its checksum sums to zero"
        );
        let mut reply = packet.clone();
        reply[0] = 0;
        assert!(is_reply(&reply, true, Some(7), 9, b"abc"));
        assert!(is_reply(&reply, true, None, 9, b"abc"));
        assert!(!is_reply(&reply, true, Some(8), 9, b"abc"));
        assert!(!is_reply(&reply, true, None, 10, b"abc"));
    }

    #[tokio::test]
    async fn dont_fragment_sets_path_mtu_discovery_on_a_raw_socket() {
        let ip = IpAddr::from([127, 0, 0, 1]);
        let socket = match open(ip, None, 64, true) {
            Ok(socket) => socket,
            Err(err) if err.kind() == std::io::ErrorKind::PermissionDenied => {
                eprintln!("skipping: raw ICMP sockets need root or CAP_NET_RAW ({err})");
                return;
            }
            Err(err) => panic!("opening raw ICMP socket: {err}"),
        };
        assert!(socket.raw);
        assert_eq!(
            rustix::net::sockopt::ip_mtu_discover(&socket.socket).unwrap(),
            Ipv4PathMtuDiscovery::DO
        );
        let plain = open(ip, None, 64, false).unwrap();
        assert_ne!(
            rustix::net::sockopt::ip_mtu_discover(&plain.socket).unwrap(),
            Ipv4PathMtuDiscovery::DO
        );
    }
}
