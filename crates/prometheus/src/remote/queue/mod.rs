//! One `remote_write` queue: a WAL watcher thread feeds the series it learns and the samples
//! it reads (external labels added, `write_relabel_configs` applied) into shards that batch
//! and send them; a task adjusts the shard count every ten seconds and another sends
//! metadata every `send_interval`.

pub mod metrics;
mod sharding;
mod shards;

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pm_common::model::{Labels, Metadata};
use pm_common::relabel::{self, RelabelConfig};
use pm_tsdb::record::{RefMetadata, RefSeries};
use pm_tsdb::wal::watcher::{Watched, Watcher, WatcherOptions, WatcherSink};
use tokio::task::JoinHandle;

use self::metrics::{QueueMetrics, RemoteMetrics};
use self::sharding::{EwmaRate, Rates, desired_shards};
use self::shards::{Pending, SendContext, Shards};
use super::client::RemoteClient;
use super::codec::{self, AnyHistogram, WriteMessage};
use crate::config::RemoteWriteConfig;

/// How often the shard count is reconsidered, as upstream.
const SHARD_UPDATE: Duration = Duration::from_secs(10);

/// The queue's name in metrics and logs: the configured `name`, else a short hash of the
/// config (upstream does the same, so changing a config gives its queue a new name).
pub fn queue_name(cfg: &RemoteWriteConfig, external: &Labels) -> String {
    if !cfg.settings.name.is_empty() {
        return cfg.settings.name.clone();
    }
    format!("{:06x}", config_hash(cfg, external) & 0xff_ffff)
}

/// Identifies a queue's configuration: a queue whose hash is unchanged survives a reload.
pub fn config_hash(cfg: &RemoteWriteConfig, external: &Labels) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_norway::to_string(cfg)
        .unwrap_or_default()
        .hash(&mut h);
    external.hash(&mut h);
    h.finish()
}

/// A running queue.
pub struct QueueManager {
    name: String,
    url: String,
    stop: Arc<AtomicBool>,
    watcher: Option<std::thread::JoinHandle<()>>,
    shards: Arc<Shards>,
    tasks: Vec<JoinHandle<()>>,
}

impl QueueManager {
    /// Starts tailing `wal_dir` for `cfg`.
    pub fn start(
        cfg: &RemoteWriteConfig,
        external: &Labels,
        wal_dir: &Path,
        metrics: &RemoteMetrics,
    ) -> Result<QueueManager, String> {
        let s = &cfg.settings;
        let q = &s.queue_config;
        let url = s.url.as_ref().map(|u| u.0.clone()).unwrap_or_default();
        let name = queue_name(cfg, external);
        // Accepted so that upstream's configs load, but not built yet (docs/remote-storage.md):
        // say so where an operator looks, rather than let 401s be the first sign.
        for (block, set) in [
            ("azuread", s.azuread.is_some()),
            ("google_iam", s.google_iam.is_some()),
        ] {
            if set {
                tracing::warn!(
                    remote_name = %name,
                    url = %url,
                    "remote_write `{block}` authentication is not supported yet; requests are sent without it"
                );
            }
        }
        let client = RemoteClient::new(
            &name,
            &url,
            &cfg.http_client,
            s.sigv4.as_ref(),
            s.remote_timeout.as_std(),
            &s.headers,
        )?;
        let message = WriteMessage::parse(&s.protobuf_message).unwrap_or(WriteMessage::V1);
        let qm = metrics.queue(&name, &url);
        let to_usize = |n: i64| usize::try_from(n).unwrap_or(1).max(1);
        let (min_shards, max_shards) = (to_usize(q.min_shards), to_usize(q.max_shards));
        qm.shards_min.set(min_shards as f64);
        qm.shards_max.set(max_shards as f64);
        qm.shard_capacity.set(q.capacity as f64);
        qm.max_samples_per_send.set(q.max_samples_per_send as f64);
        let ctx = Arc::new(SendContext {
            client,
            message,
            max_samples_per_send: to_usize(q.max_samples_per_send),
            batch_send_deadline: q.batch_send_deadline.as_std().max(Duration::from_millis(1)),
            min_backoff: q.min_backoff.as_std(),
            max_backoff: q.max_backoff.as_std(),
            retry_on_rate_limit: q.retry_on_rate_limit,
            capacity: to_usize(q.capacity),
            metrics: qm.clone(),
            samples_in: Default::default(),
            samples_out: Default::default(),
            samples_dropped: Default::default(),
            send_nanos: Default::default(),
            highest_in: Default::default(),
            highest_sent: Default::default(),
        });
        let shards = Arc::new(Shards::new(ctx));
        shards.start(min_shards);
        let stop = Arc::new(AtomicBool::new(false));
        let metadata = Arc::new(Mutex::new(BTreeMap::new()));
        let mut sink = Sink {
            external: external.clone(),
            relabel: s.write_relabel_configs.clone(),
            series: HashMap::new(),
            metadata: metadata.clone(),
            shards: shards.clone(),
            stop: stop.clone(),
            metrics: qm.clone(),
        };
        let watcher = Watcher::new(
            wal_dir,
            WatcherOptions {
                send_exemplars: s.send_exemplars,
                send_histograms: s.send_native_histograms,
                ..WatcherOptions::default()
            },
        );
        let flag = stop.clone();
        let watcher = std::thread::Builder::new()
            .name(format!("wal-watcher-{name}"))
            .spawn(move || watcher.run(&mut sink, &flag))
            .map_err(|e| format!("starting WAL watcher: {e}"))?;
        let mut tasks = vec![tokio::spawn(reshard_loop(
            shards.clone(),
            min_shards,
            max_shards,
        ))];
        let m = &s.metadata_config;
        if m.send && message == WriteMessage::V1 {
            tasks.push(tokio::spawn(metadata_loop(
                shards.clone(),
                metadata,
                m.send_interval.as_std().max(Duration::from_secs(1)),
                to_usize(m.max_samples_per_send),
            )));
        }
        tracing::info!(remote_name = %name, url = %url, "Starting WAL watcher");
        Ok(QueueManager {
            name,
            url,
            stop,
            watcher: Some(watcher),
            shards,
            tasks,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops reading the WAL, then gives the shards up to `flush_deadline` to send what they
    /// hold.
    pub async fn stop(mut self, flush_deadline: Duration) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks.drain(..) {
            t.abort();
        }
        if let Some(w) = self.watcher.take() {
            let _ = tokio::task::spawn_blocking(move || w.join()).await;
        }
        self.shards.stop(flush_deadline).await;
        tracing::info!(remote_name = %self.name, url = %self.url, "Remote storage stopped.");
    }
}

/// Reconsiders the shard count every [`SHARD_UPDATE`] from the rates of the last interval.
async fn reshard_loop(shards: Arc<Shards>, min: usize, max: usize) {
    let ctx = shards.ctx().clone();
    let (mut data_in, mut data_out, mut dropped, mut out_duration) = (
        EwmaRate::default(),
        EwmaRate::default(),
        EwmaRate::default(),
        EwmaRate::default(),
    );
    let secs = SHARD_UPDATE.as_secs_f64();
    let mut tick = tokio::time::interval(SHARD_UPDATE);
    tick.tick().await;
    loop {
        tick.tick().await;
        data_in.tick(ctx.samples_in.swap(0, Ordering::Relaxed) as f64, secs);
        data_out.tick(ctx.samples_out.swap(0, Ordering::Relaxed) as f64, secs);
        dropped.tick(ctx.samples_dropped.swap(0, Ordering::Relaxed) as f64, secs);
        out_duration.tick(ctx.send_nanos.swap(0, Ordering::Relaxed) as f64 / 1e9, secs);
        let delay = (ctx.highest_in.load(Ordering::Relaxed)
            - ctx.highest_sent.load(Ordering::Relaxed))
        .max(0) as f64
            / 1000.0;
        let current = shards.count().max(1);
        let (desired, n) = desired_shards(
            current,
            min,
            max,
            Rates {
                data_in: data_in.rate(),
                data_out: data_out.rate(),
                dropped: dropped.rate(),
                out_duration: out_duration.rate(),
                delay,
            },
        );
        ctx.metrics.shards_desired.set(desired);
        if n != current {
            tracing::info!(from = current, to = n, "Remote storage resharding");
            shards.stop(Duration::from_secs(60)).await;
            shards.start(n);
        }
    }
}

/// Sends the metadata learnt from the WAL every `interval`.
async fn metadata_loop(
    shards: Arc<Shards>,
    metadata: Arc<Mutex<BTreeMap<String, Metadata>>>,
    interval: Duration,
    per_request: usize,
) {
    let mut tick = tokio::time::interval(interval);
    loop {
        tick.tick().await;
        let batch: Vec<_> = metadata
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, m)| shards::metadata_proto(name, m.metric_type, &m.help, &m.unit))
            .collect();
        if !batch.is_empty() {
            shards.ctx().send_metadata(batch, per_request).await;
        }
    }
}

/// A series as the queue knows it: its labels to send (`None` when relabelling dropped it)
/// and the segment that last defined it.
struct KnownSeries {
    labels: Option<Arc<Labels>>,
    segment: u32,
}

/// Receives the watcher's records.
struct Sink {
    external: Labels,
    relabel: Vec<RelabelConfig>,
    series: HashMap<u64, KnownSeries>,
    /// By metric name, for the metadata loop.
    metadata: Arc<Mutex<BTreeMap<String, Metadata>>>,
    shards: Arc<Shards>,
    stop: Arc<AtomicBool>,
    metrics: QueueMetrics,
}

impl Sink {
    fn labels(&self, r: u64) -> Option<Arc<Labels>> {
        let labels = self.series.get(&r).and_then(|s| s.labels.clone());
        if labels.is_none() {
            self.metrics.samples_dropped.inc();
            self.shards
                .ctx()
                .samples_dropped
                .fetch_add(1, Ordering::Relaxed);
        }
        labels
    }

    /// Queues the samples or histograms of known series (those of unknown series are counted
    /// as dropped); false once the queue is stopping.
    fn forward<T>(
        &self,
        items: Vec<T>,
        series: impl Fn(&T) -> u64,
        pending: impl Fn(T, Arc<Labels>) -> Pending,
    ) -> bool {
        for item in items {
            let r = series(&item);
            let Some(labels) = self.labels(r) else {
                continue;
            };
            let p = pending(item, labels);
            self.saw(p.t());
            if !self.shards.enqueue(r, p, &self.stop) {
                return false;
            }
        }
        true
    }

    fn saw(&self, t: i64) {
        let ctx = self.shards.ctx();
        let prev = ctx.highest_in.fetch_max(t, Ordering::Relaxed);
        if t > prev {
            self.metrics.highest_timestamp.set(t as f64 / 1000.0);
        }
    }
}

impl WatcherSink for Sink {
    fn store_series(&mut self, series: Vec<RefSeries>, segment: u32) {
        for s in series {
            let with_external = codec::merge_external(&s.labels, &self.external);
            let labels = relabel::process(&with_external, &self.relabel)
                .filter(|l| !l.is_empty())
                .map(Arc::new);
            self.series.insert(s.r, KnownSeries { labels, segment });
        }
    }

    fn store_metadata(&mut self, metadata: Vec<RefMetadata>) {
        let mut out = self.metadata.lock().unwrap_or_else(PoisonError::into_inner);
        for m in metadata {
            let Some(name) = self
                .series
                .get(&m.r)
                .and_then(|s| s.labels.as_ref())
                .and_then(|l| l.metric_name().map(str::to_owned))
            else {
                continue;
            };
            out.insert(
                name,
                Metadata {
                    metric_type: m.metric_type,
                    help: m.help,
                    unit: m.unit,
                },
            );
        }
    }

    fn append(&mut self, data: Watched) -> bool {
        match data {
            Watched::Samples(samples) => self.forward(
                samples,
                |s| s.r,
                |s, labels| Pending::Sample {
                    labels,
                    t: s.t,
                    v: s.v,
                },
            ),
            Watched::Histograms(hs) => self.forward(
                hs,
                |h| h.r,
                |h, labels| Pending::Histogram {
                    labels,
                    t: h.t,
                    h: AnyHistogram::Int(h.h),
                },
            ),
            Watched::FloatHistograms(hs) => self.forward(
                hs,
                |h| h.r,
                |h, labels| Pending::Histogram {
                    labels,
                    t: h.t,
                    h: AnyHistogram::Float(h.fh),
                },
            ),
            Watched::Exemplars(es) => {
                for e in es {
                    let Some(labels) = self.series.get(&e.r).and_then(|s| s.labels.clone()) else {
                        continue;
                    };
                    let item = Pending::Exemplar {
                        labels,
                        exemplar: e.labels,
                        t: e.t,
                        v: e.v,
                    };
                    if !self.shards.enqueue(e.r, item, &self.stop) {
                        return false;
                    }
                }
                true
            }
        }
    }

    fn series_reset(&mut self, segment: u32) {
        self.series.retain(|_, s| s.segment >= segment);
    }
}
