//! A rule group: rules evaluated in order on one interval, each recording rule's result
//! appended (and visible to the rules after it) before the next rule runs.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use pm_common::model::{Labels, stale_nan};
use pm_promql::engine::{Engine, QueryOptions, Sample, Value, Vector};
use pm_promql::parser::Expr;
use pm_storage::{AppendOptions, Appendable, Queryable, SeriesRef, StorageError};

use super::alerting::sub;
use super::error::RuleError;
use super::metrics::RuleMetrics;
use super::rule::Rule;
use crate::notifier::AlertSink;
use crate::template::Env;

/// What evaluating groups needs from the server.
pub struct EvalContext {
    pub queryable: Arc<dyn Queryable>,
    pub appendable: Arc<dyn Appendable>,
    pub engine: Engine,
    /// `None`: alerts are evaluated (and shown) but go nowhere.
    pub sink: Option<Arc<dyn AlertSink>>,
    /// For alert templates (`query`, `externalURL`, …).
    pub template: Env,
    /// `--web.external-url`, the base of alerts' generator URLs.
    pub external_url: String,
    /// `--rules.alert.resend-delay`.
    pub resend_delay: Duration,
    /// `--rules.alert.for-outage-tolerance`.
    pub outage_tolerance: Duration,
    /// `--rules.alert.for-grace-period`.
    pub for_grace_period: Duration,
    /// The global `rule_query_offset` in nanoseconds; it follows config reloads without
    /// restarting groups.
    pub default_query_offset: AtomicU64,
    pub metrics: RuleMetrics,
}

impl EvalContext {
    /// Evaluates `expr` as an instant query at `ts_ms`; a scalar becomes a one-sample vector.
    fn query(&self, expr: &Expr, text: &str, ts_ms: i64) -> Result<Vector, RuleError> {
        let result = self.engine.instant_with(
            self.queryable.as_ref(),
            expr,
            text,
            ts_ms,
            &QueryOptions::default(),
        )?;
        match result.value {
            Value::Vector(v) => Ok(v),
            Value::Scalar { t, v } => Ok(vec![Sample::float(Labels::default(), t, v)]),
            _ => Err(RuleError::NotVector),
        }
    }

    pub fn set_default_query_offset(&self, offset: Duration) {
        let nanos = u64::try_from(offset.as_nanos()).unwrap_or(u64::MAX);
        self.default_query_offset.store(nanos, Ordering::Relaxed);
    }
}

/// The `rule_group` label value and the key groups are known by: `<file>;<name>`.
pub fn group_key(file: &str, name: &str) -> String {
    format!("{file};{name}")
}

/// The settings of a group as loaded from its file.
#[derive(Clone, Debug, Default)]
pub struct GroupSpec {
    pub name: String,
    pub file: String,
    pub interval: Duration,
    /// `None` falls back to the global `rule_query_offset`.
    pub query_offset: Option<Duration>,
    pub limit: usize,
}

#[derive(Debug, Default)]
struct GroupState {
    evaluation_time: Duration,
    last_evaluation: Option<Timestamp>,
    last_eval_timestamp: Option<Timestamp>,
    /// Per rule, the series its last successful evaluation wrote; those missing from the next
    /// get a stale marker.
    series_in_previous_eval: Vec<HashSet<Labels>>,
    /// Series of rules no longer in the group, to be marked stale.
    stale_series: Vec<Labels>,
}

#[derive(Debug)]
pub struct Group {
    spec: GroupSpec,
    rules: Vec<Rule>,
    state: Mutex<GroupState>,
    /// Set until the first evaluations after a start have restored the `for` state.
    should_restore: AtomicBool,
    /// Set when the group is being replaced or removed: evaluation stops between rules.
    stopping: AtomicBool,
}

impl Group {
    pub fn new(spec: GroupSpec, rules: Vec<Rule>, should_restore: bool) -> Self {
        let state = GroupState {
            series_in_previous_eval: vec![HashSet::new(); rules.len()],
            ..GroupState::default()
        };
        Group {
            spec,
            rules,
            state: Mutex::new(state),
            should_restore: AtomicBool::new(should_restore),
            stopping: AtomicBool::new(false),
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn file(&self) -> &str {
        &self.spec.file
    }

    pub fn interval(&self) -> Duration {
        self.spec.interval
    }

    pub fn limit(&self) -> usize {
        self.spec.limit
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn key(&self) -> String {
        group_key(self.file(), self.name())
    }

    /// How long the last evaluation took.
    pub fn evaluation_time(&self) -> Duration {
        self.lock().evaluation_time
    }

    /// Wall-clock start of the last evaluation.
    pub fn last_evaluation(&self) -> Option<Timestamp> {
        self.lock().last_evaluation
    }

    /// The time slot the last evaluation evaluated at.
    pub fn last_eval_timestamp(&self) -> Option<Timestamp> {
        self.lock().last_eval_timestamp
    }

    pub(crate) fn should_restore(&self) -> bool {
        self.should_restore.load(Ordering::Relaxed)
    }

    pub(crate) fn restore_done(&self) {
        self.should_restore.store(false, Ordering::Relaxed);
    }

    pub(crate) fn stop_evaluating(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, GroupState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn query_offset(&self, ctx: &EvalContext) -> Duration {
        self.spec.query_offset.unwrap_or_else(|| {
            Duration::from_nanos(ctx.default_query_offset.load(Ordering::Relaxed))
        })
    }

    /// The group's evaluation slot at or before `now`: slots are `interval` apart, shifted by
    /// a hash of the group's name and file so that groups do not all evaluate at once.
    pub fn eval_timestamp(&self, now: Timestamp) -> Timestamp {
        let interval = self.spec.interval.as_nanos().max(1) as i128;
        let hash = Labels::from_pairs([("name", self.name()), ("file", self.file())]).hash_value();
        let offset = (u128::from(hash) % interval as u128) as i128;
        let adjusted = now.as_nanosecond() - offset;
        let base = adjusted - adjusted.rem_euclid(interval);
        Timestamp::from_nanosecond(base + offset).unwrap_or(now)
    }

    /// Whether `other` has the same settings and rules, so a reload may keep this one.
    pub fn equals(&self, other: &Group) -> bool {
        self.spec.name == other.spec.name
            && self.spec.file == other.spec.file
            && self.spec.interval == other.spec.interval
            && self.spec.limit == other.spec.limit
            && self.spec.query_offset == other.spec.query_offset
            && self.rules.len() == other.rules.len()
            && self
                .rules
                .iter()
                .zip(&other.rules)
                .all(|(a, b)| a.definition() == b.definition())
    }

    /// Takes over the state of the group this one replaces: rules are matched by name and
    /// labels; series of old rules without a match are to be marked stale.
    pub fn copy_state(&self, from: &Group) {
        let from_state = std::mem::take(&mut *from.lock());
        let mut state = self.lock();
        state.evaluation_time = from_state.evaluation_time;
        state.last_evaluation = from_state.last_evaluation;
        let mut unmatched: Vec<Option<usize>> = (0..from.rules.len()).map(Some).collect();
        for (i, rule) in self.rules.iter().enumerate() {
            let key = rule.name_and_labels();
            let Some(fi) = unmatched
                .iter_mut()
                .find(|slot| slot.is_some_and(|fi| from.rules[fi].name_and_labels() == key))
                .and_then(Option::take)
            else {
                continue;
            };
            if let Some(series) = from_state.series_in_previous_eval.get(fi) {
                state.series_in_previous_eval[i] = series.clone();
            }
            if let (Rule::Alerting(new), Rule::Alerting(old)) = (rule, &from.rules[fi]) {
                new.copy_active_from(old);
            }
        }
        state.stale_series = from_state.stale_series;
        for fi in unmatched.into_iter().flatten() {
            if let Some(series) = from_state.series_in_previous_eval.get(fi) {
                state.stale_series.extend(series.iter().cloned());
            }
        }
    }

    /// Every series the group wrote last, for stale markers once it is removed.
    pub(crate) fn take_all_series(&self) -> Vec<Labels> {
        let mut state = self.lock();
        let mut all = std::mem::take(&mut state.stale_series);
        for set in state.series_in_previous_eval.drain(..) {
            all.extend(set);
        }
        all
    }

    /// One scheduled iteration at slot `ts`: evaluates and records the timings.
    pub fn iterate(&self, ctx: &EvalContext, ts: Timestamp) {
        let key = self.key();
        ctx.metrics
            .iterations_scheduled
            .with_label_values(&[&key])
            .inc();
        let wall = Timestamp::now();
        let started = Instant::now();
        self.eval(ctx, ts);
        let took = started.elapsed();
        ctx.metrics.group_duration.observe(took.as_secs_f64());
        ctx.metrics
            .group_duration_histogram
            .observe(took.as_secs_f64());
        let rule_sum: Duration = self
            .rules
            .iter()
            .map(|r| r.status().evaluation_duration)
            .sum();
        ctx.metrics
            .group_last_rule_duration_sum
            .with_label_values(&[&key])
            .set(rule_sum.as_secs_f64());
        ctx.metrics
            .group_last_duration
            .with_label_values(&[&key])
            .set(took.as_secs_f64());
        ctx.metrics
            .group_last_eval_time
            .with_label_values(&[&key])
            .set(wall.as_nanosecond() as f64 / 1e9);
        let mut state = self.lock();
        state.evaluation_time = took;
        state.last_evaluation = Some(wall);
        state.last_eval_timestamp = Some(ts);
    }

    /// Evaluates every rule at `ts`, in order.
    pub fn eval(&self, ctx: &EvalContext, ts: Timestamp) {
        let key = self.key();
        let offset = self.query_offset(ctx);
        let query_ts = sub(ts, offset);
        let mut samples = 0usize;
        for (i, rule) in self.rules.iter().enumerate() {
            if self.stopping.load(Ordering::Relaxed) {
                return;
            }
            let wall = Timestamp::now();
            let started = Instant::now();
            ctx.metrics.eval_total.with_label_values(&[&key]).inc();
            let result = ctx
                .query(rule.expr(), rule.query(), query_ts.as_millisecond())
                .and_then(|vector| match rule {
                    Rule::Recording(r) => r.apply(vector, self.limit()),
                    Rule::Alerting(r) => r.apply(vector, ts, offset, self.limit(), &ctx.template),
                });
            match result {
                Err(e) => {
                    tracing::warn!(group = self.name(), rule = rule.name(), err = %e, "Evaluating rule failed");
                    rule.status_cell().set_result(Err(e.to_string()));
                    ctx.metrics.eval_failures.with_label_values(&[&key]).inc();
                }
                Ok(vector) => {
                    rule.status_cell().set_result(Ok(()));
                    samples += vector.len();
                    if let Rule::Alerting(r) = rule {
                        let url = format!("{}{}", ctx.external_url, table_link(r.query()));
                        r.send_alerts(
                            ts,
                            ctx.resend_delay,
                            self.interval(),
                            &url,
                            ctx.sink.as_deref(),
                        );
                    }
                    if let Err(e) = self.append(i, rule, vector, query_ts, ctx) {
                        tracing::warn!(group = self.name(), rule = rule.name(), err = %e, "Rule sample appending failed");
                        rule.status_cell().set_result(Err(e.to_string()));
                        ctx.metrics.eval_failures.with_label_values(&[&key]).inc();
                    }
                }
            }
            let took = started.elapsed();
            ctx.metrics.eval_duration.observe(took.as_secs_f64());
            ctx.metrics
                .eval_duration_histogram
                .observe(took.as_secs_f64());
            let mut status = rule.status_cell().lock();
            status.evaluation_duration = took;
            status.evaluation_timestamp = Some(wall);
        }
        ctx.metrics
            .group_samples
            .with_label_values(&[&key])
            .set(samples as f64);
        self.cleanup_stale_series(ctx, query_ts);
    }

    /// Appends rule `i`'s result in one transaction, with stale markers for the series its
    /// previous evaluation wrote and this one did not.
    fn append(
        &self,
        i: usize,
        rule: &Rule,
        vector: Vector,
        query_ts: Timestamp,
        ctx: &EvalContext,
    ) -> Result<(), StorageError> {
        let mut app = ctx.appendable.appender();
        app.set_options(AppendOptions {
            discard_out_of_order: true,
        });
        let mut returned = HashSet::with_capacity(vector.len());
        let (mut out_of_order, mut too_old, mut duplicate) = (0, 0, 0);
        for s in vector {
            let appended = match &s.h {
                Some(h) => app.append_histogram(SeriesRef::UNKNOWN, &s.metric, s.t, None, Some(h)),
                None => app.append(SeriesRef::UNKNOWN, &s.metric, s.t, s.f),
            };
            match appended {
                Ok(_) => {
                    returned.insert(s.metric);
                }
                Err(e) => {
                    match e {
                        StorageError::OutOfOrderSample => out_of_order += 1,
                        StorageError::TooOldSample | StorageError::OutOfBounds => too_old += 1,
                        StorageError::DuplicateSample(_) => duplicate += 1,
                        _ => {
                            tracing::warn!(rule = rule.name(), err = %e, sample = %s.metric, "Rule evaluation result discarded")
                        }
                    }
                    rule.status_cell().set_result(Err(e.to_string()));
                }
            }
        }
        if out_of_order > 0 {
            tracing::warn!(
                rule = rule.name(),
                num_dropped = out_of_order,
                "Error on ingesting out-of-order result from rule evaluation"
            );
        }
        if too_old > 0 {
            tracing::warn!(
                rule = rule.name(),
                num_dropped = too_old,
                "Error on ingesting too old result from rule evaluation"
            );
        }
        if duplicate > 0 {
            tracing::warn!(
                rule = rule.name(),
                num_dropped = duplicate,
                "Error on ingesting results from rule evaluation with different value but same timestamp"
            );
        }
        let previous = std::mem::take(&mut self.lock().series_in_previous_eval[i]);
        let stale_ts = query_ts.as_millisecond();
        for series in previous.iter().filter(|s| !returned.contains(*s)) {
            if let Err(e) = app.append(SeriesRef::UNKNOWN, series, stale_ts, stale_nan())
                && !is_expected_rejection(&e)
            {
                tracing::warn!(sample = %series, err = %e, "Adding stale sample failed");
            }
        }
        match app.commit() {
            Ok(()) => {
                self.lock().series_in_previous_eval[i] = returned;
                Ok(())
            }
            Err(e) => {
                self.lock().series_in_previous_eval[i] = previous;
                Err(e)
            }
        }
    }

    /// Marks series left over from rules that were removed stale, at `query_ts`.
    pub(crate) fn cleanup_stale_series(&self, ctx: &EvalContext, query_ts: Timestamp) {
        let stale = std::mem::take(&mut self.lock().stale_series);
        if stale.is_empty() {
            return;
        }
        if let Err(e) = append_stale(ctx.appendable.as_ref(), &stale, query_ts) {
            tracing::warn!(group = self.name(), err = %e, "Stale sample appending for previous configuration failed");
            self.lock().stale_series.extend(stale);
        }
    }
}

/// Appends a stale marker at `ts` to each of `series`, in one transaction.
pub(crate) fn append_stale(
    appendable: &dyn Appendable,
    series: &[Labels],
    ts: Timestamp,
) -> Result<(), StorageError> {
    let mut app = appendable.appender();
    app.set_options(AppendOptions {
        discard_out_of_order: true,
    });
    for s in series {
        if let Err(e) = app.append(SeriesRef::UNKNOWN, s, ts.as_millisecond(), stale_nan())
            && !is_expected_rejection(&e)
        {
            tracing::warn!(sample = %s, err = %e, "Adding stale sample for previous configuration failed");
        }
    }
    app.commit()
}

/// Samples a rule may legitimately fail to append (e.g. evaluating a slot twice).
fn is_expected_rejection(e: &StorageError) -> bool {
    matches!(
        e,
        StorageError::OutOfOrderSample
            | StorageError::TooOldSample
            | StorageError::OutOfBounds
            | StorageError::DuplicateSample(_)
    )
}

/// Upstream's link to an expression in the table view, the alerts' `generatorURL` path.
pub fn table_link(expr: &str) -> String {
    format!("/graph?g0.expr={}&g0.tab=1", query_escape(expr))
}

/// Go's `url.QueryEscape`: spaces as `+`, everything but `A-Za-z0-9-_.~` percent-encoded.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char);
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
