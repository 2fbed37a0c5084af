//! `consul_sd_configs`: services from Consul's catalog, followed with blocking queries. The
//! service list comes from `/v1/catalog/services` (unless the config names its services and
//! filters on nothing else); each service's instances from `/v1/health/service/<name>`, one
//! task per service, one group per service (its source).

pub(crate) mod config;
mod labels;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pm_common::config::http::HttpClient;
use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::task::{AbortHandle, JoinSet};
use url::Url;

use self::config::{ConsulSdConfig, ConsulSettings};
use crate::TargetGroup;
use crate::provider::{Context, ProviderError, Updates};

/// How long a blocking query may wait on the server (upstream's `watchTimeout`).
const WATCH_TIMEOUT: Duration = Duration::from_secs(120);
/// The pause after a failed call (upstream's `retryInterval`).
const RETRY_INTERVAL: Duration = Duration::from_secs(15);

/// Why a call to Consul failed.
#[derive(Debug, thiserror::Error)]
enum RpcError {
    #[error("{0}")]
    Http(#[from] pm_common::config::http::HttpClientError),
    #[error("reading response: {0}")]
    Body(#[from] reqwest::Error),
    #[error("unexpected response code: {status} ({body})")]
    Status {
        status: reqwest::StatusCode,
        body: String,
    },
    #[error("decoding response: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("invalid API path: {0}")]
    Url(#[from] url::ParseError),
    #[error("failed to parse X-Consul-Index: {0:?}")]
    Index(String),
    #[error("invalid value {0} for Config.Datacenter")]
    Datacenter(String),
}

/// What the per-service tasks share.
struct Shared {
    client: HttpClient,
    base: Url,
    settings: ConsulSettings,
    ctx: Context,
    /// The configured datacenter, or the local agent's once asked.
    datacenter: std::sync::OnceLock<String>,
}

pub(crate) struct Discovery(Arc<Shared>);

impl Discovery {
    pub(crate) fn new(config: &ConsulSdConfig, ctx: Context) -> Result<Discovery, ProviderError> {
        let settings = config.settings.clone();
        let mut base = format!("{}://{}", settings.scheme, settings.server);
        base.push_str(settings.path_prefix.trim_end_matches('/'));
        base.push('/');
        let base = Url::parse(&base).map_err(|source| ProviderError::Url { url: base, source })?;
        let datacenter = std::sync::OnceLock::new();
        if !settings.datacenter.is_empty() {
            let _ = datacenter.set(settings.datacenter.clone());
        }
        Ok(Discovery(Arc::new(Shared {
            client: HttpClient::new(&config.http_client, "consul_sd")?,
            base,
            settings,
            ctx,
            datacenter,
        })))
    }

    pub(crate) async fn run(self, updates: Updates) {
        let shared = self.0;
        shared.learn_datacenter().await;
        let settings = &shared.settings;
        let mut watchers = JoinSet::new();
        if settings.services.is_empty()
            || !settings.service_tags.is_empty()
            || !settings.filter.is_empty()
        {
            watch_catalog(&shared, &updates, &mut watchers).await;
        } else {
            for name in &settings.services {
                watchers.spawn(watch_service(
                    Arc::clone(&shared),
                    name.clone(),
                    updates.clone(),
                ));
            }
            // The per-service tasks do the work until the manager drops this one (and with
            // it the set, which aborts them).
            std::future::pending::<()>().await;
        }
    }
}

impl Shared {
    /// Asks the local agent for its datacenter when the config names none, retrying until
    /// it answers, as upstream does before discovering anything.
    async fn learn_datacenter(&self) {
        while self.datacenter.get().is_none() {
            match self.agent_datacenter().await {
                Ok(dc) => {
                    let _ = self.datacenter.set(dc);
                }
                Err(err) => {
                    self.ctx.metrics.consul_rpc_failures.inc();
                    tracing::error!(%err, "Error retrieving datacenter name");
                    tokio::time::sleep(RETRY_INTERVAL).await;
                }
            }
        }
    }

    async fn agent_datacenter(&self) -> Result<String, RpcError> {
        #[derive(Deserialize)]
        struct SelfInfo {
            #[serde(rename = "Config", default)]
            config: HashMap<String, serde_json::Value>,
        }
        let (info, _): (SelfInfo, _) = self.get("v1/agent/self", &[], None).await?;
        match info.config.get("Datacenter") {
            Some(serde_json::Value::String(dc)) => Ok(dc.clone()),
            other => Err(RpcError::Datacenter(format!(
                "{}",
                other.unwrap_or(&serde_json::Value::Null)
            ))),
        }
    }

    /// One call; with `index`, a blocking query that returns when the data changes past it
    /// or the wait runs out. Returns the decoded body and the `X-Consul-Index` header.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        extra: &[(&str, &str)],
        index: Option<u64>,
    ) -> Result<(T, u64), RpcError> {
        let mut url = self
            .base
            .join(path)
            .map_err(|e| RpcError::Index(e.to_string()))?;
        {
            let mut query = url.query_pairs_mut();
            let settings = &self.settings;
            if !settings.datacenter.is_empty() {
                query.append_pair("dc", &settings.datacenter);
            }
            if !settings.namespace.is_empty() {
                query.append_pair("ns", &settings.namespace);
            }
            if !settings.partition.is_empty() {
                query.append_pair("partition", &settings.partition);
            }
            if let Some(index) = index {
                if settings.allow_stale {
                    query.append_key_only("stale");
                }
                query.append_pair("index", &index.to_string());
                query.append_pair("wait", &format!("{}ms", WATCH_TIMEOUT.as_millis()));
                for (key, value) in &settings.node_meta {
                    query.append_pair("node-meta", &format!("{key}:{value}"));
                }
            }
            for (key, value) in extra {
                query.append_pair(key, value);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let mut request = self
            .client
            .request(Method::GET, url)
            .timeout(WATCH_TIMEOUT + RETRY_INTERVAL);
        if !self.settings.token.is_empty() {
            request = request.header("X-Consul-Token", self.settings.token.expose());
        }
        let response = self.client.send(request).await?;
        let status = response.status();
        let header = response
            .headers()
            .get("X-Consul-Index")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let body = response.bytes().await?;
        if !status.is_success() {
            return Err(RpcError::Status {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        let index = match (index, header) {
            (None, _) => 0,
            (Some(_), Some(header)) => header.parse().map_err(|_| RpcError::Index(header))?,
            (Some(_), None) => return Err(RpcError::Index(String::new())),
        };
        Ok((serde_json::from_slice(&body)?, index))
    }

    fn observe(&self, call: &str, start: Instant) {
        self.ctx
            .metrics
            .consul_rpc_duration
            .with_label_values(&[call, "catalog"])
            .observe(start.elapsed().as_secs_f64());
    }

    fn failed(&self, what: &str, err: &RpcError) {
        self.ctx.metrics.consul_rpc_failures.inc();
        tracing::error!(%err, what, "Error refreshing Consul SD");
    }

    fn refresh_interval(&self) -> Duration {
        Duration::from(self.settings.refresh_interval).max(Duration::from_millis(1))
    }
}

/// Follows the service list, starting a watcher for each new service that carries every
/// configured tag and withdrawing the group of each service that went away.
async fn watch_catalog(shared: &Arc<Shared>, updates: &Updates, watchers: &mut JoinSet<()>) {
    let mut services: HashMap<String, AbortHandle> = HashMap::new();
    let mut last_index = 0;
    let mut ticker = tokio::time::interval(shared.refresh_interval());
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let filter = &shared.settings.filter;
        let extra: Vec<(&str, &str)> = if filter.is_empty() {
            Vec::new()
        } else {
            vec![("filter", filter.as_str())]
        };
        let start = Instant::now();
        let result = shared
            .get::<BTreeMap<String, Option<Vec<String>>>>(
                "v1/catalog/services",
                &extra,
                Some(last_index),
            )
            .await;
        shared.observe("services", start);
        let (catalog, index) = match result {
            Ok(answer) => answer,
            Err(err) => {
                shared.failed("service list", &err);
                tokio::time::sleep(RETRY_INTERVAL).await;
                continue;
            }
        };
        // The same index means the wait ran out with nothing new.
        if index == last_index {
            continue;
        }
        last_index = index;
        for (name, tags) in &catalog {
            let wanted = &shared.settings.service_tags;
            let tags = tags.as_deref().unwrap_or_default();
            let named =
                shared.settings.services.is_empty() || shared.settings.services.contains(name);
            if !named || !wanted.iter().all(|t| tags.contains(t)) || services.contains_key(name) {
                continue;
            }
            let handle = watchers.spawn(watch_service(
                Arc::clone(shared),
                name.clone(),
                updates.clone(),
            ));
            services.insert(name.clone(), handle);
        }
        services.retain(|name, handle| {
            if catalog.contains_key(name) {
                return true;
            }
            handle.abort();
            updates.send(vec![TargetGroup {
                source: name.clone(),
                ..TargetGroup::default()
            }]);
            false
        });
        if services.is_empty() {
            updates.send(vec![TargetGroup::default()]);
        }
    }
}

/// Follows one service's instances and their health.
async fn watch_service(shared: Arc<Shared>, name: String, updates: Updates) {
    let path = format!(
        "v1/health/service/{}",
        percent_encoding::utf8_percent_encode(&name, percent_encoding::NON_ALPHANUMERIC)
    );
    let settings = &shared.settings;
    let mut extra: Vec<(&str, &str)> = settings
        .service_tags
        .iter()
        .map(|tag| ("tag", tag.as_str()))
        .collect();
    if !settings.health_filter.is_empty() {
        extra.push(("filter", settings.health_filter.as_str()));
    }
    let datacenter = shared.datacenter.get().cloned().unwrap_or_default();
    let mut last_index = 0;
    let mut ticker = tokio::time::interval(shared.refresh_interval());
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let start = Instant::now();
        let result = shared
            .get::<Vec<labels::ServiceEntry>>(&path, &extra, Some(last_index))
            .await;
        shared.observe("service", start);
        let (entries, index) = match result {
            Ok(answer) => answer,
            Err(err) => {
                shared.failed(&name, &err);
                tokio::time::sleep(RETRY_INTERVAL).await;
                continue;
            }
        };
        if index == last_index {
            continue;
        }
        last_index = index;
        updates.send(vec![labels::group(
            &name,
            &datacenter,
            &settings.tag_separator,
            &entries,
        )]);
    }
}

#[cfg(test)]
mod tests;
