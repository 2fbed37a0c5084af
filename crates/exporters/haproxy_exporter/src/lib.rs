//! Promethium's `haproxy_exporter`: HAProxy's `show stat` statistics (from the CSV stats page
//! or the stats socket) as upstream's `haproxy_*` metrics, so existing dashboards and alerts
//! keep working.
//!
//! * [`cli`]: upstream's flags;
//! * [`source`]: fetching over HTTP(S), a unix socket or TCP, within the timeout;
//! * [`csv`]: a reader with Go's `encoding/csv` rules;
//! * [`fields`]: the column → metric tables;
//! * [`exporter`]: one scrape, `haproxy_up` and the parse-failure counter;
//! * [`server`]: `/metrics` with the exporter's own metrics.
#![forbid(unsafe_code)]

pub mod cli;
pub mod csv;
pub mod error;
pub mod exporter;
pub mod fields;
pub mod server;
pub mod source;

pub use cli::Flags;
pub use error::{ConfigError, FetchError};
pub use exporter::{Exporter, Options};
pub use server::{App, router};
