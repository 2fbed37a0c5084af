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
    #[error("{}", chain(.0.as_ref()))]
    Http(Box<HttpClientError>),
    #[error(transparent)]
    Io(std::io::Error),
}

/// An error and its sources, `: `-separated: reqwest's own message ("error sending request")
/// says nothing of the cause.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}
