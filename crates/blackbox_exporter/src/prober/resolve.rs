//! Target name resolution with upstream's preferred-protocol and fallback rules, and the
//! metrics every network prober reports about it.

use std::net::IpAddr;
use std::time::Instant;

use super::Probe;

/// Why no address could be chosen.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("{0}")]
    Lookup(#[from] std::io::Error),
    #[error("unable to find ip; no fallback")]
    NoAddress,
    #[error("no suitable address found for {0}")]
    NoneOfFamily(String),
}

/// [`choose_protocol`] for probers that report the lookup as the `resolve` phase of their own
/// duration metric (`duration` is its name and help); logs the failure as upstream does and
/// returns `None` when no address could be chosen.
pub async fn resolve_phase(
    probe: &Probe<'_>,
    ip_protocol: &str,
    fallback: bool,
    host: &str,
    duration: (&'static str, &'static str),
) -> Option<IpAddr> {
    match choose_protocol(probe, ip_protocol, fallback, host).await {
        Ok((ip, lookup_time)) => {
            probe.metrics.set_labelled(
                duration.0,
                duration.1,
                &["phase"],
                &["resolve"],
                lookup_time,
            );
            Some(ip)
        }
        Err(err) => {
            probe.log.error("Error resolving address", &[("err", &err)]);
            None
        }
    }
}

/// Resolves `host` preferring `ip_protocol` (`ip4`/`ip6`, default `ip6`), falling back to the
/// other family when allowed. Sets `probe_ip_protocol`, `probe_ip_addr_hash` and
/// `probe_dns_lookup_time_seconds`, and returns the address and the lookup time.
pub async fn choose_protocol(
    probe: &Probe<'_>,
    ip_protocol: &str,
    fallback: bool,
    host: &str,
) -> Result<(IpAddr, f64), ResolveError> {
    let m = probe.metrics;
    m.declare(
        "probe_ip_protocol",
        "Specifies whether probe ip protocol is IP4 or IP6",
        &[],
    );
    m.declare(
        "probe_dns_lookup_time_seconds",
        "Returns the time taken for probe dns lookup in seconds",
        &[],
    );
    m.declare(
        "probe_ip_addr_hash",
        "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
        &[],
    );
    let want_v4 = ip_protocol == "ip4";
    let protocol = if want_v4 { "ip4" } else { "ip6" };
    probe.log.debug(
        "Resolving target address",
        &[("target", &host), ("ip_protocol", &protocol)],
    );
    let start = Instant::now();
    let result = lookup(host).await;
    let elapsed = start.elapsed().as_secs_f64();
    m.add(
        "probe_dns_lookup_time_seconds",
        "Returns the time taken for probe dns lookup in seconds",
        elapsed,
    );
    let ips = match result {
        Ok(ips) => ips,
        Err(err) => {
            probe.log.error(
                "Resolution with IP protocol failed",
                &[("target", &host), ("err", &err)],
            );
            return Err(err.into());
        }
    };
    let preferred = ips.iter().find(|ip| ip.is_ipv4() == want_v4);
    let chosen = match (preferred, fallback) {
        (Some(ip), _) => *ip,
        (None, true) => *ips.first().ok_or(ResolveError::NoAddress)?,
        (None, false) => {
            let err = ResolveError::NoneOfFamily(host.to_owned());
            probe.log.error(
                "Resolution with IP protocol failed",
                &[("target", &host), ("ip_protocol", &protocol), ("err", &err)],
            );
            return Err(err);
        }
    };
    probe.log.debug(
        "Resolved target address",
        &[("target", &host), ("ip", &chosen)],
    );
    m.set(
        "probe_ip_protocol",
        "Specifies whether probe ip protocol is IP4 or IP6",
        if chosen.is_ipv4() { 4.0 } else { 6.0 },
    );
    m.set(
        "probe_ip_addr_hash",
        "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
        ip_hash(chosen),
    );
    Ok((chosen, elapsed))
}

pub async fn lookup(host: &str) -> std::io::Result<Vec<IpAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let addrs = tokio::net::lookup_host((bare, 0)).await?;
    let mut ips: Vec<IpAddr> = Vec::new();
    for addr in addrs {
        if !ips.contains(&addr.ip()) {
            ips.push(addr.ip());
        }
    }
    Ok(ips)
}

/// FNV-1a (32 bit) over the address bytes: 4 for IPv4, 16 for IPv6, as upstream hashes.
pub fn ip_hash(ip: IpAddr) -> f64 {
    let bytes: Vec<u8> = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().to_vec(),
        },
    };
    let mut hash: u32 = 0x811c_9dc5;
    for b in bytes {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    f64::from(hash)
}

/// Splits `host:port`, `[v6]:port`; the port is required.
pub fn split_host_port(target: &str) -> Result<(String, u16), String> {
    let missing = || format!("address {target}: missing port in address");
    let (host, port) = if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(missing)?;
        (host, after.strip_prefix(':').ok_or_else(missing)?)
    } else {
        let (host, port) = target.rsplit_once(':').ok_or_else(missing)?;
        if host.contains(':') {
            return Err(format!("address {target}: too many colons in address"));
        }
        (host, port)
    };
    let port = port
        .parse()
        .map_err(|_| format!("address {target}: invalid port"))?;
    Ok((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_hash_of_addresses() {
        // FNV-1a 32 of the bytes 127.0.0.1.
        assert_eq!(ip_hash("127.0.0.1".parse().unwrap()), 3_668_918_509.0);
        assert_ne!(
            ip_hash("::1".parse().unwrap()),
            ip_hash("127.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn host_port_forms() {
        assert_eq!(split_host_port("a:80").unwrap(), ("a".to_owned(), 80));
        assert_eq!(split_host_port("[::1]:53").unwrap(), ("::1".to_owned(), 53));
        assert!(split_host_port("a").is_err());
        assert!(split_host_port("::1:53").is_err());
    }
}
