//! One aggregation group: the alerts of one route that share the route's `group_by` labels,
//! and the state of its notification timer.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use jiff::Timestamp;

use super::RouteOpts;
use super::fragment::Fragment;
use crate::alert::{Alert, Fingerprint, LabelSet};
use crate::api::model::TimeTexts;

/// What identifies a group: the route node and the grouping labels.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupId {
    pub route: usize,
    pub labels: LabelSet,
}

/// Hashed as [`GroupLookup`] hashes the same group, so that an alert's group is found without
/// building its id.
impl Hash for GroupId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_group(self.route, self.labels.iter(), state);
    }
}

/// Feeds a group's route and labels to `state`. Each name and value is followed by 0xff, a
/// byte UTF-8 never contains, so different label sets never feed the same bytes.
fn hash_group<'a, H: Hasher>(
    route: usize,
    labels: impl Iterator<Item = (&'a String, &'a String)>,
    state: &mut H,
) {
    state.write_usize(route);
    for (name, value) in labels {
        state.write(name.as_bytes());
        state.write_u8(0xff);
        state.write(value.as_bytes());
        state.write_u8(0xff);
    }
}

/// The group of `route` an alert with `labels` belongs in, as a key that borrows the alert's
/// labels: it hashes and compares like the [`GroupId`] it stands for, so the dispatcher looks
/// up an existing group without copying the grouping labels (and builds the id only for a
/// new group).
#[derive(Clone, Copy, Debug)]
pub(super) struct GroupLookup<'a> {
    route: usize,
    labels: &'a LabelSet,
    opts: &'a RouteOpts,
    /// Bit `i` says whether the alert's `i`-th label groups, for its first 64 labels:
    /// decided once, where hashing, comparing and the shard choice each walk the labels.
    grouping: u64,
}

impl<'a> GroupLookup<'a> {
    pub fn new(route: usize, labels: &'a LabelSet, opts: &'a RouteOpts) -> Self {
        let mut grouping = 0;
        for (i, (name, _)) in labels.iter().take(64).enumerate() {
            if groups_by(opts, name) {
                grouping |= 1 << i;
            }
        }
        GroupLookup {
            route,
            labels,
            opts,
            grouping,
        }
    }

    /// The grouping labels: those the route groups by that the alert has (all of them for
    /// `group_by: ['...']`).
    fn grouping(&self) -> impl Iterator<Item = (&'a String, &'a String)> + use<'a> {
        let (opts, grouping) = (self.opts, self.grouping);
        self.labels
            .iter()
            .enumerate()
            .filter(move |(i, (name, _))| {
                if *i < 64 {
                    grouping >> i & 1 == 1
                } else {
                    groups_by(opts, name)
                }
            })
            .map(|(_, label)| label)
    }

    pub fn to_id(self) -> GroupId {
        GroupId {
            route: self.route,
            labels: self
                .grouping()
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect(),
        }
    }
}

fn groups_by(opts: &RouteOpts, name: &str) -> bool {
    opts.group_by_all || opts.group_by.contains(name)
}

impl Hash for GroupLookup<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_group(self.route, self.grouping(), state);
    }
}

impl hashbrown::Equivalent<Arc<GroupId>> for GroupLookup<'_> {
    fn equivalent(&self, key: &Arc<GroupId>) -> bool {
        key.route == self.route && key.labels.iter().eq(self.grouping())
    }
}

/// Upstream's group key, `<route key>:<labels>`, with the labels printed as a Go
/// `model.LabelSet` (`{a="1", b="2"}`). The notification log is keyed by it, so it must be
/// byte-identical to upstream's for a data directory to move between the two.
pub fn group_key(route_key: &str, labels: &LabelSet) -> String {
    let mut out = format!("{route_key}:{{");
    for (i, (name, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{name}={}", pm_gotmpl::fmt::quote(value));
    }
    out.push('}');
    out
}

#[derive(Debug)]
pub(super) struct Group {
    pub key: Arc<str>,
    /// Its route (as in its [`GroupId`], which a walk over the groups need not read then).
    pub route: usize,
    pub alerts: HashMap<Fingerprint, Arc<Alert>>,
    /// When the timer fires next; a timer-heap entry for any other time is stale.
    pub next_flush: Timestamp,
    pub has_flushed: bool,
    /// A flush is being notified; the group is not flushed again until it finishes.
    pub in_flight: bool,
    /// The timer fired while a flush was in flight: flush again as soon as it finishes.
    pub flush_pending: bool,
    /// For each label name a listing filtered on (a few at most), the hashes of the alerts'
    /// values of it, sorted: lets a listing filtered on a label the route does not group by
    /// skip the groups without that value. Built on a listing's first need (reading that one
    /// label of each alert, as the filter would), forgotten by every insert; removing alerts
    /// leaves a superset, which is all it promises.
    label_values: Vec<(Box<str>, Box<[u64]>)>,
    /// The alerts' fingerprints in upstream's order (by `job`, `instance`, then labels),
    /// computed on first need and kept while no alert comes, goes or changes its labels:
    /// the order depends on labels alone, and sorting every group's alerts again reads
    /// 100,000 label sets for each listing and flush.
    sorted: Option<Box<[Fingerprint]>>,
    /// Changes with every change to the alerts; unique among the dispatcher's groups, so a
    /// group that went and came back never matches an older one's.
    pub version: u64,
    /// The groups listing's last encoding of this group; any change to the alerts drops it
    /// into `replaced`.
    pub fragment: Option<Fragment>,
    /// The encoding the last change to the alerts made stale, until a listing takes it
    /// ([`super::GroupAlerts::take_replaced`]) to patch its times or encode the group anew
    /// into its buffer: after a re-send of every alert, freeing all of them first let glibc
    /// hand the memory back to the kernel, and the next answer page-faulted ~40 MB in again.
    pub replaced: Option<Fragment>,
    /// [`super::GroupAlerts::order_key`], once computed.
    pub order_key: Option<Arc<[u8]>>,
    /// [`super::GroupAlerts::tail`], once computed.
    pub tail: Option<Arc<[u8]>>,
}

/// Label names [`Group::label_values`] keeps; asking about another one starts afresh.
const SUMMARIZED_NAMES: usize = 4;

fn value_hash(value: &str) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(value.as_bytes());
    h.finish()
}

impl Group {
    pub fn new(key: String, route: usize, next_flush: Timestamp) -> Self {
        Group {
            key: key.into(),
            route,
            alerts: HashMap::new(),
            next_flush,
            has_flushed: false,
            in_flight: false,
            flush_pending: false,
            label_values: Vec::new(),
            sorted: None,
            version: 0,
            fragment: None,
            replaced: None,
            order_key: None,
            tail: None,
        }
    }

    /// Records a change to the alerts (`version` from the dispatcher's sequence).
    pub fn changed(&mut self, version: u64) {
        self.version = version;
        if let Some(stale) = self.fragment.take() {
            self.replaced = Some(stale);
        }
    }

    /// Records that [`Self::insert`] replaced `old` by `new` at `now`: the kept fragment
    /// stays if it could be kept right by rewriting the alert's times in it.
    pub fn alert_replaced(
        &mut self,
        version: u64,
        old: &Alert,
        new: &Alert,
        now: Timestamp,
        texts: &mut TimeTexts,
    ) {
        let kept = self
            .fragment
            .as_mut()
            .is_some_and(|f| f.rewrite(old, new, now, texts));
        if kept {
            self.version = version;
        } else {
            self.changed(version);
        }
    }

    /// The alerts in upstream's order.
    pub fn sorted(&mut self) -> impl ExactSizeIterator<Item = &Arc<Alert>> {
        let alerts = &self.alerts;
        let sorted = self.sorted.get_or_insert_with(|| {
            let mut order: Vec<&Arc<Alert>> = alerts.values().collect();
            crate::api::model::sort_alerts_by(&mut order, |a| a);
            order.iter().map(|a| a.fingerprint).collect()
        });
        sorted.iter().map(|fp| &alerts[fp])
    }

    /// Whether some alert may have the label `name` with `value`; `false` means none has.
    pub fn may_have_label(&mut self, name: &str, value: &str) -> bool {
        let known = self.label_values.iter().position(|(n, _)| &**n == name);
        let i = known.unwrap_or_else(|| {
            if self.label_values.len() == SUMMARIZED_NAMES {
                self.label_values.clear();
            }
            let mut hashes: Vec<u64> = self
                .alerts
                .values()
                .filter_map(|a| a.labels.get(name))
                .map(|v| value_hash(v))
                .collect();
            hashes.sort_unstable();
            hashes.dedup();
            self.label_values.push((name.into(), hashes.into()));
            self.label_values.len() - 1
        });
        self.label_values[i]
            .1
            .binary_search(&value_hash(value))
            .is_ok()
    }

    /// Keeps the newer of the stored and the incoming version of an alert (a reload replays
    /// the store while new posts already arrive); returns the version it replaced, if any.
    pub fn insert(&mut self, alert: Arc<Alert>) -> Option<Arc<Alert>> {
        match self.alerts.entry(alert.fingerprint) {
            Entry::Occupied(entry) if entry.get().updated_at > alert.updated_at => None,
            Entry::Occupied(mut entry) => {
                if self.sorted.is_some() && !entry.get().same_labels(&alert) {
                    self.sorted = None;
                }
                self.label_values.clear();
                Some(entry.insert(alert))
            }
            Entry::Vacant(entry) => {
                self.sorted = None;
                entry.insert(alert);
                self.label_values.clear();
                None
            }
        }
    }

    /// After a successful notification, forgets the resolved alerts that were sent, unless they
    /// changed since (upstream's `DeleteIfNotModified`). Returns whether any went.
    pub fn drop_sent_resolved(&mut self, sent: &[Arc<Alert>], at: Timestamp) -> bool {
        let before = self.alerts.len();
        for alert in sent.iter().filter(|a| a.resolved_at(at)) {
            if let Some(current) = self.alerts.get(&alert.fingerprint)
                && current.updated_at == alert.updated_at
                && current.resolved_at(at)
            {
                self.alerts.remove(&alert.fingerprint);
            }
        }
        let dropped = self.alerts.len() < before;
        if dropped {
            self.sorted = None;
        }
        dropped
    }
}

/// One group's turn to notify: a copy of its alerts at the time the timer fired.
#[derive(Clone, Debug)]
pub struct Flush {
    pub id: Arc<GroupId>,
    pub key: Arc<str>,
    /// When the timer fired: alerts are firing or resolved as of this instant.
    pub at: Timestamp,
    /// In upstream's notification order (by `job`, `instance`, then labels).
    pub alerts: Vec<Arc<Alert>>,
}

impl Flush {
    pub fn firing(&self) -> impl Iterator<Item = &Arc<Alert>> {
        self.alerts.iter().filter(|a| !a.resolved_at(self.at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_key_prints_labels_like_go() {
        let labels = LabelSet::from([
            ("b".to_owned(), "x\"y".to_owned()),
            ("a".to_owned(), "1".to_owned()),
        ]);
        assert_eq!(
            group_key("{}/{team=\"db\"}", &labels),
            r#"{}/{team="db"}:{a="1", b="x\"y"}"#
        );
        assert_eq!(group_key("{}", &LabelSet::new()), "{}:{}");
    }
}
