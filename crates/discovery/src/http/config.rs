//! The `http_sd_configs` entry.

use pm_common::config::Duration;
use pm_common::config::http::HttpClientConfig;

/// Target groups fetched as JSON from a URL every `refresh_interval`. The YAML form inlines
/// the HTTP client keys beside `url`; the server's config loader decodes it.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSdConfig {
    pub url: String,
    pub refresh_interval: Duration,
    pub http_client: HttpClientConfig,
}
