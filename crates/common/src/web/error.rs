//! Errors of the web toolkit. Messages follow exporter-toolkit's wording where it has one, so
//! that operators can search for them.

use std::io;
use std::path::PathBuf;

/// A web config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading web config file {path}: {source}", path = path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("parsing web config file {path}: {source}", path = path.display())]
    Parse {
        path: PathBuf,
        source: serde_norway::Error,
    },
    #[error("HTTP header {0:?} can not be configured")]
    HeaderNotAllowed(String),
    #[error("invalid value for {name}. Expected one of: [{allowed}], but got: {value:?}")]
    HeaderValue {
        name: String,
        allowed: String,
        value: String,
    },
    #[error("invalid bcrypt hash for user {user:?}: {source}")]
    PasswordHash {
        user: String,
        source: bcrypt::BcryptError,
    },
    #[error("missing one of cert or cert_file")]
    MissingCert,
    #[error("missing one of key or key_file")]
    MissingKey,
    #[error("failed to read {field} ({path}): {source}", path = path.display())]
    ReadTlsFile {
        field: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("failed to load X509KeyPair: {0}")]
    KeyPair(String),
    #[error("invalid ClientAuth: {0}")]
    InvalidClientAuth(String),
    #[error("client CA's have been configured without a Client Auth Policy")]
    CaWithoutClientAuth,
    #[error(
        "client_auth_type {0} verifies client certificates and needs client_ca_file or client_ca"
    )]
    MissingClientCa(String),
    #[error("invalid client CA certificate: {0}")]
    ClientCa(String),
    #[error(
        "no TLS version supported between min_version {min} and max_version {max} (TLS12 and TLS13 are available)"
    )]
    NoTlsVersion { min: String, max: String },
    #[error("none of the configured cipher_suites is available: {0}")]
    NoCipherSuite(String),
    #[error("none of the configured curve_preferences is available: {0}")]
    NoCurve(String),
    #[error("building the TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// Why [`super::serve`] stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("no web listen address specified")]
    NoListeners,
    #[error("invalid listen address {address:?}: {reason}")]
    Address { address: String, reason: String },
    #[error("listen tcp {address}: {source}")]
    Bind { address: String, source: io::Error },
    #[error(transparent)]
    Config(#[from] ConfigError),
}
