//! Alerting rules: every series of the expression's result is an alert, pending until it has
//! been active for `for`, then firing; it keeps firing `keep_firing_for` after it vanishes,
//! and a resolved alert is remembered (and re-sent) for [`RESOLVED_RETENTION`].

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use pm_common::model::{Labels, LabelsBuilder};
use pm_promql::engine::{Sample, Vector};
use pm_promql::parser::Expr;

use super::error::RuleError;
use super::rule::StatusCell;
use crate::notifier::{Alert, AlertSink, Annotations};
use crate::template::{self, AlertData, Env};

/// How long a resolved alert is kept (and sent) after it resolved, so that Alertmanager learns
/// of the resolution even if a send fails.
const RESOLVED_RETENTION: Duration = Duration::from_secs(15 * 60);

/// An alert's state, ordered as upstream's (a rule's state is the highest of its alerts').
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertState {
    Unknown,
    Inactive,
    Pending,
    Firing,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Unknown => "unknown",
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert of a rule: pending, firing, or resolved within the retention.
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveAlert {
    pub state: AlertState,
    pub labels: Labels,
    pub annotations: Annotations,
    /// The expression's value at the last evaluation.
    pub value: f64,
    pub active_at: Timestamp,
    pub fired_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub last_sent_at: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    pub keep_firing_since: Option<Timestamp>,
}

impl ActiveAlert {
    fn needs_sending(&self, ts: Timestamp, resend_delay: Duration) -> bool {
        if self.state == AlertState::Pending {
            return false;
        }
        if let Some(resolved) = self.resolved_at
            && self.last_sent_at.is_none_or(|sent| resolved > sent)
        {
            return true;
        }
        match self.last_sent_at {
            None => true,
            Some(sent) => add(sent, resend_delay) < ts,
        }
    }
}

#[derive(Debug)]
pub struct AlertingRule {
    name: String,
    expr: Expr,
    query: String,
    hold: Duration,
    keep_firing_for: Duration,
    labels: Labels,
    annotations: Annotations,
    external_labels: Labels,
    external_url: String,
    /// False until the `for` state was restored after a start; the ALERTS series are only
    /// written once it is, so a restart does not record a spurious pending phase.
    restored: AtomicBool,
    pub(crate) status: StatusCell,
    active: Mutex<BTreeMap<Labels, ActiveAlert>>,
}

/// What defines an alerting rule besides its expression.
#[derive(Clone, Debug, Default)]
pub struct AlertingRuleSpec {
    pub hold: Duration,
    pub keep_firing_for: Duration,
    pub labels: Labels,
    pub annotations: Annotations,
    pub external_labels: Labels,
    pub external_url: String,
    pub restored: bool,
}

impl AlertingRule {
    pub fn new(name: impl Into<String>, expr: Expr, spec: AlertingRuleSpec) -> Self {
        AlertingRule {
            name: name.into(),
            query: expr.to_string(),
            expr,
            hold: spec.hold,
            keep_firing_for: spec.keep_firing_for,
            labels: spec.labels,
            annotations: spec.annotations,
            external_labels: spec.external_labels,
            external_url: spec.external_url,
            restored: AtomicBool::new(spec.restored),
            status: StatusCell::default(),
            active: Mutex::default(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    pub fn query(&self) -> &str {
        &self.query
    }

    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    pub fn annotations(&self) -> &Annotations {
        &self.annotations
    }

    /// `for`.
    pub fn hold_duration(&self) -> Duration {
        self.hold
    }

    pub fn keep_firing_for(&self) -> Duration {
        self.keep_firing_for
    }

    pub fn restored(&self) -> bool {
        self.restored.load(Ordering::Relaxed)
    }

    pub(crate) fn set_restored(&self) {
        self.restored.store(true, Ordering::Relaxed);
    }

    pub(crate) fn definition(&self) -> String {
        format!(
            "alert: {}\nexpr: {}\nfor: {:?}\nkeep_firing_for: {:?}\nlabels: {}\nannotations: {}",
            self.name, self.query, self.hold, self.keep_firing_for, self.labels, self.annotations
        )
    }

    pub(crate) fn lock_active(&self) -> MutexGuard<'_, BTreeMap<Labels, ActiveAlert>> {
        self.active.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Carries alert state over from the same rule before a reload.
    pub(crate) fn copy_active_from(&self, other: &AlertingRule) {
        let from = other.lock_active().clone();
        self.lock_active().extend(from);
    }

    /// The rule's state: the highest of its alerts', `Unknown` before the first evaluation.
    pub fn state(&self) -> AlertState {
        if self.status.lock().evaluation_timestamp.is_none() {
            return AlertState::Unknown;
        }
        self.lock_active()
            .values()
            .map(|a| a.state)
            .fold(AlertState::Inactive, AlertState::max)
    }

    /// Pending and firing alerts (resolved ones are kept only for sending).
    pub fn active_alerts(&self) -> Vec<ActiveAlert> {
        self.lock_active()
            .values()
            .filter(|a| a.resolved_at.is_none())
            .cloned()
            .collect()
    }

    /// Turns the query result at `ts` into alerts and advances their states; returns the
    /// ALERTS and ALERTS_FOR_STATE samples to store (stamped `ts - query_offset`).
    pub(crate) fn apply(
        &self,
        result: Vector,
        ts: Timestamp,
        query_offset: Duration,
        limit: usize,
        env: &Env,
    ) -> Result<Vector, RuleError> {
        let ts_ms = ts.as_millisecond();
        let mut current: BTreeMap<Labels, ActiveAlert> = BTreeMap::new();
        for sample in &result {
            let data = AlertData {
                labels: &sample.metric,
                external_labels: &self.external_labels,
                external_url: &self.external_url,
                value: sample.f,
            };
            let expand = |text: &str| template::expand_alert(&self.name, text, &data, ts_ms, env);
            let mut b = sample.metric.builder();
            b.del("__name__");
            for l in &self.labels {
                b.set(l.name, &expand(l.value));
            }
            b.set("alertname", &self.name);
            // Unlike a label, an annotation that expands to "" is kept, as upstream does.
            let annotations =
                Annotations::from_pairs(self.annotations.iter().map(|a| (a.name, expand(a.value))));
            let labels = b.labels();
            let alert = ActiveAlert {
                state: AlertState::Pending,
                labels: labels.clone(),
                annotations,
                value: sample.f,
                active_at: ts,
                fired_at: None,
                resolved_at: None,
                last_sent_at: None,
                valid_until: None,
                keep_firing_since: None,
            };
            if current.insert(labels, alert).is_some() {
                return Err(RuleError::DuplicateAlertLabelSet);
            }
        }

        let mut active = self.lock_active();
        let seen: HashSet<Labels> = current.keys().cloned().collect();
        for (labels, alert) in current {
            match active.get_mut(&labels) {
                Some(old) if old.state != AlertState::Inactive => {
                    old.value = alert.value;
                    old.annotations = alert.annotations;
                }
                _ => {
                    active.insert(labels, alert);
                }
            }
        }

        let stamp = sub(ts, query_offset);
        let restored = self.restored();
        let mut out = Vector::new();
        let mut pending_or_firing = 0;
        let mut delete = Vec::new();
        for (labels, a) in active.iter_mut() {
            if !seen.contains(labels) {
                let mut keep_firing = false;
                if a.state == AlertState::Firing && !self.keep_firing_for.is_zero() {
                    let since = *a.keep_firing_since.get_or_insert(ts);
                    keep_firing = elapsed(since, ts) < self.keep_firing_for;
                }
                if a.state == AlertState::Pending
                    || a.resolved_at
                        .is_some_and(|r| elapsed(r, ts) > RESOLVED_RETENTION)
                {
                    delete.push(labels.clone());
                }
                if a.state != AlertState::Inactive && !keep_firing {
                    a.state = AlertState::Inactive;
                    a.resolved_at = Some(ts);
                }
                if !keep_firing {
                    continue;
                }
            } else {
                a.keep_firing_since = None;
            }
            pending_or_firing += 1;
            if a.state == AlertState::Pending && elapsed(a.active_at, ts) >= self.hold {
                a.state = AlertState::Firing;
                a.fired_at = Some(ts);
            }
            if a.state == AlertState::Firing && elapsed(a.active_at, ts) < self.hold {
                // The `for` state was restored to a later activation than firing allows.
                a.state = AlertState::Pending;
                a.fired_at = None;
                a.last_sent_at = None;
                a.keep_firing_since = None;
            }
            if restored {
                out.push(self.series_sample(a, "ALERTS", Some(a.state), stamp, 1.0));
                let active_at = a.active_at.as_second() as f64;
                out.push(self.series_sample(a, "ALERTS_FOR_STATE", None, stamp, active_at));
            }
        }
        for labels in delete {
            active.remove(&labels);
        }
        if limit > 0 && pending_or_firing > limit {
            active.clear();
            return Err(RuleError::AlertLimit {
                limit,
                got: pending_or_firing,
            });
        }
        Ok(out)
    }

    /// The labels of the rule's ALERTS_FOR_STATE series without the alert's own labels, for
    /// finding them at restore; templated label values are left out, as they vary.
    pub(crate) fn for_state_selector(&self) -> Labels {
        let mut b = LabelsBuilder::new(Labels::default());
        for l in &self.labels {
            if !l.value.contains("{{") {
                b.set(l.name, l.value);
            }
        }
        b.set("__name__", "ALERTS_FOR_STATE");
        b.set("alertname", &self.name);
        b.labels()
    }

    fn series_sample(
        &self,
        alert: &ActiveAlert,
        name: &str,
        state: Option<AlertState>,
        stamp: Timestamp,
        value: f64,
    ) -> Sample {
        let mut b = self.labels.builder();
        for l in &alert.labels {
            b.set(l.name, l.value);
        }
        b.set("__name__", name);
        b.set("alertname", &self.name);
        if let Some(state) = state {
            b.set("alertstate", state.as_str());
        }
        Sample::float(b.labels(), stamp.as_millisecond(), value)
    }

    /// Hands the alerts due for (re)sending at `ts` to `sink`: firing ones every
    /// `resend_delay`, valid for four times the larger of that and the group interval, and
    /// resolved ones with their resolution time.
    pub(crate) fn send_alerts(
        &self,
        ts: Timestamp,
        resend_delay: Duration,
        interval: Duration,
        generator_url: &str,
        sink: Option<&dyn AlertSink>,
    ) {
        let mut alerts = Vec::new();
        for a in self.lock_active().values_mut() {
            if !a.needs_sending(ts, resend_delay) {
                continue;
            }
            a.last_sent_at = Some(ts);
            let valid_until = add(ts, 4 * interval.max(resend_delay));
            a.valid_until = Some(valid_until);
            alerts.push(Alert {
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at: a.fired_at.unwrap_or(Timestamp::UNIX_EPOCH),
                ends_at: Some(a.resolved_at.unwrap_or(valid_until)),
                generator_url: generator_url.to_owned(),
            });
        }
        if let Some(sink) = sink
            && !alerts.is_empty()
        {
            sink.send(alerts);
        }
    }
}

/// `ts + d`, saturating.
pub(crate) fn add(ts: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| ts.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// `ts - d`, saturating.
pub(crate) fn sub(ts: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| ts.checked_sub(d).ok())
        .unwrap_or(Timestamp::MIN)
}

/// `to - from`; zero when `to` is earlier.
pub(crate) fn elapsed(from: Timestamp, to: Timestamp) -> Duration {
    Duration::try_from(to.duration_since(from)).unwrap_or(Duration::ZERO)
}
