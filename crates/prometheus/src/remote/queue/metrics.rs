//! `prometheus_remote_storage_*`: one set of families for the daemon, one child per queue
//! labelled with the queue's `remote_name` and `url`, as upstream.

use pm_common::metrics::{
    Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramVec, MetricsError, Opts, Registry,
};

const LABELS: &[&str] = &["remote_name", "url"];

/// The families, registered once.
#[derive(Clone)]
pub struct RemoteMetrics {
    counters: Vec<CounterVec>,
    gauges: Vec<GaugeVec>,
    sent_batch_duration: HistogramVec,
    /// Highest timestamp the queues have seen come in (upstream counts the storage's appends).
    highest_timestamp: Gauge,
}

/// Counters, in the order [`QueueMetrics`] takes them.
const COUNTERS: [(&str, &str); 10] = [
    (
        "samples_total",
        "Total number of samples sent to remote storage.",
    ),
    (
        "histograms_total",
        "Total number of histograms sent to remote storage.",
    ),
    (
        "exemplars_total",
        "Total number of exemplars sent to remote storage.",
    ),
    (
        "metadata_total",
        "Total number of metadata entries sent to remote storage.",
    ),
    (
        "samples_failed_total",
        "Total number of samples which failed on send to remote storage, non-recoverable errors.",
    ),
    (
        "samples_retried_total",
        "Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.",
    ),
    (
        "samples_dropped_total",
        "Total number of samples which were dropped after being read from the WAL before being sent via remote write, either via relabelling, due to being too old or unintentionally because of an unknown reference ID.",
    ),
    (
        "bytes_total",
        "The total number of bytes of data (not metadata) sent by the queue after compression.",
    ),
    (
        "metadata_bytes_total",
        "The total number of bytes of metadata sent by the queue after compression.",
    ),
    (
        "enqueue_retries_total",
        "Total number of times enqueue has failed because a shards queue was full.",
    ),
];

/// Gauges, in the order [`QueueMetrics`] takes them.
const GAUGES: [(&str, &str); 8] = [
    (
        "samples_pending",
        "The number of samples pending in the queues shards to be sent to the remote storage.",
    ),
    (
        "shards",
        "The number of shards used for parallel sending to the remote storage.",
    ),
    (
        "shards_desired",
        "The number of shards that the queues shard calculation wants to run based on the rate of samples in vs. samples out.",
    ),
    (
        "shards_min",
        "The minimum number of shards that the queue is allowed to run.",
    ),
    (
        "shards_max",
        "The maximum number of shards that the queue is allowed to run.",
    ),
    (
        "shard_capacity",
        "The capacity of each shard of the queue used for parallel sending to the remote storage.",
    ),
    (
        "max_samples_per_send",
        "The maximum number of samples to be sent, in a single request, to the remote storage.",
    ),
    (
        "queue_highest_sent_timestamp_seconds",
        "Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in seconds since epoch. Initialized to 0 when no data has been sent yet.",
    ),
];

fn name(n: &str) -> String {
    format!("prometheus_remote_storage_{n}")
}

impl RemoteMetrics {
    pub fn register(r: &Registry) -> Result<RemoteMetrics, MetricsError> {
        let counters = COUNTERS
            .iter()
            .map(|(n, help)| r.counter_vec(Opts::new(name(n), *help), LABELS))
            .collect::<Result<_, _>>()?;
        let gauges = GAUGES
            .iter()
            .map(|(n, help)| r.gauge_vec(Opts::new(name(n), *help), LABELS))
            .collect::<Result<_, _>>()?;
        let mut buckets = pm_common::metrics::DEFAULT_BUCKETS.to_vec();
        buckets.extend([25.0, 60.0, 120.0, 300.0]);
        Ok(RemoteMetrics {
            counters,
            gauges,
            sent_batch_duration: r.histogram_vec(
                Opts::new(
                    name("sent_batch_duration_seconds"),
                    "Duration of send calls to the remote storage.",
                ),
                &buckets,
                LABELS,
            )?,
            highest_timestamp: r.gauge(Opts::new(
                name("highest_timestamp_in_seconds"),
                "Highest timestamp that has come into the remote storage via the Appender interface, in seconds since epoch. Initialized to 0 when no data has been received yet.",
            ))?,
        })
    }

    /// The children of one queue.
    pub fn queue(&self, remote_name: &str, url: &str) -> QueueMetrics {
        let l = [remote_name, url];
        let c = |i: usize| self.counters[i].with_label_values(&l);
        let g = |i: usize| self.gauges[i].with_label_values(&l);
        QueueMetrics {
            samples: c(0),
            histograms: c(1),
            exemplars: c(2),
            metadata: c(3),
            samples_failed: c(4),
            samples_retried: c(5),
            samples_dropped: c(6),
            bytes: c(7),
            metadata_bytes: c(8),
            enqueue_retries: c(9),
            samples_pending: g(0),
            shards: g(1),
            shards_desired: g(2),
            shards_min: g(3),
            shards_max: g(4),
            shard_capacity: g(5),
            max_samples_per_send: g(6),
            highest_sent: g(7),
            sent_batch_duration: self.sent_batch_duration.with_label_values(&l),
            highest_timestamp: self.highest_timestamp.clone(),
        }
    }

    /// Removes a stopped queue's children, as upstream unregisters them.
    pub fn remove(&self, remote_name: &str, url: &str) {
        let l = [remote_name, url];
        for v in &self.counters {
            let _ = v.remove_label_values(&l);
        }
        for v in &self.gauges {
            let _ = v.remove_label_values(&l);
        }
        let _ = self.sent_batch_duration.remove_label_values(&l);
    }
}

/// One queue's metrics.
#[derive(Clone)]
pub struct QueueMetrics {
    pub samples: Counter,
    pub histograms: Counter,
    pub exemplars: Counter,
    pub metadata: Counter,
    pub samples_failed: Counter,
    pub samples_retried: Counter,
    pub samples_dropped: Counter,
    pub bytes: Counter,
    pub metadata_bytes: Counter,
    pub enqueue_retries: Counter,
    pub samples_pending: Gauge,
    pub shards: Gauge,
    pub shards_desired: Gauge,
    pub shards_min: Gauge,
    pub shards_max: Gauge,
    pub shard_capacity: Gauge,
    pub max_samples_per_send: Gauge,
    pub highest_sent: Gauge,
    pub sent_batch_duration: Histogram,
    pub highest_timestamp: Gauge,
}
