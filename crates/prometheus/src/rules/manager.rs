//! The rule manager: loads rule files into groups, runs one task per group on its interval,
//! and on reload keeps unchanged groups running, hands changed ones their predecessor's alert
//! state, and stops removed ones (whose series go stale).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use pm_common::model::Labels;
use pm_promql::engine::{Engine, Value};
use pm_storage::{Appendable, Queryable};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::alerting::{add, elapsed};
use super::group::{EvalContext, Group, append_stale};
use super::loader::{LoadOptions, load_groups};
use super::metrics::RuleMetrics;
use super::rulefmt::ParseOptions;
use crate::notifier::AlertSink;
use crate::template::{Env, QueryFn, QuerySample};

/// What the manager evaluates with and where alerts go.
pub struct ManagerOptions {
    pub queryable: Arc<dyn Queryable>,
    pub appendable: Arc<dyn Appendable>,
    pub engine: Engine,
    pub sink: Option<Arc<dyn AlertSink>>,
    /// `--web.external-url` (or the URL derived from the listen address).
    pub external_url: String,
    pub resend_delay: Duration,
    pub outage_tolerance: Duration,
    pub for_grace_period: Duration,
    pub metrics: RuleMetrics,
    pub parse: ParseOptions,
}

/// Why new rules were not applied; the previous rules keep running.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("error retrieving rule files for {pattern}: {reason}")]
    Glob { pattern: String, reason: String },
    /// Each problem was logged; upstream's reload error says only this.
    #[error("error loading rules, previous rule set restored")]
    Load(Vec<String>),
}

/// A group's task and the handle to stop it.
struct Running {
    group: Arc<Group>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    async fn stop(self) -> Arc<Group> {
        self.group.stop_evaluating();
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(group = self.group.name(), err = %e, "rule group task failed");
        }
        self.group
    }
}

struct Inner {
    ctx: Arc<EvalContext>,
    parse: ParseOptions,
    groups: tokio::sync::Mutex<BTreeMap<String, Running>>,
    /// A snapshot of the groups for readers (API), replaced on every update.
    snapshot: Mutex<Vec<Arc<Group>>>,
    /// Set after the first update: groups loaded later do not restore `for` state.
    loaded: AtomicBool,
    /// Becomes true when the manager stops; pending stale-marking of removed groups ends.
    done: watch::Sender<bool>,
    cleanups: Mutex<Vec<JoinHandle<()>>>,
}

/// Runs rule groups; clones share them.
#[derive(Clone)]
pub struct Manager {
    inner: Arc<Inner>,
}

impl Manager {
    pub fn new(opts: ManagerOptions) -> Self {
        let query: QueryFn = {
            let engine = opts.engine.clone();
            let queryable = opts.queryable.clone();
            Arc::new(move |q: &str, t: i64| template_query(&engine, queryable.as_ref(), q, t))
        };
        let ctx = EvalContext {
            queryable: opts.queryable,
            appendable: opts.appendable,
            engine: opts.engine,
            sink: opts.sink,
            template: Env {
                external_url: opts.external_url.clone(),
                query: Some(query),
            },
            external_url: opts.external_url,
            resend_delay: opts.resend_delay,
            outage_tolerance: opts.outage_tolerance,
            for_grace_period: opts.for_grace_period,
            default_query_offset: AtomicU64::new(0),
            metrics: opts.metrics,
        };
        Manager {
            inner: Arc::new(Inner {
                ctx: Arc::new(ctx),
                parse: opts.parse,
                groups: tokio::sync::Mutex::default(),
                snapshot: Mutex::default(),
                loaded: AtomicBool::new(false),
                done: watch::Sender::new(false),
                cleanups: Mutex::default(),
            }),
        }
    }

    /// The running groups, ordered by file then name.
    pub fn groups(&self) -> Vec<Arc<Group>> {
        lock(&self.inner.snapshot).clone()
    }

    /// Loads the rule files matching `patterns` and applies them; on any error nothing
    /// changes. `interval` is the global evaluation interval, `query_offset` the global
    /// `rule_query_offset`.
    pub async fn update(
        &self,
        interval: Duration,
        patterns: &[String],
        external_labels: &Labels,
        query_offset: Duration,
    ) -> Result<(), UpdateError> {
        let mut files = Vec::new();
        for pattern in patterns {
            let found = pm_common::glob::glob(pattern).map_err(|e| UpdateError::Glob {
                pattern: pattern.clone(),
                reason: e.to_string(),
            })?;
            files.extend(found);
        }
        let mut groups_guard = self.inner.groups.lock().await;
        if *self.inner.done.borrow() {
            return Ok(());
        }
        let should_restore = !self.inner.loaded.load(Ordering::Relaxed);
        let options = LoadOptions {
            interval,
            external_labels: external_labels.clone(),
            external_url: self.inner.ctx.external_url.clone(),
            should_restore,
            parse: self.inner.parse.clone(),
        };
        let loaded = load_groups(&files, &options).map_err(|errors| {
            for e in &errors {
                tracing::error!(err = %e, "loading groups failed");
            }
            UpdateError::Load(errors)
        })?;
        self.inner.loaded.store(true, Ordering::Relaxed);
        self.inner.ctx.set_default_query_offset(query_offset);

        let ctx = &self.inner.ctx;
        let mut old = std::mem::take(&mut *groups_guard);
        let mut next = BTreeMap::new();
        for group in loaded {
            let key = group.key();
            let previous = old.remove(&key);
            if let Some(prev) = previous.as_ref().filter(|p| p.group.equals(&group)) {
                tracing::debug!(group = prev.group.name(), "rule group unchanged");
                next.insert(key, previous.unwrap_or_else(|| unreachable!()));
                continue;
            }
            if let Some(prev) = previous {
                let prev = prev.stop().await;
                group.copy_state(&prev);
            }
            ctx.metrics
                .add_group(&key, group.interval().as_secs_f64(), group.rules().len());
            next.insert(key, self.start(Arc::new(group)));
        }
        for (key, running) in old {
            let group = running.stop().await;
            ctx.metrics.remove_group(&key);
            self.mark_stale_later(group);
        }
        let mut snapshot: Vec<Arc<Group>> = next.values().map(|r| r.group.clone()).collect();
        snapshot.sort_by(|a, b| (a.file(), a.name()).cmp(&(b.file(), b.name())));
        *lock(&self.inner.snapshot) = snapshot;
        *groups_guard = next;
        Ok(())
    }

    /// Stops every group (waiting for evaluations in flight) and the pending stale marking.
    pub async fn stop(&self) {
        tracing::info!("Stopping rule manager...");
        let _ = self.inner.done.send(true);
        let running = std::mem::take(&mut *self.inner.groups.lock().await);
        for (_, r) in running {
            r.stop().await;
        }
        lock(&self.inner.snapshot).clear();
        let cleanups = std::mem::take(&mut *lock(&self.inner.cleanups));
        for c in cleanups {
            let _ = c.await;
        }
        tracing::info!("Rule manager stopped");
    }

    fn start(&self, group: Arc<Group>) -> Running {
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run(group.clone(), self.inner.ctx.clone(), stop_rx));
        Running { group, stop, task }
    }

    /// Upstream waits two intervals (so that a group moved elsewhere can take over its
    /// series) before marking a removed group's series stale; a stopping server skips it.
    fn mark_stale_later(&self, group: Arc<Group>) {
        let series = group.take_all_series();
        if series.is_empty() {
            return;
        }
        let ctx = self.inner.ctx.clone();
        let mut done = self.inner.done.subscribe();
        let wait = 2 * group.interval();
        let removed_at = Timestamp::now();
        let task = tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = done.wait_for(|d| *d) => return,
            }
            let appended = tokio::task::spawn_blocking(move || {
                append_stale(ctx.appendable.as_ref(), &series, removed_at)
            })
            .await;
            if let Ok(Err(e)) = appended {
                tracing::warn!(group = group.name(), err = %e, "Stale sample appending for previous configuration failed");
            }
        });
        let mut cleanups = lock(&self.inner.cleanups);
        cleanups.retain(|c| !c.is_finished());
        cleanups.push(task);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The `query` template function's evaluation.
pub(crate) fn template_query(
    engine: &Engine,
    queryable: &dyn Queryable,
    query: &str,
    ts_ms: i64,
) -> Result<Vec<QuerySample>, String> {
    let result = engine
        .instant(queryable, query, ts_ms)
        .map_err(|e| e.to_string())?;
    match result.value {
        Value::Vector(v) => Ok(v
            .into_iter()
            .map(|s| QuerySample {
                labels: s.metric,
                value: s.f,
            })
            .collect()),
        Value::Scalar { v, .. } => Ok(vec![QuerySample {
            labels: Labels::default(),
            value: v,
        }]),
        _ => Err("rule result is not a vector or scalar".into()),
    }
}

/// A group's task: evaluates at the group's slots until stopped; after a start, restores the
/// `for` state once the second evaluation has written what the first could not see.
async fn run(group: Arc<Group>, ctx: Arc<EvalContext>, mut stop: watch::Receiver<bool>) {
    let interval = group.interval().max(Duration::from_millis(1));
    let now = Timestamp::now();
    let mut eval_ts = add(group.eval_timestamp(now), interval);
    tokio::select! {
        () = tokio::time::sleep(elapsed(now, eval_ts)) => {}
        _ = stop.wait_for(|s| *s) => return,
    }
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    evaluate(&group, &ctx, eval_ts).await;
    let mut restore = group.should_restore();
    let key = group.key();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let behind = elapsed(eval_ts, Timestamp::now()).as_nanos() / interval.as_nanos();
        let missed = behind.saturating_sub(1);
        if missed > 0 {
            ctx.metrics
                .iterations_missed
                .with_label_values(&[&key])
                .inc_by(missed as f64);
            ctx.metrics
                .iterations_scheduled
                .with_label_values(&[&key])
                .inc_by(missed as f64);
        }
        let steps = u32::try_from(missed + 1).unwrap_or(u32::MAX);
        eval_ts = add(eval_ts, interval.saturating_mul(steps));
        evaluate(&group, &ctx, eval_ts).await;
        if restore {
            restore = false;
            let (group, ctx) = (group.clone(), ctx.clone());
            let _ = tokio::task::spawn_blocking(move || {
                group.restore_for_state(&ctx, Timestamp::now());
            })
            .await;
        }
    }
}

async fn evaluate(group: &Arc<Group>, ctx: &Arc<EvalContext>, ts: Timestamp) {
    let (group, ctx) = (group.clone(), ctx.clone());
    if let Err(e) = tokio::task::spawn_blocking(move || group.iterate(&ctx, ts)).await {
        tracing::error!(err = %e, "rule group evaluation panicked");
    }
}
