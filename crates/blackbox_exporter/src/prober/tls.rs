//! TLS for probes: client configs from `tls_config`, and the `probe_ssl_*` / `probe_tls_*`
//! metrics read from the peer's certificates after a handshake.

use std::sync::Arc;

use pm_common::config::http::{TlsConfig, client_config};
use rustls::ClientConnection;
use rustls_pki_types::{CertificateDer, ServerName};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::metrics::ProbeMetrics;

/// Help texts shared by every prober that reports certificates.
pub const EARLIEST_EXPIRY: (&str, &str) = (
    "probe_ssl_earliest_cert_expiry",
    "Returns last SSL chain expiry in unixtime",
);
pub const LAST_CHAIN_EXPIRY: (&str, &str) = (
    "probe_ssl_last_chain_expiry_timestamp_seconds",
    "Returns last SSL chain expiry in timestamp",
);
pub const TLS_VERSION: (&str, &str) = (
    "probe_tls_version_info",
    "Returns the TLS version used or NaN when unknown",
);
pub const LAST_CHAIN_INFO: (&str, &str) = (
    "probe_ssl_last_chain_info",
    "Contains SSL leaf certificate information",
);

/// Builds the rustls config for `cfg` with `alpn`, and the name to verify the peer as: the
/// configured `server_name`, else `default_name` (the target host).
pub fn connector(
    cfg: &TlsConfig,
    alpn: &[&[u8]],
    default_name: &str,
) -> Result<(tokio_rustls::TlsConnector, ServerName<'static>), String> {
    let config = client_config(cfg, alpn).map_err(|e| e.to_string())?;
    let name = if cfg.server_name.is_empty() {
        default_name.trim_start_matches('[').trim_end_matches(']')
    } else {
        cfg.server_name.as_str()
    };
    let server_name = ServerName::try_from(name.to_owned()).map_err(|e| e.to_string())?;
    Ok((
        tokio_rustls::TlsConnector::from(Arc::new(config)),
        server_name,
    ))
}

/// What the metrics need from a finished handshake, detached from the connection.
#[derive(Debug, Clone)]
pub struct TlsInfo {
    pub certs: Vec<CertificateDer<'static>>,
    pub version: &'static str,
    pub cipher: String,
}

impl TlsInfo {
    pub fn from_conn(conn: &ClientConnection) -> Self {
        let cipher = conn
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .map(|name| name.replacen("TLS13_", "TLS_", 1))
            .unwrap_or_default();
        TlsInfo {
            certs: conn
                .peer_certificates()
                .unwrap_or_default()
                .iter()
                .map(|c| c.clone().into_owned())
                .collect(),
            version: tls_version(conn),
            cipher,
        }
    }
}

/// Sets the certificate and version metrics for an established session.
pub fn record(metrics: &ProbeMetrics, conn: &ClientConnection) {
    record_info(metrics, &TlsInfo::from_conn(conn));
}

/// [`record`] for a session already detached from its connection.
pub fn record_info(metrics: &ProbeMetrics, info: &TlsInfo) {
    let certs = &info.certs;
    let parsed: Vec<X509Certificate<'_>> = certs
        .iter()
        .filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c))
        .collect();
    let earliest = parsed
        .iter()
        .map(|c| c.validity().not_after.timestamp())
        .min()
        .unwrap_or(GO_ZERO_TIME_UNIX);
    metrics.set(EARLIEST_EXPIRY.0, EARLIEST_EXPIRY.1, earliest as f64);
    // rustls verified the presented chain (unless verification is off); it does not expose
    // alternative chains, so the presented one stands for the verified chain.
    metrics.set(LAST_CHAIN_EXPIRY.0, LAST_CHAIN_EXPIRY.1, earliest as f64);
    metrics.set_labelled(
        TLS_VERSION.0,
        TLS_VERSION.1,
        &["version"],
        &[info.version],
        1.0,
    );
    if let (Some(der), Some(leaf)) = (certs.first(), parsed.first()) {
        let info = leaf_info(der, leaf);
        metrics.set_labelled(
            LAST_CHAIN_INFO.0,
            LAST_CHAIN_INFO.1,
            &[
                "fingerprint_sha256",
                "subject",
                "issuer",
                "subjectalternative",
                "serialnumber",
            ],
            &[&info[0], &info[1], &info[2], &info[3], &info[4]],
            1.0,
        );
    }
}

/// Go's zero `time.Time` in Unix seconds, which upstream reports when no certificate exists.
const GO_ZERO_TIME_UNIX: i64 = -62_135_596_800;

fn tls_version(conn: &ClientConnection) -> &'static str {
    match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2",
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3",
        _ => "unknown",
    }
}

/// Fingerprint, subject, issuer, DNS names and serial of the leaf, formatted as Go does.
fn leaf_info(der: &CertificateDer<'_>, leaf: &X509Certificate<'_>) -> [String; 5] {
    let digest = ring::digest::digest(&ring::digest::SHA256, der.as_ref());
    let fingerprint = hex(digest.as_ref());
    let dns_names = leaf
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => Some(*d),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let serial = leaf.raw_serial();
    let serial = hex(&serial[serial.iter().take_while(|b| **b == 0).count()..]);
    [
        fingerprint,
        go_name(leaf.subject()),
        go_name(leaf.issuer()),
        dns_names,
        serial,
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A distinguished name as Go's `pkix.Name.String()` prints it: RDNs last to first,
/// comma-separated, with the short attribute names.
fn go_name(name: &x509_parser::x509::X509Name<'_>) -> String {
    use x509_parser::oid_registry as oids;
    let short = |oid: &x509_parser::der_parser::oid::Oid<'_>| -> Option<&'static str> {
        [
            (oids::OID_X509_COMMON_NAME, "CN"),
            (oids::OID_X509_ORGANIZATION_NAME, "O"),
            (oids::OID_X509_ORGANIZATIONAL_UNIT, "OU"),
            (oids::OID_X509_COUNTRY_NAME, "C"),
            (oids::OID_X509_LOCALITY_NAME, "L"),
            (oids::OID_X509_STATE_OR_PROVINCE_NAME, "ST"),
            (oids::OID_X509_STREET_ADDRESS, "STREET"),
            (oids::OID_X509_POSTAL_CODE, "POSTALCODE"),
            (oids::OID_X509_SERIALNUMBER, "SERIALNUMBER"),
        ]
        .into_iter()
        .find(|(o, _)| o == oid)
        .map(|(_, s)| s)
    };
    let mut parts = Vec::new();
    for rdn in name.iter().collect::<Vec<_>>().into_iter().rev() {
        let attrs: Vec<String> = rdn
            .iter()
            .map(|attr| {
                let key = short(attr.attr_type())
                    .map_or_else(|| attr.attr_type().to_id_string(), str::to_owned);
                let value = attr.as_str().unwrap_or_default();
                format!("{key}={}", escape_dn(value))
            })
            .collect();
        parts.push(attrs.join("+"));
    }
    parts.join(",")
}

/// RFC 4514 escaping, as Go applies it.
fn escape_dn(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let n = value.chars().count();
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == ' ' || c == '#'))
            || (i + 1 == n && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
