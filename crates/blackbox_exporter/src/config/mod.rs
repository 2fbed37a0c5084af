//! blackbox.yml: named modules, each a prober kind with its settings.
//!
//! Upstream validates while decoding (each section's `UnmarshalYAML`); here regular expressions
//! are compiled while decoding and the remaining checks run right after, with upstream's
//! messages, so `--config.check` and reloads refuse exactly the files upstream refuses.

pub mod dns_names;
mod probes;
mod regexp;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use pm_common::config::yaml::{self, YamlError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use pm_common::config::Base2Bytes;
pub use probes::{
    DEFAULT_ICMP_TTL, DnsProbe, GrpcProbe, HeaderMatch, HttpProbe, HttpProbeFields, IcmpProbe,
    Label, QueryResponse, RrValidator, TcpProbe, UnixProbe, WebsocketProbe,
};
pub use regexp::Regexp;

/// The probers a module may name.
pub const PROBERS: [&str; 7] = ["http", "tcp", "icmp", "dns", "grpc", "unix", "websocket"];

/// A semantic error in an otherwise well-formed file; texts are upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("prober '{0}' is not valid")]
    InvalidProber(String),
    #[error("query name must be set for DNS module")]
    DnsQueryNameMissing,
    #[error("query class '{0}' is not valid")]
    DnsQueryClass(String),
    #[error("query type '{0}' is not valid")]
    DnsQueryType(String),
    #[error("header name must be set for HTTP header matchers")]
    HeaderMatchName,
    #[error("regexp must be set for HTTP header matchers")]
    HeaderMatchRegexp,
    #[error("setting body and body_file both are not allowed")]
    BodyAndBodyFile,
    #[error("invalid configuration \"{header}: {value}\", \"compression: {compression}\"")]
    CompressionMismatch {
        header: String,
        value: String,
        compression: String,
    },
    #[error("HTTP/3 cannot be used as a valid HTTP version when enable_http3 is false")]
    Http3VersionWithoutHttp3,
    #[error(
        "HTTP/3 and HTTP/2.0/1.1 cannot be used together - only HTTP/3.0 is allowed when enable_http3 is true"
    )]
    Http3WithOtherVersions,
    #[error("when enable_http3 is true, enable_http2 must be set to false")]
    Http3WithHttp2,
    #[error("\"ttl\" cannot be negative")]
    TtlNegative,
    #[error("\"ttl\" cannot exceed 255")]
    TtlTooLarge,
    #[error("expect and expect_bytes are mutually exclusive")]
    ExpectAndExpectBytes,
    #[error(transparent)]
    HttpClient(#[from] pm_common::config::http::ConfigError),
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub modules: BTreeMap<String, Module>,
}

/// One entry under `modules:`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Module {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub prober: String,
    #[serde(with = "go_duration", skip_serializing_if = "Duration::is_zero")]
    pub timeout: Duration,
    #[serde(deserialize_with = "null_default")]
    pub http: HttpProbe,
    #[serde(deserialize_with = "null_default")]
    pub tcp: TcpProbe,
    #[serde(deserialize_with = "null_default")]
    pub icmp: IcmpProbe,
    #[serde(deserialize_with = "null_default")]
    pub dns: DnsProbe,
    #[serde(deserialize_with = "null_default")]
    pub grpc: GrpcProbe,
    #[serde(deserialize_with = "null_default")]
    pub unix: UnixProbe,
    #[serde(deserialize_with = "null_default")]
    pub websocket: WebsocketProbe,
}

/// Upstream treats `http:` with no value like an absent section: the defaults.
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl Config {
    /// Reads, parses and validates `path`.
    pub fn load(path: &Path) -> Result<Config, YamlError> {
        let config: Config = yaml::load_file(path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        yaml::validate(path, config, |c| c.validate(dir))
    }

    /// Parses and validates YAML text; `dir` resolves relative file names.
    pub fn from_yaml(text: &str, dir: &Path) -> Result<Config, YamlError> {
        let config: Config = yaml::from_str(text, "blackbox.yml")?;
        yaml::validate("blackbox.yml", config, |c| c.validate(dir))
    }

    fn validate(&mut self, dir: &Path) -> Result<(), ConfigError> {
        for module in self.modules.values_mut() {
            module.validate(dir)?;
        }
        Ok(())
    }

    /// The config as `/config` shows it: YAML, secrets hidden.
    pub fn to_yaml(&self) -> String {
        serde_norway::to_string(self).unwrap_or_else(|err| format!("# error: {err}\n"))
    }
}

impl Module {
    fn validate(&mut self, dir: &Path) -> Result<(), ConfigError> {
        validate_http(&mut self.http, dir)?;
        validate_query_response(&self.tcp.query_response)?;
        validate_query_response(&self.unix.query_response)?;
        validate_query_response(&self.websocket.query_response)?;
        self.tcp.tls_config.set_directory(dir);
        self.unix.tls_config.set_directory(dir);
        self.dns.tls_config.set_directory(dir);
        self.grpc.tls_config.set_directory(dir);
        validate_icmp(&self.icmp)?;
        if self.prober == "dns" || !self.dns.query_name.is_empty() {
            validate_dns(&self.dns)?;
        }
        self.websocket.http_config.set_directory(dir);
        self.websocket.http_config.validate()?;
        if !PROBERS.contains(&self.prober.as_str()) {
            return Err(ConfigError::InvalidProber(self.prober.clone()));
        }
        Ok(())
    }
}

fn validate_http(http: &mut HttpProbe, dir: &Path) -> Result<(), ConfigError> {
    let probe = &mut http.probe;
    http.client.set_directory(dir);
    http.client.validate()?;
    if let Some(no_follow) = probe.no_follow_redirects.take() {
        http.client.follow_redirects = !no_follow;
    }
    if !probe.body.is_empty() && !probe.body_file.is_empty() {
        return Err(ConfigError::BodyAndBodyFile);
    }
    for (key, value) in &probe.headers {
        if key.eq_ignore_ascii_case("accept-encoding")
            && !compression_accepted(&probe.compression, value)
        {
            return Err(ConfigError::CompressionMismatch {
                header: key.clone(),
                value: value.clone(),
                compression: probe.compression.clone(),
            });
        }
    }
    let versions = &probe.valid_http_versions;
    if !probe.use_http3 && versions.iter().any(|v| v == "HTTP/3.0") {
        return Err(ConfigError::Http3VersionWithoutHttp3);
    }
    if probe.use_http3 {
        if versions.iter().any(|v| v == "HTTP/2.0" || v == "HTTP/1.1") {
            return Err(ConfigError::Http3WithOtherVersions);
        }
        if http.client.enable_http2 {
            return Err(ConfigError::Http3WithHttp2);
        }
    }
    for matcher in probe
        .fail_if_header_matches
        .iter()
        .chain(&probe.fail_if_header_not_matches)
    {
        if matcher.header.is_empty() {
            return Err(ConfigError::HeaderMatchName);
        }
        if matcher
            .regexp
            .as_ref()
            .is_none_or(|r| r.as_str().is_empty())
        {
            return Err(ConfigError::HeaderMatchRegexp);
        }
    }
    if !probe.body_file.is_empty() {
        probe.body_file = pm_common::config::join_dir(dir, &probe.body_file);
    }
    Ok(())
}

/// A configured `compression` must be among the encodings `Accept-Encoding` allows (with a
/// non-zero quality), or the probe would ask for something it then insists on.
pub fn compression_accepted(compression: &str, accept_encoding: &str) -> bool {
    if compression.is_empty() || accept_encoding.is_empty() {
        return true;
    }
    let mut encodings: Vec<(&str, f64)> = accept_encoding
        .split(',')
        .map(|part| match part.rfind(';') {
            None => (part.trim(), 1.0),
            Some(idx) => {
                let q = part[idx + 1..].trim();
                let q = q.strip_prefix("q=").unwrap_or(q);
                let quality = q
                    .parse::<f64>()
                    .map_or(0.0, |q| (q * 1000.0).round() / 1000.0);
                (part[..idx].trim(), quality)
            }
        })
        .collect();
    encodings.sort_by(|a, b| b.1.total_cmp(&a.1));
    encodings
        .iter()
        .find(|(e, _)| *e == compression || *e == "*")
        .is_some_and(|&(_, q)| q > 0.0)
}

fn validate_query_response(steps: &[QueryResponse]) -> Result<(), ConfigError> {
    if steps
        .iter()
        .any(|s| s.expect.is_some() && !s.expect_bytes.is_empty())
    {
        return Err(ConfigError::ExpectAndExpectBytes);
    }
    Ok(())
}

fn validate_icmp(icmp: &IcmpProbe) -> Result<(), ConfigError> {
    if icmp.ttl < 0 {
        return Err(ConfigError::TtlNegative);
    }
    if icmp.ttl > 255 {
        return Err(ConfigError::TtlTooLarge);
    }
    Ok(())
}

fn validate_dns(dns: &DnsProbe) -> Result<(), ConfigError> {
    if dns.query_name.is_empty() {
        return Err(ConfigError::DnsQueryNameMissing);
    }
    if !dns.query_class.is_empty()
        && dns_names::lookup(dns_names::CLASSES, &dns.query_class).is_none()
    {
        return Err(ConfigError::DnsQueryClass(dns.query_class.clone()));
    }
    if !dns.query_type.is_empty() && dns_names::lookup(dns_names::TYPES, &dns.query_type).is_none()
    {
        return Err(ConfigError::DnsQueryType(dns.query_type.clone()));
    }
    Ok(())
}

/// Go `time.Duration` text (`5s`, `1m30s`, `500ms`), as yaml.v3 reads and writes it.
mod go_duration {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        pm_common::config::parse_go_duration(&text).map_err(serde::de::Error::custom)
    }

    pub fn serialize<S: Serializer>(d: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(*d))
    }

    /// Go's `Duration.String()`.
    pub fn format(d: Duration) -> String {
        let nanos = d.as_nanos();
        if nanos == 0 {
            return "0s".to_owned();
        }
        if nanos < 1_000_000_000 {
            return match nanos {
                n if n < 1_000 => format!("{n}ns"),
                n if n < 1_000_000 => format!("{}µs", trim(n as f64 / 1e3)),
                n => format!("{}ms", trim(n as f64 / 1e6)),
            };
        }
        let total_secs = d.as_secs();
        let (h, m) = (total_secs / 3600, (total_secs / 60) % 60);
        let secs = (total_secs % 60) as f64 + f64::from(d.subsec_nanos()) / 1e9;
        let mut out = String::new();
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&format!("{}s", trim(secs)));
        out
    }

    fn trim(v: f64) -> String {
        let s = format!("{v:.9}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

pub use go_duration::format as format_go_duration;
