//! `/api/v2/alerts` (post and list) and `/api/v2/alerts/groups`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use super::model::{self, AlertGroup, AlertStatus, GettableAlert, PostableAlert, Receiver};
use super::{ApiError, Params, error, json, matches_filter, schema_error};
use crate::alert::{Alert, AlertError, Fingerprint, LabelSet, PostedAlert};
use crate::daemon::App;
use crate::dispatch::GroupId;

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
        let time = |field: &str, v: Option<String>| -> Result<Option<Timestamp>, ApiError> {
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
        if !generator_url.is_empty() && url::Url::parse(&generator_url).is_err() {
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
    let runtime = app.runtime();
    let now = app.clock.now();
    let timeout = runtime.resolve_timeout();
    let mut errors: Vec<AlertError> = Vec::new();
    let received = &app.metrics.received;
    for p in parsed {
        match p.into_alert(now, timeout) {
            Ok(alert) => {
                let status = if alert.resolved_at(now) {
                    "resolved"
                } else {
                    "firing"
                };
                received.with_label_values(&[status, "v2"]).inc();
                app.put_alert(alert, now);
            }
            Err(e) => {
                app.metrics.invalid.with_label_values(&["v2"]).inc();
                errors.push(e);
            }
        }
    }
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

/// The filters `GET /alerts` and `GET /alerts/groups` share.
struct AlertFilter {
    filter: Vec<crate::labels::Matcher>,
    receiver: Option<regex::Regex>,
    active: bool,
    silenced: bool,
    inhibited: bool,
}

impl AlertFilter {
    fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let params = Params::parse(query);
        Ok(AlertFilter {
            filter: params.filter()?,
            receiver: params.receiver()?,
            active: params.flag("active", true),
            silenced: params.flag("silenced", true),
            inhibited: params.flag("inhibited", true),
        })
    }

    fn labels_match(&self, labels: &LabelSet) -> bool {
        matches_filter(&self.filter, |n| labels.get(n).map(String::as_str))
    }

    fn receiver_matches(&self, receiver: &str) -> bool {
        self.receiver
            .as_ref()
            .is_none_or(|re| re.is_match(receiver))
    }

    /// Whether an alert with this status is shown. (`unprocessed` filters nothing: an
    /// alert's status is computed when it is read, so none is ever unprocessed.)
    fn status_shown(&self, status: &AlertStatus) -> bool {
        (self.active || !status.is_active())
            && (self.silenced || status.silenced_by.is_empty())
            && (self.inhibited || status.inhibited_by.is_empty())
    }
}

pub(super) async fn list(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let f = AlertFilter::parse(query.as_deref())?;
    let snap = app.snapshot();
    let index = snap.inhibition();
    let mut out = Vec::new();
    for alert in &snap.alerts {
        let receivers = snap.runtime.receivers(&alert.labels);
        if f.receiver.is_some() && !receivers.iter().any(|r| f.receiver_matches(r)) {
            continue;
        }
        if !f.labels_match(&alert.labels) || alert.resolved_at(snap.now) {
            continue;
        }
        let (silenced, inhibited) = snap.muted_by(&index, alert);
        let status = AlertStatus::new(silenced, inhibited);
        if !f.status_shown(&status) {
            continue;
        }
        out.push(GettableAlert::new(alert, status, receivers));
    }
    out.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
    Ok(json(StatusCode::OK, &out))
}

pub(super) async fn groups(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let f = AlertFilter::parse(query.as_deref())?;
    let snap = app.snapshot();
    let index = snap.inhibition();
    let tree = &snap.runtime.tree;
    // The dispatcher's aggregation groups, each with the alerts the filters let through.
    let mut groups: Vec<(Arc<GroupId>, Vec<Arc<Alert>>)> = Vec::new();
    let mut statuses: HashMap<Fingerprint, AlertStatus> = HashMap::new();
    let mut receivers: HashMap<Fingerprint, Vec<String>> = HashMap::new();
    for group in snap.runtime.dispatcher.groups() {
        let receiver = &tree.node(group.id.route).opts.receiver;
        if !f.receiver_matches(receiver) {
            continue;
        }
        let mut shown = Vec::with_capacity(group.alerts.len());
        for alert in group.alerts {
            if alert.resolved_at(snap.now) || !f.labels_match(&alert.labels) {
                continue;
            }
            let status = statuses.entry(alert.fingerprint).or_insert_with(|| {
                let (silenced, inhibited) = snap.muted_by(&index, &alert);
                AlertStatus::new(silenced, inhibited)
            });
            if !f.status_shown(status) {
                continue;
            }
            receivers
                .entry(alert.fingerprint)
                .or_default()
                .push(receiver.clone());
            shown.push(alert);
        }
        if !shown.is_empty() {
            groups.push((group.id, shown));
        }
    }
    for r in receivers.values_mut() {
        r.sort();
    }
    let mut out: Vec<AlertGroup<'_>> = Vec::with_capacity(groups.len());
    for (_, alerts) in &mut groups {
        alerts.sort_by(|a, b| model::alert_order(a, b));
    }
    for (id, alerts) in &groups {
        let alerts = alerts
            .iter()
            .map(|a| {
                let status = statuses
                    .get(&a.fingerprint)
                    .map(|s| AlertStatus::new(s.silenced_by.clone(), s.inhibited_by.clone()))
                    .expect("every grouped alert has a status");
                GettableAlert::new(a, status, receivers[&a.fingerprint].clone())
            })
            .collect();
        out.push(AlertGroup {
            alerts,
            labels: id.labels.clone(),
            receiver: Receiver {
                name: tree.node(id.route).opts.receiver.clone(),
            },
        });
    }
    out.sort_by(|a, b| {
        if a.labels == b.labels {
            a.receiver.name.cmp(&b.receiver.name)
        } else {
            model::label_set_order(&a.labels, &b.labels)
        }
    });
    Ok(json(StatusCode::OK, &out))
}
