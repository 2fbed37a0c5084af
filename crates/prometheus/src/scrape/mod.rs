//! Scraping: turning discovered target groups into targets, one scrape loop per target, and
//! each scrape into one storage transaction — upstream's `scrape` package.
//!
//! [`ScrapeManager`] owns one pool per job. A pool builds its targets from discovery's groups
//! ([`populate_labels`]), keeps a loop per target ([`Target::hash`] identifies it, and its
//! [`Target::offset`] spreads the loops over the interval), and reloads or stops loops as the
//! config changes. A loop fetches the target (upstream's `Accept` header, gzip, timeout,
//! body size limit), then [`TargetAppender`] parses the body and appends it: through the
//! per-target cache, target labels, `metric_relabel_configs`, the limits, staleness markers for
//! series that disappeared, and the synthetic `up`/`scrape_*` series.

mod append;
mod cache;
mod histogram_limit;
mod manager;
mod metrics;
mod parse;
mod pool;
mod proto;
mod scrape_loop;
mod scraper;
mod target;

use pm_common::expfmt::negotiate::ContentTypeError;
use pm_common::expfmt::textparse::ParseError;
use pm_common::model::Labels;
use pm_storage::StorageError;

pub use append::{AppendError, AppendStats, TargetAppender};
pub use cache::{MetadataStore, MetricMetadata};
pub use manager::{
    ActiveTarget, DroppedTarget, ScrapeManager, ScrapeManagerError, ScrapeManagerOptions,
};
pub use metrics::ScrapeMetrics;
pub use proto::ProtoBodyError;
pub use target::{
    GroupTargets, Target, TargetError, TargetHealth, discovered_labels, populate_labels,
    targets_from_group,
};

/// Why a scrape failed: the text is the target's `lastError`, worded as upstream's.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScrapeError {
    #[error("server returned HTTP status {0}")]
    HttpStatus(String),
    #[error("body size limit exceeded")]
    BodySizeLimit,
    /// A `Content-Encoding: gzip` body that does not decompress.
    #[error("gzip: {0}")]
    Gzip(String),
    /// Connection failures and timeouts, as Go's HTTP client words them.
    #[error("Get {url:?}: {message}")]
    Request { url: String, message: String },
    #[error(transparent)]
    ContentType(#[from] ContentTypeError),
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Proto(#[from] ProtoBodyError),
    #[error("sample limit exceeded")]
    SampleLimit,
    #[error(transparent)]
    BucketLimit(#[from] histogram_limit::BucketLimitExceeded),
    /// One of `label_limit`, `label_name_length_limit`, `label_value_length_limit`.
    #[error("{0}")]
    LabelLimit(String),
    #[error("missing metric name (__name__ label)")]
    NameLabelMandatory,
    #[error("invalid metric name or label names: {0}")]
    InvalidLabels(Labels),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("target_limit exceeded (number of targets: {targets}, limit: {limit})")]
    TargetLimit { targets: usize, limit: u64 },
}
