//! Graphite plaintext lines (`path value timestamp`, the path optionally `name;tag=value;…`)
//! turned into gauges, as upstream's collector does: the mapping names the gauge and adds
//! labels, the newest sample per path wins, and a sample older than `--graphite.sample-expiry`
//! (by its own timestamp) is no longer exposed.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use foldhash::{HashMap, HashMapExt};
use pm_common::expfmt::dto;
use pm_common::metrics::{Counter, Gauge, MetricsError, Opts, Registry};
use pm_mapper::{ActionType, CachedMapper, MetricType};

/// One stored sample.
#[derive(Debug, Clone)]
struct Sample {
    name: Box<str>,
    /// Sorted by name.
    labels: Vec<(String, String)>,
    value: f64,
    /// Seconds since the epoch, from the line.
    timestamp: f64,
}

/// Upstream's `graphite_*` metrics.
#[derive(Debug, Clone)]
pub struct CollectorMetrics {
    dropped: Counter,
    tag_parse_failures: Counter,
    last_processed: Gauge,
}

impl CollectorMetrics {
    pub fn register(r: &Registry, sample_expiry: Duration) -> Result<Self, MetricsError> {
        let expiry = r.gauge(Opts::new(
            "graphite_sample_expiry_seconds",
            "How long in seconds a metric sample is valid for.",
        ))?;
        expiry.set(sample_expiry.as_secs_f64());
        Ok(CollectorMetrics {
            dropped: r.counter(Opts::new(
                "graphite_dropped_samples_total",
                "Total count of samples dropped due to mapping configuration",
            ))?,
            tag_parse_failures: r.counter(Opts::new(
                "graphite_tag_parse_failures",
                "Total count of samples with invalid tags",
            ))?,
            last_processed: r.gauge(Opts::new(
                "graphite_last_processed_timestamp_seconds",
                "Unix timestamp of the last processed graphite metric.",
            ))?,
        })
    }
}

/// The samples received, keyed by their original path.
#[derive(Debug)]
pub struct Collector {
    samples: Mutex<HashMap<Box<str>, Sample>>,
    mapper: std::sync::Arc<CachedMapper>,
    strict_match: bool,
    sample_expiry: Duration,
    metrics: CollectorMetrics,
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Upstream's name sanitising for Graphite: anything but `[a-zA-Z0-9_:]` becomes `_`.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Collector {
    pub fn new(
        mapper: std::sync::Arc<CachedMapper>,
        strict_match: bool,
        sample_expiry: Duration,
        metrics: CollectorMetrics,
    ) -> Self {
        Collector {
            samples: Mutex::new(HashMap::new()),
            mapper,
            strict_match,
            sample_expiry,
            metrics,
        }
    }

    /// Processes every line of `text` (a TCP read or a UDP packet).
    pub fn process_text(&self, text: &str) {
        for line in text.lines() {
            self.process_line(line);
        }
    }

    /// Processes one line; a malformed line is logged and skipped.
    pub fn process_line(&self, line: &str) {
        let line = line.trim();
        let parts: Vec<&str> = line.split(' ').collect();
        let [original, value, timestamp] = parts[..] else {
            tracing::info!(parts = parts.len(), line, "Invalid part count");
            return;
        };
        let mut segments = original.split(';');
        let parsed_name = segments.next().unwrap_or_default();
        let mut labels: Vec<(String, String)> = Vec::new();
        for tag in segments {
            match tag.split_once('=') {
                Some((k, v)) => set_label(&mut labels, k, v),
                None => {
                    self.metrics.tag_parse_failures.inc();
                    tracing::debug!(line, tag, "Invalid tags");
                }
            }
        }
        let mapped = self.mapper.get_mapping(parsed_name, MetricType::Gauge);
        if let Some(m) = &mapped {
            for (k, v) in &m.labels {
                set_label(&mut labels, k, v);
            }
        }
        let dropped = match &mapped {
            Some(m) => m.action() == ActionType::Drop,
            None => self.strict_match,
        };
        if dropped {
            self.metrics.dropped.inc();
            return;
        }
        let name = sanitize(mapped.as_ref().map_or(parsed_name, |m| m.name.as_str()));
        let Ok(mut value) = value.parse::<f64>() else {
            tracing::info!(line, "Invalid value");
            return;
        };
        if let Some(scale) = mapped.as_ref().and_then(|m| m.mapping.mapping.scale) {
            value *= scale;
        }
        let Ok(timestamp) = timestamp.parse::<f64>() else {
            tracing::info!(line, "Invalid timestamp");
            return;
        };
        if name.is_empty() || labels.iter().any(|(k, _)| !valid_label_name(k)) {
            // Upstream's scrape would fail on such a sample; it is refused here instead.
            self.metrics.tag_parse_failures.inc();
            tracing::debug!(line, "Invalid metric or label name");
            return;
        }
        labels.sort();
        self.metrics.last_processed.set(now_secs());
        let sample = Sample {
            name: name.into(),
            labels,
            value,
            timestamp,
        };
        self.samples().insert(original.into(), sample);
    }

    fn samples(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Sample>> {
        self.samples.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets expired samples (upstream sweeps once a minute; expired ones are hidden anyway).
    pub fn remove_expired(&self) {
        let limit = now_secs() - self.sample_expiry.as_secs_f64();
        self.samples().retain(|_, s| s.timestamp >= limit);
    }

    /// The live samples as gauge families.
    pub fn gather(&self) -> Vec<dto::MetricFamily> {
        self.with_families(|families| families.collect())
    }

    /// Runs `f` over the live samples as gauge families in name order, each built when `f`
    /// asks for it (a scrape encodes and drops one before the next), under the samples' lock.
    /// Two paths that end up with the same name and labels would make upstream's scrape fail;
    /// here the newer sample is exposed.
    pub fn with_families<R>(
        &self,
        f: impl FnOnce(&mut dyn Iterator<Item = dto::MetricFamily>) -> R,
    ) -> R {
        let limit = now_secs() - self.sample_expiry.as_secs_f64();
        let samples = self.samples();
        let mut live: Vec<&Sample> = samples.values().filter(|s| s.timestamp >= limit).collect();
        live.sort_unstable_by(|a, b| {
            (&a.name, &a.labels)
                .cmp(&(&b.name, &b.labels))
                .then(b.timestamp.total_cmp(&a.timestamp))
        });
        live.dedup_by(|later, first| later.name == first.name && later.labels == first.labels);
        let mut live = live.into_iter().peekable();
        let mut families = std::iter::from_fn(|| {
            let first = live.next()?;
            let mut metric = vec![gauge(first)];
            while let Some(sample) = live.next_if(|s| s.name == first.name) {
                metric.push(gauge(sample));
            }
            Some(dto::MetricFamily {
                name: Some(first.name.to_string()),
                help: Some(format!("Graphite metric {}", first.name)),
                r#type: Some(dto::MetricType::Gauge as i32),
                metric,
                unit: None,
            })
        });
        f(&mut families)
    }
}

fn gauge(sample: &Sample) -> dto::Metric {
    dto::Metric {
        label: sample
            .labels
            .iter()
            .map(|(k, v)| dto::LabelPair {
                name: Some(k.clone()),
                value: Some(v.clone()),
            })
            .collect(),
        gauge: Some(dto::Gauge {
            value: Some(sample.value),
        }),
        ..Default::default()
    }
}

fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Sets `k` to `v`, replacing an earlier value as a map would.
fn set_label(labels: &mut Vec<(String, String)>, k: &str, v: &str) {
    match labels.iter_mut().find(|(name, _)| name == k) {
        Some(slot) => slot.1 = v.to_owned(),
        None => labels.push((k.to_owned(), v.to_owned())),
    }
}

#[cfg(test)]
mod tests;
