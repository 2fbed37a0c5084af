//! The HTTP side of the receiver and the read server, mounted under `/api/v1` by the API router.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pm_common::model::Labels;
use tokio::sync::Semaphore;

use super::codec::{self, WriteMessage};
use super::read_server::{self, ReadLimits};
use super::receiver::{self, ReceiverOptions};
use crate::web::api::v1::ApiState;

/// Largest request body the receiver and the read server take (upstream reads bodies whole,
/// unbounded; a bound keeps one bad client from exhausting memory).
pub const MAX_BODY: usize = 256 << 20;

/// The remote endpoints' settings, from the command line.
pub struct RemoteApi {
    /// `None` unless `--web.enable-remote-write-receiver`.
    pub receiver: Option<ReceiverOptions>,
    pub read_limits: ReadLimits,
    /// `--storage.remote.read-concurrent-limit` (none when 0).
    pub read_gate: Option<Arc<Semaphore>>,
}

impl RemoteApi {
    pub fn new(
        receiver: Option<Vec<WriteMessage>>,
        read_limits: ReadLimits,
        read_concurrency: usize,
    ) -> Self {
        RemoteApi {
            receiver: receiver.map(|accepted| ReceiverOptions { accepted }),
            read_limits,
            read_gate: (read_concurrency > 0).then(|| Arc::new(Semaphore::new(read_concurrency))),
        }
    }
}

impl Default for RemoteApi {
    /// Upstream's defaults: receiver off, 5e7 samples, 10 concurrent reads, 1 MiB frames.
    fn default() -> Self {
        RemoteApi::new(
            None,
            ReadLimits {
                sample_limit: 50_000_000,
                max_bytes_in_frame: 1_048_576,
            },
            10,
        )
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn text(status: StatusCode, message: impl Into<String>) -> Response {
    let mut body = message.into();
    body.push('\n');
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn unavailable() -> Response {
    text(StatusCode::SERVICE_UNAVAILABLE, "TSDB not ready")
}

/// `POST /api/v1/write`.
pub async fn write(State(api): State<Arc<ApiState>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(options) = api.remote.receiver.clone() else {
        return text(
            StatusCode::NOT_FOUND,
            "remote write receiver needs to be enabled with --web.enable-remote-write-receiver",
        );
    };
    let Some(storage) = api.storage.get().map(|s| s.appendable.clone()) else {
        return unavailable();
    };
    let content_type = header_str(&headers, header::CONTENT_TYPE).map(str::to_owned);
    let encoding = header_str(&headers, header::CONTENT_ENCODING).map(str::to_owned);
    let outcome = tokio::task::spawn_blocking(move || {
        receiver::receive(
            storage.as_ref(),
            &options,
            content_type.as_deref(),
            encoding.as_deref(),
            &body,
        )
    })
    .await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let mut response = match &outcome.result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            if e.status() == StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(err = %e, "Error while remote writing the request");
            }
            text(e.status(), e.to_string())
        }
    };
    if outcome.message == WriteMessage::V2 {
        let h = response.headers_mut();
        let s = outcome.stats;
        for (name, n) in [
            (codec::HEADER_SAMPLES_WRITTEN, s.samples),
            (codec::HEADER_HISTOGRAMS_WRITTEN, s.histograms),
            (codec::HEADER_EXEMPLARS_WRITTEN, s.exemplars),
        ] {
            h.insert(name, HeaderValue::from(n));
        }
    }
    response
}

/// `POST /api/v1/read`.
pub async fn read(State(api): State<Arc<ApiState>>, body: Bytes) -> Response {
    let _permit = match &api.remote.read_gate {
        Some(gate) => match gate.clone().acquire_owned().await {
            Ok(p) => Some(p),
            Err(_) => return text(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
        },
        None => None,
    };
    let Some(storage) = api.storage.get().map(|s| s.queryable.clone()) else {
        return unavailable();
    };
    let external: Labels = Labels::from_pairs(api.status.config().global.external_labels.clone());
    let limits = api.remote.read_limits;
    let reply = tokio::task::spawn_blocking(move || {
        read_server::serve(storage.as_ref(), &external, limits, &body)
    })
    .await;
    match reply {
        Ok(Ok(reply)) => {
            let mut response = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, reply.content_type)],
                reply.body,
            )
                .into_response();
            if reply.snappy {
                response.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    HeaderValue::from_static(codec::SNAPPY),
                );
            }
            response
        }
        Ok(Err(e)) => text(e.status(), e.to_string()),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
