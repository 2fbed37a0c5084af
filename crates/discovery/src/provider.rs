//! Starting a provider for a config: each runs as one tokio task that reports its groups
//! through an [`Updates`] handle until the manager aborts it.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use crate::metrics::Metrics;
use crate::{SdConfig, TargetGroup, consul, dns, file, http, static_sd};

/// What a provider task runs.
pub(crate) type ProviderFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where a provider reports its groups; the manager merges them under every set name that
/// currently uses the provider.
pub(crate) trait Sink: Send + Sync {
    fn update(&self, groups: Vec<TargetGroup>);
}

/// The sending side handed to a provider task.
#[derive(Clone)]
pub(crate) struct Updates(pub(crate) Arc<dyn Sink>);

impl Updates {
    pub(crate) fn send(&self, groups: Vec<TargetGroup>) {
        self.0.update(groups);
    }
}

/// What every provider may need beyond its config.
#[derive(Clone)]
pub(crate) struct Context {
    pub metrics: Arc<Metrics>,
    /// The set name the provider was first created for, upstream's `config` metric label.
    pub set_name: String,
    /// Name servers for DNS SD; `None` reads the system's resolver configuration.
    pub nameservers: Option<Vec<SocketAddr>>,
}

/// Why a provider could not be created; the manager counts these as failed configs.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProviderError {
    #[error("{0}")]
    Http(#[from] pm_common::config::http::HttpClientError),
    #[error("DNS resolver: {0}")]
    Resolver(String),
    #[error("invalid URL {url:?}: {source}")]
    Url {
        url: String,
        source: url::ParseError,
    },
}

/// Builds the task for `config`; nothing runs until the manager spawns it.
pub(crate) fn start(
    config: &SdConfig,
    ctx: Context,
    updates: Updates,
) -> Result<ProviderFuture, ProviderError> {
    Ok(match config {
        SdConfig::Static(groups) => Box::pin(static_sd::run(groups.clone(), updates)),
        SdConfig::File(cfg) => Box::pin(file::Discovery::new(cfg, ctx).run(updates)),
        SdConfig::Dns(cfg) => Box::pin(dns::Discovery::new(cfg, ctx)?.run(updates)),
        SdConfig::Consul(cfg) => Box::pin(consul::Discovery::new(cfg, ctx)?.run(updates)),
        SdConfig::Http(cfg) => Box::pin(http::Discovery::new(cfg, ctx)?.run(updates)),
    })
}
