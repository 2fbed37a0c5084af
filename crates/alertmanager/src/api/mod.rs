//! The HTTP API v2 (`/api/v2/...`) with upstream's paths, parameters, JSON shapes and error
//! answers: errors are a JSON string with status 400/404/500, and requests the OpenAPI schema
//! refuses get upstream's `{"code", "message"}` object with status 422.

mod alerts;
mod cache;
#[cfg(test)]
mod cache_tests;
mod chunks;
mod encode;
mod listing;
#[cfg(test)]
mod listing_tests;
pub mod model;
pub use cache::GroupsCache;
mod silences;
mod status;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use crate::daemon::App;
use crate::labels::{Matcher, parse_matcher};

/// The API routes, under `prefix` (`""` or `/something`).
pub fn router(prefix: &str) -> Router<Arc<App>> {
    let api = format!("{prefix}/api/v2");
    Router::new()
        .route(
            &format!("{api}/alerts"),
            get(listing::list).post(alerts::post),
        )
        .route(&format!("{api}/alerts/groups"), get(listing::groups))
        .route(
            &format!("{api}/silences"),
            get(silences::list).post(silences::post),
        )
        .route(
            &format!("{api}/silence/{{id}}"),
            get(silences::get_one).delete(silences::delete),
        )
        .route(&format!("{api}/status"), get(status::status))
        .route(&format!("{api}/receivers"), get(status::receivers))
}

fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(mut bytes) => {
            // Upstream's encoder ends every document with a newline.
            bytes.push(b'\n');
            (status, json_body(bytes)).into_response()
        }
        Err(err) => error(StatusCode::INTERNAL_SERVER_ERROR, &err.to_string()).into_response(),
    }
}

/// A 200 answer with an encoded JSON document (newline included).
fn json_body(bytes: impl Into<Bytes>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], bytes.into()).into_response()
}

/// An error answer. Small, so handlers can return `Result<Response, ApiError>` cheaply.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// Upstream's usual error: the message as a JSON string.
    Message(StatusCode, String),
    /// A request the OpenAPI schema refuses: go-swagger's `{"code", "message"}` object.
    Schema(u16, String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Message(status, message) => {
                let mut body = serde_json::to_string(&message).unwrap_or_default();
                body.push('\n');
                (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
            }
            ApiError::Schema(code, message) => {
                #[derive(Serialize)]
                struct Body<'a> {
                    code: u16,
                    message: &'a str,
                }
                let status = if code == 400 {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                // Unlike other answers, go-swagger's validation errors end without a newline.
                let body = serde_json::to_string(&Body {
                    code,
                    message: &message,
                })
                .unwrap_or_default();
                (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
            }
        }
    }
}

fn error(status: StatusCode, message: &str) -> ApiError {
    ApiError::Message(status, message.to_owned())
}

fn schema_error(code: u16, message: &str) -> ApiError {
    ApiError::Schema(code, message.to_owned())
}

/// Query parameters; repeated ones (`filter`) keep every value.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(query: Option<&str>) -> Self {
        Params(
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn first(&self, name: &str) -> Option<&str> {
        self.all(name).next()
    }

    /// A boolean flag with its default; go-swagger reads the usual spellings of true and
    /// anything else as false.
    fn flag(&self, name: &str, default: bool) -> bool {
        self.first(name).map_or(default, |v| {
            matches!(
                v.to_ascii_lowercase().as_str(),
                "true" | "1" | "yes" | "ok" | "y" | "on" | "selected" | "checked" | "t" | "enabled"
            )
        })
    }

    /// `filter` matchers, each in either matcher syntax.
    fn filter(&self) -> Result<Vec<Matcher>, ApiError> {
        self.all("filter")
            .map(|f| parse_matcher(f).map_err(|e| error(StatusCode::BAD_REQUEST, &e.to_string())))
            .collect()
    }

    /// `receiver`: a regex anchored like upstream's.
    fn receiver(&self) -> Result<Option<regex::Regex>, ApiError> {
        let Some(pattern) = self.first("receiver").filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        crate::labels::compile_receiver_regex(pattern)
            .map(Some)
            .map_err(|e| {
                error(
                    StatusCode::BAD_REQUEST,
                    &format!("failed to parse receiver param: {e}"),
                )
            })
    }
}

/// Upstream's `filter` semantics: an equality matcher needs the label present (unless it
/// asks for `""`), a negative one with an empty value accepts any present label.
fn matches_filter<'a>(filter: &[Matcher], get: impl Fn(&str) -> Option<&'a str>) -> bool {
    filter.iter().all(|m| filter_matches(m, get(m.name())))
}

/// One `filter` matcher against a label's value (`None`: the label is absent).
fn filter_matches(m: &Matcher, value: Option<&str>) -> bool {
    if m.match_type().is_equal() {
        match value {
            None => m.value().is_empty(),
            Some(v) => m.matches(v),
        }
    } else {
        (m.value().is_empty() && value.is_some()) || m.matches(value.unwrap_or(""))
    }
}
