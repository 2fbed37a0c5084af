//! The exporter toolkit: what every Promethium daemon needs to serve HTTP the way
//! prometheus/exporter-toolkit serves it for the Go daemons.
//!
//! * [`WebFlags`]: `--web.listen-address` (repeatable) and `--web.config.file`;
//! * [`WebConfig`]: the web config file (TLS, client certificates, basic auth, headers, rate
//!   limit), re-read when it or a file it names changes; [`check_web_config`] for promtool;
//! * [`serve`] / [`Server`]: every listen address, plain or TLS, HTTP/1.1 and HTTP/2, graceful
//!   shutdown; [`shutdown_signal`] and [`ReloadSignals`] for the usual signals;
//! * [`landing_page`], [`healthy`], [`ready`], [`metrics_endpoint`]: the small pages around a
//!   daemon's API.

mod auth;
mod config;
mod error;
mod flags;
mod landing;
mod listen;
mod metrics;
mod server;
mod signals;
mod source;
mod tls;

pub use config::{
    Cipher, Curve, HttpServerConfig, RateLimitConfig, TlsServerConfig, TlsVersion, WebConfig,
};
pub use error::{ConfigError, ServeError};
pub use flags::{DefaultListenAddress, WebFlags};
pub use landing::{LandingConfig, LandingLink, Readiness, healthy, landing_page, ready};
pub use listen::go_listen_address;
pub use metrics::{exposition, metrics_endpoint, scraped_exposition};
pub use server::{DEFAULT_SHUTDOWN_GRACE, Server, serve};
pub use signals::{ReloadSignals, shutdown_signal};
pub use source::{LoadedConfig, check_web_config};

#[cfg(test)]
mod tests;
