//! The `--web.config.file` format shared by every daemon, as defined by exporter-toolkit
//! (`docs/web-configuration.md`): TLS server settings, HTTP response headers, basic-auth users
//! and a request rate limit.
//!
//! Parsing is strict (unknown keys are errors) and relative file paths are resolved against the
//! directory of the config file, as upstream does, so a config can be moved with its certificates.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::error::ConfigError;
use super::tls;
use crate::config::{Secret, parse_go_duration};

/// The whole web config file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    #[serde(deserialize_with = "nullable")]
    pub tls_server_config: TlsServerConfig,
    #[serde(deserialize_with = "nullable")]
    pub http_server_config: HttpServerConfig,
    #[serde(deserialize_with = "nullable")]
    pub rate_limit: RateLimitConfig,
    /// User name → bcrypt hash of the password.
    #[serde(deserialize_with = "nullable")]
    pub basic_auth_users: BTreeMap<String, Secret>,
}

/// `tls_server_config`. Inline PEM (`cert`, `key`, `client_ca`) and file paths are alternatives.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsServerConfig {
    pub cert: String,
    pub key: Secret,
    pub client_ca: String,
    pub cert_file: String,
    pub key_file: String,
    /// Kept as the raw string: upstream only rejects an unknown value when TLS is set up, so a
    /// config without certificates but with a bad policy still loads.
    pub client_auth_type: String,
    pub client_ca_file: String,
    /// `None` when absent: an empty list present in the file still enables the SAN check
    /// (and then rejects every client), as upstream does.
    pub client_allowed_sans: Option<Vec<String>>,
    pub min_version: TlsVersion,
    pub max_version: TlsVersion,
    #[serde(deserialize_with = "nullable")]
    pub cipher_suites: Vec<Cipher>,
    #[serde(deserialize_with = "nullable")]
    pub curve_preferences: Vec<Curve>,
    pub prefer_server_cipher_suites: bool,
}

impl Default for TlsServerConfig {
    fn default() -> Self {
        Self {
            cert: String::new(),
            key: Secret::default(),
            client_ca: String::new(),
            cert_file: String::new(),
            key_file: String::new(),
            client_auth_type: String::new(),
            client_ca_file: String::new(),
            client_allowed_sans: None,
            min_version: TlsVersion::Tls12,
            max_version: TlsVersion::Tls13,
            cipher_suites: Vec::new(),
            curve_preferences: Vec::new(),
            prefer_server_cipher_suites: true,
        }
    }
}

impl TlsServerConfig {
    /// Whether any TLS setting is present, i.e. whether the server should speak TLS at all.
    /// It says nothing about the settings being complete.
    pub fn is_enabled(&self) -> bool {
        [
            &self.cert_file,
            &self.cert,
            &self.key_file,
            self.key.expose(),
            &self.client_ca_file,
            &self.client_ca,
            &self.client_auth_type,
        ]
        .iter()
        .any(|s| !s.is_empty())
    }

    /// The files this config reads, so callers can notice when one of them changes.
    pub fn referenced_files(&self) -> impl Iterator<Item = &Path> {
        [&self.cert_file, &self.key_file, &self.client_ca_file]
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(Path::new)
    }

    fn resolve_paths(&mut self, dir: &Path) {
        for p in [
            &mut self.cert_file,
            &mut self.key_file,
            &mut self.client_ca_file,
        ] {
            if !p.is_empty() && Path::new(p.as_str()).is_relative() {
                *p = dir.join(p.as_str()).to_string_lossy().into_owned();
            }
        }
    }
}

/// `http_server_config`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpServerConfig {
    /// Only meaningful with TLS (no cleartext HTTP/2 upgrade is offered by upstream); read once
    /// at start-up.
    pub http2: bool,
    #[serde(deserialize_with = "nullable")]
    pub headers: BTreeMap<String, String>,
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        Self {
            http2: true,
            headers: BTreeMap::new(),
        }
    }
}

/// `rate_limit`: a token bucket refilled by one token per `interval`, holding at most `burst`.
/// A zero interval disables it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub burst: u32,
    #[serde(deserialize_with = "go_duration")]
    pub interval: Duration,
}

/// The TLS protocol versions upstream accepts by name (`TLS10` … `TLS13`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVersion {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "TLS10" => Self::Tls10,
            "TLS11" => Self::Tls11,
            "TLS12" => Self::Tls12,
            "TLS13" => Self::Tls13,
            _ => return None,
        })
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tls10 => "TLS10",
            Self::Tls11 => "TLS11",
            Self::Tls12 => "TLS12",
            Self::Tls13 => "TLS13",
        })
    }
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown TLS version: {s}")))
    }
}

/// A cipher suite named as Go's `tls.CipherSuites()` names it. Only names Go accepts parse;
/// whether rustls implements the suite is decided when the TLS config is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cipher {
    pub name: &'static str,
    /// IANA identifier.
    pub id: u16,
}

impl<'de> Deserialize<'de> for Cipher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        tls::GO_CIPHER_SUITES
            .iter()
            .find(|(name, _)| *name == s)
            .map(|&(name, id)| Cipher { name, id })
            .ok_or_else(|| serde::de::Error::custom(format!("unknown cipher: {s}")))
    }
}

/// An ECDHE group named as Go's `tls.CurveID` constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
    X25519,
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::P256 => "CurveP256",
            Self::P384 => "CurveP384",
            Self::P521 => "CurveP521",
            Self::X25519 => "X25519",
        })
    }
}

impl<'de> Deserialize<'de> for Curve {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "CurveP256" => Self::P256,
            "CurveP384" => Self::P384,
            "CurveP521" => Self::P521,
            "X25519" => Self::X25519,
            _ => return Err(serde::de::Error::custom(format!("unknown curve: {s}"))),
        })
    }
}

/// Response headers a config may set, with the only values allowed for each (empty: any value).
/// The list is closed on purpose, as upstream's, so that every daemon offers the same knobs.
const ALLOWED_HEADERS: &[(&str, &[&str])] = &[
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

impl WebConfig {
    /// Reads and parses `path`, checks the headers and resolves relative paths. Users' hashes and
    /// the TLS material are checked by [`super::LoadedConfig::load`].
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Self::from_yaml(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })?;
        config.validate_headers()?;
        let dir = path
            .parent()
            .map(Path::to_owned)
            .unwrap_or_else(|| PathBuf::from("."));
        config.tls_server_config.resolve_paths(&dir);
        Ok(config)
    }

    /// Parses YAML text; an empty document is the default config.
    pub fn from_yaml(text: &str) -> Result<Self, serde_norway::Error> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        Ok(
            Option::<Self>::deserialize(serde_norway::Deserializer::from_str(text))?
                .unwrap_or_default(),
        )
    }

    /// Checks the configured header names and the values of the enumerated ones.
    pub fn validate_headers(&self) -> Result<(), ConfigError> {
        for (name, value) in &self.http_server_config.headers {
            let Some((_, allowed)) = ALLOWED_HEADERS.iter().find(|(n, _)| n == name) else {
                return Err(ConfigError::HeaderNotAllowed(name.clone()));
            };
            if !allowed.is_empty() && !allowed.contains(&value.as_str()) {
                return Err(ConfigError::HeaderValue {
                    name: name.clone(),
                    allowed: allowed
                        .iter()
                        .map(|v| format!("{v:?}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    value: value.clone(),
                });
            }
        }
        Ok(())
    }

    /// Checks that every password entry is a bcrypt hash.
    pub fn validate_users(&self) -> Result<(), ConfigError> {
        for (user, hash) in &self.basic_auth_users {
            hash.expose()
                .parse::<bcrypt::HashParts>()
                .map_err(|source| ConfigError::PasswordHash {
                    user: user.clone(),
                    source,
                })?;
        }
        Ok(())
    }
}

/// Go's YAML decoder leaves a field at its zero value when the key is present but null
/// (`basic_auth_users:` with nothing under it); serde would reject that.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A Go `time.Duration` as go-yaml decodes it: a `time.ParseDuration` string, or an integer
/// number of nanoseconds.
fn go_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Nanos(u64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(Duration::ZERO),
        Some(Raw::Nanos(n)) => Ok(Duration::from_nanos(n)),
        Some(Raw::Text(s)) => parse_go_duration(&s).map_err(serde::de::Error::custom),
    }
}
