//! `/api/v1/targets`, `/api/v1/targets/metadata` and `/api/v1/metadata`, read from whatever
//! scrapes: the scrape manager implements [`TargetsSource`]; without one the lists are empty,
//! as on an upstream server with no scrape configs.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use jiff::Timestamp;
use pm_common::model::{Labels, MetricType};
use pm_promql::parse_metric_selector;

use super::ApiState;
use super::json::{push_labels, push_str};
use super::params::Params;
use super::response::{ApiError, ApiResponse};

/// A target's last scrape outcome, as upstream names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Up,
    Down,
    Unknown,
}

impl Health {
    fn as_str(self) -> &'static str {
        match self {
            Health::Up => "up",
            Health::Down => "down",
            Health::Unknown => "unknown",
        }
    }
}

/// One scraped target.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveTarget {
    pub discovered_labels: Labels,
    pub labels: Labels,
    pub scrape_pool: String,
    pub scrape_url: String,
    /// The scrape URL with the host as other machines would reach it.
    pub global_url: String,
    /// Empty when the last scrape succeeded.
    pub last_error: String,
    /// `None` before the first scrape (Go's zero time is shown then).
    pub last_scrape: Option<Timestamp>,
    pub last_scrape_duration: f64,
    pub health: Health,
    /// Prometheus durations as configured (`15s`).
    pub scrape_interval: String,
    pub scrape_timeout: String,
}

/// A discovered target that relabelling dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct DroppedTarget {
    pub discovered_labels: Labels,
    pub scrape_pool: String,
}

/// The metadata one target exposed for one metric family.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetMetadata {
    pub target: Labels,
    pub metric: String,
    pub kind: MetricType,
    pub help: String,
    pub unit: String,
}

/// What the scrape manager shows the API.
pub trait TargetsSource: Send + Sync {
    /// Active targets, ordered by scrape pool then as the pool keeps them.
    fn active_targets(&self) -> Vec<ActiveTarget>;
    /// Dropped targets (as many as `keep_dropped_targets` keeps).
    fn dropped_targets(&self) -> Vec<DroppedTarget>;
    /// Dropped targets per pool, including those not kept.
    fn dropped_target_counts(&self) -> BTreeMap<String, usize>;
    /// Per-target metric metadata from the last scrapes.
    fn metadata(&self) -> Vec<TargetMetadata>;
}

/// Go's zero `time.Time`, which upstream shows for targets not scraped yet.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn push_active(out: &mut String, t: &ActiveTarget) {
    out.push_str("{\"discoveredLabels\":");
    push_labels(out, &t.discovered_labels);
    out.push_str(",\"labels\":");
    push_labels(out, &t.labels);
    for (key, value) in [
        ("scrapePool", &t.scrape_pool),
        ("scrapeUrl", &t.scrape_url),
        ("globalUrl", &t.global_url),
        ("lastError", &t.last_error),
    ] {
        out.push_str(&format!(",\"{key}\":"));
        push_str(out, value);
    }
    out.push_str(",\"lastScrape\":");
    match t.last_scrape {
        Some(ts) => push_str(out, &ts.to_string()),
        None => push_str(out, ZERO_TIME),
    }
    out.push_str(",\"lastScrapeDuration\":");
    out.push_str(&serde_json::to_string(&t.last_scrape_duration).unwrap_or_else(|_| "0".into()));
    out.push_str(",\"health\":");
    push_str(out, t.health.as_str());
    out.push_str(",\"scrapeInterval\":");
    push_str(out, &t.scrape_interval);
    out.push_str(",\"scrapeTimeout\":");
    push_str(out, &t.scrape_timeout);
    out.push('}');
}

fn push_list<T>(out: &mut String, items: &[T], push: impl Fn(&mut String, &T)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push(out, item);
    }
    out.push(']');
}

pub async fn targets(State(state): State<Arc<ApiState>>, params: Params) -> ApiResponse {
    let pool = params.get("scrapePool");
    let filter = params.get("state").to_ascii_lowercase();
    let show_active = matches!(filter.as_str(), "" | "any" | "active");
    let show_dropped = matches!(filter.as_str(), "" | "any" | "dropped");
    let in_pool = |p: &str| pool.is_empty() || p == pool;
    let source = state.targets.as_deref();

    let mut out = String::from("{\"activeTargets\":");
    let active: Vec<ActiveTarget> = match source {
        Some(s) if show_active => s
            .active_targets()
            .into_iter()
            .filter(|t| in_pool(&t.scrape_pool))
            .collect(),
        _ => Vec::new(),
    };
    push_list(&mut out, &active, push_active);
    out.push_str(",\"droppedTargets\":");
    let dropped: Vec<DroppedTarget> = match source {
        Some(s) if show_dropped => s
            .dropped_targets()
            .into_iter()
            .filter(|t| in_pool(&t.scrape_pool))
            .collect(),
        _ => Vec::new(),
    };
    push_list(&mut out, &dropped, |out, t| {
        out.push_str("{\"discoveredLabels\":");
        push_labels(out, &t.discovered_labels);
        out.push_str(",\"scrapePool\":");
        push_str(out, &t.scrape_pool);
        out.push('}');
    });
    out.push_str(",\"droppedTargetCounts\":");
    if show_dropped {
        let counts = source
            .map(|s| s.dropped_target_counts())
            .unwrap_or_default();
        out.push('{');
        for (i, (pool, n)) in counts.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_str(&mut out, pool);
            out.push_str(&format!(":{n}"));
        }
        out.push('}');
    } else {
        out.push_str("null");
    }
    out.push('}');
    ApiResponse::data(out)
}

fn push_metadata_fields(out: &mut String, m: &TargetMetadata) {
    out.push_str("\"type\":");
    push_str(out, m.kind.as_str());
    out.push_str(",\"help\":");
    push_str(out, &m.help);
    out.push_str(",\"unit\":");
    push_str(out, &m.unit);
}

pub async fn targets_metadata(State(state): State<Arc<ApiState>>, params: Params) -> ApiResponse {
    let limit = match params.limit() {
        Ok(l) => l,
        Err(e) => return e.into(),
    };
    let selector = params.get("match_target");
    let matchers = if selector.is_empty() {
        Vec::new()
    } else {
        match parse_metric_selector(selector) {
            Ok(m) => m,
            Err(e) => return ApiError::bad_data(e.to_string()).into(),
        }
    };
    let metric = params.get("metric");
    let mut entries: Vec<TargetMetadata> = state
        .targets
        .as_deref()
        .map(|s| s.metadata())
        .unwrap_or_default()
        .into_iter()
        .filter(|m| metric.is_empty() || m.metric == metric)
        .filter(|m| {
            matchers
                .iter()
                .all(|x| x.matches(m.target.get(x.name()).unwrap_or("")))
        })
        .collect();
    if limit > 0 {
        entries.truncate(limit);
    }
    let mut out = String::new();
    push_list(&mut out, &entries, |out, m| {
        out.push_str("{\"target\":");
        push_labels(out, &m.target);
        out.push(',');
        if metric.is_empty() {
            out.push_str("\"metric\":");
            push_str(out, &m.metric);
            out.push(',');
        }
        push_metadata_fields(out, m);
        out.push('}');
    });
    ApiResponse::data(out)
}

pub async fn metadata(State(state): State<Arc<ApiState>>, params: Params) -> ApiResponse {
    let limit = match params.limit() {
        Ok(l) => l,
        Err(e) => return e.into(),
    };
    let per_metric = match params.get("limit_per_metric") {
        "" => 0,
        s => match s.parse::<i64>() {
            Ok(n) => usize::try_from(n).unwrap_or(0),
            Err(_) => {
                return ApiError::invalid_param(
                    "limit_per_metric",
                    format!("strconv.Atoi: parsing {s:?}: invalid syntax"),
                )
                .into();
            }
        },
    };
    let metric = params.get("metric");
    // Distinct metadata per metric, in the order first seen.
    let mut by_metric: BTreeMap<String, Vec<TargetMetadata>> = BTreeMap::new();
    for m in state
        .targets
        .as_deref()
        .map(|s| s.metadata())
        .unwrap_or_default()
    {
        if !metric.is_empty() && m.metric != metric {
            continue;
        }
        let list = by_metric.entry(m.metric.clone()).or_default();
        let seen = list
            .iter()
            .any(|x| x.kind == m.kind && x.help == m.help && x.unit == m.unit);
        if !seen && (per_metric == 0 || list.len() < per_metric) {
            list.push(m);
        }
    }
    let mut out = String::from("{");
    for (i, (name, list)) in by_metric.iter().enumerate() {
        if limit > 0 && i >= limit {
            break;
        }
        if i > 0 {
            out.push(',');
        }
        push_str(&mut out, name);
        out.push(':');
        push_list(&mut out, list, |out, m| {
            out.push('{');
            push_metadata_fields(out, m);
            out.push('}');
        });
    }
    out.push('}');
    ApiResponse::data(out)
}
