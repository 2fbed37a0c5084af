//! A small, fast registry for each daemon's own metrics, exposed with upstream's names and in
//! upstream's formats.
//!
//! Metrics are cheap handles over atomics: incrementing a [`Counter`] is one `fetch_add`, so
//! instrumentation can sit on hot paths. Labelled variants ([`CounterVec`], …) hand out a child
//! per label-value combination; look a child up once and keep it. [`Registry::gather`] produces
//! `dto::MetricFamily` values ordered as client_golang orders them, and [`render`] turns them
//! into a negotiated `/metrics` response for any HTTP framework.
//!
//! ```
//! use pm_common::metrics::{Opts, Registry, render};
//!
//! let registry = Registry::new();
//! let scrapes = registry
//!     .counter_vec(Opts::new("demo_scrapes_total", "Scrapes by result."), &["result"])
//!     .unwrap();
//! scrapes.with_label_values(&["success"]).inc();
//! let (content_type, body) = render(&registry.gather(), None);
//! assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8; escaping=underscores");
//! assert!(String::from_utf8(body).unwrap().contains("demo_scrapes_total{result=\"success\"} 1\n"));
//! ```

mod atomic;
mod constant;
mod handler;
mod histogram;
mod quantile;
mod registry;
mod render;
mod summary;
mod value;
mod vec;

#[cfg(test)]
mod tests;

pub use constant::{ConstFamily, ConstKind};
pub use handler::{HandlerMetrics, InFlight, encode_scraped, gather_scraped};
pub use histogram::{DEFAULT_BUCKETS, Histogram, exponential_buckets, linear_buckets};
pub use quantile::Objective;
pub use registry::{Collector, Registry};
pub use render::{Encoder, RenderOptions, encode, render, render_with};
pub use summary::{AGE_BUCKETS, MAX_AGE, Summary, SummaryWindow, objective};
pub use value::{Counter, Gauge, MetricValue};
pub use vec::{CounterVec, GaugeVec, HistogramVec, MetricVec, Opts, SummaryVec};

/// Mistakes in defining or using a metric.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    #[error("invalid metric name {0:?}")]
    InvalidName(String),
    #[error("metric {metric}: invalid label name {label:?}")]
    InvalidLabel { metric: String, label: String },
    #[error("metric {metric}: duplicate label name {label:?}")]
    DuplicateLabel { metric: String, label: String },
    #[error("metric {metric}: {label:?} is not allowed as a label name")]
    ReservedLabel { metric: String, label: String },
    #[error("metric {metric}: expected {want} label values but got {got}")]
    Cardinality {
        metric: String,
        want: usize,
        got: usize,
    },
    #[error("invalid histogram buckets: {0}")]
    Buckets(String),
    #[error("a metric named {0} is already registered")]
    AlreadyRegistered(String),
}
