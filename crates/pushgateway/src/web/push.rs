//! `PUT`/`POST`/`DELETE /metrics/job/<JOB>{/<NAME>/<VALUE>}` and the admin wipe.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Uri, header};
use jiff::Timestamp;

use super::AppState;
use super::body;
use crate::grouping::{GroupingError, GroupingLabels, parse_push_path};
use crate::store::Push;

pub async fn put(
    state: State<Arc<AppState>>,
    path: Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    push(state, path, &uri, headers, body, Method::PUT).await
}

pub async fn post(
    state: State<Arc<AppState>>,
    path: Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    push(state, path, &uri, headers, body, Method::POST).await
}

async fn push(
    State(s): State<Arc<AppState>>,
    Path(rest): Path<String>,
    uri: &Uri,
    headers: HeaderMap,
    raw: Bytes,
    method: Method,
) -> Response {
    let started = Instant::now();
    let size = approximate_request_size(&method, uri, &headers);
    let response = match grouping(&rest) {
        Err(e) => reject(e),
        Ok(labels) => apply_push(&s, labels, &headers, raw, method == Method::PUT),
    };
    let code = response.status().as_u16();
    s.metrics.request("push", code, &method);
    s.metrics
        .push(&method, size, started.elapsed().as_secs_f64());
    response
}

/// The request size as client_golang's handler instrumentation estimates it: URL, method,
/// protocol (always 8 characters, e.g. `HTTP/1.1`), header names and values, host, and the
/// declared body length. Go moves `Host` out of the headers and drops `Transfer-Encoding`.
fn approximate_request_size(method: &Method, uri: &Uri, headers: &HeaderMap) -> usize {
    const PROTOCOL: usize = "HTTP/1.1".len();
    let url = uri.path_and_query().map_or(0, |p| p.as_str().len());
    let host = headers
        .get(header::HOST)
        .map(|h| h.len())
        .or_else(|| uri.authority().map(|a| a.as_str().len()))
        .unwrap_or(0);
    let fields: usize = headers
        .iter()
        .filter(|(name, _)| **name != header::HOST && **name != header::TRANSFER_ENCODING)
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let body = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .unwrap_or(0);
    url + method.as_str().len() + PROTOCOL + fields + host + body
}

fn apply_push(
    s: &AppState,
    labels: GroupingLabels,
    headers: &HeaderMap,
    raw: Bytes,
    replace: bool,
) -> Response {
    let families = match body::decompress(headers, raw).and_then(|b| body::parse(headers, &b)) {
        Ok(f) => f,
        Err(e) => {
            tracing::debug!(err = %e, "failed to parse text");
            return error(e.to_string());
        }
    };
    let push = Push {
        labels,
        families,
        replace,
        time: Timestamp::now(),
    };
    match s.store.push(push) {
        Ok(()) if s.checked => StatusCode::OK.into_response(),
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => {
            tracing::error!(err = %e, "pushed metrics are invalid or inconsistent with existing metrics");
            error(format!(
                "pushed metrics are invalid or inconsistent with existing metrics: {e}"
            ))
        }
    }
}

pub async fn delete(State(s): State<Arc<AppState>>, Path(rest): Path<String>) -> Response {
    let response = match grouping(&rest) {
        Err(e) => reject(e),
        Ok(labels) => {
            s.store.delete(&labels);
            StatusCode::ACCEPTED.into_response()
        }
    };
    s.metrics
        .request("delete", response.status().as_u16(), &Method::DELETE);
    response
}

/// `PUT /api/v1/admin/wipe`: drops every group in one step.
pub async fn wipe(State(s): State<Arc<AppState>>) -> StatusCode {
    tracing::debug!("start wiping metric store");
    s.store.wipe();
    s.metrics.request("wipe", 202, &Method::PUT);
    StatusCode::ACCEPTED
}

/// The grouping labels of a push path below `/metrics/`; `Err(None)` when it is no push path.
fn grouping(rest: &str) -> Result<GroupingLabels, Option<GroupingError>> {
    match parse_push_path(rest) {
        None => Err(None),
        Some(result) => result.map_err(Some),
    }
}

/// The response to a push path that names no group.
fn reject(error: Option<GroupingError>) -> Response {
    match error {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(e) => {
            tracing::debug!(err = %e, "failed to parse URL");
            self::error(e.to_string())
        }
    }
}

/// A 400 as Go's `http.Error` writes it.
fn error(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        format!("{message}\n"),
    )
        .into_response()
}
