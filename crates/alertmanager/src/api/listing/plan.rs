//! How the groups listing applies a label and receiver filter to each route's groups.

use super::AlertFilter;
use crate::alert::{Alert, LabelSet};
use crate::api::filter_matches;
use crate::dispatch::{GroupAlerts, GroupId, RouteOpts};
use crate::labels::{MatchType, Matcher};

/// How the groups listing applies the label filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::api) enum Planning {
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
pub(super) struct RoutePlan<'f> {
    /// The route's receiver passes the receiver filter.
    pub(super) shown: bool,
    pub(super) per_group: Vec<&'f Matcher>,
    pub(super) per_alert: Vec<&'f Matcher>,
    /// The `per_alert` matchers some alert of a group must have as a label pair (`=` with a
    /// value): a group none of whose alerts has one of them is skipped unread.
    pub(super) required: Vec<(&'f str, &'f str)>,
    /// The only group of this route that can pass `per_group`, when the filter names it.
    pub(super) only: Option<GroupId>,
}

impl<'f> RoutePlan<'f> {
    pub(super) fn new(
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

    pub(super) fn group_shown(&self, id: &GroupId) -> bool {
        self.shown
            && self
                .per_group
                .iter()
                .all(|m| filter_matches(m, id.labels.get(m.name()).map(String::as_str)))
    }

    /// Whether some alert of the group may pass the label filter.
    pub(super) fn may_show(&self, alerts: &mut GroupAlerts<'_>) -> bool {
        self.required
            .iter()
            .all(|(name, value)| alerts.may_have_label(name, value))
    }

    pub(super) fn alert_shown(&self, alert: &Alert) -> bool {
        self.per_alert
            .iter()
            .all(|m| filter_matches(m, alert.labels.get(m.name()).map(String::as_str)))
    }
}
