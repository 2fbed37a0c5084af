//! The HTTP client of one remote endpoint: sends encoded write requests and read requests
//! with upstream's headers, and tells retryable failures from final ones as upstream does.

use std::time::Duration;

use http::{HeaderValue, Method, StatusCode, header};
use pm_common::config::SigV4Config;
use pm_common::config::http::{HttpClient, HttpClientConfig, HttpClientOptions};
use url::Url;

use super::codec::{self, WriteMessage};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// A 5xx, a 429 when `retry_on_http_429` is set, or a network error: retry after a backoff
    /// (or after the server's `Retry-After`).
    #[error("{message}")]
    Recoverable {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Anything else (e.g. 400 for out-of-order data): the batch is dropped.
    #[error("{0}")]
    Fatal(String),
}

/// The client of a `remote_write` or `remote_read` endpoint.
#[derive(Clone, Debug)]
pub struct RemoteClient {
    http: HttpClient,
    url: Url,
    timeout: Duration,
    headers: Vec<(String, String)>,
}

impl RemoteClient {
    pub fn new(
        name: &str,
        url: &str,
        http: &HttpClientConfig,
        sigv4: Option<&SigV4Config>,
        timeout: Duration,
        headers: &std::collections::BTreeMap<String, String>,
    ) -> Result<RemoteClient, String> {
        let url = Url::parse(url).map_err(|e| format!("invalid url {url:?}: {e}"))?;
        let sigv4 = sigv4
            .map(SigV4Config::signer)
            .transpose()
            .map_err(|e| e.to_string())?;
        let http = HttpClient::with_options(
            http,
            name,
            &HttpClientOptions {
                user_agent: Some(codec::user_agent()),
                sigv4,
            },
        )
        .map_err(|e| e.to_string())?;
        Ok(RemoteClient {
            http,
            url,
            timeout,
            headers: headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    fn post(&self, body: Vec<u8>) -> reqwest::RequestBuilder {
        let mut req = self
            .http
            .request(Method::POST, self.url.clone())
            .timeout(self.timeout)
            .header(header::CONTENT_ENCODING, codec::SNAPPY)
            .body(body);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        req
    }

    /// Sends one snappy-compressed write request.
    pub async fn store(
        &self,
        message: WriteMessage,
        body: Vec<u8>,
        retry_on_rate_limit: bool,
    ) -> Result<(), SendError> {
        let content_type = match message {
            WriteMessage::V1 => codec::CONTENT_TYPE_PROTOBUF.to_owned(),
            WriteMessage::V2 => message.content_type(),
        };
        let req = self
            .post(body)
            .header(header::CONTENT_TYPE, content_type)
            .header(codec::HEADER_WRITE_VERSION, message.version());
        let resp = self
            .http
            .send(req)
            .await
            .map_err(|e| SendError::Recoverable {
                message: e.to_string(),
                retry_after: None,
            })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = resp
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(retry_after);
        let body = resp.text().await.unwrap_or_default();
        let line = body.lines().next().unwrap_or_default();
        let message = format!("server returned HTTP status {status}: {line}");
        if status.is_server_error()
            || (retry_on_rate_limit && status == StatusCode::TOO_MANY_REQUESTS)
        {
            Err(SendError::Recoverable {
                message,
                retry_after,
            })
        } else {
            Err(SendError::Fatal(message))
        }
    }

    /// Sends a snappy-compressed `ReadRequest` accepting sampled responses; returns the
    /// decompressed response body.
    pub async fn read(&self, body: Vec<u8>) -> Result<Vec<u8>, String> {
        let req = self
            .post(body)
            .header(header::CONTENT_TYPE, codec::CONTENT_TYPE_PROTOBUF)
            .header(codec::HEADER_READ_VERSION, codec::READ_VERSION);
        let resp = self.http.send(req).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes);
            return Err(format!(
                "remote server {} returned HTTP status {status}: {}",
                self.url,
                text.trim()
            ));
        }
        codec::decompress(&bytes).map_err(|e| e.to_string())
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by remote-write servers).
fn retry_after(v: &HeaderValue) -> Option<Duration> {
    v.to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
