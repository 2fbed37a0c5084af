//! The metric-mapping engine that statsd_exporter and graphite_exporter share: upstream's
//! mapping config (`--statsd.mapping-config`, `--graphite.mapping-config`), glob matching
//! through a field trie with upstream's precedence rules, regex matches, `$n` templates,
//! defaults for observers and TTLs, and a bounded result cache.
//!
//! ```
//! use pm_mapper::{MetricMapper, MetricType};
//!
//! let mapper = MetricMapper::from_yaml(
//!     "mappings:\n- match: app.*.requests\n  name: requests_total\n  labels:\n    app: $1\n",
//!     "inline",
//! )
//! .unwrap();
//! let mapped = mapper.get_mapping("app.web.requests", MetricType::Counter).unwrap();
//! assert_eq!(mapped.name, "requests_total");
//! assert_eq!(mapped.labels, vec![("app".to_string(), "web".to_string())]);
//! ```

mod cache;
mod config;
mod error;
mod escape;
mod fsm;
mod mapper;
mod template;

#[cfg(test)]
mod tests;

pub use cache::{CacheMetrics, CacheType, CachedMapper};
pub use config::{
    ActionType, DEFAULT_QUANTILES, Defaults, HistogramOptions, MatchType, MetricMapping,
    MetricType, Objective, ObserverType, SummaryOptions,
};
pub use error::MapperError;
pub use escape::escape_metric_name;
pub use mapper::{CompiledMapping, Mapped, MetricMapper};
