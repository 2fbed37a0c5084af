//! Promethium's `mysqld_exporter`: MySQL and MariaDB server statistics as upstream's
//! `mysql_*` metrics, for the `[client]` server on `/metrics` and any server on
//! `/probe?target=`.
//!
//! * [`cli`] and [`switches`]: upstream's flags, a `--collect.<name>` per collector;
//! * [`config`]: the `my.cnf` client sections, completed by flags and the environment;
//! * [`collectors`]: the queries and their families;
//! * [`exporter`]: one scrape, `mysql_up` and `mysql_exporter_*`;
//! * [`server`]: the HTTP endpoints.
#![forbid(unsafe_code)]

pub mod cli;
pub mod collectors;
pub mod config;
pub mod error;
pub mod exporter;
pub mod server;
pub mod switches;

pub use cli::Flags;
pub use collectors::{Collector, SPECS};
pub use config::ClientConfig;
pub use error::{ConfigError, ScrapeError, SectionError};
pub use server::{App, router};
