//! `http_sd_configs`: a JSON list of groups fetched from a URL every `refresh_interval`.

pub(crate) mod config;

use std::time::Duration;

use pm_common::config::http::HttpClient;
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use url::Url;

use self::config::HttpSdConfig;
use crate::provider::{Context, ProviderError, Updates};
use crate::refresh::{self, Refresh};
use crate::{TargetGroup, wire};

/// The label naming the URL a group was fetched from.
pub const URL_LABEL: &str = "__meta_url";

pub(crate) struct Discovery {
    url: Url,
    /// The URL as configured: groups' sources and `__meta_url` use it verbatim.
    raw_url: String,
    client: HttpClient,
    interval: Duration,
    ctx: Context,
    /// How many groups the last good response had, to withdraw the ones that went away.
    last_len: usize,
}

impl Discovery {
    pub(crate) fn new(config: &HttpSdConfig, ctx: Context) -> Result<Discovery, ProviderError> {
        let url = Url::parse(&config.url).map_err(|source| ProviderError::Url {
            url: config.url.clone(),
            source,
        })?;
        Ok(Discovery {
            url,
            raw_url: config.url.clone(),
            client: HttpClient::new(&config.http_client, "http")?,
            interval: config.refresh_interval.into(),
            ctx,
            last_len: 0,
        })
    }

    pub(crate) async fn run(self, updates: Updates) {
        let (interval, ctx) = (self.interval, self.ctx.clone());
        refresh::run(self, "http", interval, ctx, updates).await;
    }

    async fn fetch(&mut self) -> Result<Vec<TargetGroup>, String> {
        let request = self
            .client
            .request(Method::GET, self.url.clone())
            .header(ACCEPT, "application/json")
            .header(
                "X-Prometheus-Refresh-Interval-Seconds",
                self.interval.as_secs_f64().to_string(),
            );
        let response = self
            .client
            .send(request)
            .await
            .map_err(|err| err.to_string())?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(format!("server returned HTTP status {}", response.status()));
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        if !is_json(&content_type) {
            return Err(format!("unsupported content type {content_type:?}"));
        }
        let body = response.bytes().await.map_err(|err| err.to_string())?;
        let raw = wire::from_json(&body).map_err(|err| err.to_string())?;
        let mut groups: Vec<TargetGroup> = raw
            .into_iter()
            .enumerate()
            .map(|(i, group)| group.into_group(self.source(i), (URL_LABEL, &self.raw_url)))
            .collect();
        let len = groups.len();
        groups.extend((len..self.last_len).map(|i| TargetGroup {
            source: self.source(i),
            ..TargetGroup::default()
        }));
        self.last_len = len;
        Ok(groups)
    }

    fn source(&self, index: usize) -> String {
        format!("{}:{index}", self.raw_url)
    }
}

impl Refresh for Discovery {
    async fn refresh(&mut self) -> Result<Vec<TargetGroup>, String> {
        let result = self.fetch().await;
        if result.is_err() {
            self.ctx.metrics.http_failures.inc();
        }
        result
    }
}

/// Upstream accepts `application/json`, optionally with a UTF-8 charset, in any case.
fn is_json(content_type: &str) -> bool {
    let lower = content_type.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("application/json") else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let Some(params) = rest.strip_prefix(';') else {
        return false;
    };
    matches!(
        params.trim_start_matches(|c: char| c.is_ascii_whitespace()),
        "charset=utf-8" | "charset=\"utf-8\""
    )
}

#[cfg(test)]
mod tests;
