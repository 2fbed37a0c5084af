//! Errors: bad flags at start-up, and failed Consul reads (which only set `consul_up 0`).

use pm_common::config::http::HttpClientError;

/// Why the exporter cannot start with these flags.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid consul URL: {0}")]
    Url(String),
    #[error(transparent)]
    Client(#[from] HttpClientError),
    #[error("invalid --{flag} {pattern:?}: {reason}")]
    Regex {
        flag: &'static str,
        pattern: String,
        reason: String,
    },
}

/// Why one read of the Consul HTTP API failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{path}: {source}")]
    Request {
        path: String,
        #[source]
        source: HttpClientError,
    },
    #[error("{path}: reading response: {source}")]
    Body {
        path: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("Unexpected response code: {status} ({body})")]
    Status { status: u16, body: String },
    #[error("{path}: decoding response: {source}")]
    Decode {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("Unknown service name {0:?}")]
    UnknownService(String),
    #[error("agent self info has no Config.NodeName")]
    NodeName,
}
