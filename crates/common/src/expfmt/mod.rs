//! Exposition formats: the Prometheus text format 0.0.4, OpenMetrics 1.0 text and the
//! length-delimited protobuf format, with content negotiation.

pub mod encode;
pub mod format;
pub mod negotiate;
pub mod proto;

pub use format::{Format, FormatKind};
pub use negotiate::{ScrapeProtocol, negotiate, negotiate_including_openmetrics};

/// The protobuf exposition types (`io.prometheus.client`), generated from `proto/` at build time.
/// They double as the in-memory "metric family" model wherever whole families are handled
/// (pushgateway storage, exporters, encoders), as upstream's `dto` package does.
pub mod dto {
    #![allow(clippy::all, missing_docs)]
    include!(concat!(env!("OUT_DIR"), "/io.prometheus.client.rs"));
}

pub mod textparse;
