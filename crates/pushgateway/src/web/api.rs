//! `/api/v1/status` and `/api/v1/metrics`: upstream's JSON, with its CORS headers.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderName};
use jiff::Timestamp;
use pm_common::expfmt::dto;
use pm_common::expfmt::encode::float::format_g;
use serde_json::{Map, Value, json};

use super::AppState;
use crate::store::Group;

const CORS: [(HeaderName, &str); 5] = [
    (
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        "Accept, Authorization, Content-Type, Origin",
    ),
    (
        header::ACCESS_CONTROL_ALLOW_METHODS,
        "GET, POST, DELETE, OPTIONS",
    ),
    (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
    (header::ACCESS_CONTROL_EXPOSE_HEADERS, "Date"),
    (header::CACHE_CONTROL, "no-cache, no-store, must-revalidate"),
];

fn respond(data: Value) -> Response {
    let body = json!({"status": "success", "data": data}).to_string();
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    for (name, value) in CORS {
        response
            .headers_mut()
            .insert(name, http::HeaderValue::from_static(value));
    }
    response
}

pub async fn options(State(s): State<Arc<AppState>>) -> Response {
    s.metrics
        .request("api/v1/options", 200, &http::Method::OPTIONS);
    let mut response = ().into_response();
    for (name, value) in CORS {
        response
            .headers_mut()
            .insert(name, http::HeaderValue::from_static(value));
    }
    response
}

pub async fn status(State(s): State<Arc<AppState>>) -> Response {
    s.metrics.request("api/v1/status", 200, &http::Method::GET);
    let flags: Map<String, Value> = s
        .flags
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
        .collect();
    respond(json!({
        "flags": flags,
        "start_time": s.start_time.to_string(),
        "build_information": {
            "version": env!("CARGO_PKG_VERSION"),
            "revision": option_env!("PM_GIT_REVISION").unwrap_or("unknown"),
            "branch": option_env!("PM_GIT_BRANCH").unwrap_or("unknown"),
            "buildUser": "",
            "buildDate": "",
            "goVersion": option_env!("PM_RUSTC_VERSION").unwrap_or("unknown"),
        },
    }))
}

pub async fn metrics(State(s): State<Arc<AppState>>) -> Response {
    s.metrics.request("api/v1/metrics", 200, &http::Method::GET);
    let groups: Vec<Value> = s.store.groups().iter().map(group_json).collect();
    respond(Value::Array(groups))
}

/// One group: its labels, whether the last push succeeded, and each family by name.
fn group_json(group: &Group) -> Value {
    let mut out = Map::new();
    out.insert("labels".into(), json!(group.labels));
    out.insert(
        "last_push_successful".into(),
        Value::Bool(group.last_push_successful()),
    );
    for stored in group.families() {
        let family = stored.family();
        let ty =
            dto::MetricType::try_from(stored.metric_type()).unwrap_or(dto::MetricType::Untyped);
        let mut entry = Map::new();
        entry.insert(
            "time_stamp".into(),
            Value::String(go_time(stored.timestamp)),
        );
        entry.insert("type".into(), Value::String(ty.as_str_name().to_owned()));
        if !family.help().is_empty() {
            entry.insert("help".into(), Value::String(family.help().to_owned()));
        }
        let metrics = family.metric.iter().map(|m| metric_json(m, ty)).collect();
        entry.insert("metrics".into(), Value::Array(metrics));
        out.insert(stored.name().to_owned(), Value::Object(entry));
    }
    Value::Object(out)
}

fn metric_json(m: &dto::Metric, ty: dto::MetricType) -> Value {
    let labels: Map<String, Value> = m
        .label
        .iter()
        .map(|p| (p.name().to_owned(), Value::String(p.value().to_owned())))
        .collect();
    let mut out = Map::new();
    out.insert("labels".into(), Value::Object(labels));
    match ty {
        dto::MetricType::Summary => {
            let s = m.summary.clone().unwrap_or_default();
            let quantiles: Map<String, Value> = s
                .quantile
                .iter()
                .map(|q| (go_float(q.quantile()), Value::String(go_float(q.value()))))
                .collect();
            out.insert("quantiles".into(), Value::Object(quantiles));
            out.insert("count".into(), Value::String(s.sample_count().to_string()));
            out.insert("sum".into(), Value::String(go_float(s.sample_sum())));
        }
        dto::MetricType::Histogram | dto::MetricType::GaugeHistogram => {
            let h = m.histogram.clone().unwrap_or_default();
            let buckets: Map<String, Value> = h
                .bucket
                .iter()
                .map(|b| {
                    let count = if b.cumulative_count_float() > 0.0 {
                        go_float(b.cumulative_count_float())
                    } else {
                        b.cumulative_count().to_string()
                    };
                    (go_float(b.upper_bound()), Value::String(count))
                })
                .collect();
            out.insert("buckets".into(), Value::Object(buckets));
            let count = if h.sample_count_float() > 0.0 {
                go_float(h.sample_count_float())
            } else {
                h.sample_count().to_string()
            };
            out.insert("count".into(), Value::String(count));
            out.insert("sum".into(), Value::String(go_float(h.sample_sum())));
        }
        _ => {
            let v = m
                .gauge
                .as_ref()
                .map(|g| g.value())
                .or_else(|| m.counter.as_ref().map(|c| c.value()))
                .or_else(|| m.untyped.as_ref().map(|u| u.value()))
                .unwrap_or(0.0);
            out.insert("value".into(), Value::String(go_float(v)));
        }
    }
    Value::Object(out)
}

/// Go's `fmt.Sprint` of a float64 (`%g` with the shortest digits).
pub fn go_float(v: f64) -> String {
    format_g(v)
}

/// A time as Go's JSON encoding writes it (RFC 3339, nanoseconds trimmed, UTC); Go's zero time
/// for "never".
fn go_time(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_go_prints_them() {
        assert_eq!(go_float(1.0), "1");
        assert_eq!(go_float(1.7956494897429748e9), "1.7956494897429748e+09");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(f64::INFINITY), "+Inf");
    }
}
