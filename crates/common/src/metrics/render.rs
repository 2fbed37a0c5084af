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
    let mut encoder = Encoder::new(format, options);
    for mf in families {
        encoder.push(mf);
    }
    encoder.finish()
}

/// [`encode`] one family at a time, for callers that build families lazily and drop each once
/// it is written.
#[derive(Debug)]
pub struct Encoder {
    format: Format,
    om: OpenMetricsOptions,
    text: String,
    proto: Vec<u8>,
    /// A family failed to encode: promhttp stops there.
    stopped: bool,
}

impl Encoder {
    pub fn new(format: Format, options: RenderOptions) -> Self {
        Encoder {
            format,
            om: OpenMetricsOptions {
                created_lines: options.created_lines,
            },
            text: String::new(),
            proto: Vec::new(),
            stopped: false,
        }
    }

    /// Appends `mf`, unless an earlier family failed.
    pub fn push(&mut self, mf: &dto::MetricFamily) {
        if self.stopped {
            return;
        }
        let mf = escape_metric_family(mf, self.format.escaping());
        let result = match self.format.kind() {
            FormatKind::ProtoDelimited => {
                encode_delimited(&mf, &mut self.proto);
                Ok(())
            }
            FormatKind::Text => write_text(&mut self.text, &mf),
            _ => write_openmetrics(&mut self.text, &mf, self.om),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "error encoding and sending metric family");
            self.stopped = true;
        }
    }

    /// The body.
    pub fn finish(mut self) -> Vec<u8> {
        match self.format.kind() {
            FormatKind::ProtoDelimited => self.proto,
            kind => {
                if kind.is_openmetrics() {
                    finalize_openmetrics(&mut self.text);
                }
                self.text.into_bytes()
            }
        }
    }
}
