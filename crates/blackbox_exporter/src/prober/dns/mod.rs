//! The dns prober: one query over UDP, TCP or TLS, judged by rcode and by regexps over the
//! text of the answer, authority and additional records.

mod wire;

use std::net::SocketAddr;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::resolve::{resolve_phase, split_host_port};
use super::{Probe, ProbeLog, tls};
use crate::config::dns_names::{CLASSES, RCODES, TYPES, lookup, name_of};
use crate::config::{DnsProbe, RrValidator};
use wire::{Message, Record, TYPE_SOA};

const DURATION: (&str, &str) = (
    "probe_dns_duration_seconds",
    "Duration of DNS request by phase",
);

pub async fn probe(probe: &Probe<'_>) -> bool {
    let m = probe.metrics;
    m.declare(DURATION.0, DURATION.1, &["phase"]);
    for phase in ["resolve", "connect", "request"] {
        m.set_labelled(DURATION.0, DURATION.1, &["phase"], &[phase], 0.0);
    }
    for (name, help) in COUNTS {
        m.declare(name, help, &[]);
    }
    m.declare(
        "probe_dns_query_succeeded",
        "Displays whether or not the query was executed successfully",
        &[],
    );
    let cfg = &probe.module.dns;
    let qclass = if cfg.query_class.is_empty() {
        Some(1)
    } else {
        lookup(CLASSES, &cfg.query_class)
    };
    let qtype = if cfg.query_type.is_empty() {
        Some(255)
    } else {
        lookup(TYPES, &cfg.query_type)
    };
    let (Some(qclass), Some(qtype)) = (qclass, qtype) else {
        probe.log.error("Invalid query class or type", &[]);
        return false;
    };
    let transport = if cfg.transport_protocol.is_empty() {
        "udp"
    } else {
        cfg.transport_protocol.as_str()
    };
    if transport != "udp" && transport != "tcp" {
        probe.log.error(
            "Configuration error: Expected transport protocol udp or tcp",
            &[("protocol", &transport)],
        );
        return false;
    }
    if cfg.dns_over_tls && transport != "tcp" {
        probe.log.error(
            "Configuration error: Expected transport protocol tcp for DoT",
            &[("protocol", &transport)],
        );
        return false;
    }
    let (host, port) = split_host_port(probe.target).unwrap_or_else(|_| {
        (
            probe.target.to_owned(),
            if cfg.dns_over_tls { 853 } else { 53 },
        )
    });
    let Some(ip) = resolve_phase(
        probe,
        &cfg.ip_protocol,
        cfg.ip_protocol_fallback,
        &host,
        DURATION,
    )
    .await
    else {
        return false;
    };
    let source = match parse_source(&cfg.source_ip_address, probe.log) {
        Ok(s) => s,
        Err(()) => return false,
    };
    let target = SocketAddr::new(ip, port);
    let id = query_id();
    let Ok(query) = wire::query(id, &cfg.query_name, qtype, qclass, cfg.recursion) else {
        probe.log.error(
            "Error while sending a DNS query",
            &[("err", &"bad query name")],
        );
        return false;
    };
    let dial = format!(
        "{transport}{}{}",
        if ip.is_ipv4() { "4" } else { "6" },
        if cfg.dns_over_tls { "-tls" } else { "" }
    );
    probe.log.debug(
        "Making DNS query",
        &[
            ("target", &target),
            ("dial_protocol", &dial),
            ("query", &cfg.query_name),
            ("type", &qtype),
            ("class", &qclass),
        ],
    );
    let start = Instant::now();
    let result = exchange(cfg, transport, target, source, &host, &query).await;
    let total = start.elapsed().as_secs_f64();
    let (response, rtt) = match result {
        Ok((bytes, rtt)) => (
            wire::parse(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|msg| check_id(msg, id)),
            rtt,
        ),
        Err((err, rtt)) => (Err(err), rtt),
    };
    m.set_labelled(
        DURATION.0,
        DURATION.1,
        &["phase"],
        &["connect"],
        (total - rtt).max(0.0),
    );
    m.set_labelled(DURATION.0, DURATION.1, &["phase"], &["request"], rtt);
    let response = match response {
        Ok(r) => r,
        Err(err) => {
            probe
                .log
                .error("Error while sending a DNS query", &[("err", &err)]);
            return false;
        }
    };
    judge(probe, cfg, qtype, &response)
}

const COUNTS: [(&str, &str); 3] = [
    (
        "probe_dns_answer_rrs",
        "Returns number of entries in the answer resource record list",
    ),
    (
        "probe_dns_authority_rrs",
        "Returns number of entries in the authority resource record list",
    ),
    (
        "probe_dns_additional_rrs",
        "Returns number of entries in the additional resource record list",
    ),
];

fn judge(probe: &Probe<'_>, cfg: &DnsProbe, qtype: u16, response: &Message) -> bool {
    let m = probe.metrics;
    probe
        .log
        .debug("Got response", &[("rcode", &response.rcode)]);
    m.set(COUNTS[0].0, COUNTS[0].1, response.answer.len() as f64);
    m.set(COUNTS[1].0, COUNTS[1].1, response.authority.len() as f64);
    m.set(COUNTS[2].0, COUNTS[2].1, response.additional.len() as f64);
    m.set(
        "probe_dns_query_succeeded",
        "Displays whether or not the query was executed successfully",
        1.0,
    );
    if qtype == TYPE_SOA {
        m.declare(
            "probe_dns_serial",
            "Returns the serial number of the zone",
            &[],
        );
        for serial in response.answer.iter().filter_map(|r| r.soa_serial) {
            m.set(
                "probe_dns_serial",
                "Returns the serial number of the zone",
                f64::from(serial),
            );
        }
    }
    if !valid_rcode(response.rcode, &cfg.valid_rcodes, probe.log) {
        return false;
    }
    let sections = [
        ("Answer", &response.answer, &cfg.validate_answer_rrs),
        (
            "Authority",
            &response.authority,
            &cfg.validate_authority_rrs,
        ),
        (
            "Additional",
            &response.additional,
            &cfg.validate_additional_rrs,
        ),
    ];
    for (section, rrs, validator) in sections {
        probe.log.debug(&format!("Validating {section} RRs"), &[]);
        if !valid_rrs(rrs, validator, probe.log) {
            probe
                .log
                .error(&format!("{section} RRs validation failed"), &[]);
            return false;
        }
    }
    true
}

fn valid_rcode(rcode: u16, valid: &[String], log: &ProbeLog) -> bool {
    let mut codes = Vec::new();
    if valid.is_empty() {
        codes.push(0);
    }
    for name in valid {
        match lookup(RCODES, name) {
            Some(code) => codes.push(code),
            None => {
                log.error("Invalid rcode", &[("rcode", name)]);
                return false;
            }
        }
    }
    let name = name_of(RCODES, rcode).unwrap_or("");
    if codes.contains(&rcode) {
        log.debug(
            "Rcode is valid",
            &[("rcode", &rcode), ("string_rcode", &name)],
        );
        true
    } else {
        log.error(
            "Rcode is not one of the valid rcodes",
            &[
                ("rcode", &rcode),
                ("string_rcode", &name),
                ("valid_rcodes", &format!("{codes:?}").replace(',', "")),
            ],
        );
        false
    }
}

/// Upstream compiles these per probe; a bad pattern fails the probe.
fn valid_rrs(rrs: &[Record], v: &RrValidator, log: &ProbeLog) -> bool {
    if rrs.is_empty() && !v.fail_if_not_matches_regexp.is_empty() {
        log.error(
            "fail_if_not_matches_regexp specified but no RRs returned",
            &[],
        );
        return false;
    }
    if rrs.is_empty() && !v.fail_if_none_matches_regexp.is_empty() {
        log.error(
            "fail_if_none_matches_regexp specified but no RRs returned",
            &[],
        );
        return false;
    }
    let compile = |list: &[String]| -> Result<Vec<crate::config::Regexp>, String> {
        list.iter().map(|p| crate::config::Regexp::new(p)).collect()
    };
    let compiled = (|| {
        Ok::<_, String>([
            compile(&v.fail_if_matches_regexp)?,
            compile(&v.fail_if_all_match_regexp)?,
            compile(&v.fail_if_not_matches_regexp)?,
            compile(&v.fail_if_none_matches_regexp)?,
        ])
    })();
    let [matches, all_match, not_matches, none_matches] = match compiled {
        Ok(c) => c,
        Err(err) => {
            log.error("Error matching regexp", &[("err", &err)]);
            return false;
        }
    };
    let (mut any, mut all) = (false, true);
    for rr in rrs {
        let text = rr.text.as_bytes();
        log.debug("Validating RR", &[("rr", &rr.text)]);
        if let Some(re) = matches.iter().find(|re| re.is_match(text)) {
            log.error(
                "At least one RR matched regexp",
                &[("regexp", &re.as_str()), ("rr", &rr.text)],
            );
            return false;
        }
        all &= all_match.iter().all(|re| re.is_match(text));
        if let Some(re) = not_matches.iter().find(|re| !re.is_match(text)) {
            log.error(
                "At least one RR did not match regexp",
                &[("regexp", &re.as_str()), ("rr", &rr.text)],
            );
            return false;
        }
        any |= none_matches.iter().any(|re| re.is_match(text));
    }
    if !all_match.is_empty() && !all {
        log.error("Not all RRs matched regexp", &[]);
        return false;
    }
    if !none_matches.is_empty() && !any {
        log.error("None of the RRs did matched any regexp", &[]);
        return false;
    }
    true
}

fn parse_source(source: &str, log: &ProbeLog) -> Result<Option<std::net::IpAddr>, ()> {
    if source.is_empty() {
        return Ok(None);
    }
    match source.parse() {
        Ok(ip) => {
            log.debug("Using local address", &[("srcIP", &ip)]);
            Ok(Some(ip))
        }
        Err(_) => {
            log.error("Error parsing source ip address", &[("srcIP", &source)]);
            Err(())
        }
    }
}

fn check_id(msg: Message, id: u16) -> Result<Message, String> {
    if msg.id == id {
        Ok(msg)
    } else {
        Err("dns: id mismatch".to_owned())
    }
}

/// An id that differs between concurrent probes; not security-relevant.
fn query_id() -> u16 {
    let mut bytes = [0u8; 2];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        return nanos as u16;
    }
    u16::from_be_bytes(bytes)
}

/// Sends `query` and returns the raw response and the round-trip time (after connecting).
async fn exchange(
    cfg: &DnsProbe,
    transport: &str,
    target: SocketAddr,
    source: Option<std::net::IpAddr>,
    host: &str,
    query: &[u8],
) -> Result<(Vec<u8>, f64), (String, f64)> {
    let io = |e: std::io::Error| (e.to_string(), 0.0);
    if transport == "udp" {
        let bind = match (source, target.is_ipv4()) {
            (Some(ip), _) => SocketAddr::new(ip, 0),
            (None, true) => SocketAddr::from(([0, 0, 0, 0], 0)),
            (None, false) => SocketAddr::from(([0u16; 8], 0)),
        };
        let socket = UdpSocket::bind(bind).await.map_err(io)?;
        socket.connect(target).await.map_err(io)?;
        let start = Instant::now();
        socket.send(query).await.map_err(io)?;
        let mut buf = vec![0u8; 65535];
        let n = socket
            .recv(&mut buf)
            .await
            .map_err(|e| (e.to_string(), start.elapsed().as_secs_f64()))?;
        buf.truncate(n);
        return Ok((buf, start.elapsed().as_secs_f64()));
    }
    let stream = match source {
        Some(ip) => {
            let socket = if target.is_ipv4() {
                tokio::net::TcpSocket::new_v4()
            } else {
                tokio::net::TcpSocket::new_v6()
            }
            .map_err(io)?;
            socket.bind(SocketAddr::new(ip, 0)).map_err(io)?;
            socket.connect(target).await.map_err(io)?
        }
        None => TcpStream::connect(target).await.map_err(io)?,
    };
    if cfg.dns_over_tls {
        let (connector, name) = tls::connector(&cfg.tls_config, &[], host).map_err(|e| (e, 0.0))?;
        let stream = connector.connect(name, stream).await.map_err(io)?;
        return framed(stream, query).await;
    }
    framed(stream, query).await
}

/// DNS over a stream: two-byte length prefix each way.
async fn framed<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    query: &[u8],
) -> Result<(Vec<u8>, f64), (String, f64)> {
    let start = Instant::now();
    let fail = |e: std::io::Error| (e.to_string(), start.elapsed().as_secs_f64());
    let mut framed = (query.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    stream.write_all(&framed).await.map_err(fail)?;
    let len = stream.read_u16().await.map_err(fail)?;
    let mut buf = vec![0u8; usize::from(len)];
    stream.read_exact(&mut buf).await.map_err(fail)?;
    Ok((buf, start.elapsed().as_secs_f64()))
}
