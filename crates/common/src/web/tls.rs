//! Turns a [`TlsServerConfig`] into a rustls server configuration with upstream's semantics:
//! Go's client-auth policies, SAN allow-listing, version bounds and suite/curve preferences.
//!
//! Go offers a few things rustls does not (TLS 1.0/1.1, CBC and RSA-key-exchange suites, P-521
//! key exchange). Those names are still accepted so that upstream configs load unchanged; they
//! are skipped, and only a config left with nothing usable is an error.

use std::sync::Arc;

use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use rustls::{
    CipherSuite, DigitallySignedStruct, DistinguishedName, NamedGroup, RootCertStore,
    SignatureScheme, SupportedCipherSuite, SupportedProtocolVersion,
};

use super::config::{Curve, TlsServerConfig, TlsVersion};
use super::error::ConfigError;

/// The names Go's `tls.CipherSuites()` knows, with their IANA identifiers.
pub(crate) const GO_CIPHER_SUITES: &[(&str, u16)] = &[
    ("TLS_AES_128_GCM_SHA256", 0x1301),
    ("TLS_AES_256_GCM_SHA384", 0x1302),
    ("TLS_CHACHA20_POLY1305_SHA256", 0x1303),
    ("TLS_RSA_WITH_AES_128_CBC_SHA", 0x002f),
    ("TLS_RSA_WITH_AES_256_CBC_SHA", 0x0035),
    ("TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009c),
    ("TLS_RSA_WITH_AES_256_GCM_SHA384", 0x009d),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xc009),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 0xc00a),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xc013),
    ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0xc014),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xc02b),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0xc02c),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xc02f),
    ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xc030),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca8),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca9),
];

/// Go's client authentication policies (`tls.ClientAuthType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientAuth {
    None,
    Request,
    RequireAny,
    VerifyIfGiven,
    RequireAndVerify,
}

impl ClientAuth {
    fn parse(s: &str) -> Result<Self, ConfigError> {
        Ok(match s {
            "" | "NoClientCert" => Self::None,
            "RequestClientCert" => Self::Request,
            // `RequireClientCert` is an old spelling upstream still accepts.
            "RequireAnyClientCert" | "RequireClientCert" => Self::RequireAny,
            "VerifyClientCertIfGiven" => Self::VerifyIfGiven,
            "RequireAndVerifyClientCert" => Self::RequireAndVerify,
            other => return Err(ConfigError::InvalidClientAuth(other.to_owned())),
        })
    }
}

/// Builds the server side of TLS, reading the certificate, key and client CA files now.
/// `Ok(None)` means the config has no TLS settings at all (plain HTTP).
pub(crate) fn server_config(
    c: &TlsServerConfig,
    http2: bool,
) -> Result<Option<Arc<ServerConfig>>, ConfigError> {
    if !c.is_enabled() {
        return Ok(None);
    }
    if c.cert_file.is_empty() && c.cert.is_empty() {
        return Err(ConfigError::MissingCert);
    }
    if c.key_file.is_empty() && c.key.is_empty() {
        return Err(ConfigError::MissingKey);
    }
    let cert_pem = read_or_inline("cert_file", &c.cert_file, &c.cert)?;
    let key_pem = read_or_inline("key_file", &c.key_file, c.key.expose())?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConfigError::KeyPair(format!("certificate: {e}")))?;
    if chain.is_empty() {
        return Err(ConfigError::KeyPair(
            "no certificate found in PEM data".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| ConfigError::KeyPair(format!("private key: {e}")))?;

    let provider = Arc::new(provider(c)?);
    let verifier = client_verifier(c, &provider)?;
    let versions = protocol_versions(c)?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| ConfigError::KeyPair(e.to_string()))?;
    config.ignore_client_order = c.prefer_server_cipher_suites;
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(Some(Arc::new(config)))
}

fn read_or_inline(field: &'static str, path: &str, inline: &str) -> Result<Vec<u8>, ConfigError> {
    if path.is_empty() {
        return Ok(inline.as_bytes().to_vec());
    }
    std::fs::read(path).map_err(|source| ConfigError::ReadTlsFile {
        field,
        path: path.into(),
        source,
    })
}

/// The ring provider restricted to the configured suites and groups. As in Go, the suite list
/// only governs TLS 1.2: TLS 1.3 suites are always offered.
fn provider(c: &TlsServerConfig) -> Result<CryptoProvider, ConfigError> {
    let mut provider = ring::default_provider();
    if !c.cipher_suites.is_empty() {
        let (tls13, tls12): (Vec<SupportedCipherSuite>, Vec<SupportedCipherSuite>) = provider
            .cipher_suites
            .iter()
            .partition(|s| matches!(s, SupportedCipherSuite::Tls13(_)));
        let chosen: Vec<SupportedCipherSuite> = c
            .cipher_suites
            .iter()
            .filter_map(|want| {
                tls12
                    .iter()
                    .find(|s| s.suite() == CipherSuite::from(want.id))
                    .copied()
            })
            .collect();
        if chosen.is_empty() && c.max_version < TlsVersion::Tls13 {
            let names: Vec<&str> = c.cipher_suites.iter().map(|s| s.name).collect();
            return Err(ConfigError::NoCipherSuite(names.join(", ")));
        }
        provider.cipher_suites = chosen.into_iter().chain(tls13).collect();
    }
    if !c.curve_preferences.is_empty() {
        let groups: Vec<_> = c
            .curve_preferences
            .iter()
            .filter_map(|curve| {
                let name = match curve {
                    Curve::P256 => NamedGroup::secp256r1,
                    Curve::P384 => NamedGroup::secp384r1,
                    Curve::P521 => NamedGroup::secp521r1,
                    Curve::X25519 => NamedGroup::X25519,
                };
                provider
                    .kx_groups
                    .iter()
                    .find(|g| g.name() == name)
                    .copied()
            })
            .collect();
        if groups.is_empty() {
            let names: Vec<String> = c.curve_preferences.iter().map(Curve::to_string).collect();
            return Err(ConfigError::NoCurve(names.join(", ")));
        }
        provider.kx_groups = groups;
    }
    Ok(provider)
}

fn protocol_versions(
    c: &TlsServerConfig,
) -> Result<Vec<&'static SupportedProtocolVersion>, ConfigError> {
    let in_range = |v: TlsVersion| c.min_version <= v && v <= c.max_version;
    let mut versions = Vec::with_capacity(2);
    if in_range(TlsVersion::Tls13) {
        versions.push(&rustls::version::TLS13);
    }
    if in_range(TlsVersion::Tls12) {
        versions.push(&rustls::version::TLS12);
    }
    if versions.is_empty() {
        return Err(ConfigError::NoTlsVersion {
            min: c.min_version.to_string(),
            max: c.max_version.to_string(),
        });
    }
    Ok(versions)
}

fn client_verifier(
    c: &TlsServerConfig,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, ConfigError> {
    let ca_pem = if c.client_ca_file.is_empty() {
        c.client_ca.as_bytes().to_vec()
    } else {
        read_or_inline("client_ca_file", &c.client_ca_file, "")?
    };
    let auth = ClientAuth::parse(&c.client_auth_type)?;
    let has_ca = !c.client_ca_file.is_empty() || !c.client_ca.is_empty();
    if has_ca && auth == ClientAuth::None {
        return Err(ConfigError::CaWithoutClientAuth);
    }
    let algorithms = provider.signature_verification_algorithms;
    let verifier: Arc<dyn ClientCertVerifier> = match auth {
        ClientAuth::None => return Ok(WebPkiClientVerifier::no_client_auth()),
        ClientAuth::Request => Arc::new(AnyClientCert {
            mandatory: false,
            algorithms,
        }),
        ClientAuth::RequireAny => Arc::new(AnyClientCert {
            mandatory: true,
            algorithms,
        }),
        ClientAuth::VerifyIfGiven | ClientAuth::RequireAndVerify => {
            if !has_ca {
                return Err(ConfigError::MissingClientCa(c.client_auth_type.clone()));
            }
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&ca_pem) {
                let cert = cert.map_err(|e| ConfigError::ClientCa(e.to_string()))?;
                // Like Go's AppendCertsFromPEM, certificates that do not parse are skipped.
                let _ = roots.add(cert);
            }
            let builder =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
            let builder = if auth == ClientAuth::VerifyIfGiven {
                builder.allow_unauthenticated()
            } else {
                builder
            };
            builder
                .build()
                .map_err(|e| ConfigError::ClientCa(e.to_string()))?
        }
    };
    Ok(match &c.client_allowed_sans {
        Some(allowed) => Arc::new(SanAllowList {
            inner: verifier,
            allowed: allowed.clone(),
        }),
        None => verifier,
    })
}

/// `RequestClientCert` / `RequireAnyClientCert`: the client proves it holds the key of the
/// certificate it sends, but the certificate itself is not checked against any CA.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `client_allowed_sans`: after the policy's own checks, the client certificate must carry one
/// of the listed DNS, e-mail, IP or URI subject alternative names.
///
/// A certificate is then always required: upstream's check indexes the first certificate
/// unconditionally, so a client sending none never gets through there either.
#[derive(Debug)]
struct SanAllowList {
    inner: Arc<dyn ClientCertVerifier>,
    allowed: Vec<String>,
}

impl ClientCertVerifier for SanAllowList {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        let sans = subject_alt_names(end_entity).map_err(|e| {
            rustls::Error::General(format!("error parsing client certificate: {e}"))
        })?;
        if sans.iter().any(|san| self.allowed.contains(san)) {
            Ok(verified)
        } else {
            Err(rustls::Error::General(format!(
                "could not find allowed SANs in client cert, found: {:?}",
                self.allowed
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The SAN values of a certificate, spelled as Go prints them (IPv4-mapped IPv6 addresses in
/// dotted form).
fn subject_alt_names(
    der: &[u8],
) -> Result<Vec<String>, x509_parser::nom::Err<x509_parser::error::X509Error>> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der)?;
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Ok(Vec::new());
    };
    Ok(san
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(s) | GeneralName::RFC822Name(s) | GeneralName::URI(s) => {
                Some((*s).to_owned())
            }
            GeneralName::IPAddress(bytes) => ip_to_string(bytes),
            _ => None,
        })
        .collect())
}

fn ip_to_string(bytes: &[u8]) -> Option<String> {
    use std::net::{Ipv4Addr, Ipv6Addr};
    match bytes.len() {
        4 => Some(Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?).to_string()),
        16 => {
            let v6 = Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?);
            Some(
                v6.to_ipv4_mapped()
                    .map_or_else(|| v6.to_string(), |v4| v4.to_string()),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_sans_are_spelled_like_go() {
        assert_eq!(ip_to_string(&[10, 0, 0, 1]).as_deref(), Some("10.0.0.1"));
        let mapped = std::net::Ipv4Addr::new(192, 0, 2, 7)
            .to_ipv6_mapped()
            .octets();
        assert_eq!(ip_to_string(&mapped).as_deref(), Some("192.0.2.7"));
        let v6 = "2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets();
        assert_eq!(ip_to_string(&v6).as_deref(), Some("2001:db8::1"));
        assert_eq!(ip_to_string(&[1, 2, 3]), None);
    }

    #[test]
    fn client_auth_names() {
        assert_eq!(
            ClientAuth::parse("RequireClientCert").unwrap(),
            ClientAuth::RequireAny
        );
        assert_eq!(ClientAuth::parse("").unwrap(), ClientAuth::None);
        let err = ClientAuth::parse("Bogus").unwrap_err();
        assert_eq!(err.to_string(), "invalid ClientAuth: Bogus");
    }

    #[test]
    fn version_range_outside_rustls_is_an_error() {
        let c = TlsServerConfig {
            min_version: TlsVersion::Tls10,
            max_version: TlsVersion::Tls11,
            ..TlsServerConfig::default()
        };
        assert!(matches!(
            protocol_versions(&c),
            Err(ConfigError::NoTlsVersion { .. })
        ));
        let c = TlsServerConfig {
            min_version: TlsVersion::Tls13,
            ..TlsServerConfig::default()
        };
        assert_eq!(protocol_versions(&c).unwrap().len(), 1);
    }
}
