//! `GET /api/v2/alerts` and `GET /api/v2/alerts/groups`.
//!
//! Both walk the live state (the store's or the dispatcher's shards, one lock at a time) and
//! keep, under each lock, only references to the alerts the label and receiver filters let
//! through. Statuses (silences, inhibition) are computed afterwards for those alerts alone,
//! and the answer is written straight into the response buffer.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use super::chunks::Chunks;
use super::encode::{self, Listed, ListedGroup};
use super::{ApiError, Params, filter_matches, json_body, matches_filter, model};
use crate::alert::{Alert, Fingerprint, LabelSet};
use crate::daemon::{App, Muted, Muting};
use crate::dispatch::{Fragment, GroupAlerts, GroupId, RouteOpts};
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

/// A shown group as the walk found it: its alerts, or a kept encoding of them.
enum Walked {
    Alerts {
        version: u64,
        alerts: Vec<Arc<Alert>>,
    },
    Kept(Fragment),
}

/// A shown group between the walk and the writing.
enum Shown<'a> {
    Listed {
        group: ListedGroup<'a>,
        version: u64,
        /// The earliest end of its shown alerts.
        first_end: Option<Timestamp>,
        /// Inhibition could mute one of its alerts (so any stored alert may change it).
        inhibitable: bool,
    },
    Kept {
        id: Arc<GroupId>,
        receiver: &'a str,
        fragment: Fragment,
    },
}

impl<'a> Shown<'a> {
    fn key(&self) -> (&GroupId, &'a str) {
        match self {
            Shown::Listed { group, .. } => (&group.id, group.receiver),
            Shown::Kept { id, receiver, .. } => (id, receiver),
        }
    }
}

/// The dispatcher's groups with their shown alerts, ordered by group labels then receiver,
/// each group's alerts in upstream's order (kept by the group while its alerts keep their
/// labels); each alert lists the receivers of every shown group it is in, sorted.
///
/// With `reuse`, a group whose alerts did not change since an earlier answer computed under
/// the same [`Reuse`] is copied from that answer, and every group encoded is kept for later
/// ones; unless `continue` routes make an alert's receivers depend on other groups.
pub(super) fn list_groups(
    muting: &Muting<'_>,
    f: &AlertFilter,
    planning: Planning,
    reuse: Option<&Reuse>,
) -> GroupsAnswer {
    let runtime = Arc::clone(&muting.runtime);
    let tree = &runtime.tree;
    let reuse = reuse.filter(|_| !tree.fans_out());
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
    let mut walked: Vec<(Arc<GroupId>, Walked)> = Vec::new();
    let mut visit = |id: &Arc<GroupId>, mut alerts: GroupAlerts<'_>| {
        let plan = &plans[id.route];
        if !plan.group_shown(id) || !plan.may_show(&mut alerts) {
            return;
        }
        if let Some(reuse) = reuse
            && let Some(kept) = alerts.fragment()
            && reuse.admits(kept, muting.now)
        {
            walked.push((Arc::clone(id), Walked::Kept(kept.clone())));
            return;
        }
        let pick = |a: &&Arc<Alert>| !a.resolved_at(muting.now) && plan.alert_shown(a);
        let picked: Vec<Arc<Alert>> = match planning {
            Planning::ByGroup => alerts.sorted().filter(pick).cloned().collect(),
            #[cfg(test)]
            Planning::PerAlert => alerts.iter().filter(pick).cloned().collect(),
        };
        if !picked.is_empty() {
            let version = alerts.version();
            walked.push((
                Arc::clone(id),
                Walked::Alerts {
                    version,
                    alerts: picked,
                },
            ));
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
    let inhibitor = &runtime.inhibitor;
    let mut shown: Vec<Shown<'_>> = walked
        .into_iter()
        .map(|(id, walked)| {
            let receivers = &route_receivers[id.route];
            let (version, alerts) = match walked {
                Walked::Kept(fragment) => {
                    return Shown::Kept {
                        id,
                        receiver: receivers[0],
                        fragment,
                    };
                }
                Walked::Alerts { version, alerts } => (version, alerts),
            };
            let first_end = alerts.iter().map(|a| a.ends_at).min();
            let inhibitable =
                reuse.is_some() && alerts.iter().any(|a| inhibitor.may_mute(&a.labels));
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
            Shown::Listed {
                group: ListedGroup {
                    receiver: receivers[0],
                    id,
                    alerts,
                },
                version,
                first_end,
                inhibitable,
            }
        })
        .collect();
    shown.sort_by_cached_key(|s| {
        let (id, receiver) = s.key();
        (model::label_set_key(&id.labels), receiver)
    });
    // Without `continue` routes every alert is in one group only, and its receivers are that
    // group's; otherwise gather them over the shown groups.
    let mut gathered: HashMap<Fingerprint, Vec<&str>> = HashMap::new();
    if tree.fans_out() {
        let listed = || {
            shown.iter().filter_map(|s| match s {
                Shown::Listed { group, .. } => Some(group),
                Shown::Kept { .. } => None,
            })
        };
        for group in listed() {
            for l in &group.alerts {
                gathered
                    .entry(l.alert.fingerprint)
                    .or_default()
                    .push(group.receiver);
            }
        }
        for r in gathered.values_mut() {
            r.sort_unstable();
        }
        for s in &mut shown {
            if let Shown::Listed { group, .. } = s {
                for l in &mut group.alerts {
                    l.receivers = &gathered[&l.alert.fingerprint];
                }
            }
        }
    }
    #[cfg(test)]
    if planning == Planning::PerAlert {
        let mut ends = Vec::new();
        let mut groups: Vec<ListedGroup<'_>> = shown
            .into_iter()
            .filter_map(|s| match s {
                Shown::Listed {
                    group, first_end, ..
                } => {
                    ends.extend(first_end);
                    (!group.alerts.is_empty()).then_some(group)
                }
                Shown::Kept { .. } => unreachable!("the plain walk keeps nothing"),
            })
            .collect();
        let body = Chunks::new(vec![encode::groups_plain(muting, &mut groups).into()]);
        let valid_until = ends
            .into_iter()
            .chain(muting.inhibition_next_change())
            .min();
        return GroupsAnswer {
            body,
            valid_until,
            reused: 0,
        };
    }
    let mut out = encode::GroupsWriter::new(shown.len());
    let mut reused = 0;
    let mut encoded = Vec::new();
    // The earliest instant the answer may change by the clock (the silences' own schedule
    // is the caller's to add).
    let mut valid_until: Option<Timestamp> = None;
    let mut until = |t: Option<Timestamp>| {
        if let Some(t) = t {
            valid_until = Some(valid_until.map_or(t, |v| v.min(t)));
        }
    };
    for s in &shown {
        match s {
            Shown::Kept { fragment, .. } => {
                // Empty: all its alerts hidden by the status flags.
                if !fragment.body.is_empty() {
                    out.copy(&fragment.body);
                }
                until(fragment.until);
                reused += 1;
            }
            Shown::Listed {
                group,
                version,
                first_end,
                inhibitable,
            } => {
                // A group all of whose alerts the status flags hid is not shown, but kept
                // (empty) all the same: what hid them holds as long as what would show them.
                let part = if group.alerts.is_empty() {
                    Bytes::new()
                } else {
                    out.group(muting, group)
                };
                until(*first_end);
                encoded.push((
                    Arc::clone(&group.id),
                    *version,
                    part,
                    *first_end,
                    *inhibitable,
                ));
            }
        }
    }
    // Statuses were all computed by now, so the inhibition index (if needed) is built.
    let inhibition_until = muting.inhibition_next_change();
    until(inhibition_until);
    if let Some(reuse) = reuse {
        for (id, version, body, first_end, inhibitable) in encoded {
            let fragment = Fragment {
                query: Arc::clone(&reuse.query),
                silences: reuse.silences,
                alerts: inhibitable.then_some(reuse.alerts),
                at: muting.now,
                until: [
                    first_end,
                    reuse.silences_until,
                    inhibition_until.filter(|_| inhibitable),
                ]
                .into_iter()
                .flatten()
                .min(),
                body,
            };
            dispatcher.keep_fragment(&id, version, fragment);
        }
    }
    GroupsAnswer {
        body: out.finish(),
        valid_until,
        reused,
    }
}
