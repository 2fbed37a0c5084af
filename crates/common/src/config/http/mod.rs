//! prometheus/common's `HTTPClientConfig`: the YAML block every Prometheus-ecosystem daemon
//! uses to describe how it talks to an HTTP endpoint, and a client built from it.

mod client;
mod config;
mod oauth2;
mod proxy;
mod tls;

pub use client::{HttpClient, HttpClientError, HttpClientOptions};
pub use config::{
    Authorization, BasicAuth, ConfigError, Header, HttpClientConfig, OAuth2, ProxyConfig,
    TlsConfig, TlsVersion,
};
pub use oauth2::OAuth2Error;
pub use tls::{TlsError, client_config};
