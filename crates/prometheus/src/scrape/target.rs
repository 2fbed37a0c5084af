//! Scrape targets: what a discovered label set becomes after the job's defaults and
//! `relabel_configs`, its URL, its identity hash and its last scrape's status.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration as StdDuration, SystemTime};

use pm_common::config::Duration;
use pm_common::model::{Labels, LabelsBuilder, META_LABEL_PREFIX, RESERVED_LABEL_PREFIX};
use pm_common::relabel;
use pm_discovery::TargetGroup;

use super::cache::MetadataStore;
use crate::config::ScrapeConfig;

pub(crate) const ADDRESS_LABEL: &str = "__address__";
pub(crate) const SCHEME_LABEL: &str = "__scheme__";
pub(crate) const METRICS_PATH_LABEL: &str = "__metrics_path__";
pub(crate) const SCRAPE_INTERVAL_LABEL: &str = "__scrape_interval__";
pub(crate) const SCRAPE_TIMEOUT_LABEL: &str = "__scrape_timeout__";
pub(crate) const PARAM_LABEL_PREFIX: &str = "__param_";
const JOB_LABEL: &str = "job";
const INSTANCE_LABEL: &str = "instance";

/// Why a discovered target could not become a scrape target; the texts are upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("no address")]
    NoAddress,
    #[error("{0:?} is not a valid hostname")]
    InvalidHostname(String),
    #[error("error parsing scrape interval: {0}")]
    BadInterval(String),
    #[error("scrape interval cannot be 0")]
    ZeroInterval,
    #[error("error parsing scrape timeout: {0}")]
    BadTimeout(String),
    #[error("scrape timeout cannot be 0")]
    ZeroTimeout,
    #[error("scrape timeout cannot be greater than scrape interval ({timeout:?} > {interval:?})")]
    TimeoutAboveInterval { timeout: String, interval: String },
    #[error("invalid label value for {name:?}: {value:?}")]
    InvalidLabelValue { name: String, value: String },
}

/// The outcome of the last scrape, as the targets page shows it (`health` in the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetHealth {
    #[default]
    Unknown,
    Up,
    Down,
}

impl TargetHealth {
    /// The API's spelling: `up`, `down`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetHealth::Unknown => "unknown",
            TargetHealth::Up => "up",
            TargetHealth::Down => "down",
        }
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct ScrapeStatus {
    pub health: TargetHealth,
    pub last_error: String,
    pub last_scrape: Option<SystemTime>,
    pub last_duration: StdDuration,
}

/// One scrape target of a pool.
#[derive(Debug)]
pub struct Target {
    /// Labels after relabeling, `__meta_*` removed; other `__` labels still present.
    labels: Labels,
    /// Labels as discovery reported them, with the job's defaults added.
    discovered: Mutex<Labels>,
    params: BTreeMap<String, Vec<String>>,
    status: Mutex<ScrapeStatus>,
    pub(crate) metadata: Arc<MetadataStore>,
}

impl Target {
    pub(crate) fn new(
        labels: Labels,
        discovered: Labels,
        params: BTreeMap<String, Vec<String>>,
    ) -> Target {
        Target {
            labels,
            discovered: Mutex::new(discovered),
            params,
            status: Mutex::default(),
            metadata: Arc::default(),
        }
    }

    /// All labels after relabeling, including `__address__`, `__scheme__` and friends.
    pub fn all_labels(&self) -> &Labels {
        &self.labels
    }

    /// The labels attached to every scraped series: those not starting with `__`.
    pub fn labels(&self) -> Labels {
        Labels::from_sorted(
            self.labels
                .iter()
                .filter(|l| !l.name.starts_with(RESERVED_LABEL_PREFIX)),
        )
    }

    pub(crate) fn public_labels(&self) -> impl Iterator<Item = pm_common::model::Label<'_>> {
        self.labels
            .iter()
            .filter(|l| !l.name.starts_with(RESERVED_LABEL_PREFIX))
    }

    pub fn discovered_labels(&self) -> Labels {
        lock(&self.discovered).clone()
    }

    pub(crate) fn set_discovered_labels(&self, labels: Labels) {
        *lock(&self.discovered) = labels;
    }

    /// The scrape URL: scheme, address and path from the labels, query from `params`
    /// overridden by `__param_*` labels, keys sorted as Go's `url.Values.Encode`.
    pub fn url(&self) -> String {
        let mut params = self.params.clone();
        for l in self.labels.iter() {
            if let Some(key) = l.name.strip_prefix(PARAM_LABEL_PREFIX) {
                let values = params.entry(key.to_owned()).or_default();
                match values.first_mut() {
                    Some(first) => *first = l.value.to_owned(),
                    None => values.push(l.value.to_owned()),
                }
            }
        }
        let path = self.labels.get_or_empty(METRICS_PATH_LABEL);
        let mut url = format!(
            "{}://{}",
            self.labels.get_or_empty(SCHEME_LABEL),
            self.labels.get_or_empty(ADDRESS_LABEL)
        );
        if !path.is_empty() && !path.starts_with('/') {
            url.push('/');
        }
        url.push_str(path);
        let mut first = true;
        for (key, values) in &params {
            for value in values {
                url.push(if first { '?' } else { '&' });
                first = false;
                query_escape(&mut url, key);
                url.push('=');
                query_escape(&mut url, value);
            }
        }
        url
    }

    /// Identity within the pool: equal for the same labels and URL, as upstream's
    /// `Target.hash` (FNV-1a over the zero-padded label hash and the URL), so that the scrape
    /// offset of a target is the same as under upstream.
    pub fn hash(&self) -> u64 {
        let mut h = Fnv64::new();
        h.write(format!("{:016}", self.labels.hash_value()).as_bytes());
        h.write(self.url().as_bytes());
        h.0
    }

    /// How long to wait before the first scrape so that the targets of a server spread over
    /// the interval, each at a fixed phase (upstream's `Target.offset`). `now_nanos` is the
    /// Unix time in nanoseconds.
    pub fn offset(&self, interval: StdDuration, offset_seed: u64, now_nanos: i128) -> StdDuration {
        let interval_ns = interval.as_nanos().max(1);
        let base = interval_ns as i128 - now_nanos.rem_euclid(interval_ns as i128);
        let offset = ((self.hash() ^ offset_seed) as u128 % interval_ns) as i128;
        let mut next = base + offset;
        if next > interval_ns as i128 {
            next -= interval_ns as i128;
        }
        StdDuration::from_nanos(next.max(0) as u64)
    }

    /// The interval and timeout from the target's labels, which relabeling may have changed.
    pub fn interval_and_timeout(
        &self,
        default_interval: StdDuration,
        default_timeout: StdDuration,
    ) -> Result<(StdDuration, StdDuration), TargetError> {
        let interval = match self.labels.get(SCRAPE_INTERVAL_LABEL) {
            None => default_interval,
            Some(v) => Duration::parse(v)
                .map_err(|e| TargetError::BadInterval(e.to_string()))?
                .as_std(),
        };
        let timeout = match self.labels.get(SCRAPE_TIMEOUT_LABEL) {
            None => default_timeout,
            Some(v) => Duration::parse(v)
                .map_err(|e| TargetError::BadTimeout(e.to_string()))?
                .as_std(),
        };
        Ok((interval, timeout))
    }

    pub(crate) fn report(
        &self,
        start: SystemTime,
        duration: StdDuration,
        error: Option<&dyn std::fmt::Display>,
    ) {
        let mut status = lock(&self.status);
        status.health = if error.is_some() {
            TargetHealth::Down
        } else {
            TargetHealth::Up
        };
        status.last_error = error.map(|e| e.to_string()).unwrap_or_default();
        status.last_scrape = Some(start);
        status.last_duration = duration;
    }

    /// The metric metadata the target exposed (`/api/v1/targets/metadata`).
    pub fn metadata(&self) -> &MetadataStore {
        &self.metadata
    }

    pub(crate) fn status(&self) -> ScrapeStatus {
        lock(&self.status).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Go's `url.QueryEscape`.
fn query_escape(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

/// 64-bit FNV-1a, the hash upstream uses for target identity and the offset seed.
pub(crate) struct Fnv64(pub u64);

impl Fnv64 {
    pub fn new() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }

    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The labels of a discovered target before relabeling: the target's own, the group's where
/// the target has none, then the job's defaults where still unset, and the first value of
/// each `params` entry as `__param_<name>`.
pub fn discovered_labels(cfg: &ScrapeConfig, target: &Labels, group: &Labels) -> Labels {
    let s = &cfg.settings;
    let mut lb = LabelsBuilder::new(target.clone());
    for l in group.iter() {
        if !target.has(l.name) {
            lb.set(l.name, l.value);
        }
    }
    let defaults = [
        (JOB_LABEL, s.job_name.clone()),
        (SCRAPE_INTERVAL_LABEL, s.scrape_interval.to_string()),
        (SCRAPE_TIMEOUT_LABEL, s.scrape_timeout.to_string()),
        (METRICS_PATH_LABEL, s.metrics_path.clone()),
        (SCHEME_LABEL, s.scheme.clone()),
    ];
    for (name, value) in &defaults {
        if lb.get(name).unwrap_or("").is_empty() {
            lb.set(name, value);
        }
    }
    for (key, values) in &s.params {
        let name = format!("{PARAM_LABEL_PREFIX}{key}");
        if let Some(first) = values.first()
            && lb.get(&name).unwrap_or("").is_empty()
        {
            lb.set(&name, first);
        }
    }
    lb.labels()
}

/// Upstream's `PopulateLabels`: the final labels of a target from its discovered labels.
/// `Ok(None)` when relabeling dropped it.
pub fn populate_labels(
    cfg: &ScrapeConfig,
    discovered: &Labels,
) -> Result<Option<Labels>, TargetError> {
    let mut lb = LabelsBuilder::new(discovered.clone());
    if !relabel::process_builder(&mut lb, &cfg.settings.relabel_configs) {
        return Ok(None);
    }
    let addr = lb.get(ADDRESS_LABEL).unwrap_or("").to_owned();
    if addr.is_empty() {
        return Err(TargetError::NoAddress);
    }
    if addr.contains('/') {
        return Err(TargetError::InvalidHostname(addr));
    }
    let interval = lb.get(SCRAPE_INTERVAL_LABEL).unwrap_or("").to_owned();
    let interval_d =
        Duration::parse(&interval).map_err(|e| TargetError::BadInterval(e.to_string()))?;
    if interval_d.is_zero() {
        return Err(TargetError::ZeroInterval);
    }
    let timeout = lb.get(SCRAPE_TIMEOUT_LABEL).unwrap_or("").to_owned();
    let timeout_d =
        Duration::parse(&timeout).map_err(|e| TargetError::BadTimeout(e.to_string()))?;
    if timeout_d.is_zero() {
        return Err(TargetError::ZeroTimeout);
    }
    if timeout_d > interval_d {
        return Err(TargetError::TimeoutAboveInterval { timeout, interval });
    }
    let mut meta = Vec::new();
    lb.range(|l| {
        if l.name.starts_with(META_LABEL_PREFIX) {
            meta.push(l.name.to_owned());
        }
    });
    for name in &meta {
        lb.del(name);
    }
    if lb.get(INSTANCE_LABEL).unwrap_or("").is_empty() {
        lb.set(INSTANCE_LABEL, &addr);
    }
    let labels = lb.labels();
    // Label values come from Rust strings, so they are valid UTF-8: the check upstream makes
    // here cannot fail.
    Ok(Some(labels))
}

/// What one group yields: targets to scrape, targets relabeling dropped (with their discovered
/// labels) and the errors of targets that could not be built.
#[derive(Debug, Default)]
pub struct GroupTargets {
    pub active: Vec<Target>,
    pub dropped: Vec<Labels>,
    pub failures: Vec<String>,
}

/// Upstream's `TargetsFromGroup`. A target that fails is neither active nor dropped: it only
/// shows up as a logged failure, as upstream.
pub fn targets_from_group(cfg: &ScrapeConfig, group: &TargetGroup, out: &mut GroupTargets) {
    for (i, target) in group.targets.iter().enumerate() {
        let discovered = discovered_labels(cfg, target, &group.labels);
        match populate_labels(cfg, &discovered) {
            Ok(Some(labels)) => {
                out.active
                    .push(Target::new(labels, discovered, cfg.settings.params.clone()))
            }
            Ok(None) => out.dropped.push(discovered),
            Err(err) => out
                .failures
                .push(format!("instance {i} in group {}: {err}", group.source)),
        }
    }
}

#[cfg(test)]
#[path = "target_tests.rs"]
mod tests;
