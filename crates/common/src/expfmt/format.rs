//! Exposition formats and their `Content-Type` strings, as prometheus/common `expfmt.Format`.

use std::fmt;

use crate::model::{ESCAPING_KEY, EscapingScheme};

/// Media type of the protobuf format.
pub const PROTO_TYPE: &str = "application/vnd.google.protobuf";
/// The `proto=` parameter of the protobuf format.
pub const PROTO_PROTOCOL: &str = "io.prometheus.client.MetricFamily";
/// Media type of OpenMetrics text.
pub const OPENMETRICS_TYPE: &str = "application/openmetrics-text";
/// The version of the Prometheus text format we write.
pub const TEXT_VERSION: &str = "0.0.4";

/// The wire formats an exposition can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FormatKind {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics text 1.0.0.
    OpenMetrics1,
    /// OpenMetrics text 0.0.1, the pre-1.0 name of the same encoding.
    OpenMetrics0,
    /// Length-delimited protobuf `MetricFamily` messages.
    ProtoDelimited,
}

impl FormatKind {
    /// The `Content-Type` without an escaping parameter, exactly as upstream spells it.
    pub fn base_content_type(self) -> &'static str {
        match self {
            FormatKind::Text => "text/plain; version=0.0.4; charset=utf-8",
            FormatKind::OpenMetrics1 => {
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            }
            FormatKind::OpenMetrics0 => {
                "application/openmetrics-text; version=0.0.1; charset=utf-8"
            }
            FormatKind::ProtoDelimited => {
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
            }
        }
    }

    pub fn is_openmetrics(self) -> bool {
        matches!(self, FormatKind::OpenMetrics1 | FormatKind::OpenMetrics0)
    }
}

/// A format plus the name-escaping scheme it was negotiated with. The `Display` form is the
/// `Content-Type` header value; negotiation always sets the escaping parameter, as upstream's
/// `NegotiateAccept` does, so clients learn how names were rewritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Format {
    kind: FormatKind,
    escaping: Option<EscapingScheme>,
}

impl Format {
    pub const TEXT: Format = Format::new(FormatKind::Text);
    pub const OPENMETRICS_1_0_0: Format = Format::new(FormatKind::OpenMetrics1);
    pub const OPENMETRICS_0_0_1: Format = Format::new(FormatKind::OpenMetrics0);
    pub const PROTO_DELIMITED: Format = Format::new(FormatKind::ProtoDelimited);

    pub const fn new(kind: FormatKind) -> Format {
        Format {
            kind,
            escaping: None,
        }
    }

    /// The same format with an explicit `escaping=` parameter.
    pub const fn with_escaping(self, scheme: EscapingScheme) -> Format {
        Format {
            kind: self.kind,
            escaping: Some(scheme),
        }
    }

    pub fn kind(&self) -> FormatKind {
        self.kind
    }

    /// The escaping parameter, if the format carries one.
    pub fn escaping_param(&self) -> Option<EscapingScheme> {
        self.escaping
    }

    /// The scheme to apply when encoding: the explicit parameter or, without one, upstream's
    /// default (`underscores`), as `Format.ToEscapingScheme` does.
    pub fn escaping(&self) -> EscapingScheme {
        self.escaping.unwrap_or_default()
    }

    /// The `Content-Type` header value.
    pub fn content_type(&self) -> String {
        self.to_string()
    }

    /// Recognises a `Content-Type` as upstream's `Format.FormatType` does: text/plain with no
    /// version or version 0.0.4, OpenMetrics with `charset=utf-8` (version 0.0.1 or else 1.0.0),
    /// protobuf with the `MetricFamily` protocol and delimited encoding. Other values (including
    /// the protobuf text encodings we do not write) give `None`. An unknown `escaping=` value
    /// is ignored, leaving the default.
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let mut parts = content_type.split(';');
        let media = parts.next().unwrap_or_default().trim();
        let mut params: Vec<(&str, &str)> = Vec::new();
        for p in parts {
            // Like upstream, a parameter counts only when it has exactly one '='.
            let mut kv = p.split('=');
            if let (Some(k), Some(v), None) = (kv.next(), kv.next(), kv.next()) {
                params.retain(|(key, _)| *key != k.trim());
                params.push((k.trim(), v.trim()));
            }
        }
        let param = |key: &str| params.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let kind = match media {
            PROTO_TYPE => {
                if param("proto") != Some(PROTO_PROTOCOL) || param("encoding") != Some("delimited")
                {
                    return None;
                }
                FormatKind::ProtoDelimited
            }
            OPENMETRICS_TYPE => {
                if param("charset") != Some("utf-8") {
                    return None;
                }
                if param("version") == Some("0.0.1") {
                    FormatKind::OpenMetrics0
                } else {
                    FormatKind::OpenMetrics1
                }
            }
            "text/plain" => match param("version") {
                None | Some(TEXT_VERSION) => FormatKind::Text,
                Some(_) => return None,
            },
            _ => return None,
        };
        let escaping = param(ESCAPING_KEY).and_then(|v| v.parse().ok());
        Some(Format { kind, escaping })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.base_content_type())?;
        if let Some(scheme) = self.escaping {
            write!(f, "; {ESCAPING_KEY}={scheme}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_match_upstream() {
        assert_eq!(
            Format::TEXT.to_string(),
            "text/plain; version=0.0.4; charset=utf-8"
        );
        assert_eq!(
            Format::TEXT
                .with_escaping(EscapingScheme::Underscores)
                .to_string(),
            "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"
        );
        assert_eq!(
            Format::PROTO_DELIMITED
                .with_escaping(EscapingScheme::NoEscaping)
                .to_string(),
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=allow-utf-8"
        );
        assert_eq!(
            Format::OPENMETRICS_0_0_1.to_string(),
            "application/openmetrics-text; version=0.0.1; charset=utf-8"
        );
    }

    #[test]
    fn recognises_content_types() {
        let cases = [
            (
                r#"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"#,
                Some(FormatKind::ProtoDelimited),
            ),
            (
                r#"application/vnd.google.protobuf; proto="illegal"; encoding=delimited"#,
                None,
            ),
            (
                r#"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=text"#,
                None,
            ),
            ("text/plain; version=0.0.4", Some(FormatKind::Text)),
            ("text/plain", Some(FormatKind::Text)),
            ("text/plain; version=0.0.3", None),
            (
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                Some(FormatKind::OpenMetrics1),
            ),
            (
                "application/openmetrics-text; version=0.0.1; charset=utf-8",
                Some(FormatKind::OpenMetrics0),
            ),
            ("application/openmetrics-text; version=1.0.0", None),
            ("application/json", None),
        ];
        for (ct, want) in cases {
            assert_eq!(
                Format::from_content_type(ct).map(|f| f.kind()),
                want,
                "{ct}"
            );
        }
        let f = Format::from_content_type("text/plain; version=0.0.4; escaping=values").unwrap();
        assert_eq!(f.escaping(), EscapingScheme::Values);
        let f = Format::from_content_type("text/plain; escaping=bogus").unwrap();
        assert_eq!(f.escaping(), EscapingScheme::Underscores);
    }

    #[test]
    fn format_round_trips_through_its_content_type() {
        for kind in [
            FormatKind::Text,
            FormatKind::OpenMetrics1,
            FormatKind::OpenMetrics0,
            FormatKind::ProtoDelimited,
        ] {
            let f = Format::new(kind).with_escaping(EscapingScheme::Dots);
            assert_eq!(Format::from_content_type(&f.to_string()), Some(f));
        }
    }
}
