//! The scrape manager: one pool per job, fed by service discovery's target sets and by
//! config reloads; read by the HTTP API.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use pm_common::expfmt::dto;
use pm_common::metrics::{Collector, ConstFamily, ConstKind, MetricsError, Registry};
use pm_common::model::Labels;
use pm_discovery::TargetSets;
use pm_storage::Appendable;
use tokio::sync::{Mutex, watch};

use super::metrics::ScrapeMetrics;
use super::pool::{PoolContext, PoolView, ScrapePool};
use super::target::{Fnv64, Target, TargetHealth};
use crate::config::{Config, ScrapeConfig};

/// Settings of the manager that are not part of prometheus.yml.
#[derive(Debug, Clone)]
pub struct ScrapeManagerOptions {
    /// How often target-set updates from discovery are applied at most (upstream's
    /// `DiscoveryReloadInterval`, 5s).
    pub discovery_reload_interval: Duration,
    /// `User-Agent` of scrapes.
    pub user_agent: String,
    /// The host name mixed into the scrape offsets, so that HA pairs scrape at different
    /// phases; `None` reads the machine's.
    pub hostname: Option<String>,
}

impl Default for ScrapeManagerOptions {
    fn default() -> Self {
        ScrapeManagerOptions {
            discovery_reload_interval: Duration::from_secs(5),
            user_agent: format!("Prometheus/{}", env!("CARGO_PKG_VERSION")),
            hostname: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScrapeManagerError {
    #[error("error creating HTTP client for job {job:?}: {source}")]
    HttpClient {
        job: String,
        source: pm_common::config::http::HttpClientError,
    },
}

/// A target as `/api/v1/targets` shows it under `activeTargets`.
#[derive(Debug, Clone)]
pub struct ActiveTarget {
    /// `discoveredLabels`: labels from discovery plus the job's defaults, before relabeling.
    pub discovered_labels: Labels,
    /// `labels`: the labels attached to the target's series.
    pub labels: Labels,
    /// `scrapePool`: the job name.
    pub scrape_pool: String,
    /// `scrapeUrl`.
    pub scrape_url: String,
    /// `lastError`: empty after a successful scrape.
    pub last_error: String,
    /// `lastScrape`: when the last scrape started (RFC 3339 in the API; Go's zero time when
    /// never scraped).
    pub last_scrape: Option<SystemTime>,
    /// `lastScrapeDuration`, in seconds in the API.
    pub last_scrape_duration: Duration,
    /// `health`: `up`, `down` or `unknown`.
    pub health: TargetHealth,
    /// `scrapeInterval`, as a Prometheus duration (`15s`).
    pub scrape_interval: String,
    /// `scrapeTimeout`, as a Prometheus duration (`10s`).
    pub scrape_timeout: String,
    /// The target itself, for its metadata (`/api/v1/targets/metadata`).
    pub target: Arc<Target>,
}

/// A target relabeling dropped, as `/api/v1/targets` shows it under `droppedTargets`.
#[derive(Debug, Clone)]
pub struct DroppedTarget {
    /// `discoveredLabels`.
    pub discovered_labels: Labels,
    /// `scrapePool`.
    pub scrape_pool: String,
}

struct State {
    configs: HashMap<String, ScrapeConfig>,
    pools: HashMap<String, ScrapePool>,
    target_sets: Arc<TargetSets>,
    offset_seed: u64,
}

/// Upstream's `scrape.Manager`. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct ScrapeManager {
    inner: Arc<Inner>,
}

struct Inner {
    ctx: PoolContext,
    opts: ScrapeManagerOptions,
    state: Mutex<State>,
    views: Views,
    shutdown: watch::Sender<bool>,
}

impl ScrapeManager {
    /// A manager appending to `appendable`, with its metrics in `registry`.
    pub fn new(
        appendable: Arc<dyn Appendable>,
        opts: ScrapeManagerOptions,
        registry: &Registry,
    ) -> Result<ScrapeManager, MetricsError> {
        let metrics = Arc::new(ScrapeMetrics::register(registry)?);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let views = Views::default();
        registry.register(Arc::new(MetadataCollector {
            views: views.clone(),
        }));
        let inner = Arc::new(Inner {
            ctx: PoolContext {
                appendable,
                metrics,
                shutdown: shutdown_rx,
                user_agent: opts.user_agent.clone(),
            },
            opts,
            state: Mutex::new(State {
                configs: HashMap::new(),
                pools: HashMap::new(),
                target_sets: Arc::default(),
                offset_seed: 0,
            }),
            views,
            shutdown,
        });
        Ok(ScrapeManager { inner })
    }

    /// Applies a (re)loaded config: pools of removed jobs stop (their series go stale),
    /// pools of changed jobs reload, unchanged pools keep their loops untouched; then the
    /// known target sets are synced again so relabeling changes take effect.
    pub async fn apply_config(&self, cfg: &Config) -> Result<(), ScrapeManagerError> {
        let mut state = self.inner.state.lock().await;
        state.offset_seed = offset_seed(
            self.inner.opts.hostname.as_deref(),
            &Labels::from_pairs(cfg.global.external_labels.iter()),
        );
        state.configs = cfg
            .all_scrape_configs()
            .map(|c| (c.settings.job_name.clone(), c.clone()))
            .collect();
        let mut first_err = None;
        let names: Vec<String> = state.pools.keys().cloned().collect();
        for name in names {
            match state.configs.get(&name).cloned() {
                None => {
                    if let Some(pool) = state.pools.remove(&name) {
                        pool.stop().await;
                    }
                }
                Some(new) => {
                    let Some(pool) = state.pools.get_mut(&name) else {
                        continue;
                    };
                    if pool.config != new
                        && let Err(source) = pool.reload(new).await
                    {
                        tracing::error!(scrape_pool = %name, err = %source, "error reloading scrape pool");
                        first_err
                            .get_or_insert(ScrapeManagerError::HttpClient { job: name, source });
                    }
                }
            }
        }
        self.sync_pools(&mut state).await;
        first_err.map_or(Ok(()), Err)
    }

    /// Applies target-set updates from discovery, at most once per
    /// `discovery_reload_interval`, until `rx` closes or the manager stops.
    pub async fn run(&self, mut rx: watch::Receiver<Arc<TargetSets>>) {
        let mut shutdown = self.inner.shutdown.subscribe();
        let mut ticker = tokio::time::interval(self.inner.opts.discovery_reload_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut pending = true;
        loop {
            if *shutdown.borrow_and_update() {
                return;
            }
            tokio::select! {
                changed = rx.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    pending = true;
                }
                _ = ticker.tick() => {
                    if pending {
                        pending = false;
                        let sets = rx.borrow_and_update().clone();
                        let mut state = self.inner.state.lock().await;
                        state.target_sets = sets;
                        self.sync_pools(&mut state).await;
                    }
                }
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Stops all scraping without staleness markers: the server is shutting down and will
    /// resume where it stopped.
    pub async fn stop(&self) {
        let _ = self.inner.shutdown.send(true);
        let mut state = self.inner.state.lock().await;
        for (_, pool) in state.pools.drain() {
            pool.stop().await;
        }
        self.views().clear();
    }

    async fn sync_pools(&self, state: &mut State) {
        let sets = state.target_sets.clone();
        let mut names: Vec<&String> = sets.keys().collect();
        names.sort();
        for name in names {
            if !state.pools.contains_key(name) {
                let Some(cfg) = state.configs.get(name).cloned() else {
                    continue;
                };
                self.inner.ctx.metrics.pools_total.inc();
                match ScrapePool::new(self.inner.ctx.clone(), cfg, state.offset_seed) {
                    Ok(pool) => {
                        state.pools.insert(name.clone(), pool);
                    }
                    Err(err) => {
                        self.inner.ctx.metrics.pools_failed.inc();
                        tracing::error!(scrape_pool = %name, %err, "error creating new scrape pool");
                        continue;
                    }
                }
            }
            if let Some(pool) = state.pools.get_mut(name) {
                pool.sync(&sets[name]).await;
            }
        }
        let mut views = self.views();
        views.clear();
        for (name, pool) in &state.pools {
            views.insert(name.clone(), pool.view.clone());
        }
    }

    fn views(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, PoolView>> {
        self.inner
            .views
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn read_views(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, PoolView>> {
        self.inner
            .views
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The active targets of every pool, by pool name; targets sorted by labels.
    pub fn active_targets(&self) -> BTreeMap<String, Vec<ActiveTarget>> {
        self.read_views()
            .iter()
            .map(|(pool, view)| {
                let targets = view.active.iter().map(|t| active_target(pool, t)).collect();
                (pool.clone(), targets)
            })
            .collect()
    }

    /// The dropped targets of every pool (at most `keep_dropped_targets` each, when set).
    pub fn dropped_targets(&self) -> BTreeMap<String, Vec<DroppedTarget>> {
        self.read_views()
            .iter()
            .map(|(pool, view)| {
                let dropped = view
                    .dropped
                    .iter()
                    .map(|l| DroppedTarget {
                        discovered_labels: l.clone(),
                        scrape_pool: pool.clone(),
                    })
                    .collect();
                (pool.clone(), dropped)
            })
            .collect()
    }

    /// `droppedTargetCounts`: how many targets each pool dropped, kept or not.
    pub fn dropped_target_counts(&self) -> BTreeMap<String, usize> {
        self.read_views()
            .iter()
            .map(|(pool, view)| (pool.clone(), view.dropped_count))
            .collect()
    }
}

fn active_target(pool: &str, t: &Arc<Target>) -> ActiveTarget {
    let status = t.status();
    let labels = t.all_labels();
    ActiveTarget {
        discovered_labels: t.discovered_labels(),
        labels: t.labels(),
        scrape_pool: pool.to_owned(),
        scrape_url: t.url(),
        last_error: status.last_error,
        last_scrape: status.last_scrape,
        last_scrape_duration: status.last_duration,
        health: status.health,
        scrape_interval: labels
            .get_or_empty(super::target::SCRAPE_INTERVAL_LABEL)
            .to_owned(),
        scrape_timeout: labels
            .get_or_empty(super::target::SCRAPE_TIMEOUT_LABEL)
            .to_owned(),
        target: t.clone(),
    }
}

/// Upstream's offset seed: FNV-1a of the host name followed by the external labels.
fn offset_seed(hostname: Option<&str>, external: &Labels) -> u64 {
    let host = match hostname {
        Some(h) => h.to_owned(),
        None => std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default(),
    };
    let mut h = Fnv64::new();
    h.write(host.as_bytes());
    h.write(external.to_string().as_bytes());
    h.0
}

type Views = Arc<RwLock<BTreeMap<String, PoolView>>>;

/// `prometheus_target_metadata_cache_*`, computed from the pools' targets at gather time.
struct MetadataCollector {
    views: Views,
}

impl Collector for MetadataCollector {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        let views = self.views.read().unwrap_or_else(PoisonError::into_inner);
        let mut entries = ConstFamily::new(
            "prometheus_target_metadata_cache_entries",
            "Total number of metric metadata entries in the cache",
            ConstKind::Gauge,
        );
        let mut bytes = ConstFamily::new(
            "prometheus_target_metadata_cache_bytes",
            "The number of bytes that are currently used for storing metric metadata in the cache",
            ConstKind::Gauge,
        );
        for (pool, view) in views.iter() {
            let (n, size) = view.active.iter().fold((0, 0), |(n, size), t| {
                (n + t.metadata().len(), size + t.metadata().size_bytes())
            });
            entries.push(&[("scrape_job", pool)], n as f64);
            bytes.push(&[("scrape_job", pool)], size as f64);
        }
        out.push(entries.into_family());
        out.push(bytes.into_family());
    }
}
