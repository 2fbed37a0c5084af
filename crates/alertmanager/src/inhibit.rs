//! Inhibition: a firing alert matching a rule's source matchers mutes the alerts matching its
//! target matchers that agree with it on the rule's `equal` labels.
//!
//! Rather than scanning every source alert for every target (upstream's cost grows with their
//! product), an [`InhibitIndex`] groups the firing sources by their `equal` values once; each
//! target is then a hash lookup per rule. Whether any rule can mute an alert at all is known
//! from its labels alone ([`Inhibitor::may_mute`]), so a listing whose alerts no rule targets
//! never builds the index.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;

use crate::alert::{Alert, Fingerprint, LabelSet};
use crate::clock::earliest;
use crate::config::InhibitRuleConfig;
use crate::dispatch::combined_matchers;
use crate::labels::Matchers;

#[derive(Debug, Clone)]
struct Rule {
    source: Matchers,
    target: Matchers,
    equal: Vec<String>,
}

impl Rule {
    fn key(&self, labels: &LabelSet) -> Vec<String> {
        self.equal
            .iter()
            .map(|n| labels.get(n).cloned().unwrap_or_default())
            .collect()
    }
}

/// The configured rules.
#[derive(Debug, Clone, Default)]
pub struct Inhibitor {
    rules: Arc<[Rule]>,
}

fn getter<'a>(labels: &'a LabelSet) -> impl Fn(&str) -> Option<&'a str> + 'a {
    move |n| labels.get(n).map(String::as_str)
}

impl Inhibitor {
    pub fn new(rules: &[InhibitRuleConfig]) -> Self {
        let rules = rules
            .iter()
            .map(|r| Rule {
                source: combined_matchers(
                    r.source_match.as_ref(),
                    r.source_match_re.as_ref(),
                    &r.source_matchers,
                ),
                target: combined_matchers(
                    r.target_match.as_ref(),
                    r.target_match_re.as_ref(),
                    &r.target_matchers,
                ),
                equal: r.equal.clone(),
            })
            .collect();
        Inhibitor { rules }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether some rule targets an alert with these labels (only then can it be inhibited).
    pub fn may_mute(&self, labels: &LabelSet) -> bool {
        let get = getter(labels);
        self.rules.iter().any(|r| r.target.matches(&get))
    }

    /// An index without sources yet, for the alerts firing at `now`: feed it with
    /// [`InhibitIndex::add`].
    pub fn empty_index(&self, now: Timestamp) -> InhibitIndex {
        InhibitIndex {
            rules: Arc::clone(&self.rules),
            per_rule: vec![HashMap::new(); self.rules.len()],
            now,
            next_change: None,
        }
    }
}

/// The firing sources sharing one set of `equal` values. The lowest fingerprint is reported,
/// so the answer does not depend on iteration order.
#[derive(Debug, Clone, Copy, Default)]
struct Sources {
    any: Option<Fingerprint>,
    /// Sources that do not match the rule's target side themselves.
    source_only: Option<Fingerprint>,
}

impl Sources {
    fn add(&mut self, fp: Fingerprint, also_target: bool) {
        let lowest = |slot: &mut Option<Fingerprint>| {
            *slot = Some(slot.map_or(fp, |old| old.min(fp)));
        };
        lowest(&mut self.any);
        if !also_target {
            lowest(&mut self.source_only);
        }
    }
}

/// The sources firing at one instant, ready to answer which alert mutes a label set.
#[derive(Debug)]
pub struct InhibitIndex {
    rules: Arc<[Rule]>,
    per_rule: Vec<HashMap<Vec<String>, Sources>>,
    now: Timestamp,
    /// When the first of the sources stops firing.
    next_change: Option<Timestamp>,
}

impl InhibitIndex {
    /// Takes an alert as a source of every rule whose source side it matches, if it fires.
    pub fn add(&mut self, alert: &Alert) {
        if alert.resolved_at(self.now) {
            return;
        }
        let get = getter(&alert.labels);
        for (rule, index) in self.rules.iter().zip(&mut self.per_rule) {
            if !rule.source.matches(&get) {
                continue;
            }
            self.next_change = earliest([self.next_change, Some(alert.ends_at)]);
            let also_target = rule.target.matches(&get);
            let entry: &mut Sources = index.entry(rule.key(&alert.labels)).or_default();
            entry.add(alert.fingerprint, also_target);
        }
    }

    /// The earliest instant after the index's at which one of its sources stops firing: until
    /// then (and while no alert is stored or changed) it answers as it does now.
    pub fn next_change(&self) -> Option<Timestamp> {
        self.next_change
    }

    /// The alert inhibiting one with these labels, if any: by the first rule that mutes it.
    /// An alert matching both sides of a rule is muted only by sources that match just the
    /// source side, so two such alerts cannot mute each other.
    pub fn inhibited_by(&self, labels: &LabelSet) -> Option<Fingerprint> {
        let get = getter(labels);
        self.rules
            .iter()
            .zip(&self.per_rule)
            .find_map(|(rule, index)| {
                if !rule.target.matches(&get) {
                    return None;
                }
                let sources = index.get(&rule.key(labels))?;
                if rule.source.matches(&get) {
                    sources.source_only
                } else {
                    sources.any
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::alert::{Arrival, PostedAlert};
    use crate::config::Config;

    fn alert(pairs: &[(&str, &str)], now: Timestamp) -> Arc<Alert> {
        let labels = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Arc::new(
            PostedAlert {
                labels,
                ..Default::default()
            }
            .into_alert(&Arrival::new(now, SignedDuration::from_mins(5)))
            .unwrap(),
        )
    }

    #[test]
    fn equal_labels_and_two_sided_matches() {
        let cfg = Config::load(
            "route: {receiver: r}\nreceivers: [{name: r}]\ninhibit_rules:\n\
             - source_matchers: [severity=critical]\n  target_matchers: ['severity=~\"warning|critical\"']\n  equal: [cluster]\n",
            "x.yml",
        )
        .unwrap();
        let inhibitor = Inhibitor::new(&cfg.inhibit_rules);
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let crit_a = alert(&[("severity", "critical"), ("cluster", "a")], now);
        let warn_a = alert(&[("severity", "warning"), ("cluster", "a")], now);
        let warn_b = alert(&[("severity", "warning"), ("cluster", "b")], now);
        let all = [crit_a.clone(), warn_a.clone(), warn_b.clone()];
        let index_at = |now| {
            let mut index = inhibitor.empty_index(now);
            all.iter().for_each(|a| index.add(a));
            index
        };
        let index = index_at(now);
        assert_eq!(index.inhibited_by(&warn_a.labels), Some(crit_a.fingerprint));
        assert_eq!(index.inhibited_by(&warn_b.labels), None);
        // The critical alert matches both sides; it does not mute itself.
        assert_eq!(index.inhibited_by(&crit_a.labels), None);
        // A resolved source mutes nothing.
        let later = now + SignedDuration::from_mins(10);
        assert_eq!(index_at(later).inhibited_by(&warn_a.labels), None);
        // Only alerts some rule targets can be muted at all.
        assert!(inhibitor.may_mute(&warn_b.labels));
        assert!(!inhibitor.may_mute(&alert(&[("severity", "info")], now).labels));
    }
}
