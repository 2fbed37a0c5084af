//! A scrape pool: one job's targets and their loops.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use pm_common::config::http::{HttpClient, HttpClientError, HttpClientOptions};
use pm_common::model::Labels;
use pm_discovery::TargetGroup;
use pm_storage::Appendable;
use tokio::sync::watch;

use super::ScrapeError;
use super::append::{AppendSettings, TargetAppender};
use super::cache::ScrapeCache;
use super::metrics::ScrapeMetrics;
use super::scrape_loop::{self, LoopHandle, LoopParams};
use super::scraper::Scraper;
use super::target::{GroupTargets, Target, targets_from_group};
use crate::config::ScrapeConfig;

/// What the API reads of a pool; replaced whole after each sync.
#[derive(Debug, Default, Clone)]
pub(crate) struct PoolView {
    pub active: Vec<Arc<Target>>,
    pub dropped: Vec<Labels>,
    pub dropped_count: usize,
}

/// Shared by every pool of a manager.
#[derive(Clone)]
pub(crate) struct PoolContext {
    pub appendable: Arc<dyn Appendable>,
    pub metrics: Arc<ScrapeMetrics>,
    pub shutdown: watch::Receiver<bool>,
    pub user_agent: String,
}

pub(crate) struct ScrapePool {
    ctx: PoolContext,
    pub config: ScrapeConfig,
    client: HttpClient,
    offset_seed: u64,
    /// Targets by hash, with their running loops.
    loops: HashMap<u64, (Arc<Target>, LoopHandle)>,
    target_limit_hit: bool,
    pub view: PoolView,
}

impl ScrapePool {
    pub fn new(
        ctx: PoolContext,
        config: ScrapeConfig,
        offset_seed: u64,
    ) -> Result<ScrapePool, HttpClientError> {
        let client = client(&config, &ctx.user_agent)?;
        ctx.metrics
            .pool_target_limit
            .with_label_values(&[&config.settings.job_name])
            .set(config.settings.target_limit as f64);
        Ok(ScrapePool {
            ctx,
            config,
            client,
            offset_seed,
            loops: HashMap::new(),
            target_limit_hit: false,
            view: PoolView::default(),
        })
    }

    fn job(&self) -> &str {
        &self.config.settings.job_name
    }

    /// Replaces the pool's targets with those of `groups`: new targets get a loop, vanished
    /// ones are stopped (and go stale), unchanged ones keep scraping undisturbed.
    pub async fn sync(&mut self, groups: &[TargetGroup]) {
        let start = Instant::now();
        let mut found = GroupTargets::default();
        for group in groups {
            let before = found.failures.len();
            targets_from_group(&self.config, group, &mut found);
            for failure in &found.failures[before..] {
                tracing::error!(scrape_pool = self.job(), err = %failure, "Creating target failed");
            }
        }
        let job = self.job().to_owned();
        self.ctx
            .metrics
            .sync_failed
            .with_label_values(&[&job])
            .inc_by(found.failures.len() as f64);
        let keep = self.config.settings.keep_dropped_targets;
        self.view.dropped_count = found.dropped.len();
        if keep > 0 {
            found
                .dropped
                .truncate(usize::try_from(keep).unwrap_or(usize::MAX));
        }
        self.view.dropped = found.dropped;
        self.sync_targets(found.active).await;
        self.ctx
            .metrics
            .sync_length
            .with_label_values(&[&job])
            .observe(start.elapsed().as_secs_f64());
        self.ctx.metrics.sync_total.with_label_values(&[&job]).inc();
    }

    async fn sync_targets(&mut self, targets: Vec<Target>) {
        let mut keep: HashMap<u64, ()> = HashMap::new();
        let mut fresh: Vec<(u64, Arc<Target>)> = Vec::new();
        for t in targets {
            let hash = t.hash();
            if let Some((existing, _)) = self.loops.get(&hash) {
                existing.set_discovered_labels(t.discovered_labels());
                keep.insert(hash, ());
            } else if keep.insert(hash, ()).is_none() {
                fresh.push((hash, Arc::new(t)));
            }
        }
        let gone: Vec<u64> = self
            .loops
            .keys()
            .filter(|h| !keep.contains_key(h))
            .copied()
            .collect();
        let mut stopping = Vec::new();
        for hash in gone {
            if let Some((_, handle)) = self.loops.remove(&hash) {
                stopping.push(handle);
            }
        }
        let total = self.loops.len() + fresh.len();
        self.ctx
            .metrics
            .pool_targets
            .with_label_values(&[self.job()])
            .set(total as f64);
        let forced = self.target_limit_error(total);
        for (_, handle) in self.loops.values() {
            handle.set_forced_error(forced.clone());
        }
        for (hash, target) in fresh {
            let appender =
                TargetAppender::new(target.clone(), &self.config, self.ctx.metrics.clone());
            let handle = self.start_loop(target.clone(), appender, forced.clone());
            self.loops.insert(hash, (target, handle));
        }
        for handle in stopping {
            handle.stop().await;
        }
        self.refresh_view();
    }

    /// Applies a changed job config to the running targets: every loop is restarted with
    /// the new settings, keeping its cache when the change cannot affect series labels.
    pub async fn reload(&mut self, config: ScrapeConfig) -> Result<(), HttpClientError> {
        let start = Instant::now();
        self.ctx.metrics.reloads.inc();
        let client = client(&config, &self.ctx.user_agent).inspect_err(|_| {
            self.ctx.metrics.reloads_failed.inc();
        })?;
        let reuse = cache_reusable(&self.config, &config);
        self.client = client;
        self.config = config;
        self.ctx
            .metrics
            .pool_target_limit
            .with_label_values(&[self.job()])
            .set(self.config.settings.target_limit as f64);
        let forced = self.target_limit_error(self.loops.len());
        let old: Vec<(u64, (Arc<Target>, LoopHandle))> = self.loops.drain().collect();
        for (hash, (target, handle)) in old {
            let cache = if reuse {
                handle.hand_over().await
            } else {
                handle.stop().await;
                target.metadata.clear();
                None
            };
            let cache = cache.unwrap_or_else(|| ScrapeCache::new(target.metadata.clone()));
            let appender = TargetAppender::with_cache(
                target.clone(),
                AppendSettings::from_config(&self.config),
                cache,
                self.ctx.metrics.clone(),
            );
            let handle = self.start_loop(target.clone(), appender, forced.clone());
            self.loops.insert(hash, (target, handle));
        }
        let interval = self.config.settings.scrape_interval.to_string();
        self.ctx
            .metrics
            .reload_length
            .with_label_values(&[&interval])
            .observe(start.elapsed().as_secs_f64());
        Ok(())
    }

    /// Stops every loop; their series go stale unless the server is shutting down.
    pub async fn stop(mut self) {
        for (_, (_, handle)) in self.loops.drain() {
            handle.stop().await;
        }
        self.ctx.metrics.remove_job(&self.config.settings.job_name);
    }

    fn start_loop(
        &self,
        target: Arc<Target>,
        appender: TargetAppender,
        forced: Option<ScrapeError>,
    ) -> LoopHandle {
        let s = &self.config.settings;
        let (interval, timeout) = target
            .interval_and_timeout(s.scrape_interval.as_std(), s.scrape_timeout.as_std())
            .unwrap_or((s.scrape_interval.as_std(), s.scrape_timeout.as_std()));
        let scraper = Scraper::new(self.client.clone(), &self.config, target.url(), timeout);
        scrape_loop::spawn(LoopParams {
            target,
            scraper,
            appendable: self.ctx.appendable.clone(),
            appender,
            interval,
            timeout,
            offset_seed: self.offset_seed,
            metrics: self.ctx.metrics.clone(),
            shutdown: self.ctx.shutdown.clone(),
            forced,
        })
    }

    fn target_limit_error(&mut self, targets: usize) -> Option<ScrapeError> {
        let limit = self.config.settings.target_limit;
        if limit == 0 || targets as u64 <= limit {
            self.target_limit_hit = false;
            return None;
        }
        if !self.target_limit_hit {
            tracing::warn!(
                scrape_pool = self.job(),
                targets,
                limit,
                "Target limit exceeded"
            );
        }
        self.target_limit_hit = true;
        self.ctx.metrics.exceeded_target_limit.inc();
        Some(ScrapeError::TargetLimit { targets, limit })
    }

    fn refresh_view(&mut self) {
        let mut active: Vec<Arc<Target>> = self.loops.values().map(|(t, _)| t.clone()).collect();
        active.sort_by(|a, b| a.all_labels().cmp(b.all_labels()));
        self.view.active = active;
    }
}

fn client(config: &ScrapeConfig, user_agent: &str) -> Result<HttpClient, HttpClientError> {
    HttpClient::with_options(
        &config.http_client,
        &config.settings.job_name,
        &HttpClientOptions {
            user_agent: Some(user_agent.to_owned()),
            ..Default::default()
        },
    )
}

/// Whether a loop's cache survives a config change: only when nothing that shapes series
/// labels changed (upstream ignores the interval, timeout, sample limit and HTTP client).
fn cache_reusable(old: &ScrapeConfig, new: &ScrapeConfig) -> bool {
    let strip = |c: &ScrapeConfig| {
        let mut c = c.clone();
        c.settings.scrape_interval = pm_common::config::Duration::ZERO;
        c.settings.scrape_timeout = pm_common::config::Duration::ZERO;
        c.settings.sample_limit = 0;
        c.http_client = Default::default();
        c
    };
    strip(old) == strip(new)
}
