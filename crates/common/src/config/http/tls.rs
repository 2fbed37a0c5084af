//! Turns a `tls_config` block into a rustls client configuration.
//!
//! Upstream re-reads `ca_file`, `cert_file` and `key_file` while running, so that rotated
//! certificates are used without a reload. Here the same happens at handshake time: the server
//! certificate verifier re-reads the CA file (rebuilding its trust store only when the content
//! changed) and the client certificate resolver re-reads the certificate and key files.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::config::{ConfigError, TlsConfig, TlsVersion};
use crate::config::{SecretError, SecretSource};

/// A `tls_config` that cannot be turned into a working TLS setup.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("unable to read CA cert: {0}")]
    ReadCa(#[source] SecretError),
    #[error("unable to use specified CA cert {0}")]
    InvalidCa(String),
    #[error("unable to read specified client cert: {0}")]
    ReadCert(#[source] SecretError),
    #[error("unable to read specified client key: {0}")]
    ReadKey(#[source] SecretError),
    #[error("unable to use specified client cert ({cert}) & key ({key}): {message}")]
    InvalidClientPair {
        cert: String,
        key: String,
        message: String,
    },
    /// rustls implements TLS 1.2 and 1.3 only; capping below that cannot be honoured.
    #[error("tls_config.max_version {0} is not supported: the lowest available version is TLS12")]
    UnsupportedMaxVersion(TlsVersion),
    #[error("invalid tls_config.server_name {0:?}")]
    InvalidServerName(String),
    #[error("setting up TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The one crypto provider of the project (see DESIGN.md: ring everywhere).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the rustls configuration for `cfg`, offering `alpn` protocols.
pub fn client_config(cfg: &TlsConfig, alpn: &[&[u8]]) -> Result<ClientConfig, TlsError> {
    cfg.validate()?;
    let provider = provider();
    let versions = protocol_versions(cfg)?;
    let verifier = Verifier::new(cfg, provider.clone())?;
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match ClientCert::new(cfg, provider)? {
        Some(resolver) => builder.with_client_cert_resolver(Arc::new(resolver)),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// Go clients default to TLS 1.2 as minimum, which is also the lowest rustls speaks, so
/// `min_version: TLS10/TLS11` changes nothing.
fn protocol_versions(
    cfg: &TlsConfig,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, TlsError> {
    if let Some(max) = cfg.max_version
        && max < TlsVersion::Tls12
    {
        return Err(TlsError::UnsupportedMaxVersion(max));
    }
    let min = cfg.min_version.unwrap_or(TlsVersion::Tls12);
    let max = cfg.max_version.unwrap_or(TlsVersion::Tls13);
    let mut versions = Vec::with_capacity(2);
    if min <= TlsVersion::Tls12 && max >= TlsVersion::Tls12 {
        versions.push(&rustls::version::TLS12);
    }
    if max >= TlsVersion::Tls13 {
        versions.push(&rustls::version::TLS13);
    }
    if versions.is_empty() {
        return Err(ConfigError::MaxBelowMinVersion.into());
    }
    Ok(versions)
}

/// Reads a CA bundle; `None` when it holds no usable certificate.
fn root_store(pem: &str) -> Option<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()).flatten() {
        // Go skips certificates it cannot parse and fails only if none was added.
        let _ = roots.add(cert);
    }
    (!roots.is_empty()).then_some(roots)
}

/// Which server certificates are trusted.
#[derive(Debug)]
enum Trust {
    /// `insecure_skip_verify`: any certificate; handshake signatures are still checked.
    Anything,
    /// No CA configured: the operating system's trust store, as Go does.
    System(Arc<rustls_platform_verifier::Verifier>),
    /// `ca` / `ca_file`.
    Ca(CaTrust),
}

#[derive(Debug)]
struct CaTrust {
    source: SecretSource,
    provider: Arc<CryptoProvider>,
    /// The CA text last read and the verifier built from it.
    current: Mutex<(String, Arc<WebPkiServerVerifier>)>,
}

impl CaTrust {
    fn new(source: SecretSource, provider: Arc<CryptoProvider>) -> Result<Self, TlsError> {
        let pem = source.fetch().map_err(TlsError::ReadCa)?;
        let verifier = Self::build(&source, &pem, &provider)?;
        Ok(CaTrust {
            source,
            provider,
            current: Mutex::new((pem, verifier)),
        })
    }

    fn build(
        source: &SecretSource,
        pem: &str,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Arc<WebPkiServerVerifier>, TlsError> {
        let roots = root_store(pem).ok_or_else(|| TlsError::InvalidCa(source.description()))?;
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|err| TlsError::InvalidCa(format!("{}: {err}", source.description())))
    }

    /// The verifier for the CA as it is now on disk.
    fn verifier(&self) -> Result<Arc<WebPkiServerVerifier>, rustls::Error> {
        if self.source.is_immutable() {
            return Ok(lock(&self.current).1.clone());
        }
        let pem = self
            .source
            .fetch()
            .map_err(|err| rustls::Error::General(TlsError::ReadCa(err).to_string()))?;
        let mut current = lock(&self.current);
        if current.0 != pem {
            let verifier = Self::build(&self.source, &pem, &self.provider)
                .map_err(|err| rustls::Error::General(err.to_string()))?;
            *current = (pem, verifier);
        }
        Ok(current.1.clone())
    }
}

/// Poisoning only means another handshake panicked; the cached data is still consistent.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Verifies server certificates per `tls_config`, checking them against `server_name` when one
/// is configured instead of the host of the URL (Go's `tls.Config.ServerName`).
#[derive(Debug)]
struct Verifier {
    trust: Trust,
    server_name: Option<ServerName<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl Verifier {
    fn new(cfg: &TlsConfig, provider: Arc<CryptoProvider>) -> Result<Self, TlsError> {
        let server_name = match cfg.server_name.as_str() {
            "" => None,
            name => Some(
                ServerName::try_from(name.to_owned())
                    .map_err(|_| TlsError::InvalidServerName(name.to_owned()))?,
            ),
        };
        let algorithms = provider.signature_verification_algorithms;
        let ca = SecretSource::from_pair(&cfg.ca.as_str().into(), &cfg.ca_file);
        let trust = if cfg.insecure_skip_verify {
            Trust::Anything
        } else if let Some(source) = ca {
            Trust::Ca(CaTrust::new(source, provider)?)
        } else {
            Trust::System(Arc::new(rustls_platform_verifier::Verifier::new(provider)?))
        };
        Ok(Verifier {
            trust,
            server_name,
            algorithms,
        })
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let name = self.server_name.as_ref().unwrap_or(server_name);
        match &self.trust {
            Trust::Anything => Ok(ServerCertVerified::assertion()),
            Trust::System(verifier) => {
                verifier.verify_server_cert(end_entity, intermediates, name, ocsp_response, now)
            }
            Trust::Ca(ca) => ca.verifier()?.verify_server_cert(
                end_entity,
                intermediates,
                name,
                ocsp_response,
                now,
            ),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Presents the configured client certificate, re-reading file-based ones at each handshake.
#[derive(Debug)]
struct ClientCert {
    cert: SecretSource,
    key: SecretSource,
    provider: Arc<CryptoProvider>,
    /// The PEM texts last loaded and the key pair parsed from them.
    current: Mutex<(String, String, Arc<CertifiedKey>)>,
}

impl ClientCert {
    fn new(cfg: &TlsConfig, provider: Arc<CryptoProvider>) -> Result<Option<Self>, TlsError> {
        let cert = SecretSource::from_pair(&cfg.cert.as_str().into(), &cfg.cert_file);
        let key = SecretSource::from_pair(&cfg.key, &cfg.key_file);
        let (Some(cert), Some(key)) = (cert, key) else {
            return Ok(None);
        };
        let (cert_pem, key_pem, pair) = Self::load(&cert, &key, &provider)?;
        Ok(Some(ClientCert {
            cert,
            key,
            provider,
            current: Mutex::new((cert_pem, key_pem, pair)),
        }))
    }

    fn load(
        cert: &SecretSource,
        key: &SecretSource,
        provider: &CryptoProvider,
    ) -> Result<(String, String, Arc<CertifiedKey>), TlsError> {
        let cert_pem = cert.fetch().map_err(TlsError::ReadCert)?;
        let key_pem = key.fetch().map_err(TlsError::ReadKey)?;
        let pair = Self::parse(&cert_pem, &key_pem, provider).map_err(|message| {
            TlsError::InvalidClientPair {
                cert: cert.description(),
                key: key.description(),
                message,
            }
        })?;
        Ok((cert_pem, key_pem, Arc::new(pair)))
    }

    fn parse(
        cert_pem: &str,
        key_pem: &str,
        provider: &CryptoProvider,
    ) -> Result<CertifiedKey, String> {
        let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| format!("parsing certificate: {err}"))?;
        if chain.is_empty() {
            return Err("no certificate found".to_owned());
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|err| format!("parsing private key: {err}"))?;
        CertifiedKey::from_der(chain, key, provider).map_err(|err| err.to_string())
    }

    fn current(&self) -> Result<Arc<CertifiedKey>, TlsError> {
        if self.cert.is_immutable() && self.key.is_immutable() {
            return Ok(lock(&self.current).2.clone());
        }
        let cert_pem = self.cert.fetch().map_err(TlsError::ReadCert)?;
        let key_pem = self.key.fetch().map_err(TlsError::ReadKey)?;
        let mut current = lock(&self.current);
        if current.0 != cert_pem || current.1 != key_pem {
            let (cert_pem, key_pem, pair) = Self::load(&self.cert, &self.key, &self.provider)?;
            *current = (cert_pem, key_pem, pair);
        }
        Ok(current.2.clone())
    }
}

impl ResolvesClientCert for ClientCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        match self.current() {
            Ok(pair) => Some(pair),
            Err(err) => {
                // The handshake continues without a certificate; the server decides.
                tracing::error!(error = %err, "loading TLS client certificate");
                None
            }
        }
    }

    fn has_certs(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(min: Option<TlsVersion>, max: Option<TlsVersion>) -> Result<Vec<u16>, String> {
        let cfg = TlsConfig {
            min_version: min,
            max_version: max,
            ..TlsConfig::default()
        };
        protocol_versions(&cfg)
            .map(|v| v.iter().map(|v| u16::from(v.version)).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn version_bounds_map_to_rustls() {
        use TlsVersion::*;
        assert_eq!(versions(None, None), Ok(vec![0x0303, 0x0304]));
        assert_eq!(versions(Some(Tls10), None), Ok(vec![0x0303, 0x0304]));
        assert_eq!(versions(Some(Tls13), None), Ok(vec![0x0304]));
        assert_eq!(versions(None, Some(Tls12)), Ok(vec![0x0303]));
        assert_eq!(
            versions(None, Some(Tls11)),
            Err("tls_config.max_version TLS11 is not supported: the lowest available version is TLS12".into())
        );
    }

    #[test]
    fn bad_ca_and_pairs_are_reported() {
        let cfg = TlsConfig {
            ca: "not a certificate".into(),
            ..TlsConfig::default()
        };
        let err = client_config(&cfg, &[]).unwrap_err().to_string();
        assert_eq!(err, "unable to use specified CA cert inline");

        let cfg = TlsConfig {
            cert_file: "/nonexistent/cert.pem".into(),
            key_file: "/nonexistent/key.pem".into(),
            insecure_skip_verify: true,
            ..TlsConfig::default()
        };
        let err = client_config(&cfg, &[]).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "unable to read specified client cert: unable to read file /nonexistent/cert.pem:"
            ),
            "{err}"
        );

        let cfg = TlsConfig {
            cert: "garbage".into(),
            key: "garbage".into(),
            insecure_skip_verify: true,
            ..TlsConfig::default()
        };
        let err = client_config(&cfg, &[]).unwrap_err().to_string();
        assert_eq!(
            err,
            "unable to use specified client cert (inline) & key (inline): no certificate found"
        );
    }
}
