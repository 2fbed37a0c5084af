//! Restoring alerts' `for` state after a restart from the ALERTS_FOR_STATE series, so that an
//! alert that was pending (or firing) before does not start its `for` over.

use std::collections::HashMap;
use std::time::Instant;

use jiff::Timestamp;
use pm_common::model::{Labels, MatchType, Matcher, is_stale_nan};
use pm_storage::ValueType;

use super::alerting::{AlertingRule, add, elapsed, sub};
use super::group::{EvalContext, Group, group_key};
use super::rule::Rule;

impl Group {
    /// Restores the activation time of every alert of the group's alerting rules from the
    /// ALERTS_FOR_STATE samples within the outage tolerance before `now`, as upstream does:
    /// the time the server was down does not count towards `for`, and an alert about to fire
    /// gets at least the grace period.
    pub fn restore_for_state(&self, ctx: &EvalContext, now: Timestamp) {
        let started = Instant::now();
        let key = group_key(self.file(), self.name());
        let maxt = now.as_millisecond();
        let mint = sub(now, ctx.outage_tolerance).as_millisecond();
        match ctx.queryable.querier(mint, maxt) {
            Ok(querier) => {
                for rule in self.rules() {
                    if let Rule::Alerting(rule) = rule {
                        restore_rule(rule, querier.as_ref(), ctx, now);
                    }
                }
            }
            Err(e) => tracing::error!(group = self.name(), err = %e, "Failed to get Querier"),
        }
        ctx.metrics
            .group_last_restore_duration
            .with_label_values(&[&key])
            .set(started.elapsed().as_secs_f64());
        self.restore_done();
    }
}

fn restore_rule(
    rule: &AlertingRule,
    querier: &dyn pm_storage::Querier,
    ctx: &EvalContext,
    now: Timestamp,
) {
    let hold = rule.hold_duration();
    if hold < ctx.for_grace_period {
        rule.set_restored();
        return;
    }
    let matchers: Vec<Matcher> = rule
        .for_state_selector()
        .iter()
        .filter_map(|l| Matcher::new(MatchType::Equal, l.name, l.value).ok())
        .collect();
    let mut set = querier.select(false, None, &matchers);
    let mut last: HashMap<Labels, (i64, f64)> = HashMap::new();
    while let Some(series) = set.next() {
        let mut it = series.iter();
        let mut sample = None;
        while it.next() == ValueType::Float {
            sample = Some(it.at());
        }
        if let Some(sample) = sample {
            last.insert(series.labels().without_metric_name(), sample);
        }
    }
    if let Some(e) = set.err() {
        tracing::error!(alertname = rule.name(), stage = "Select", err = %e, "Failed to restore 'for' state");
        rule.set_restored();
        return;
    }
    if last.is_empty() {
        rule.set_restored();
        return;
    }
    for alert in rule.lock_active().values_mut() {
        let Some(&(t, v)) = last.get(&alert.labels) else {
            continue;
        };
        if is_stale_nan(v) {
            continue;
        }
        let (Ok(down_at), Ok(mut active_at)) = (
            Timestamp::from_second(t.div_euclid(1000)),
            Timestamp::from_second(v as i64),
        ) else {
            continue;
        };
        let spent_pending = elapsed(active_at, down_at);
        if spent_pending < hold {
            let remaining = hold - spent_pending;
            if remaining < ctx.for_grace_period {
                active_at = sub(add(now, ctx.for_grace_period), hold);
            } else {
                active_at = add(active_at, elapsed(down_at, now));
            }
        }
        alert.active_at = active_at;
        tracing::debug!(alertname = rule.name(), labels = %alert.labels, restored = %active_at, "'for' state restored");
    }
    rule.set_restored();
}
