//! Promethium's `consul_exporter`: a Consul cluster's Raft and gossip state, its services and
//! health checks, and selected key/values as upstream's `consul_*` metrics.
//!
//! * [`cli`]: upstream's flags;
//! * [`client`]: the reads of Consul's HTTP API;
//! * [`metrics`]: the families' names and help;
//! * [`exporter`]: one scrape and `consul_up`;
//! * [`server`]: the HTTP endpoints.
#![forbid(unsafe_code)]

pub mod cli;
pub mod client;
pub mod error;
pub mod exporter;
pub mod metrics;
pub mod server;

pub use cli::Flags;
pub use client::{Client, ConnectOptions, QueryOptions};
pub use error::{ApiError, ConfigError};
pub use exporter::{Exporter, Options};
pub use server::{App, router};
