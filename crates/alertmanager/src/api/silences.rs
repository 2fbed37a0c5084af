//! `/api/v2/silences` and `/api/v2/silence/{id}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Serialize;

use super::model::{GettableSilence, PostableSilence, silence_order};
use super::{ApiError, Params, error, json, matches_filter, schema_error};
use crate::daemon::App;
use crate::silence::{Silence, SilenceError, is_uuid, silence_matcher};

pub(super) async fn list(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let filter = Params::parse(query.as_deref()).filter()?;
    let now = app.silences.now();
    let mut silences: Vec<_> = app
        .silences
        .list()
        .into_iter()
        .filter(|s| {
            // A filter matcher tests the pattern of the silence's matcher of the same name.
            matches_filter(&filter, |name| {
                s.matchers
                    .iter()
                    .find(|m| m.name() == name)
                    .map(|m| m.value())
            })
        })
        .collect();
    silences.sort_by(|a, b| silence_order(a, b, now));
    let out: Vec<GettableSilence> = silences
        .iter()
        .map(|s| GettableSilence::new(s, now))
        .collect();
    Ok(json(StatusCode::OK, &out))
}

pub(super) async fn post(State(app): State<Arc<App>>, body: Bytes) -> Result<Response, ApiError> {
    let posted: PostableSilence = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => {
            return Err(schema_error(
                400,
                &format!("parsing silence body from \"\" failed, because {e}"),
            ));
        }
    };
    if posted.matchers.is_empty() {
        return Err(schema_error(
            612,
            "matchers in body should have at least 1 items",
        ));
    }
    let time = |field: &str, v: &str| {
        v.parse::<Timestamp>().map_err(|_| {
            schema_error(
                601,
                &format!("{field} in body must be of type date-time: {v:?}"),
            )
        })
    };
    let (starts_at, ends_at) = match (
        time("startsAt", &posted.starts_at),
        time("endsAt", &posted.ends_at),
    ) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let mut matchers = Vec::with_capacity(posted.matchers.len());
    for (i, m) in posted.matchers.iter().enumerate() {
        match silence_matcher(i, &m.name, &m.value, m.is_regex, m.is_equal.unwrap_or(true)) {
            Ok(m) => matchers.push(m),
            Err(e) => return Err(error(StatusCode::BAD_REQUEST, &e.to_string())),
        }
    }
    if starts_at >= ends_at {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "Failed to create silence: start time must be before end time",
        ));
    }
    if ends_at < app.silences.now() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "Failed to create silence: end time can't be in the past",
        ));
    }
    let silence = Silence {
        id: posted.id.unwrap_or_default(),
        matchers,
        starts_at,
        ends_at,
        updated_at: starts_at,
        created_by: posted.created_by,
        comment: posted.comment,
    };
    #[derive(Serialize)]
    struct Created {
        #[serde(rename = "silenceID")]
        silence_id: String,
    }
    match app.silences.set(silence) {
        Ok(silence_id) => Ok(json(StatusCode::OK, &Created { silence_id })),
        Err(e @ SilenceError::NotFound) => Err(error(StatusCode::NOT_FOUND, &e.to_string())),
        Err(e) => Err(error(StatusCode::BAD_REQUEST, &e.to_string())),
    }
}

fn check_id(id: &str) -> Result<(), ApiError> {
    if is_uuid(id) {
        Ok(())
    } else {
        Err(schema_error(
            601,
            &format!("silenceID in path must be of type uuid: {id:?}"),
        ))
    }
}

pub(super) async fn get_one(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_id(&id)?;
    match app.silences.get(&id) {
        Some(s) => Ok(json(
            StatusCode::OK,
            &GettableSilence::new(&s, app.silences.now()),
        )),
        None => Ok(StatusCode::NOT_FOUND.into_response()),
    }
}

pub(super) async fn delete(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_id(&id)?;
    match app.silences.expire(&id) {
        Ok(()) => Ok(StatusCode::OK.into_response()),
        // Upstream answers 500 for an unknown ID too.
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())),
    }
}
