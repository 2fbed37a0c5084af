//! `/federate`: the latest sample of every series matching a `match[]`, within the lookback
//! delta, exposed in the text or protobuf format for another Prometheus to scrape. Shaped as
//! upstream shapes it: families by metric name (untyped floats, native histograms only in
//! protobuf), external labels added where the series lacks them (with an empty `instance`),
//! stale markers skipped.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use pm_common::expfmt::{FormatKind, dto, negotiate};
use pm_common::metrics::{RenderOptions, encode};
use pm_common::model::{CounterResetHint, FloatHistogram, Labels, Span, is_stale_nan};
use pm_storage::{Queryable, SelectHints, ValueType};

use super::api::v1::StorageSlot;
use super::api::v1::params::Params;
use super::api::v1::status::ServerStatus;
use pm_common::model::Matcher;
use pm_promql::parse_metric_selector;

/// What federation reads.
pub struct FederationState {
    pub storage: StorageSlot,
    pub status: Arc<ServerStatus>,
    /// `--query.lookback-delta` in milliseconds.
    pub lookback: i64,
}

/// One series' latest sample.
struct Latest {
    labels: Labels,
    t: i64,
    value: Sample,
}

enum Sample {
    Float(f64),
    Histogram(FloatHistogram),
}

pub async fn federate(
    State(state): State<Arc<FederationState>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let selectors = params.all("match[]");
    // Unlike the API, federation takes selectors matching everything.
    let parsed: Result<Vec<Vec<Matcher>>, _> =
        selectors.iter().map(|s| parse_metric_selector(s)).collect();
    let sets = match parsed {
        Ok(s) => s,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    let Some(storage) = state.storage.get().map(|s| s.queryable.clone()) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    };
    let format = negotiate(
        headers
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    );
    let maxt = jiff::Timestamp::now().as_millisecond();
    let mint = maxt - state.lookback;
    let external = state.status.config().global.external_labels.clone();
    let collected =
        tokio::task::spawn_blocking(move || latest_samples(storage.as_ref(), &sets, mint, maxt))
            .await;
    let samples = match collected {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    };
    let proto = format.kind() == FormatKind::ProtoDelimited;
    let families = families(samples, &external, proto);
    let body = encode(&families, format, RenderOptions::default());
    ([(CONTENT_TYPE, format.content_type())], body).into_response()
}

/// The last sample in `[mint, maxt]` of every series matching any set, each series once, in
/// label order.
fn latest_samples(
    storage: &dyn Queryable,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
) -> Result<Vec<Latest>, String> {
    let querier = storage.querier(mint, maxt).map_err(|e| e.to_string())?;
    let hints = SelectHints {
        start: mint,
        end: maxt,
        ..SelectHints::default()
    };
    let mut out: Vec<Latest> = Vec::new();
    for set in sets {
        let mut series = querier.select(true, Some(&hints), set);
        while let Some(s) = series.next() {
            let mut it = s.iter();
            let mut last: Option<(i64, Sample)> = None;
            loop {
                let sample = match it.next() {
                    ValueType::None => break,
                    ValueType::Float => {
                        let (t, v) = it.at();
                        (t, Sample::Float(v))
                    }
                    ValueType::Histogram | ValueType::FloatHistogram => {
                        let mut h = FloatHistogram::default();
                        let t = it.at_float_histogram(&mut h);
                        (t, Sample::Histogram(h))
                    }
                };
                if sample.0 > maxt {
                    break;
                }
                if sample.0 >= mint {
                    last = Some(sample);
                }
            }
            if let Some(e) = it.err() {
                return Err(e.to_string());
            }
            let Some((t, value)) = last else { continue };
            let stale = match &value {
                Sample::Float(v) => is_stale_nan(*v),
                Sample::Histogram(h) => is_stale_nan(h.sum),
            };
            if !stale {
                out.push(Latest {
                    labels: s.labels().clone(),
                    t,
                    value,
                });
            }
        }
        if let Some(e) = series.err() {
            return Err(e.to_string());
        }
    }
    if sets.len() > 1 {
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out.dedup_by(|a, b| a.labels == b.labels);
    }
    Ok(out)
}

fn pair(name: &str, value: &str) -> dto::LabelPair {
    dto::LabelPair {
        name: Some(name.to_owned()),
        value: Some(value.to_owned()),
    }
}

fn spans(spans: &[Span]) -> Vec<dto::BucketSpan> {
    spans
        .iter()
        .map(|s| dto::BucketSpan {
            offset: Some(s.offset),
            length: Some(s.length),
        })
        .collect()
}

/// Groups samples into families by metric name (a new family whenever the name or the kind
/// of sample changes, as upstream does), appending the external labels a series lacks.
fn families(
    mut samples: Vec<Latest>,
    external: &std::collections::BTreeMap<String, String>,
    proto: bool,
) -> Vec<dto::MetricFamily> {
    samples.sort_by(|a, b| {
        let name = |l: &Labels| l.get("__name__").unwrap_or("").to_owned();
        name(&a.labels).cmp(&name(&b.labels))
    });
    let mut external: Vec<(String, String)> = external
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !external.iter().any(|(k, _)| k == "instance") {
        external.push(("instance".into(), String::new()));
        external.sort();
    }
    let mut out: Vec<dto::MetricFamily> = Vec::new();
    // (name, is histogram, is gauge histogram) of the family being filled.
    let mut current: Option<(String, bool, bool)> = None;
    for s in samples {
        let histogram = match &s.value {
            Sample::Histogram(h) => Some(h),
            Sample::Float(_) => None,
        };
        if histogram.is_some() && !proto {
            continue;
        }
        let gauge = histogram.is_some_and(|h| h.counter_reset_hint == CounterResetHint::Gauge);
        let Some(name) = s.labels.get("__name__").filter(|n| !n.is_empty()) else {
            tracing::warn!(metric = %s.labels, "Ignoring nameless metric during federation");
            continue;
        };
        let key = (name.to_owned(), histogram.is_some(), gauge);
        if current.as_ref() != Some(&key) {
            let kind = match (histogram.is_some(), gauge) {
                (false, _) => dto::MetricType::Untyped,
                (true, false) => dto::MetricType::Histogram,
                (true, true) => dto::MetricType::GaugeHistogram,
            };
            out.push(dto::MetricFamily {
                name: Some(name.to_owned()),
                r#type: Some(kind as i32),
                ..dto::MetricFamily::default()
            });
            current = Some(key);
        }
        let mut labels: Vec<dto::LabelPair> = s
            .labels
            .iter()
            .filter(|l| !l.value.is_empty() && l.name != "__name__")
            .map(|l| pair(l.name, l.value))
            .collect();
        for (name, value) in &external {
            if s.labels.get(name).is_none_or(str::is_empty) {
                labels.push(pair(name, value));
            }
        }
        let mut metric = dto::Metric {
            label: labels,
            timestamp_ms: Some(s.t),
            ..dto::Metric::default()
        };
        match s.value {
            Sample::Float(v) => metric.untyped = Some(dto::Untyped { value: Some(v) }),
            Sample::Histogram(h) => {
                metric.histogram = Some(dto::Histogram {
                    sample_count_float: Some(h.count),
                    zero_count_float: Some(h.zero_count),
                    zero_threshold: Some(h.zero_threshold),
                    sample_sum: Some(h.sum),
                    schema: Some(h.schema),
                    negative_span: spans(&h.negative_spans),
                    negative_count: h.negative_buckets,
                    positive_span: spans(&h.positive_spans),
                    positive_count: h.positive_buckets,
                    ..dto::Histogram::default()
                })
            }
        }
        if let Some(family) = out.last_mut() {
            family.metric.push(metric);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(labels: &[(&str, &str)], t: i64, v: f64) -> Latest {
        Latest {
            labels: Labels::from_pairs(labels.iter().copied()),
            t,
            value: Sample::Float(v),
        }
    }

    #[test]
    fn families_group_by_name_and_add_external_labels() {
        let samples = vec![
            float(&[("__name__", "up"), ("job", "b")], 10, 1.0),
            float(&[("__name__", "go"), ("instance", "x")], 10, 2.0),
            float(
                &[("__name__", "up"), ("job", "a"), ("region", "own")],
                20,
                0.0,
            ),
            float(&[("job", "nameless")], 20, 0.0),
        ];
        let external = [("region".to_owned(), "eu".to_owned())]
            .into_iter()
            .collect();
        let fams = families(samples, &external, false);
        let names: Vec<_> = fams.iter().map(|f| f.name().to_owned()).collect();
        assert_eq!(names, ["go", "up"]);
        let labels = |m: &dto::Metric| {
            m.label
                .iter()
                .map(|l| format!("{}={}", l.name(), l.value()))
                .collect::<Vec<_>>()
        };
        assert_eq!(labels(&fams[0].metric[0]), ["instance=x", "region=eu"]);
        assert_eq!(
            labels(&fams[1].metric[0]),
            ["job=b", "instance=", "region=eu"]
        );
        assert_eq!(
            labels(&fams[1].metric[1]),
            ["job=a", "region=own", "instance="]
        );
        assert_eq!(fams[1].metric[1].timestamp_ms, Some(20));
    }
}
