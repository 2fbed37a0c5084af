//! Turning due groups into notifications: the group-wide stages (inhibition, time muting,
//! silencing) run at once against one snapshot of the state, then each group's integrations
//! notify concurrently in their own tasks, so a slow receiver holds up only its own group.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::task::{JoinHandle, JoinSet};

use super::stage::{self, Job};
use crate::alert::Alert;
use crate::config::Config;
use crate::daemon::{App, Runtime};
use crate::dispatch::{Flush, RouteOpts};
use crate::silence::silenced_by;

/// Upstream's smallest notification deadline.
const MIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Flushes every group due now and starts notifying them; the handles finish when each
/// group's notification ended (the daemon lets them run, tests await them).
pub fn start_due(app: &Arc<App>) -> Vec<JoinHandle<()>> {
    let runtime = app.runtime();
    let now = app.clock.now();
    let flushes = runtime.dispatcher.due(now);
    if flushes.is_empty() {
        return Vec::new();
    }
    let silences = app.silences.active_at(now);
    let mut index = runtime.inhibitor.empty_index(now);
    if !runtime.inhibitor.is_empty() {
        app.alerts.for_each(|a| index.add(a));
    }
    let mut handles = Vec::with_capacity(flushes.len());
    for flush in flushes {
        let opts = &runtime.dispatcher.tree().node(flush.id.route).opts;
        let alerts: Vec<Arc<Alert>> = if time_muted(&runtime.config, opts, now) {
            Vec::new()
        } else {
            flush
                .alerts
                .iter()
                .filter(|a| index.inhibited_by(&a.labels).is_none())
                .filter(|a| silenced_by(&silences, &a.labels).is_empty())
                .cloned()
                .collect()
        };
        let (app, runtime) = (Arc::clone(app), Arc::clone(&runtime));
        handles.push(tokio::spawn(async move {
            deliver(&app, &runtime, flush, alerts).await;
        }));
    }
    handles
}

/// Whether the route is muted at `now` by a mute interval, or outside all its active ones.
fn time_muted(config: &Config, opts: &RouteOpts, now: Timestamp) -> bool {
    let within = |names: &[String]| {
        names.iter().any(|name| {
            config
                .named_time_intervals()
                .filter(|n| &n.name == name)
                .any(|n| n.time_intervals.iter().any(|ti| ti.contains(now)))
        })
    };
    within(&opts.mute_time_intervals)
        || (!opts.active_time_intervals.is_empty() && !within(&opts.active_time_intervals))
}

/// Notifies every integration of the group's receiver with the unmuted alerts, then hands the
/// flush back to the dispatcher. Nothing left after muting counts as success, as upstream.
pub async fn deliver(
    app: &Arc<App>,
    runtime: &Arc<Runtime>,
    flush: Flush,
    alerts: Vec<Arc<Alert>>,
) {
    let opts = &runtime.dispatcher.tree().node(flush.id.route).opts;
    let receiver = opts.receiver.clone();
    let count = runtime.notifier.integrations(&receiver).len();
    let mut success = true;
    if !alerts.is_empty() && count > 0 {
        let job = Arc::new(Job {
            group_key: Arc::clone(&flush.key),
            receiver,
            group_labels: flush.id.labels.clone(),
            alerts,
            at: flush.at,
            repeat: opts.repeat_interval,
            external_url: app.external_url.clone(),
            deadline: Instant::now() + opts.group_interval.max(MIN_TIMEOUT),
        });
        let mut tasks = JoinSet::new();
        for i in 0..count {
            let (app, runtime, job) = (Arc::clone(app), Arc::clone(runtime), Arc::clone(&job));
            tasks.spawn(async move {
                let integration = &runtime.notifier.integrations(&job.receiver)[i];
                stage::run(&job, integration, &app.nflog, &app.notify_metrics).await
            });
        }
        while let Some(result) = tasks.join_next().await {
            success &= matches!(result, Ok(Ok(())));
        }
    }
    runtime.dispatcher.finish(&flush, success, app.clock.now());
}
