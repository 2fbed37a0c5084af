//! Encoding of gathered families for a `/metrics` response, negotiated like client_golang's
//! `promhttp` handler.

use crate::expfmt::dto;
use crate::expfmt::encode::{
    OpenMetricsOptions, escape_metric_family, finalize_openmetrics, write_openmetrics, write_text,
};
use crate::expfmt::proto::encode_delimited;
use crate::expfmt::{Format, FormatKind, negotiate, negotiate_including_openmetrics};

/// The `promhttp.HandlerOpts` that change what is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Offer OpenMetrics to clients that prefer it (`EnableOpenMetrics`).
    pub openmetrics: bool,
    /// Add `_created` lines in OpenMetrics (`EnableOpenMetricsTextCreatedSamples`).
    pub created_lines: bool,
}

/// Encodes `families` for a client that sent `accept_header`, offering text and protobuf as
/// `promhttp.Handler()` does (the handler Prometheus and Alertmanager serve). Returns the
/// `Content-Type` and the body.
pub fn render(families: &[dto::MetricFamily], accept_header: Option<&str>) -> (String, Vec<u8>) {
    render_with(families, accept_header, RenderOptions::default())
}

/// [`render`] with explicit handler options.
pub fn render_with(
    families: &[dto::MetricFamily],
    accept_header: Option<&str>,
    options: RenderOptions,
) -> (String, Vec<u8>) {
    let accept = accept_header.unwrap_or_default();
    let format = if options.openmetrics {
        negotiate_including_openmetrics(accept)
    } else {
        negotiate(accept)
    };
    (format.content_type(), encode(families, format, options))
}

/// Encodes `families` in `format`, escaping names as the format's scheme requires. Like
/// promhttp with its default error handling, encoding stops at the first family that cannot
/// be written (logged; the families before it are kept).
pub fn encode(families: &[dto::MetricFamily], format: Format, options: RenderOptions) -> Vec<u8> {
    let scheme = format.escaping();
    let om = OpenMetricsOptions {
        created_lines: options.created_lines,
    };
    if format.kind() == FormatKind::ProtoDelimited {
        let mut body = Vec::new();
        for mf in families {
            encode_delimited(&escape_metric_family(mf, scheme), &mut body);
        }
        return body;
    }
    let mut body = String::new();
    for mf in families {
        let mf = escape_metric_family(mf, scheme);
        let result = match format.kind() {
            FormatKind::Text => write_text(&mut body, &mf),
            _ => write_openmetrics(&mut body, &mf, om),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "error encoding and sending metric family");
            return body.into_bytes();
        }
    }
    if format.kind().is_openmetrics() {
        finalize_openmetrics(&mut body);
    }
    body.into_bytes()
}
