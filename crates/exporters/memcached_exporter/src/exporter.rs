//! One scrape of memcached: its statistics and settings as upstream's families, and
//! `memcached_up`, which is 0 when the server cannot be read or a value does not parse.

use std::collections::HashMap;

use pm_common::expfmt::dto::MetricFamily;
use pm_common::metrics::{ConstFamily, ConstKind};

use crate::client::{Client, Stats};
use crate::metrics::{self, Desc, Stat};

/// The commands with `<op>_hits` and `<op>_misses` counters.
const OPERATIONS: [&str; 6] = ["get", "delete", "incr", "decr", "cas", "touch"];

/// A statistic that is present but not a number.
#[derive(Debug, Clone, Copy)]
struct Unparsable;

/// The families of one scrape, built as samples arrive.
#[derive(Debug, Default)]
struct Sink {
    families: HashMap<&'static str, ConstFamily>,
    kinds: HashMap<&'static str, ConstKind>,
    /// Whether any value failed to parse (upstream then reports `memcached_up 0`).
    failed: bool,
}

impl Sink {
    fn push(&mut self, desc: Desc, kind: ConstKind, labels: &[(&str, &str)], value: f64) {
        let known = *self.kinds.entry(desc.name).or_insert(kind);
        if known != kind {
            tracing::warn!(
                metric = desc.name,
                "dropping a sample of a conflicting type"
            );
            return;
        }
        self.families
            .entry(desc.name)
            .or_insert_with(|| ConstFamily::new(desc.name, desc.help, kind))
            .push(labels, value);
    }

    /// Exports `stats[key]` if present; a value that does not parse is logged and marks
    /// the scrape failed.
    fn stat(
        &mut self,
        stats: &HashMap<String, String>,
        key: &str,
        (desc, kind): (Desc, ConstKind),
        labels: &[(&str, &str)],
        parse: fn(&str) -> Option<f64>,
    ) {
        match value(stats, key, parse) {
            Ok(Some(v)) => self.push(desc, kind, labels, v),
            Ok(None) => tracing::debug!(key, "Key not found"),
            Err(Unparsable) => self.failed = true,
        }
    }

    /// [`Sink::stat`] for each numeric row of a table.
    fn table(&mut self, stats: &HashMap<String, String>, rows: &[Stat], labels: &[(&str, &str)]) {
        for row in rows {
            self.stat(stats, row.key, (row.desc, row.kind), labels, float);
        }
    }

    fn into_families(self) -> impl Iterator<Item = MetricFamily> {
        self.families.into_values().map(ConstFamily::into_family)
    }
}

fn value(
    stats: &HashMap<String, String>,
    key: &str,
    parse: fn(&str) -> Option<f64>,
) -> Result<Option<f64>, Unparsable> {
    let Some(text) = stats.get(key) else {
        return Ok(None);
    };
    match parse(text) {
        Some(v) => Ok(Some(v)),
        None => {
            tracing::error!(key, value = %text, "Failed to parse");
            Err(Unparsable)
        }
    }
}

fn float(s: &str) -> Option<f64> {
    s.parse().ok()
}

/// `yes`/`no`.
fn boolean(s: &str) -> Option<f64> {
    match s {
        "yes" => Some(1.0),
        "no" => Some(0.0),
        _ => None,
    }
}

/// A `seconds.microseconds` timeval, read the way upstream does: the part after the dot is
/// always taken as microseconds.
fn timeval(s: &str) -> Option<f64> {
    let (secs, micros) = s.split_once('.')?;
    if micros.contains('.') {
        return None;
    }
    Some(float(secs)? + float(micros)? / 1e6)
}

/// The sum of `keys`, all of which must be present and numeric.
fn sum(stats: &HashMap<String, String>, keys: &[&str]) -> Option<f64> {
    keys.iter()
        .map(|k| stats.get(*k).and_then(|v| float(v)))
        .sum()
}

/// Scrapes one memcached server.
#[derive(Debug, Clone)]
pub struct Exporter {
    client: Client,
}

impl Exporter {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Every memcached_* family of one scrape (unsorted).
    pub async fn collect(&self) -> Vec<MetricFamily> {
        let stats = self.client.stats().await.map_err(|e| {
            tracing::error!(err = %e, "Failed to collect stats from memcached");
        });
        let settings = self.client.settings().await.map_err(|e| {
            tracing::error!(err = %e, "Could not query stats settings");
        });
        let mut sink = Sink::default();
        if let Ok(stats) = &stats {
            export_stats(&mut sink, stats);
        }
        if let Ok(settings) = &settings {
            export_settings(&mut sink, settings);
        }
        let up = stats.is_ok() && settings.is_ok() && !sink.failed;
        sink.push(
            metrics::UP,
            ConstKind::Gauge,
            &[],
            if up { 1.0 } else { 0.0 },
        );
        sink.into_families().collect()
    }
}

fn export_stats(sink: &mut Sink, stats: &Stats) {
    let s = &stats.global;
    let version = s.get("version").map_or("", String::as_str);
    sink.push(
        metrics::VERSION,
        ConstKind::Gauge,
        &[("version", version)],
        1.0,
    );
    let commands = (metrics::COMMANDS, ConstKind::Counter);
    let command = |sink: &mut Sink, key: &str, command: &str, status: &str| {
        let labels = [("command", command), ("status", status)];
        sink.stat(s, key, commands, &labels, float);
    };
    for op in OPERATIONS {
        command(sink, &format!("{op}_hits"), op, "hit");
        command(sink, &format!("{op}_misses"), op, "miss");
    }
    sink.table(s, metrics::GLOBAL_FIRST, &[]);
    command(sink, "cas_badval", "cas", "badval");
    command(sink, "cmd_flush", "flush", "hit");
    // cmd_set counts the cas commands again.
    match (
        s.get("cmd_set").and_then(|v| float(v)),
        sum(s, &["cas_misses", "cas_hits", "cas_badval"]),
    ) {
        (Some(set), Some(cas)) => sink.push(
            metrics::COMMANDS,
            ConstKind::Counter,
            &[("command", "set"), ("status", "hit")],
            set - cas,
        ),
        _ => {
            tracing::error!("Failed to parse set");
            sink.failed = true;
        }
    }
    if s.contains_key("extstore_limit_maxbytes") {
        sink.table(s, metrics::EXTSTORE, &[]);
    }
    if s.contains_key("proxy_backend_total") {
        sink.table(s, metrics::PROXY, &[]);
    }
    for (desc, key) in [
        (metrics::RUSAGE_USER, "rusage_user"),
        (metrics::RUSAGE_SYSTEM, "rusage_system"),
    ] {
        sink.stat(s, key, (desc, ConstKind::Counter), &[], timeval);
    }
    sink.table(s, metrics::GLOBAL, &[]);
    for (slab, item) in &stats.items {
        let slab = slab.to_string();
        sink.table(item, metrics::ITEMS, &[("slab", &slab)]);
        for (key, lru) in [
            ("hits_to_hot", "hot"),
            ("hits_to_warm", "warm"),
            ("hits_to_cold", "cold"),
            ("hits_to_temp", "temporary"),
        ] {
            let hits = (metrics::SLAB_LRU_HITS, ConstKind::Counter);
            sink.stat(item, key, hits, &[("slab", &slab), ("lru", lru)], float);
        }
        sink.table(item, metrics::ITEMS_OPTIONAL, &[("slab", &slab)]);
    }
    for (slab, v) in &stats.slabs {
        export_slab(sink, &slab.to_string(), v);
    }
}

fn export_slab(sink: &mut Sink, slab: &str, v: &HashMap<String, String>) {
    let mut command = |key: &str, op: &str, status: &str| {
        let labels = [("slab", slab), ("command", op), ("status", status)];
        sink.stat(
            v,
            key,
            (metrics::SLAB_COMMANDS, ConstKind::Counter),
            &labels,
            float,
        );
    };
    for (key, op) in [
        ("get_hits", "get"),
        ("delete_hits", "delete"),
        ("incr_hits", "incr"),
        ("decr_hits", "decr"),
        ("cas_hits", "cas"),
        ("touch_hits", "touch"),
    ] {
        command(key, op, "hit");
    }
    command("cas_badval", "cas", "badval");
    match (
        v.get("cmd_set").and_then(|x| float(x)),
        sum(v, &["cas_hits", "cas_badval"]),
    ) {
        (Some(set), Some(cas)) => sink.push(
            metrics::SLAB_COMMANDS,
            ConstKind::Counter,
            &[("slab", slab), ("command", "set"), ("status", "hit")],
            set - cas,
        ),
        _ => {
            tracing::error!(slab, "Failed to parse set");
            sink.failed = true;
        }
    }
    sink.table(v, metrics::SLABS, &[("slab", slab)]);
}

fn export_settings(sink: &mut Sink, settings: &HashMap<String, String>) {
    let gauge = |desc| (desc, ConstKind::Gauge);
    sink.stat(
        settings,
        "maxconns",
        gauge(metrics::MAX_CONNECTIONS),
        &[],
        float,
    );
    if settings.get("lru_crawler").map(String::as_str) != Some("yes") {
        return;
    }
    sink.stat(
        settings,
        "lru_crawler",
        gauge(metrics::LRU_CRAWLER_ENABLED),
        &[],
        boolean,
    );
    sink.table(settings, metrics::LRU_CRAWLER, &[]);
    let maintainer = gauge(metrics::LRU_MAINTAINER_THREAD);
    sink.stat(settings, "lru_maintainer_thread", maintainer, &[], boolean);
}

#[cfg(test)]
mod tests;
