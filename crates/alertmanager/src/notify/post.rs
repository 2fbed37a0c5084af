//! What the HTTP integrations share: the target URL (inline or re-read from a file at each
//! notification, so a rotated secret takes effect at once), the JSON POST with upstream's
//! error classification, and upstream's truncation of over-long fields.

use std::path::PathBuf;
use std::time::Duration;

use http::Method;
use pm_common::config::http::{HttpClient, HttpClientConfig, HttpClientError, HttpClientOptions};
use url::Url;

use pm_gotmpl::Value;

use super::NotifyError;
use crate::template::Templates;

#[derive(Debug)]
pub enum Target {
    Url(Url),
    /// A URL with template actions, rendered for each notification.
    Template(String),
    File(PathBuf),
}

impl Target {
    pub fn url(&self, templates: &Templates, data: &Value) -> Result<Url, NotifyError> {
        match self {
            Target::Url(u) => Ok(u.clone()),
            Target::Template(source) => {
                let url = templates
                    .text(source, data)
                    .map_err(|e| NotifyError::other(format!("failed to template URL: {e}")))?;
                Url::parse(url.trim())
                    .map_err(|e| NotifyError::other(format!("failed to parse URL: {e}")))
            }
            Target::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    NotifyError::other(format!("read URL file {}: {e}", path.display()))
                })?;
                Url::parse(text.trim())
                    .map_err(|e| NotifyError::other(format!("invalid URL in file: {e}")))
            }
        }
    }
}

/// An HTTP client for one integration, with upstream's user agent.
pub fn client(http: &HttpClientConfig, name: &str, user_agent: &str) -> Result<HttpClient, String> {
    let options = HttpClientOptions {
        user_agent: Some(user_agent.to_owned()),
        ..Default::default()
    };
    HttpClient::with_options(http, name, &options).map_err(|e| e.to_string())
}

/// A read secret file's content, trimmed as upstream trims key and URL files.
pub fn read_secret(path: &str) -> Result<String, NotifyError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| NotifyError::other(format!("read secret file {path}: {e}")))
}

/// An answer to a POST: its status and body, for integrations that look at the body.
pub struct Answer {
    pub status: http::StatusCode,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// POSTs `body` as JSON with extra headers; transport errors may be retried.
pub async fn post_json(
    client: &HttpClient,
    url: Url,
    headers: &[(&str, String)],
    body: Vec<u8>,
    timeout: Option<Duration>,
) -> Result<Answer, NotifyError> {
    send_json(client, Method::POST, url, headers, body, timeout).await
}

/// Sends `body` as JSON with that method and extra headers.
pub async fn send_json(
    client: &HttpClient,
    method: Method,
    url: Url,
    headers: &[(&str, String)],
    body: Vec<u8>,
    timeout: Option<Duration>,
) -> Result<Answer, NotifyError> {
    let mut request = client
        .request(method, url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    if let Some(t) = timeout {
        request = request.timeout(t);
    }
    // The URL often carries a token: errors name the host only.
    let redact = |e: reqwest::Error| NotifyError::retryable_other(e.without_url().to_string());
    let response = client.send(request).await.map_err(|e| match e {
        HttpClientError::Request(e) => redact(e),
        other => NotifyError::retryable_other(other.to_string()),
    })?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.bytes().await.map_err(redact)?.to_vec();
    Ok(Answer {
        status,
        content_type,
        body,
    })
}

/// JSON as Go's `json.Encoder` writes it: HTML-sensitive characters escaped, newline-ended.
pub fn go_json(value: &impl serde::Serialize) -> Vec<u8> {
    let text = serde_json::to_string(value).expect("notification payloads serialize");
    let mut out = crate::template::go_html_safe(&text).into_bytes();
    out.push(b'\n');
    out
}

/// Upstream's `TruncateInRunes`: at most `n` characters, the last replaced by `…` when cut.
pub fn truncate_runes(s: String, n: usize) -> (String, bool) {
    if s.chars().count() <= n {
        return (s, false);
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    (out, true)
}

/// Upstream's `hashKey`: the SHA-256 of the group key, in hex, used as a de-duplication key
/// so the receiving service can match a resolve to its trigger.
pub fn hash_key(group_key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, group_key.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_like_upstream() {
        assert_eq!(truncate_runes("abcdef".into(), 4), ("abc…".into(), true));
        assert_eq!(truncate_runes("abcd".into(), 4), ("abcd".into(), false));
        assert_eq!(truncate_runes("äöüx".into(), 3), ("äö…".into(), true));
    }

    #[test]
    fn hash_key_is_sha256_hex() {
        assert_eq!(
            hash_key(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
