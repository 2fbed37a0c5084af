//! The `HTTPClientConfig` YAML block of prometheus/common, field for field.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::proxy_url::{ProxyUrl, opt_proxy_url};
use crate::config::{Secret, join_dir};

/// A configuration that upstream's `Validate()` would refuse; the texts are upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("at most one of bearer_token & bearer_token_file must be configured")]
    BearerTokenAndFile,
    #[error(
        "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"
    )]
    BearerTokenWithOtherAuth,
    #[error("at most one of basic_auth username, username_file & username_ref must be configured")]
    UsernameAndFile,
    #[error("at most one of basic_auth password, password_file & password_ref must be configured")]
    PasswordAndFile,
    #[error("authorization is not compatible with bearer_token & bearer_token_file")]
    AuthorizationWithBearerToken,
    #[error("at most one of authorization credentials & credentials_file must be configured")]
    CredentialsAndFile,
    #[error("authorization type cannot be set to \"basic\", use \"basic_auth\" instead")]
    AuthorizationTypeBasic,
    #[error("at most one of basic_auth, oauth2 & authorization must be configured")]
    MultipleAuth,
    #[error("oauth2 client_id must be configured")]
    OAuth2ClientIdMissing,
    #[error("oauth2 token_url must be configured")]
    OAuth2TokenUrlMissing,
    #[error(
        "at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured"
    )]
    OAuth2SecretAndFile,
    #[error(
        "if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured"
    )]
    ConnectHeaderWithoutProxy,
    #[error("if proxy_from_environment is configured, proxy_url must not be configured")]
    ProxyFromEnvironmentAndUrl,
    #[error("if proxy_from_environment is configured, no_proxy must not be configured")]
    ProxyFromEnvironmentAndNoProxy,
    #[error("if no_proxy is configured, proxy_url must also be configured")]
    NoProxyWithoutUrl,
    #[error("at most one of ca, ca_file & ca_ref must be configured")]
    CaAndFile,
    #[error("at most one of cert, cert_file & cert_ref must be configured")]
    CertAndFile,
    #[error("at most one of key and key_file must be configured")]
    KeyAndFile,
    #[error(
        "exactly one of key or key_file must be configured when a client certificate is configured"
    )]
    CertWithoutKey,
    #[error("exactly one of cert or cert_file must be configured when a client key is configured")]
    KeyWithoutCert,
    #[error(
        "tls_config.max_version must be greater than or equal to tls_config.min_version if both are specified"
    )]
    MaxBelowMinVersion,
    #[error("setting header {0:?} is not allowed")]
    ReservedHeader(String),
}

/// `basic_auth`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BasicAuth {
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username_file: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub password: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub password_file: String,
}

/// `authorization`: an `Authorization: <type> <credentials>` header.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Authorization {
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub credentials: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub credentials_file: String,
}

/// `oauth2`: the client-credentials grant.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuth2 {
    pub client_id: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub client_secret: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_secret_file: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    pub token_url: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoint_params: BTreeMap<String, String>,
    pub tls_config: TlsConfig,
    // The proxy fields are inline in upstream's YAML. serde cannot combine `flatten` with
    // `deny_unknown_fields`, so they are spelled out here and in `HttpClientConfig`, and
    // `ProxyConfig` borrows them.
    #[serde(with = "opt_proxy_url", skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<ProxyUrl>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub no_proxy: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub proxy_from_environment: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub proxy_connect_header: BTreeMap<String, Vec<Secret>>,
}

impl OAuth2 {
    pub fn proxy(&self) -> ProxyConfig<'_> {
        ProxyConfig {
            proxy_url: self.proxy_url.as_ref(),
            no_proxy: &self.no_proxy,
            proxy_from_environment: self.proxy_from_environment,
            proxy_connect_header: &self.proxy_connect_header,
        }
    }
}

/// A TLS protocol version as written in YAML (`TLS10` … `TLS13`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls10 => "TLS10",
            TlsVersion::Tls11 => "TLS11",
            TlsVersion::Tls12 => "TLS12",
            TlsVersion::Tls13 => "TLS13",
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TlsVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        match s.as_str() {
            "TLS10" => Ok(TlsVersion::Tls10),
            "TLS11" => Ok(TlsVersion::Tls11),
            "TLS12" => Ok(TlsVersion::Tls12),
            "TLS13" => Ok(TlsVersion::Tls13),
            _ => Err(serde::de::Error::custom(format!(
                "unknown TLS version: {s}"
            ))),
        }
    }
}

/// `tls_config`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ca: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cert: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub key: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ca_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cert_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub server_name: String,
    pub insecure_skip_verify: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_version: Option<TlsVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_version: Option<TlsVersion>,
}

impl TlsConfig {
    pub fn set_directory(&mut self, dir: &Path) {
        self.ca_file = join_dir(dir, &self.ca_file);
        self.cert_file = join_dir(dir, &self.cert_file);
        self.key_file = join_dir(dir, &self.key_file);
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.ca.is_empty() && !self.ca_file.is_empty() {
            return Err(ConfigError::CaAndFile);
        }
        if !self.cert.is_empty() && !self.cert_file.is_empty() {
            return Err(ConfigError::CertAndFile);
        }
        if !self.key.is_empty() && !self.key_file.is_empty() {
            return Err(ConfigError::KeyAndFile);
        }
        match (self.uses_client_cert(), self.uses_client_key()) {
            (true, false) => return Err(ConfigError::CertWithoutKey),
            (false, true) => return Err(ConfigError::KeyWithoutCert),
            _ => {}
        }
        if let (Some(min), Some(max)) = (self.min_version, self.max_version)
            && max < min
        {
            return Err(ConfigError::MaxBelowMinVersion);
        }
        Ok(())
    }

    pub(crate) fn uses_client_cert(&self) -> bool {
        !self.cert.is_empty() || !self.cert_file.is_empty()
    }

    pub(crate) fn uses_client_key(&self) -> bool {
        !self.key.is_empty() || !self.key_file.is_empty()
    }
}

/// One entry of `http_headers`: values sent as given, secrets hidden in dumps, files read per
/// request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Header {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<Secret>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// Headers that change the connection or are set by the daemons themselves; upstream refuses
/// them in `http_headers`.
const RESERVED_HEADERS: [&str; 18] = [
    "authorization",
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-prometheus-scrape-timeout-seconds",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// Go's `http.CanonicalHeaderKey`, used in upstream's messages (`"X-Custom-Header"`).
pub(crate) fn canonical_header_key(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// The proxy settings, borrowed from whichever struct inlines them.
#[derive(Debug, Clone, Copy)]
pub struct ProxyConfig<'a> {
    pub proxy_url: Option<&'a ProxyUrl>,
    pub no_proxy: &'a str,
    pub proxy_from_environment: bool,
    pub proxy_connect_header: &'a BTreeMap<String, Vec<Secret>>,
}

impl ProxyConfig<'_> {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.proxy_connect_header.is_empty()
            && !self.proxy_from_environment
            && self.proxy_url.is_none()
        {
            return Err(ConfigError::ConnectHeaderWithoutProxy);
        }
        if self.proxy_from_environment && self.proxy_url.is_some() {
            return Err(ConfigError::ProxyFromEnvironmentAndUrl);
        }
        if self.proxy_from_environment && !self.no_proxy.is_empty() {
            return Err(ConfigError::ProxyFromEnvironmentAndNoProxy);
        }
        if self.proxy_url.is_none() && !self.no_proxy.is_empty() {
            return Err(ConfigError::NoProxyWithoutUrl);
        }
        Ok(())
    }
}

/// `HTTPClientConfig`: how a daemon talks to one kind of HTTP endpoint.
///
/// Call [`HttpClientConfig::set_directory`] with the config file's directory, then
/// [`HttpClientConfig::validate`], before building a client.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpClientConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2>,
    /// Deprecated upstream in favour of `authorization`, still accepted by 3.x;
    /// [`HttpClientConfig::validate`] moves it into `authorization`.
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub bearer_token: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bearer_token_file: String,
    pub tls_config: TlsConfig,
    pub follow_redirects: bool,
    pub enable_http2: bool,
    #[serde(with = "opt_proxy_url", skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<ProxyUrl>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub no_proxy: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub proxy_from_environment: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub proxy_connect_header: BTreeMap<String, Vec<Secret>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub http_headers: BTreeMap<String, Header>,
}

impl Default for HttpClientConfig {
    /// Upstream's `DefaultHTTPClientConfig`: redirects followed, HTTP/2 on.
    fn default() -> Self {
        HttpClientConfig {
            basic_auth: None,
            authorization: None,
            oauth2: None,
            bearer_token: Secret::default(),
            bearer_token_file: String::new(),
            tls_config: TlsConfig::default(),
            follow_redirects: true,
            enable_http2: true,
            proxy_url: None,
            no_proxy: String::new(),
            proxy_from_environment: false,
            proxy_connect_header: BTreeMap::new(),
            http_headers: BTreeMap::new(),
        }
    }
}

impl HttpClientConfig {
    /// The YAML keys of this block. Upstream inlines it into scrape, remote-write and
    /// Alertmanager configs; serde cannot combine `flatten` with `deny_unknown_fields`, so a
    /// struct that inlines it can use this list to split its mapping before deserializing.
    pub const FIELDS: [&'static str; 13] = [
        "basic_auth",
        "authorization",
        "oauth2",
        "bearer_token",
        "bearer_token_file",
        "tls_config",
        "follow_redirects",
        "enable_http2",
        "proxy_url",
        "no_proxy",
        "proxy_from_environment",
        "proxy_connect_header",
        "http_headers",
    ];

    pub fn proxy(&self) -> ProxyConfig<'_> {
        ProxyConfig {
            proxy_url: self.proxy_url.as_ref(),
            no_proxy: &self.no_proxy,
            proxy_from_environment: self.proxy_from_environment,
            proxy_connect_header: &self.proxy_connect_header,
        }
    }

    /// Resolves every relative `*_file` path against `dir`, the config file's directory.
    pub fn set_directory(&mut self, dir: &Path) {
        self.tls_config.set_directory(dir);
        if let Some(basic) = &mut self.basic_auth {
            basic.username_file = join_dir(dir, &basic.username_file);
            basic.password_file = join_dir(dir, &basic.password_file);
        }
        if let Some(authorization) = &mut self.authorization {
            authorization.credentials_file = join_dir(dir, &authorization.credentials_file);
        }
        if let Some(oauth2) = &mut self.oauth2 {
            oauth2.client_secret_file = join_dir(dir, &oauth2.client_secret_file);
            oauth2.tls_config.set_directory(dir);
        }
        for header in self.http_headers.values_mut() {
            for file in &mut header.files {
                *file = join_dir(dir, file);
            }
        }
        self.bearer_token_file = join_dir(dir, &self.bearer_token_file);
    }

    /// Upstream's `Validate()`, in upstream's order so the first error reported is the same.
    ///
    /// Like upstream it also normalises: the legacy `bearer_token(_file)` becomes an
    /// `authorization` block and an empty authorization type becomes `Bearer`.
    pub fn validate(&mut self) -> Result<(), ConfigError> {
        // Upstream checks the nested blocks while unmarshalling them, before this function.
        self.tls_config.validate()?;
        if let Some(oauth2) = &self.oauth2 {
            oauth2.tls_config.validate()?;
            oauth2.proxy().validate()?;
        }
        let has_bearer = !self.bearer_token.is_empty() || !self.bearer_token_file.is_empty();
        if !self.bearer_token.is_empty() && !self.bearer_token_file.is_empty() {
            return Err(ConfigError::BearerTokenAndFile);
        }
        if (self.basic_auth.is_some() || self.oauth2.is_some()) && has_bearer {
            return Err(ConfigError::BearerTokenWithOtherAuth);
        }
        if let Some(basic) = &self.basic_auth {
            if !basic.username.is_empty() && !basic.username_file.is_empty() {
                return Err(ConfigError::UsernameAndFile);
            }
            if !basic.password.is_empty() && !basic.password_file.is_empty() {
                return Err(ConfigError::PasswordAndFile);
            }
        }
        if let Some(authorization) = &mut self.authorization {
            if has_bearer {
                return Err(ConfigError::AuthorizationWithBearerToken);
            }
            if !authorization.credentials.is_empty() && !authorization.credentials_file.is_empty() {
                return Err(ConfigError::CredentialsAndFile);
            }
            authorization.kind = authorization.kind.trim().to_owned();
            if authorization.kind.is_empty() {
                authorization.kind = "Bearer".to_owned();
            }
            if authorization.kind.eq_ignore_ascii_case("basic") {
                return Err(ConfigError::AuthorizationTypeBasic);
            }
            if self.basic_auth.is_some() || self.oauth2.is_some() {
                return Err(ConfigError::MultipleAuth);
            }
        } else if has_bearer {
            self.authorization = Some(Authorization {
                kind: "Bearer".to_owned(),
                credentials: std::mem::take(&mut self.bearer_token),
                credentials_file: std::mem::take(&mut self.bearer_token_file),
            });
        }
        if let Some(oauth2) = &self.oauth2 {
            if self.basic_auth.is_some() {
                return Err(ConfigError::MultipleAuth);
            }
            if oauth2.client_id.is_empty() {
                return Err(ConfigError::OAuth2ClientIdMissing);
            }
            if oauth2.token_url.is_empty() {
                return Err(ConfigError::OAuth2TokenUrlMissing);
            }
            if !oauth2.client_secret.is_empty() && !oauth2.client_secret_file.is_empty() {
                return Err(ConfigError::OAuth2SecretAndFile);
            }
        }
        self.proxy().validate()?;
        self.validate_headers()
    }

    /// Header files are only read when sending: upstream does not check them at load time.
    fn validate_headers(&self) -> Result<(), ConfigError> {
        for name in self.http_headers.keys() {
            if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(ConfigError::ReservedHeader(canonical_header_key(name)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
