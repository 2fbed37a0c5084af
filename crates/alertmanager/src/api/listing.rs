//! `GET /api/v2/alerts` and `GET /api/v2/alerts/groups`.
//!
//! Both walk the live state (the store's or the dispatcher's shards, one lock at a time) and
//! keep, under each lock, only references to the alerts the label and receiver filters let
//! through. Statuses (silences, inhibition) are computed afterwards for those alerts alone,
//! and the answer is written straight into the response buffer.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::encode::{self, Listed, ListedGroup};
use super::{ApiError, Params, json_body, matches_filter, model};
use crate::alert::{Alert, Fingerprint, LabelSet};
use crate::daemon::{App, Muted};
use crate::dispatch::GroupId;

/// The filters both listings take.
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
    let filter = AlertFilter::parse(query.as_deref())?;
    Ok(json_body(list_groups(&app, &filter)))
}

/// The dispatcher's groups with their shown alerts, ordered by group labels then receiver;
/// each alert lists the receivers of every shown group it is in, sorted.
fn list_groups(app: &App, f: &AlertFilter) -> Vec<u8> {
    let muting = app.muting();
    let runtime = Arc::clone(&muting.runtime);
    let tree = &runtime.tree;
    // Per route: its receiver, as the one-element list of an alert only that route holds.
    let route_receivers: Vec<[&str; 1]> = (0..tree.len())
        .map(|id| [tree.node(id).opts.receiver.as_str()])
        .collect();
    let route_shown: Vec<bool> = route_receivers
        .iter()
        .map(|[r]| f.receiver_matches(r))
        .collect();
    let mut walked: Vec<(Arc<GroupId>, Vec<Arc<Alert>>)> = Vec::new();
    runtime.dispatcher.for_each_group(|id, alerts| {
        if !route_shown[id.route] {
            return;
        }
        let picked: Vec<Arc<Alert>> = alerts
            .iter()
            .filter(|a| !a.resolved_at(muting.now) && f.labels_match(&a.labels))
            .cloned()
            .collect();
        if !picked.is_empty() {
            walked.push((Arc::clone(id), picked));
        }
    });
    // No lock is held from here on.
    let mut gathered: HashMap<Fingerprint, Vec<&str>> = HashMap::new();
    let mut shown: Vec<ListedGroup<'_>> = walked
        .into_iter()
        .filter_map(|(id, alerts)| {
            let receivers = &route_receivers[id.route];
            let mut alerts: Vec<Listed<'_>> = alerts
                .into_iter()
                .filter_map(|alert| {
                    let muted = muting.status(&alert);
                    f.status_shown(&muted).then_some(Listed {
                        alert,
                        muted,
                        receivers,
                    })
                })
                .collect();
            alerts.sort_by(|a, b| model::alert_order(&a.alert, &b.alert));
            (!alerts.is_empty()).then_some(ListedGroup {
                receiver: receivers[0],
                id,
                alerts,
            })
        })
        .collect();
    shown.sort_unstable_by(|a, b| {
        model::label_set_order(&a.id.labels, &b.id.labels).then_with(|| a.receiver.cmp(b.receiver))
    });
    // Without `continue` routes every alert is in one group only, and its receivers are that
    // group's; otherwise gather them over the shown groups.
    if tree.fans_out() {
        for group in &shown {
            for listed in &group.alerts {
                gathered
                    .entry(listed.alert.fingerprint)
                    .or_default()
                    .push(group.receiver);
            }
        }
        for r in gathered.values_mut() {
            r.sort_unstable();
        }
        for listed in shown.iter_mut().flat_map(|g| &mut g.alerts) {
            listed.receivers = &gathered[&listed.alert.fingerprint];
        }
    }
    encode::groups(&muting, &shown)
}
