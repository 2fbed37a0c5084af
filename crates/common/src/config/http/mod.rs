//! prometheus/common's `HTTPClientConfig`: the YAML block every Prometheus-ecosystem daemon
//! uses to describe how it talks to an HTTP endpoint, and a client built from it.
//!
//! Load, resolve relative paths, validate, then build; credentials are applied per request:
//!
//! ```no_run
//! use pm_common::config::http::{HttpClient, HttpClientConfig};
//! use pm_common::config::yaml;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let path = std::path::Path::new("/etc/prometheus/client.yml");
//! let mut cfg: HttpClientConfig = yaml::load_file(path)?;
//! cfg.set_directory(path.parent().unwrap());
//! let cfg = yaml::validate(path, cfg, HttpClientConfig::validate)?;
//! let client = HttpClient::new(&cfg, "example")?;
//! let response = client.get("https://target:9100/metrics".parse()?).await?;
//! println!("{}", response.status());
//! # Ok(())
//! # }
//! ```

mod client;
mod config;
mod oauth2;
mod proxy;
mod proxy_url;
mod tls;

pub use client::{HttpClient, HttpClientError, HttpClientOptions};
pub use config::{
    Authorization, BasicAuth, ConfigError, Header, HttpClientConfig, OAuth2, ProxyConfig,
    TlsConfig, TlsVersion,
};
pub use oauth2::{OAuth2Error, OAuth2TokenSource};
pub use proxy::ProxySelector;
pub use proxy_url::{ProxyUrl, ProxyUrlError};
pub use tls::{TlsError, client_config};
