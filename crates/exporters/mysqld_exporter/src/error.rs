//! Errors: a bad `my.cnf` or flags (start-up and reload), a `/probe` request that cannot be
//! served, and the failure of one collector (which only marks the scrape failed).

use std::path::PathBuf;

/// Why the client configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("failed to load config from {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("failed to parse address: {0}")]
    Address(String),
    #[error("no configuration found")]
    Empty,
}

/// Why a section of the configuration cannot give connection options.
#[derive(Debug, thiserror::Error)]
pub enum SectionError {
    #[error("no user specified in section or parent")]
    NoUser,
    #[error("invalid value {value:?} for {key}")]
    Value { key: &'static str, value: String },
    #[error("failed to parse target: address {0}: missing port in address")]
    Target(String),
}

/// Why one collector failed.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error(transparent)]
    Mysql(#[from] mysql_async::Error),
    #[error("converting column {column}: {value:?} is not a number")]
    Value { column: String, value: String },
    #[error("context deadline exceeded")]
    Timeout,
}
