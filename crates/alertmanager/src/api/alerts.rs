//! `POST /api/v2/alerts`.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use super::model::PostableAlert;
use super::{ApiError, error, schema_error};
use crate::alert::{AlertError, Arrival, PostedAlert};
use crate::daemon::App;

pub(super) async fn post(State(app): State<Arc<App>>, body: Bytes) -> Result<Response, ApiError> {
    let posted: Vec<PostableAlert> = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => {
            return Err(schema_error(
                400,
                &format!("parsing alerts body from \"\" failed, because {e}"),
            ));
        }
    };
    let mut parsed = Vec::with_capacity(posted.len());
    for (i, p) in posted.into_iter().enumerate() {
        let time = |field: &str, v: Option<Cow<str>>| -> Result<Option<Timestamp>, ApiError> {
            let parsed = v
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<Timestamp>().map_err(|_| {
                        schema_error(
                            601,
                            &format!("{i}.{field} in body must be of type date-time: {s:?}"),
                        )
                    })
                })
                .transpose()?;
            // Go clients (amtool among them) send the zero time for "unset".
            Ok(parsed.filter(|t| *t != go_zero_time()))
        };
        let starts_at = time("startsAt", p.starts_at)?;
        let ends_at = time("endsAt", p.ends_at)?;
        let generator_url = p.generator_url.unwrap_or_default();
        // Clients mostly send one URL for a whole batch: check each distinct one once.
        let checked = parsed
            .last()
            .is_some_and(|prev: &PostedAlert| prev.generator_url == generator_url);
        if !generator_url.is_empty() && !checked && url::Url::parse(&generator_url).is_err() {
            return Err(schema_error(
                601,
                &format!("{i}.generatorURL in body must be of type uri: {generator_url:?}"),
            ));
        }
        parsed.push(PostedAlert {
            labels: p.labels,
            annotations: p.annotations,
            starts_at,
            ends_at,
            generator_url,
        });
    }
    let now = app.clock.now();
    let arrival = Arrival::new(now, app.runtime().resolve_timeout());
    let mut errors: Vec<AlertError> = Vec::new();
    let mut valid = Vec::with_capacity(parsed.len());
    for p in parsed {
        match p.into_alert(&arrival) {
            Ok(alert) => valid.push(alert),
            Err(e) => errors.push(e),
        }
    }
    let resolved = valid.iter().filter(|a| a.resolved_at(now)).count();
    let received = &app.metrics.received;
    for (status, count) in [("resolved", resolved), ("firing", valid.len() - resolved)] {
        if count > 0 {
            received
                .with_label_values(&[status, "v2"])
                .inc_by(count as f64);
        }
    }
    if !errors.is_empty() {
        app.metrics
            .invalid
            .with_label_values(&["v2"])
            .inc_by(errors.len() as f64);
    }
    app.put_alerts(valid, now);
    if errors.is_empty() {
        Ok(StatusCode::OK.into_response())
    } else {
        let message: Vec<String> = errors.iter().map(ToString::to_string).collect();
        Err(error(StatusCode::BAD_REQUEST, &message.join("; ")))
    }
}

/// Go's zero `time.Time`, `0001-01-01T00:00:00Z`.
fn go_zero_time() -> Timestamp {
    Timestamp::from_second(-62_135_596_800).expect("in range")
}
