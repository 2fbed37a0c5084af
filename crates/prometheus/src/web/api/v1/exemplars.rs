//! `/api/v1/query_exemplars`: the exemplars of the series a query's selectors pick.

use std::sync::Arc;

use axum::extract::State;
use pm_common::model::Matcher;
use pm_promql::Expr;
use pm_promql::parse_expr;

use super::ApiState;
use super::json::{push_float, push_labels, push_timestamp};
use super::params::{MAX_TIME, MIN_TIME, Params};
use super::response::{ApiError, ApiResponse, ErrorType};

/// The matchers of every vector selector in `expr` (upstream's `ExtractSelectors`), in source
/// order.
fn selectors(expr: &Expr, out: &mut Vec<Vec<Matcher>>) {
    match expr {
        Expr::VectorSelector(v) => out.push(v.matchers.clone()),
        Expr::MatrixSelector(m) => out.push(m.vector_selector.matchers.clone()),
        other => {
            for child in other.children() {
                selectors(child, out);
            }
        }
    }
}

pub async fn query_exemplars(State(state): State<Arc<ApiState>>, params: Params) -> ApiResponse {
    async {
        let start = params.time_or("start", MIN_TIME)?;
        let end = params.time_or("end", MAX_TIME)?;
        if end < start {
            return Err(ApiError::bad_data(
                "end timestamp must not be before start timestamp",
            ));
        }
        let expr = parse_expr(params.get("query"), &state.engine.options().parser)
            .map_err(|e| ApiError::bad_data(e.to_string()))?;
        let mut sets = Vec::new();
        selectors(&expr, &mut sets);
        if sets.is_empty() {
            // Upstream answers without a `data` member then.
            return Ok(ApiResponse::empty());
        }
        let storage = state.storage_pair()?;
        let found = tokio::task::spawn_blocking(move || {
            storage
                .exemplars
                .exemplar_querier()
                .and_then(|q| q.select(start, end, &sets))
        })
        .await
        .map_err(|e| ApiError::new(ErrorType::Internal, e.to_string()))?
        .map_err(|e| ApiError::new(ErrorType::Execution, e.to_string()))?;
        let mut out = String::from("[");
        for (i, series) in found.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"seriesLabels\":");
            push_labels(&mut out, &series.series_labels);
            out.push_str(",\"exemplars\":[");
            for (j, e) in series.exemplars.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                out.push_str("{\"labels\":");
                push_labels(&mut out, &e.labels);
                out.push_str(",\"value\":");
                push_float(&mut out, e.value);
                out.push_str(",\"timestamp\":");
                push_timestamp(&mut out, e.ts.unwrap_or(0));
                out.push('}');
            }
            out.push_str("]}");
        }
        out.push(']');
        Ok(ApiResponse::data(out))
    }
    .await
    .unwrap_or_else(ApiResponse::from)
}
