//! `GET /api/v2/alerts` and `GET /api/v2/alerts/groups`.
//!
//! Both walk the live state (the store's or the dispatcher's shards, one lock at a time) and
//! keep, under each lock, only references to the alerts the label and receiver filters let
//! through. Statuses (silences, inhibition) are computed afterwards for those alerts alone,
//! and the answer is written straight into the response buffer.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use crate::alert::{Alert, LabelSet};
use crate::api::chunks::Chunks;
use crate::api::encode::{self, Listed};
use crate::api::{ApiError, Params, json_body, matches_filter};
use crate::daemon::{App, Muted};
use crate::dispatch::Fragment;
use crate::labels::Matcher;

mod groups;
mod plan;

pub(super) use groups::list_groups;
pub(super) use plan::Planning;

/// The filters both listings take.
pub(super) struct AlertFilter {
    filter: Vec<Matcher>,
    receiver: Option<regex::Regex>,
    active: bool,
    silenced: bool,
    inhibited: bool,
}

impl AlertFilter {
    pub(super) fn parse(query: Option<&str>) -> Result<Self, ApiError> {
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
    fn status_shown(&self, muted: &Muted) -> bool {
        (self.active || !muted.is_active())
            && (self.silenced || !muted.is_silenced())
            && (self.inhibited || !muted.is_inhibited())
    }
}

pub(super) async fn list(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let filter = AlertFilter::parse(query.as_deref())?;
    Ok(json_body(list_alerts(&app, &filter)))
}

/// Unresolved alerts by fingerprint, each with the receivers of the routes it ends in (in
/// tree order).
fn list_alerts(app: &App, f: &AlertFilter) -> Vec<u8> {
    let muting = app.muting();
    let tree = &muting.runtime.tree;
    let mut picked: Vec<Arc<Alert>> = Vec::new();
    app.alerts.for_each(|a| {
        if !a.resolved_at(muting.now) && f.labels_match(&a.labels) {
            picked.push(Arc::clone(a));
        }
    });
    picked.sort_unstable_by_key(|a| a.fingerprint);
    let receivers: Vec<Vec<&str>> = picked
        .iter()
        .map(|a| {
            tree.matches(&|n| a.labels.get(n).map(String::as_str))
                .into_iter()
                .map(|id| tree.node(id).opts.receiver.as_str())
                .collect()
        })
        .collect();
    let mut shown = Vec::with_capacity(picked.len());
    for (alert, receivers) in picked.into_iter().zip(&receivers) {
        if f.receiver.is_some() && !receivers.iter().any(|r| f.receiver_matches(r)) {
            continue;
        }
        let muted = muting.status(&alert);
        if f.status_shown(&muted) {
            shown.push(Listed {
                alert,
                muted,
                receivers,
            });
        }
    }
    encode::alerts(&muting, &shown)
}

pub(super) async fn groups(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let query = query.unwrap_or_default();
    let filter = AlertFilter::parse(Some(&query))?;
    let answer = app.groups_cache.get_or_list(&app, &query, |muting, reuse| {
        list_groups(muting, &filter, Planning::ByGroup, Some(reuse))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::new(answer.body()),
    )
        .into_response())
}

/// An encoded groups answer and how long it stays right by the clock alone, as far as the
/// alerts go (the silences' own schedule is the cache's to add).
pub(super) struct GroupsAnswer {
    pub body: Chunks,
    /// The earliest instant at which a shown alert resolves or an inhibiting alert stops
    /// firing (`None`: never).
    pub valid_until: Option<Timestamp>,
    /// How many groups were copied from earlier answers.
    pub reused: usize,
    /// How many groups' stale encodings had only their alerts' times rewritten.
    pub patched: usize,
}

/// What a request's groups answer is computed under besides the groups' alerts, read before
/// the data (see [`crate::generation`]): a group's [`Fragment`] computed under the same is
/// reused as long as the clock stays in its span.
#[derive(Debug, Clone)]
pub(super) struct Reuse {
    pub query: Arc<str>,
    pub silences: u64,
    pub alerts: u64,
    /// When a silence starts or ends next.
    pub silences_until: Option<Timestamp>,
}

impl Reuse {
    fn admits(&self, f: &Fragment, now: Timestamp) -> bool {
        *f.query == *self.query
            && f.silences == self.silences
            && f.alerts.is_none_or(|a| a == self.alerts)
            && f.at <= now
            && f.until.is_none_or(|until| now < until)
    }
}
