//! Helpers for the providers' tests: a context with fresh metrics and a sink that records
//! what a provider reports.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pm_common::metrics::Registry;
use tokio::sync::Notify;

use crate::TargetGroup;
use crate::metrics::Metrics;
use crate::provider::{Context, Sink, Updates};

pub(crate) fn context(set_name: &str) -> (Context, Registry) {
    let registry = Registry::new();
    let ctx = Context {
        metrics: Arc::new(Metrics::register(&registry).expect("metrics register once")),
        set_name: set_name.to_owned(),
        nameservers: None,
    };
    (ctx, registry)
}

/// The value of an unlabelled or labelled sample in `registry`, by its text exposition line
/// prefix (`name{labels}`).
pub(crate) fn sample(registry: &Registry, series: &str) -> Option<f64> {
    let (_, body) = pm_common::metrics::render(&registry.gather(), None);
    let text = String::from_utf8(body).expect("exposition is UTF-8");
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Records every update; tests wait on it for the state they expect.
#[derive(Default)]
pub(crate) struct Recorder {
    updates: Mutex<Vec<Vec<TargetGroup>>>,
    changed: Notify,
}

impl Sink for Recorder {
    fn update(&self, groups: Vec<TargetGroup>) {
        self.updates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(groups);
        self.changed.notify_waiters();
    }
}

impl Recorder {
    pub(crate) fn updates(self: &Arc<Self>) -> Updates {
        Updates(Arc::clone(self) as Arc<dyn Sink>)
    }

    /// The latest group of each source, merged over every update so far (what the manager
    /// would hold).
    pub(crate) fn merged(&self) -> std::collections::BTreeMap<String, TargetGroup> {
        let updates = self.updates.lock().unwrap_or_else(PoisonError::into_inner);
        updates
            .iter()
            .flatten()
            .map(|g| (g.source.clone(), g.clone()))
            .collect()
    }

    pub(crate) fn count(&self) -> usize {
        self.updates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Waits (at most 20 s) until the merged state satisfies `done`; panics with `what`
    /// and the state otherwise.
    pub(crate) async fn wait_for(
        &self,
        what: &str,
        done: impl Fn(&std::collections::BTreeMap<String, TargetGroup>) -> bool,
    ) -> std::collections::BTreeMap<String, TargetGroup> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let changed = self.changed.notified();
            let state = self.merged();
            if done(&state) {
                return state;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("timed out waiting for {what}; state: {state:#?}");
            }
        }
    }
}

/// The target addresses of a group, in order.
pub(crate) fn addresses(group: &TargetGroup) -> Vec<&str> {
    group
        .targets
        .iter()
        .map(|t| t.get("__address__").unwrap_or_default())
        .collect()
}
