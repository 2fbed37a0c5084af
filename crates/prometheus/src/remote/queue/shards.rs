//! The shards of one queue: each a bounded channel and a task that batches what arrives and
//! sends it, retrying recoverable failures with backoff. A series always maps to the same
//! shard, so its samples are sent in order.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use pm_common::model::{Labels, MetricType};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::task::JoinHandle;

use super::metrics::QueueMetrics;
use crate::remote::client::{RemoteClient, SendError};
use crate::remote::codec::{self, AnyHistogram, WriteMessage};
use crate::remote::prompb::{self, WriteRequest};
use crate::remote::writev2::{self, SymbolTable};

/// One item waiting to be sent.
pub enum Pending {
    Sample {
        labels: Arc<Labels>,
        t: i64,
        v: f64,
    },
    Histogram {
        labels: Arc<Labels>,
        t: i64,
        h: AnyHistogram,
    },
    Exemplar {
        labels: Arc<Labels>,
        exemplar: Labels,
        t: i64,
        v: f64,
    },
}

impl Pending {
    pub(super) fn t(&self) -> i64 {
        match self {
            Pending::Sample { t, .. }
            | Pending::Histogram { t, .. }
            | Pending::Exemplar { t, .. } => *t,
        }
    }
}

/// What the shards share: how to send, and the counters sharding decisions are made from.
pub struct SendContext {
    pub client: RemoteClient,
    pub message: WriteMessage,
    pub max_samples_per_send: usize,
    pub batch_send_deadline: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    pub retry_on_rate_limit: bool,
    pub capacity: usize,
    pub metrics: QueueMetrics,
    /// Samples handed to the shards / sent / dropped, and nanoseconds spent sending.
    pub samples_in: AtomicU64,
    pub samples_out: AtomicU64,
    pub samples_dropped: AtomicU64,
    pub send_nanos: AtomicU64,
    /// Highest timestamp read from the WAL and highest sent, in milliseconds.
    pub highest_in: AtomicI64,
    pub highest_sent: AtomicI64,
}

/// The running shards.
pub struct Shards {
    ctx: Arc<SendContext>,
    queues: RwLock<Vec<mpsc::Sender<Pending>>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Shards {
    pub fn new(ctx: Arc<SendContext>) -> Shards {
        Shards {
            ctx,
            queues: RwLock::new(Vec::new()),
            tasks: Mutex::new(Vec::new()),
        }
    }

    pub fn ctx(&self) -> &Arc<SendContext> {
        &self.ctx
    }

    pub fn count(&self) -> usize {
        self.queues
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Starts `n` shards.
    pub fn start(&self, n: usize) {
        let mut queues = Vec::with_capacity(n);
        let mut tasks = Vec::with_capacity(n);
        for _ in 0..n {
            let (tx, rx) = mpsc::channel(self.ctx.capacity.max(1));
            queues.push(tx);
            tasks.push(tokio::spawn(run_shard(self.ctx.clone(), rx)));
        }
        self.ctx.metrics.shards.set(n as f64);
        *self.tasks.lock().unwrap_or_else(PoisonError::into_inner) = tasks;
        *self.queues.write().unwrap_or_else(PoisonError::into_inner) = queues;
    }

    /// Closes the shards and waits up to `deadline` for them to send what they hold; what is
    /// left after that is dropped. Enqueueing waits meanwhile.
    pub async fn stop(&self, deadline: Duration) {
        self.queues
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        let until = tokio::time::Instant::now() + deadline;
        for mut task in tasks {
            if tokio::time::timeout_at(until, &mut task).await.is_err() {
                tracing::error!(url = %self.ctx.client.url(), "Failed to flush all samples on shutdown");
                task.abort();
            }
        }
    }

    /// Hands `item` to the shard of series `r`, waiting (with backoff) while that shard is
    /// full or the shards are being replaced; false when `stop` is set meanwhile. Called
    /// from the WAL watcher's thread.
    pub fn enqueue(&self, r: u64, mut item: Pending, stop: &AtomicBool) -> bool {
        let mut backoff = self.ctx.min_backoff.max(Duration::from_millis(1));
        loop {
            {
                let queues = self.queues.read().unwrap_or_else(PoisonError::into_inner);
                if !queues.is_empty() {
                    let shard = (r % queues.len() as u64) as usize;
                    match queues[shard].try_send(item) {
                        Ok(()) => {
                            self.ctx.metrics.samples_pending.inc();
                            self.ctx.samples_in.fetch_add(1, Ordering::Relaxed);
                            return true;
                        }
                        Err(TrySendError::Full(back) | TrySendError::Closed(back)) => item = back,
                    }
                }
            }
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            self.ctx.metrics.enqueue_retries.inc();
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(self.ctx.max_backoff.max(Duration::from_millis(1)));
        }
    }
}

async fn run_shard(ctx: Arc<SendContext>, mut rx: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(ctx.max_samples_per_send);
    let mut tick = tokio::time::interval(ctx.batch_send_deadline);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.reset();
    loop {
        tokio::select! {
            item = rx.recv() => match item {
                Some(p) => {
                    batch.push(p);
                    if batch.len() >= ctx.max_samples_per_send {
                        ctx.send(&mut batch).await;
                        tick.reset();
                    }
                }
                None => {
                    if !batch.is_empty() {
                        ctx.send(&mut batch).await;
                    }
                    return;
                }
            },
            _ = tick.tick() => {
                if !batch.is_empty() {
                    ctx.send(&mut batch).await;
                }
            }
        }
    }
}

/// How many of each kind a batch holds.
#[derive(Default)]
struct Counts {
    samples: u64,
    histograms: u64,
    exemplars: u64,
}

impl SendContext {
    /// Sends `batch` (emptying it), retrying recoverable errors until it succeeds or fails
    /// for good.
    async fn send(&self, batch: &mut Vec<Pending>) {
        let mut counts = Counts::default();
        for p in batch.iter() {
            match p {
                Pending::Sample { .. } => counts.samples += 1,
                Pending::Histogram { .. } => counts.histograms += 1,
                Pending::Exemplar { .. } => counts.exemplars += 1,
            }
        }
        let max_t = batch.iter().map(Pending::t).max().unwrap_or(0);
        let body = match self.message {
            WriteMessage::V1 => codec::encode(&build_v1(batch)),
            WriteMessage::V2 => codec::encode(&build_v2(batch)),
        };
        let total = batch.len();
        batch.clear();
        let mut backoff = self.min_backoff;
        loop {
            let began = Instant::now();
            let result = self
                .client
                .store(self.message, body.clone(), self.retry_on_rate_limit)
                .await;
            let took = began.elapsed();
            self.metrics.sent_batch_duration.observe(took.as_secs_f64());
            self.send_nanos.fetch_add(
                u64::try_from(took.as_nanos()).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
            match result {
                Ok(()) => {
                    self.metrics.samples.inc_by(counts.samples as f64);
                    self.metrics.histograms.inc_by(counts.histograms as f64);
                    self.metrics.exemplars.inc_by(counts.exemplars as f64);
                    self.metrics.bytes.inc_by(body.len() as f64);
                    let prev = self.highest_sent.fetch_max(max_t, Ordering::Relaxed);
                    self.metrics
                        .highest_sent
                        .set(prev.max(max_t) as f64 / 1000.0);
                    break;
                }
                Err(SendError::Recoverable {
                    message,
                    retry_after,
                }) => {
                    tracing::warn!(url = %self.client.url(), err = %message, "Failed to send batch, retrying");
                    self.metrics
                        .samples_retried
                        .inc_by((counts.samples + counts.histograms) as f64);
                    tokio::time::sleep(retry_after.unwrap_or(backoff)).await;
                    backoff = (backoff * 2).min(self.max_backoff);
                }
                Err(SendError::Fatal(message)) => {
                    tracing::error!(url = %self.client.url(), count = total, err = %message, "non-recoverable error");
                    self.metrics
                        .samples_failed
                        .inc_by((counts.samples + counts.histograms) as f64);
                    break;
                }
            }
        }
        self.samples_out.fetch_add(total as u64, Ordering::Relaxed);
        self.metrics.samples_pending.sub(total as f64);
    }

    /// Sends metadata in batches of `per_request` (1.0 only: 2.0 carries it per series).
    pub async fn send_metadata(&self, metadata: Vec<prompb::MetricMetadata>, per_request: usize) {
        for chunk in metadata.chunks(per_request.max(1)) {
            let body = codec::encode(&WriteRequest {
                timeseries: Vec::new(),
                metadata: chunk.to_vec(),
            });
            let len = body.len();
            match self
                .client
                .store(WriteMessage::V1, body, self.retry_on_rate_limit)
                .await
            {
                Ok(()) => {
                    self.metrics.metadata.inc_by(chunk.len() as f64);
                    self.metrics.metadata_bytes.inc_by(len as f64);
                }
                Err(e) => {
                    tracing::error!(url = %self.client.url(), err = %e, "non-recoverable error while sending metadata");
                }
            }
        }
    }
}

/// The metadata entry for a metric, as 1.0 sends it.
pub fn metadata_proto(
    family: &str,
    metric_type: MetricType,
    help: &str,
    unit: &str,
) -> prompb::MetricMetadata {
    prompb::MetricMetadata {
        r#type: codec::metric_type_to_proto(metric_type) as i32,
        metric_family_name: family.to_owned(),
        help: help.to_owned(),
        unit: unit.to_owned(),
    }
}

fn build_v1(batch: &[Pending]) -> WriteRequest {
    let timeseries = batch
        .iter()
        .map(|p| match p {
            Pending::Sample { labels, t, v } => prompb::TimeSeries {
                labels: codec::labels_to_proto(labels),
                samples: vec![prompb::Sample {
                    value: *v,
                    timestamp: *t,
                }],
                ..Default::default()
            },
            Pending::Histogram { labels, t, h } => prompb::TimeSeries {
                labels: codec::labels_to_proto(labels),
                histograms: vec![histogram(*t, h)],
                ..Default::default()
            },
            Pending::Exemplar {
                labels,
                exemplar,
                t,
                v,
            } => prompb::TimeSeries {
                labels: codec::labels_to_proto(labels),
                exemplars: vec![prompb::Exemplar {
                    labels: codec::labels_to_proto(exemplar),
                    value: *v,
                    timestamp: *t,
                }],
                ..Default::default()
            },
        })
        .collect();
    WriteRequest {
        timeseries,
        metadata: Vec::new(),
    }
}

fn histogram(t: i64, h: &AnyHistogram) -> prompb::Histogram {
    match h {
        AnyHistogram::Int(h) => codec::histogram_to_proto(t, h),
        AnyHistogram::Float(h) => codec::float_histogram_to_proto(t, h),
    }
}

fn build_v2(batch: &[Pending]) -> writev2::Request {
    let mut table = SymbolTable::default();
    let mut timeseries = Vec::with_capacity(batch.len());
    for p in batch {
        let mut ts = writev2::TimeSeries::default();
        match p {
            Pending::Sample { labels, t, v } => {
                table.symbolize_labels(labels, &mut ts.labels_refs);
                ts.samples.push(writev2::Sample {
                    value: *v,
                    timestamp: *t,
                });
            }
            Pending::Histogram { labels, t, h } => {
                table.symbolize_labels(labels, &mut ts.labels_refs);
                ts.histograms.push(histogram(*t, h));
            }
            Pending::Exemplar {
                labels,
                exemplar,
                t,
                v,
            } => {
                table.symbolize_labels(labels, &mut ts.labels_refs);
                let mut refs = Vec::new();
                table.symbolize_labels(exemplar, &mut refs);
                ts.exemplars.push(writev2::Exemplar {
                    labels_refs: refs,
                    value: *v,
                    timestamp: *t,
                });
            }
        }
        timeseries.push(ts);
    }
    writev2::Request {
        symbols: table.take(),
        timeseries,
    }
}
