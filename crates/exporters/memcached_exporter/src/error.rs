//! Errors: bad flags at start-up, and failures of one scrape (which only set
//! `memcached_up 0`).

use pm_common::config::http::TlsError;

/// Why the exporter cannot start with these flags.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "If --memcached.tls.enable is set and --memcached.address is a unix socket, you must also specify --memcached.tls.server-name"
    )]
    UnixTlsServerName,
    #[error("Error parsing memcached address {0:?}: missing port in address")]
    Address(String),
    #[error("invalid --memcached.tls.server-name {0:?}")]
    ServerName(String),
    #[error("Failed to create TLS config: {0}")]
    Tls(#[from] TlsError),
}

/// Why memcached's statistics could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("i/o timeout")]
    Timeout,
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("connection closed before END")]
    Closed,
    #[error("memcache: client error: {0}")]
    Client(String),
    #[error("memcache: unexpected stats line format {0:?}")]
    Line(String),
    #[error("invalid slab class {0:?}")]
    SlabClass(String),
}
