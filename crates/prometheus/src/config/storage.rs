//! The `storage`, `tracing` and `otlp` blocks.

use std::collections::BTreeMap;
use std::path::Path;

use pm_common::config::Duration;
use pm_common::config::http::TlsConfig;
use serde::{Deserialize, Deserializer, Serialize};

use super::global::GoQuoted;
use super::remote::validate_headers;
use pm_common::config::Base2Bytes;

/// The `storage` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub tsdb: TsdbConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exemplars: Option<ExemplarsConfig>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            tsdb: TsdbConfig::default(),
            exemplars: Some(ExemplarsConfig::default()),
        }
    }
}

/// `storage.tsdb`: settings that can change on reload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TsdbConfig {
    /// How far behind the newest sample out-of-order samples are still accepted.
    #[serde(skip_serializing_if = "crate::config::units::is_zero_duration")]
    pub out_of_order_time_window: Duration,
    #[serde(skip_serializing_if = "is_zero_f64")]
    pub stale_series_compaction_threshold: f64,
    #[serde(deserialize_with = "chunk_encoding")]
    pub chunk_encoding: ChunkEncodingConfig,
    pub retention: RetentionConfig,
}

fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

/// `storage.tsdb.chunk_encoding`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChunkEncodingConfig {
    /// `xor` (the classic encoding) or `xor2`; empty means the default.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub floats: String,
}

fn chunk_encoding<'de, D: Deserializer<'de>>(d: D) -> Result<ChunkEncodingConfig, D::Error> {
    let cfg = Option::<ChunkEncodingConfig>::deserialize(d)?.unwrap_or_default();
    match cfg.floats.as_str() {
        "" | "xor" | "xor2" => Ok(cfg),
        other => Err(serde::de::Error::custom(format!(
            "'storage.tsdb.chunk_encoding.floats' must be 'xor' or 'xor2', or the field must be omitted entirely, got {}",
            GoQuoted(other)
        ))),
    }
}

/// `storage.tsdb.retention`: overrides of the retention flags.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RetentionConfig {
    #[serde(skip_serializing_if = "crate::config::units::is_zero_duration")]
    pub time: Duration,
    #[serde(skip_serializing_if = "Base2Bytes::is_zero")]
    pub size: Base2Bytes,
    #[serde(skip_serializing_if = "is_zero_f64")]
    pub percentage: f64,
}

impl<'de> Deserialize<'de> for RetentionConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize, Default)]
        #[serde(deny_unknown_fields, default)]
        struct Raw {
            time: Duration,
            size: Base2Bytes,
            percentage: f64,
        }
        let raw = Option::<Raw>::deserialize(d)?.unwrap_or_default();
        if raw.size.0 < 0 {
            return Err(D::Error::custom(format!(
                "'storage.tsdb.retention.size' must be greater than or equal to 0, got {}",
                raw.size
            )));
        }
        if !(0.0..=100.0).contains(&raw.percentage) {
            return Err(D::Error::custom(format!(
                "'storage.tsdb.retention.percentage' must be in the range [0, 100], got {}",
                raw.percentage
            )));
        }
        Ok(RetentionConfig {
            time: raw.time,
            size: raw.size,
            percentage: raw.percentage,
        })
    }
}

/// `storage.exemplars`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExemplarsConfig {
    /// Size of the circular exemplar buffer; 0 disables exemplar storage.
    pub max_exemplars: i64,
}

impl Default for ExemplarsConfig {
    fn default() -> Self {
        ExemplarsConfig {
            max_exemplars: 100_000,
        }
    }
}

/// The `tracing` block: where the server's own OpenTelemetry spans go.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TracingConfig {
    pub client_type: String,
    pub endpoint: String,
    #[serde(skip_serializing_if = "is_zero_f64")]
    pub sampling_fraction: f64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    pub tls_config: TlsConfig,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub compression: String,
    #[serde(skip_serializing_if = "crate::config::units::is_zero_duration")]
    pub timeout: Duration,
}

impl<'de> Deserialize<'de> for TracingConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize, Default)]
        #[serde(deny_unknown_fields, default)]
        struct Raw {
            client_type: Option<String>,
            endpoint: String,
            sampling_fraction: f64,
            insecure: bool,
            tls_config: TlsConfig,
            headers: BTreeMap<String, String>,
            compression: String,
            timeout: Duration,
        }
        let raw = Option::<Raw>::deserialize(d)?.unwrap_or_default();
        let client_type = raw.client_type.unwrap_or_else(|| "grpc".to_owned());
        if client_type != "http" && client_type != "grpc" {
            return Err(D::Error::custom(format!(
                "expected tracing client type to be to be http or grpc, but got {client_type}"
            )));
        }
        raw.tls_config.validate().map_err(D::Error::custom)?;
        validate_headers(
            &raw.headers,
            "custom authorization header configuration is not yet supported",
        )
        .map_err(D::Error::custom)?;
        if raw.endpoint.is_empty() {
            return Err(D::Error::custom("tracing endpoint must be set"));
        }
        if !raw.compression.is_empty() && raw.compression != "gzip" {
            return Err(D::Error::custom(format!(
                "invalid compression type {} provided, valid options: gzip",
                raw.compression
            )));
        }
        Ok(TracingConfig {
            client_type,
            endpoint: raw.endpoint,
            sampling_fraction: raw.sampling_fraction,
            insecure: raw.insecure,
            tls_config: raw.tls_config,
            headers: raw.headers,
            compression: raw.compression,
            timeout: raw.timeout,
        })
    }
}

impl TracingConfig {
    pub fn set_directory(&mut self, dir: &Path) {
        self.tls_config.set_directory(dir);
    }
}

/// OTLP translation strategies (how OpenTelemetry names become Prometheus names).
pub const TRANSLATION_STRATEGIES: [&str; 4] = [
    "UnderscoreEscapingWithSuffixes",
    "UnderscoreEscapingWithoutSuffixes",
    "NoUTF8EscapingWithSuffixes",
    "NoTranslation",
];

/// The `otlp` block: how the OTLP receiver maps resources and names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtlpConfig {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub promote_all_resource_attributes: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub promote_resource_attributes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore_resource_attributes: Vec<String>,
    pub translation_strategy: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub keep_identifying_resource_attributes: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub convert_histograms_to_nhcb: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub promote_scope_metadata: bool,
    // Printed even when false: both default to true, so omitting a false would flip it.
    pub label_name_underscore_sanitization: bool,
    pub label_name_preserve_multiple_underscores: bool,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            promote_all_resource_attributes: false,
            promote_resource_attributes: Vec::new(),
            ignore_resource_attributes: Vec::new(),
            translation_strategy: TRANSLATION_STRATEGIES[0].to_owned(),
            keep_identifying_resource_attributes: false,
            convert_histograms_to_nhcb: false,
            promote_scope_metadata: false,
            label_name_underscore_sanitization: true,
            label_name_preserve_multiple_underscores: true,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawOtlp {
    promote_all_resource_attributes: bool,
    promote_resource_attributes: Vec<String>,
    ignore_resource_attributes: Vec<String>,
    translation_strategy: String,
    keep_identifying_resource_attributes: bool,
    convert_histograms_to_nhcb: bool,
    promote_scope_metadata: bool,
    label_name_underscore_sanitization: bool,
    label_name_preserve_multiple_underscores: bool,
}

impl Default for RawOtlp {
    fn default() -> Self {
        let d = OtlpConfig::default();
        RawOtlp {
            promote_all_resource_attributes: d.promote_all_resource_attributes,
            promote_resource_attributes: d.promote_resource_attributes,
            ignore_resource_attributes: d.ignore_resource_attributes,
            translation_strategy: d.translation_strategy,
            keep_identifying_resource_attributes: d.keep_identifying_resource_attributes,
            convert_histograms_to_nhcb: d.convert_histograms_to_nhcb,
            promote_scope_metadata: d.promote_scope_metadata,
            label_name_underscore_sanitization: d.label_name_underscore_sanitization,
            label_name_preserve_multiple_underscores: d.label_name_preserve_multiple_underscores,
        }
    }
}

impl<'de> Deserialize<'de> for OtlpConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut raw = Option::<RawOtlp>::deserialize(d)?.unwrap_or_default();
        if raw.promote_all_resource_attributes {
            if !raw.promote_resource_attributes.is_empty() {
                return Err(D::Error::custom(
                    "'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured simultaneously",
                ));
            }
            sanitize_attributes(&mut raw.ignore_resource_attributes, "ignored").map_err(|err| {
                D::Error::custom(format!("invalid 'ignore_resource_attributes': {err}"))
            })?;
        } else {
            if !raw.ignore_resource_attributes.is_empty() {
                return Err(D::Error::custom(
                    "'ignore_resource_attributes' cannot be configured unless 'promote_all_resource_attributes' is true",
                ));
            }
            sanitize_attributes(&mut raw.promote_resource_attributes, "promoted").map_err(
                |err| D::Error::custom(format!("invalid 'promote_resource_attributes': {err}")),
            )?;
        }
        Ok(OtlpConfig {
            promote_all_resource_attributes: raw.promote_all_resource_attributes,
            promote_resource_attributes: raw.promote_resource_attributes,
            ignore_resource_attributes: raw.ignore_resource_attributes,
            translation_strategy: raw.translation_strategy,
            keep_identifying_resource_attributes: raw.keep_identifying_resource_attributes,
            convert_histograms_to_nhcb: raw.convert_histograms_to_nhcb,
            promote_scope_metadata: raw.promote_scope_metadata,
            label_name_underscore_sanitization: raw.label_name_underscore_sanitization,
            label_name_preserve_multiple_underscores: raw.label_name_preserve_multiple_underscores,
        })
    }
}

/// Trims each attribute and reports every empty or repeated one (one per line, as Go's
/// `errors.Join` prints them).
fn sanitize_attributes(attributes: &mut [String], adjective: &str) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for attribute in attributes.iter_mut() {
        let trimmed = attribute.trim().to_owned();
        if trimmed.is_empty() {
            problems.push(format!("empty {adjective} OTel resource attribute"));
            continue;
        }
        if seen.contains(&trimmed) {
            problems.push(format!(
                "duplicated {adjective} OTel resource attribute {}",
                GoQuoted(&trimmed)
            ));
            continue;
        }
        seen.push(trimmed.clone());
        *attribute = trimmed;
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
