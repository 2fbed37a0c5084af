//! The HTTP side of a scrape: one GET with upstream's headers, a bounded body read.

use pm_common::config::http::HttpClient;
use pm_common::expfmt::negotiate::{ScrapeProtocol, scrape_accept_header};
use pm_common::model::EscapingScheme;
use std::io::Write as _;
use std::time::Duration;

use flate2::write::GzDecoder;
use reqwest::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};
use url::Url;

use super::ScrapeError;
use crate::config::ScrapeConfig;

/// How one target is fetched.
#[derive(Debug, Clone)]
pub(crate) struct Scraper {
    client: HttpClient,
    url: String,
    accept: HeaderValue,
    compression: bool,
    timeout: Duration,
    timeout_header: HeaderValue,
    /// 0: unlimited.
    body_size_limit: u64,
}

impl Scraper {
    pub fn new(client: HttpClient, cfg: &ScrapeConfig, url: String, timeout: Duration) -> Scraper {
        let protocols: Vec<ScrapeProtocol> = cfg
            .scrape_protocols()
            .iter()
            .filter_map(|p| p.0.parse().ok())
            .collect();
        let escaping = cfg
            .settings
            .metric_name_escaping_scheme
            .parse()
            .unwrap_or(EscapingScheme::default());
        let accept = scrape_accept_header(&protocols, escaping);
        Scraper {
            client,
            url,
            accept: HeaderValue::from_str(&accept).unwrap_or(HeaderValue::from_static("*/*")),
            compression: cfg.settings.enable_compression,
            timeout,
            timeout_header: HeaderValue::from_str(&go_seconds(timeout))
                .unwrap_or(HeaderValue::from_static("0")),
            body_size_limit: u64::try_from(cfg.settings.body_size_limit.0).unwrap_or(0),
        }
    }

    /// Fetches the target into `buf` (cleared first) within the timeout and returns the
    /// response's `Content-Type`.
    pub async fn scrape(&self, buf: &mut Vec<u8>) -> Result<String, ScrapeError> {
        buf.clear();
        match tokio::time::timeout(self.timeout, self.fetch(buf)).await {
            Ok(res) => res,
            Err(_) => Err(ScrapeError::Request {
                url: self.url.clone(),
                message: "context deadline exceeded".to_owned(),
            }),
        }
    }

    async fn fetch(&self, buf: &mut Vec<u8>) -> Result<String, ScrapeError> {
        let request_err = |message: String| ScrapeError::Request {
            url: self.url.clone(),
            message,
        };
        let url = Url::parse(&self.url).map_err(|e| request_err(e.to_string()))?;
        let mut request = self
            .client
            .request(reqwest::Method::GET, url)
            .header(ACCEPT, self.accept.clone())
            .header(
                "X-Prometheus-Scrape-Timeout-Seconds",
                self.timeout_header.clone(),
            );
        request = request.header(
            ACCEPT_ENCODING,
            if self.compression { "gzip" } else { "identity" },
        );
        let mut response = self
            .client
            .send(request)
            .await
            .map_err(|e| request_err(error_chain(&e)))?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(ScrapeError::HttpStatus(response.status().to_string()));
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let gzip = response
            .headers()
            .get(CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes() == b"gzip");
        // The limit applies to the decompressed body; upstream reads at most the limit and
        // fails when it got that many bytes.
        let over = |len: usize| self.body_size_limit > 0 && len as u64 >= self.body_size_limit;
        let mut decoder = gzip.then(|| GzDecoder::new(std::mem::take(buf)));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| request_err(error_chain(&e)))?
        {
            let len = match &mut decoder {
                Some(d) => {
                    d.write_all(&chunk)
                        .map_err(|e| ScrapeError::Gzip(e.to_string()))?;
                    d.get_ref().len()
                }
                None => {
                    buf.extend_from_slice(&chunk);
                    buf.len()
                }
            };
            if over(len) {
                return Err(ScrapeError::BodySizeLimit);
            }
        }
        if let Some(d) = decoder {
            *buf = d.finish().map_err(|e| ScrapeError::Gzip(e.to_string()))?;
            if over(buf.len()) {
                return Err(ScrapeError::BodySizeLimit);
            }
        }
        Ok(content_type)
    }
}

/// An error and its causes, `: `-separated as Go wraps them.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Seconds as Go's `strconv.FormatFloat(d.Seconds(), 'f', -1, 64)`.
pub(crate) fn go_seconds(d: Duration) -> String {
    pm_common::expfmt::encode::float::format_f(d.as_secs_f64())
}
