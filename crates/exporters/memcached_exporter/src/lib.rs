//! Promethium's `memcached_exporter`: memcached's `stats`, `stats slabs`, `stats items` and
//! `stats settings` as upstream's `memcached_*` metrics, for one configured server on
//! `/metrics` and any server on `/scrape?target=`.
//!
//! * [`cli`]: upstream's flags, TLS included;
//! * [`client`]: the statistics commands of memcached's text protocol;
//! * [`metrics`]: the statistic → metric tables;
//! * [`exporter`]: one scrape and `memcached_up`;
//! * [`server`]: the HTTP endpoints.
#![forbid(unsafe_code)]

pub mod cli;
pub mod client;
pub mod error;
pub mod exporter;
pub mod metrics;
pub mod server;

pub use cli::Flags;
pub use client::Client;
pub use error::{ConfigError, StatsError};
pub use exporter::Exporter;
pub use server::{App, router};
