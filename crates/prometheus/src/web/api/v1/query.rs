//! `/api/v1/query`, `/api/v1/query_range` and `/api/v1/format_query`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use pm_promql::engine::{QueryError, QueryOptions, QueryResult, QueryStats, Value};
use pm_promql::parse_expr;

use super::ApiState;
use super::json::{push_json_float, push_query_data, push_query_timings, push_str};
use super::params::{Params, parse_duration, parse_time};
use super::query_log::{Origin, Pending};
use super::response::{ApiError, ApiResponse, ErrorType};

/// Upstream's cap on points per series in a range query.
const MAX_POINTS_PER_SERIES: i128 = 11_000;

/// Maps an engine failure to upstream's error type (`returnAPIError`).
fn query_error(e: QueryError) -> ApiError {
    match e {
        QueryError::Parse(e) => ApiError::invalid_param("query", e),
        QueryError::BadRequest(m) => ApiError::invalid_param("query", m),
        e @ QueryError::Timeout(_) => ApiError::new(ErrorType::Timeout, e.to_string()),
        e @ QueryError::Canceled(_) => ApiError::new(ErrorType::Canceled, e.to_string()),
        e @ QueryError::Storage(_) => ApiError::new(ErrorType::Internal, e.to_string()),
        e @ (QueryError::TooManySamples(_) | QueryError::Eval(_)) => {
            ApiError::new(ErrorType::Execution, e.to_string())
        }
    }
}

/// The request's `timeout` (the shorter of it and `--query.timeout` applies) and
/// `lookback_delta` parameters, for the server's one engine (which keeps its metrics and
/// concurrency gate across requests).
fn query_options(params: &Params) -> Result<QueryOptions<'static>, ApiError> {
    let mut opts = QueryOptions {
        per_step_stats: params.get("stats") == "all",
        ..QueryOptions::default()
    };
    let timeout = params.get("timeout");
    if !timeout.is_empty() {
        let ns = parse_duration(timeout).map_err(|e| ApiError::invalid_param("timeout", e))?;
        opts.timeout = Some(Duration::from_nanos(u64::try_from(ns).unwrap_or(0)));
    }
    let lookback = params.get("lookback_delta");
    if !lookback.is_empty() {
        let ns = parse_duration(lookback).map_err(|e| {
            ApiError::bad_data(format!("error parsing lookback delta duration: {e}"))
        })?;
        if ns > 0 {
            opts.lookback_delta = Some((ns / 1_000_000) as i64);
        }
    }
    Ok(opts)
}

/// Drops results beyond `limit` (3.x's `limit` parameter), saying so in a warning.
fn truncate(value: &mut Value, limit: usize, warnings: &mut Vec<String>) {
    let truncated = match value {
        Value::Vector(v) if limit > 0 && v.len() > limit => {
            v.truncate(limit);
            true
        }
        Value::Matrix(m) if limit > 0 && m.len() > limit => {
            m.truncate(limit);
            true
        }
        _ => false,
    };
    if truncated {
        warnings.push("results truncated due to limit".into());
    }
}

fn respond(result: QueryResult, limit: usize, stats: bool) -> ApiResponse {
    let QueryResult {
        mut value,
        mut warnings,
        infos,
        stats: query_stats,
    } = result;
    truncate(&mut value, limit, &mut warnings);
    let mut data = String::new();
    push_query_data(&mut data, &value);
    if stats {
        data.pop();
        push_stats(&mut data, &query_stats);
        data.push('}');
    }
    ApiResponse::data(data).with_annotations(warnings, infos)
}

/// Appends `,"stats":{…}` as upstream's `stats.BuiltinStats`: the timings, then the samples
/// with the per-step counts first (present only for `stats=all` under
/// `--enable-feature=promql-per-step-stats`).
fn push_stats(out: &mut String, stats: &QueryStats) {
    out.push_str(",\"stats\":{\"timings\":");
    push_query_timings(out, &stats.timings);
    out.push_str(",\"samples\":{");
    if !stats.total_queryable_samples_per_step.is_empty() {
        out.push_str("\"totalQueryableSamplesPerStep\":[");
        for (i, s) in stats.total_queryable_samples_per_step.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            push_json_float(out, s.t as f64 / 1000.0);
            out.push_str(&format!(",{}]", s.v));
        }
        out.push_str("],");
    }
    out.push_str(&format!(
        "\"totalQueryableSamples\":{},\"peakSamples\":{}}}}}",
        stats.total_queryable_samples, stats.peak_samples
    ));
}

/// Runs a query and renders its answer, on this worker thread where the runtime allows it.
/// The engine blocks (it waits for one of its `--query.max-concurrency` slots, evaluates, and
/// logs to the query log, a file write), so the worker hands its other tasks to another
/// thread first (`block_in_place`). Passing the query to the blocking pool and the answer
/// back instead costs two thread wake-ups per request, which on a busy machine each wait for
/// a scheduler slice: a visible share of a short query's latency. A current-thread runtime
/// (tests) cannot give its thread away, so there the blocking pool runs it.
async fn run(
    state: Arc<ApiState>,
    logged: Pending,
    (limit, stats): (usize, bool),
    eval: impl FnOnce(&ApiState) -> Result<QueryResult, QueryError> + Send + 'static,
) -> Result<ApiResponse, ApiError> {
    let work = move || {
        let result = eval(&state);
        logged.finish(&state.query_log, &result);
        result
            .map(|r| respond(r, limit, stats))
            .map_err(query_error)
    };
    match tokio::runtime::Handle::current().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ApiError::new(ErrorType::Internal, e.to_string()))?,
    }
}

pub async fn instant(
    State(state): State<Arc<ApiState>>,
    origin: Origin,
    params: Params,
) -> ApiResponse {
    async {
        let limit = params.limit()?;
        let ts = params.time_or("time", jiff::Timestamp::now().as_millisecond())?;
        let opts = query_options(&params)?;
        let query = params.get("query").to_owned();
        let expr = parse_expr(&query, &state.engine.options().parser)
            .map_err(|e| ApiError::invalid_param("query", e))?;
        let stats = !params.get("stats").is_empty();
        let storage = state.storage()?;
        let logged = Pending {
            query: query.clone(),
            start: ts,
            end: ts,
            step: 0,
            origin,
        };
        run(state, logged, (limit, stats), move |state| {
            state
                .engine
                .instant_with(storage.as_ref(), &expr, &query, ts, &opts)
        })
        .await
    }
    .await
    .unwrap_or_else(ApiResponse::from)
}

pub async fn range(
    State(state): State<Arc<ApiState>>,
    origin: Origin,
    params: Params,
) -> ApiResponse {
    async {
        let limit = params.limit()?;
        let start =
            parse_time(params.get("start")).map_err(|e| ApiError::invalid_param("start", e))?;
        let end = parse_time(params.get("end")).map_err(|e| ApiError::invalid_param("end", e))?;
        if end < start {
            return Err(ApiError::invalid_param(
                "end",
                "end timestamp must not be before start time",
            ));
        }
        let step = parse_duration(params.get("step"))
            .map_err(|e| ApiError::invalid_param("step", e))?;
        if step <= 0 {
            return Err(ApiError::invalid_param(
                "step",
                "zero or negative query resolution step widths are not accepted. Try a positive integer",
            ));
        }
        if i128::from(end - start) * 1_000_000 / step > MAX_POINTS_PER_SERIES {
            return Err(ApiError::bad_data(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
            ));
        }
        let opts = query_options(&params)?;
        let query = params.get("query").to_owned();
        let expr = parse_expr(&query, &state.engine.options().parser)
            .map_err(|e| ApiError::invalid_param("query", e))?;
        let stats = !params.get("stats").is_empty();
        let step_ms = (step / 1_000_000).max(1) as i64;
        let storage = state.storage()?;
        let logged = Pending {
            query: query.clone(),
            start,
            end,
            step: step_ms,
            origin,
        };
        run(state, logged, (limit, stats), move |state| {
            state.engine.range_with(
                storage.as_ref(),
                &expr,
                &query,
                (start, end, step_ms),
                &opts,
            )
        })
        .await
    }
    .await
    .unwrap_or_else(ApiResponse::from)
}

pub async fn format_query(State(state): State<Arc<ApiState>>, params: Params) -> ApiResponse {
    match parse_expr(params.get("query"), &state.engine.options().parser) {
        Ok(expr) => {
            let mut out = String::new();
            push_str(&mut out, &expr.pretty());
            ApiResponse::data(out)
        }
        Err(e) => ApiError::invalid_param("query", e).into(),
    }
}
