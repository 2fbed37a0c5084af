//! Errors: bad flags at start-up, and failures of one scrape (which only set `haproxy_up 0`).

use pm_common::config::http::HttpClientError;

/// Why the exporter cannot start with these flags.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid --haproxy.scrape-uri {uri:?}: {source}")]
    Uri {
        uri: String,
        #[source]
        source: url::ParseError,
    },
    #[error("unsupported scheme: {0:?}")]
    Scheme(String),
    #[error("invalid server metric field number: {0}")]
    ServerField(String),
    #[error("building the HTTP client: {0}")]
    Client(#[source] HttpClientError),
}

/// Why HAProxy could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out")]
    Timeout,
    #[error("HTTP status {0}")]
    Status(u16),
    #[error(transparent)]
    Http(Box<HttpClientError>),
    #[error(transparent)]
    Io(std::io::Error),
}
