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
use jiff::Timestamp;

use super::encode::{self, Listed, ListedGroup};
use super::{ApiError, Params, filter_matches, json_body, matches_filter, model};
use crate::alert::{Alert, Fingerprint, LabelSet};
use crate::daemon::{App, Muted, Muting};
use crate::dispatch::{GroupAlerts, GroupId, RouteOpts};
use crate::labels::{MatchType, Matcher};

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
    Ok(json_body(app.groups_cache.get_or_list(
        &app,
        &query,
        |muting| list_groups(muting, &filter, Planning::ByGroup),
    )))
}

/// An encoded groups answer and how long it stays right by the clock alone, as far as the
/// alerts go (the silences' own schedule is the cache's to add).
pub(super) struct GroupsAnswer {
    pub body: Vec<u8>,
    /// The earliest instant at which a shown alert resolves or an inhibiting alert stops
    /// firing (`None`: never).
    pub valid_until: Option<Timestamp>,
}

/// How the groups listing applies the label filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Planning {
    /// Matchers on a route's grouping labels are decided once per group (every alert of a
    /// group has the group's value there), and a filter that pins every grouping label of a
    /// route with `=` looks that route's one candidate group up instead of walking them all.
    ByGroup,
    /// Every matcher against every alert of every group, each group's alerts sorted afresh
    /// and every field serialized: the plain way the planned one must agree with.
    #[cfg(test)]
    PerAlert,
}

/// The label filter as it applies to one route's groups.
struct RoutePlan<'f> {
    /// The route's receiver passes the receiver filter.
    shown: bool,
    per_group: Vec<&'f Matcher>,
    per_alert: Vec<&'f Matcher>,
    /// The `per_alert` matchers some alert of a group must have as a label pair (`=` with a
    /// value): a group none of whose alerts has one of them is skipped unread.
    required: Vec<(&'f str, &'f str)>,
    /// The only group of this route that can pass `per_group`, when the filter names it.
    only: Option<GroupId>,
}

impl<'f> RoutePlan<'f> {
    fn new(
        route: usize,
        opts: &RouteOpts,
        f: &'f AlertFilter,
        shown: bool,
        planning: Planning,
    ) -> Self {
        let (per_group, per_alert): (Vec<&Matcher>, Vec<&Matcher>) = match planning {
            Planning::ByGroup => f
                .filter
                .iter()
                .partition(|m| opts.group_by_all || opts.group_by.contains(m.name())),
            #[cfg(test)]
            Planning::PerAlert => (Vec::new(), f.filter.iter().collect()),
        };
        // Stored label values are never empty, so `name=""` pins the label as absent.
        let pinned = |name: &str| {
            per_group
                .iter()
                .find(|m| m.name() == name && m.match_type() == MatchType::Equal)
                .map(|m| m.value())
        };
        let only = match planning {
            Planning::ByGroup if !opts.group_by_all => {
                let mut labels = LabelSet::new();
                opts.group_by
                    .iter()
                    .try_for_each(|name| {
                        let value = pinned(name)?;
                        if !value.is_empty() {
                            labels.insert(name.clone(), value.to_owned());
                        }
                        Some(())
                    })
                    .map(|()| GroupId { route, labels })
            }
            _ => None,
        };
        let required = match planning {
            Planning::ByGroup => per_alert
                .iter()
                .filter(|m| m.match_type() == MatchType::Equal && !m.value().is_empty())
                .map(|m| (m.name(), m.value()))
                .collect(),
            #[cfg(test)]
            Planning::PerAlert => Vec::new(),
        };
        RoutePlan {
            shown,
            per_group,
            per_alert,
            required,
            only,
        }
    }

    fn group_shown(&self, id: &GroupId) -> bool {
        self.shown
            && self
                .per_group
                .iter()
                .all(|m| filter_matches(m, id.labels.get(m.name()).map(String::as_str)))
    }

    /// Whether some alert of the group may pass the label filter.
    fn may_show(&self, alerts: &mut GroupAlerts<'_>) -> bool {
        self.required
            .iter()
            .all(|(name, value)| alerts.may_have_label(name, value))
    }

    fn alert_shown(&self, alert: &Alert) -> bool {
        self.per_alert
            .iter()
            .all(|m| filter_matches(m, alert.labels.get(m.name()).map(String::as_str)))
    }
}

/// The dispatcher's groups with their shown alerts, ordered by group labels then receiver,
/// each group's alerts in upstream's order (kept by the group while its alerts keep their
/// labels); each alert lists the receivers of every shown group it is in, sorted.
pub(super) fn list_groups(
    muting: &Muting<'_>,
    f: &AlertFilter,
    planning: Planning,
) -> GroupsAnswer {
    let runtime = Arc::clone(&muting.runtime);
    let tree = &runtime.tree;
    // Per route: its receiver, as the one-element list of an alert only that route holds.
    let route_receivers: Vec<[&str; 1]> = (0..tree.len())
        .map(|id| [tree.node(id).opts.receiver.as_str()])
        .collect();
    let plans: Vec<RoutePlan<'_>> = route_receivers
        .iter()
        .enumerate()
        .map(|(route, [r])| {
            let opts = &tree.node(route).opts;
            RoutePlan::new(route, opts, f, f.receiver_matches(r), planning)
        })
        .collect();
    let mut walked: Vec<(Arc<GroupId>, Vec<Arc<Alert>>)> = Vec::new();
    // The earliest end of a picked alert: the answer changes when it resolves.
    let mut first_end: Option<Timestamp> = None;
    let mut visit = |id: &Arc<GroupId>, mut alerts: GroupAlerts<'_>| {
        let plan = &plans[id.route];
        if !plan.group_shown(id) || !plan.may_show(&mut alerts) {
            return;
        }
        let pick = |a: &&Arc<Alert>| !a.resolved_at(muting.now) && plan.alert_shown(a);
        let picked: Vec<Arc<Alert>> = match planning {
            Planning::ByGroup => alerts.sorted().filter(pick).cloned().collect(),
            #[cfg(test)]
            Planning::PerAlert => alerts.iter().filter(pick).cloned().collect(),
        };
        if let Some(end) = picked.iter().map(|a| a.ends_at).min() {
            first_end = Some(first_end.map_or(end, |t| t.min(end)));
        }
        if !picked.is_empty() {
            walked.push((Arc::clone(id), picked));
        }
    };
    let dispatcher = &runtime.dispatcher;
    if plans.iter().all(|p| !p.shown || p.only.is_some()) {
        for id in plans
            .iter()
            .filter(|p| p.shown)
            .filter_map(|p| p.only.as_ref())
        {
            dispatcher.with_group(id, &mut visit);
        }
    } else {
        dispatcher.for_each_group(visit);
    }
    // No lock is held from here on.
    let mut gathered: HashMap<Fingerprint, Vec<&str>> = HashMap::new();
    let mut shown: Vec<ListedGroup<'_>> = walked
        .into_iter()
        .filter_map(|(id, alerts)| {
            let receivers = &route_receivers[id.route];
            let alerts: Vec<Listed<'_>> = alerts
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
    let body = match planning {
        Planning::ByGroup => encode::groups(muting, &shown),
        #[cfg(test)]
        Planning::PerAlert => encode::groups_plain(muting, &mut shown),
    };
    // Statuses were all computed by now, so the inhibition index (if needed) is built.
    let valid_until = first_end
        .into_iter()
        .chain(muting.inhibition_next_change())
        .min();
    GroupsAnswer { body, valid_until }
}
