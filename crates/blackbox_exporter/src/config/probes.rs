//! The per-prober sections of a module, with upstream's field names and defaults.

use std::collections::BTreeMap;

use pm_common::config::http::{HttpClientConfig, TlsConfig};
use serde::{Deserialize, Deserializer, Serialize};

use super::regexp::Regexp;
use pm_common::config::Base2Bytes;

fn is_false(b: &bool) -> bool {
    !*b
}

/// `http:`; upstream inlines the HTTP client config into this block.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct HttpProbe {
    #[serde(flatten)]
    pub probe: HttpProbeFields,
    #[serde(flatten)]
    pub client: HttpClientConfig,
}

/// The fields of `http:` that are the prober's own.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpProbeFields {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub valid_status_codes: Vec<u16>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub valid_http_versions: Vec<String>,
    #[serde(
        rename = "preferred_ip_protocol",
        skip_serializing_if = "String::is_empty"
    )]
    pub ip_protocol: String,
    pub ip_protocol_fallback: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub skip_resolve_phase_with_proxy: bool,
    /// Deprecated spelling of `follow_redirects: false`; folded into the client config.
    #[serde(skip_serializing)]
    pub no_follow_redirects: Option<bool>,
    #[serde(skip_serializing_if = "is_false")]
    pub fail_if_ssl: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub fail_if_not_ssl: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub method: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fail_if_body_matches_regexp: Vec<Regexp>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fail_if_body_not_matches_regexp: Vec<Regexp>,
    /// CEL expressions over the JSON body; kept as written (see `probe_failed_due_to_cel`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_if_body_json_matches_cel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_if_body_json_not_matches_cel: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fail_if_header_matches: Vec<HeaderMatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fail_if_header_not_matches: Vec<HeaderMatch>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub body: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub body_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub compression: String,
    #[serde(skip_serializing_if = "Base2Bytes::is_zero")]
    pub body_size_limit: Base2Bytes,
    #[serde(rename = "enable_http3", skip_serializing_if = "is_false")]
    pub use_http3: bool,
}

impl Default for HttpProbeFields {
    fn default() -> Self {
        HttpProbeFields {
            valid_status_codes: Vec::new(),
            valid_http_versions: Vec::new(),
            ip_protocol: String::new(),
            ip_protocol_fallback: true,
            skip_resolve_phase_with_proxy: false,
            no_follow_redirects: None,
            fail_if_ssl: false,
            fail_if_not_ssl: false,
            method: String::new(),
            headers: BTreeMap::new(),
            fail_if_body_matches_regexp: Vec::new(),
            fail_if_body_not_matches_regexp: Vec::new(),
            fail_if_body_json_matches_cel: None,
            fail_if_body_json_not_matches_cel: None,
            fail_if_header_matches: Vec::new(),
            fail_if_header_not_matches: Vec::new(),
            body: String::new(),
            body_file: String::new(),
            compression: String::new(),
            body_size_limit: Base2Bytes::default(),
            use_http3: false,
        }
    }
}

impl<'de> Deserialize<'de> for HttpProbe {
    /// serde cannot combine `flatten` with `deny_unknown_fields`, so the mapping is split by
    /// key into the client config's fields and the prober's own, each parsed strictly.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mapping =
            Option::<serde_norway::Mapping>::deserialize(deserializer)?.unwrap_or_default();
        let (mut client, mut own) = (serde_norway::Mapping::new(), serde_norway::Mapping::new());
        for (key, value) in mapping {
            let is_client = key
                .as_str()
                .is_some_and(|k| HttpClientConfig::FIELDS.contains(&k));
            if is_client {
                client.insert(key, value);
            } else {
                own.insert(key, value);
            }
        }
        let probe: HttpProbeFields = serde_norway::from_value(serde_norway::Value::Mapping(own))
            .map_err(D::Error::custom)?;
        let client: HttpClientConfig =
            serde_norway::from_value(serde_norway::Value::Mapping(client))
                .map_err(D::Error::custom)?;
        Ok(HttpProbe { probe, client })
    }
}

/// One `fail_if_header_(not_)matches` entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderMatch {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub header: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regexp: Option<Regexp>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_missing: bool,
}

/// One step of a `query_response` dialogue.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueryResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<Regexp>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub expect_bytes: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub send: String,
    #[serde(skip_serializing_if = "is_false")]
    pub starttls: bool,
}

/// A label to add to `probe_expect_info` from an `expect` match.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Label {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TcpProbe {
    #[serde(
        rename = "preferred_ip_protocol",
        skip_serializing_if = "String::is_empty"
    )]
    pub ip_protocol: String,
    pub ip_protocol_fallback: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source_ip_address: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub query_response: Vec<QueryResponse>,
    #[serde(skip_serializing_if = "is_false")]
    pub tls: bool,
    pub tls_config: TlsConfig,
}

impl Default for TcpProbe {
    fn default() -> Self {
        TcpProbe {
            ip_protocol: String::new(),
            ip_protocol_fallback: true,
            source_ip_address: String::new(),
            query_response: Vec::new(),
            tls: false,
            tls_config: TlsConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct UnixProbe {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub query_response: Vec<QueryResponse>,
    #[serde(skip_serializing_if = "is_false")]
    pub tls: bool,
    pub tls_config: TlsConfig,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct IcmpProbe {
    #[serde(
        rename = "preferred_ip_protocol",
        skip_serializing_if = "String::is_empty"
    )]
    pub ip_protocol: String,
    pub ip_protocol_fallback: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source_ip_address: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub payload_size: i64,
    #[serde(skip_serializing_if = "is_false")]
    pub dont_fragment: bool,
    pub ttl: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Upstream's default hop limit for echo requests.
pub const DEFAULT_ICMP_TTL: i64 = 64;

impl Default for IcmpProbe {
    fn default() -> Self {
        IcmpProbe {
            ip_protocol: String::new(),
            ip_protocol_fallback: true,
            source_ip_address: String::new(),
            payload_size: 0,
            dont_fragment: false,
            ttl: DEFAULT_ICMP_TTL,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsProbe {
    #[serde(
        rename = "preferred_ip_protocol",
        skip_serializing_if = "String::is_empty"
    )]
    pub ip_protocol: String,
    pub ip_protocol_fallback: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub dns_over_tls: bool,
    pub tls_config: TlsConfig,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source_ip_address: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub transport_protocol: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub query_class: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub query_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub query_type: String,
    #[serde(rename = "recursion_desired")]
    pub recursion: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub valid_rcodes: Vec<String>,
    pub validate_answer_rrs: RrValidator,
    pub validate_authority_rrs: RrValidator,
    pub validate_additional_rrs: RrValidator,
}

impl Default for DnsProbe {
    fn default() -> Self {
        DnsProbe {
            ip_protocol: String::new(),
            ip_protocol_fallback: true,
            dns_over_tls: false,
            tls_config: TlsConfig::default(),
            source_ip_address: String::new(),
            transport_protocol: String::new(),
            query_class: String::new(),
            query_name: String::new(),
            query_type: String::new(),
            recursion: true,
            valid_rcodes: Vec::new(),
            validate_answer_rrs: RrValidator::default(),
            validate_authority_rrs: RrValidator::default(),
            validate_additional_rrs: RrValidator::default(),
        }
    }
}

/// Checks on one section of a DNS response. Upstream keeps these as strings and compiles
/// them per probe, so a bad pattern fails the probe rather than the config.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RrValidator {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fail_if_matches_regexp: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fail_if_all_match_regexp: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fail_if_not_matches_regexp: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fail_if_none_matches_regexp: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcProbe {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service: String,
    #[serde(skip_serializing_if = "is_false")]
    pub tls: bool,
    pub tls_config: TlsConfig,
    pub ip_protocol_fallback: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub preferred_ip_protocol: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, Vec<String>>,
}

impl Default for GrpcProbe {
    fn default() -> Self {
        GrpcProbe {
            service: String::new(),
            tls: false,
            tls_config: TlsConfig::default(),
            ip_protocol_fallback: true,
            preferred_ip_protocol: String::new(),
            metadata: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebsocketProbe {
    pub http_config: HttpClientConfig,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, serde_norway::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub query_response: Vec<QueryResponse>,
    #[serde(
        rename = "preferred_ip_protocol",
        skip_serializing_if = "String::is_empty"
    )]
    pub ip_protocol: String,
    pub ip_protocol_fallback: bool,
}

impl Default for WebsocketProbe {
    fn default() -> Self {
        WebsocketProbe {
            http_config: HttpClientConfig::default(),
            headers: BTreeMap::new(),
            query_response: Vec::new(),
            ip_protocol: String::new(),
            ip_protocol_fallback: true,
        }
    }
}
