//! The discovery manager (upstream's `discovery.Manager`): runs one provider per distinct
//! config, merges their groups per set name and publishes throttled snapshots.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::provider::{self, Context, Sink, Updates};
use crate::{SdConfig, TargetGroup, TargetSets};

/// How a manager runs.
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// The least time between two published snapshots (upstream's `updatert`, 5 s); providers
    /// that report often are coalesced to this pace.
    pub throttle: Duration,
    /// Name servers for DNS SD; `None` (the default) reads /etc/resolv.conf as upstream does.
    pub dns_nameservers: Option<Vec<SocketAddr>>,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions {
            throttle: Duration::from_secs(5),
            dns_nameservers: None,
        }
    }
}

/// One running provider and the set names that use it.
struct Provider {
    name: String,
    config: SdConfig,
    subs: BTreeSet<String>,
    /// The subscribers of the config being applied, swapped into `subs` at the end.
    new_subs: BTreeSet<String>,
    task: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct State {
    providers: Vec<Provider>,
    /// Groups by (set name, provider name), then by source.
    targets: BTreeMap<(String, String), BTreeMap<String, TargetGroup>>,
    /// Whether something changed since the last snapshot.
    triggered: bool,
    /// Numbers provider names so that a name is never reused by another config.
    created: usize,
    /// The set names the discovered-targets gauge has a child for.
    counted_sets: BTreeSet<String>,
}

struct Shared {
    name: String,
    metrics: Arc<Metrics>,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Merges updates of one provider into every set it serves.
struct ProviderSink {
    shared: Arc<Shared>,
    provider: String,
}

impl Sink for ProviderSink {
    fn update(&self, groups: Vec<TargetGroup>) {
        let shared = &self.shared;
        shared
            .metrics
            .received_updates
            .with_label_values(&[&shared.name])
            .inc();
        let mut state = shared.lock();
        let State {
            providers, targets, ..
        } = &mut *state;
        // A provider stopped by a reload may still report once before its task notices.
        let Some(provider) = providers.iter().find(|p| p.name == self.provider) else {
            return;
        };
        for set in &provider.subs {
            let pool = targets
                .entry((set.clone(), provider.name.clone()))
                .or_default();
            for group in &groups {
                pool.insert(group.source.clone(), group.clone());
            }
        }
        state.triggered = true;
    }
}

/// A discovery manager; dropping it stops every provider.
pub struct Manager {
    shared: Arc<Shared>,
    options: ManagerOptions,
    snapshots: watch::Sender<Arc<TargetSets>>,
    sender: JoinHandle<()>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("name", &self.shared.name)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Manager {
    /// A manager called `name` ("scrape" or "notify", the `name` label of its metrics). Must
    /// be called within a tokio runtime: it spawns the task that publishes snapshots.
    pub fn new(name: &str, metrics: Arc<Metrics>, options: ManagerOptions) -> Manager {
        // Upstream's manager metrics exist from the start. Snapshots replace each other in a
        // watch channel instead of waiting on a full one, so no update is ever delayed.
        for counter in [
            &metrics.received_updates,
            &metrics.sent_updates,
            &metrics.delayed_updates,
        ] {
            counter.with_label_values(&[name]);
        }
        metrics.failed_configs.with_label_values(&[name]).set(0.0);
        let shared = Arc::new(Shared {
            name: name.to_owned(),
            metrics,
            state: Mutex::new(State::default()),
        });
        let (snapshots, _) = watch::channel(Arc::new(TargetSets::new()));
        let sender = tokio::spawn(publish(
            Arc::clone(&shared),
            snapshots.clone(),
            options.throttle,
        ));
        Manager {
            shared,
            options,
            snapshots,
            sender,
        }
    }

    /// The merged target sets, replaced at most once per throttle period.
    pub fn subscribe(&self) -> watch::Receiver<Arc<TargetSets>> {
        self.snapshots.subscribe()
    }

    /// Applies a new configuration: a config equal to a running provider's keeps that
    /// provider (and its groups); new configs start providers; providers no set uses any
    /// more are stopped and their groups dropped. A set with no working config gets one empty
    /// group so that consumers drop its old targets. Must be called within the runtime the
    /// manager was created in, which runs the providers.
    pub fn apply_config(&self, configs: HashMap<String, Vec<SdConfig>>) {
        let shared = &self.shared;
        let name = shared.name.as_str();
        let mut state = shared.lock();
        for provider in &mut state.providers {
            provider.new_subs.clear();
        }
        let mut sets: Vec<_> = configs.into_iter().collect();
        sets.sort_by(|a, b| a.0.cmp(&b.0));
        let mut failed = 0;
        for (set, configs) in sets {
            let mut added = false;
            for config in configs {
                match self.register(&mut state, config, &set) {
                    Ok(()) => added = true,
                    Err(err) => {
                        tracing::error!(%err, config = %set, "Cannot create service discovery");
                        failed += 1;
                    }
                }
            }
            if !added {
                let empty = SdConfig::Static(vec![TargetGroup::default()]);
                if let Err(err) = self.register(&mut state, empty, &set) {
                    tracing::error!(%err, config = %set, "Cannot create service discovery");
                }
            }
        }
        shared
            .metrics
            .failed_configs
            .with_label_values(&[name])
            .set(f64::from(failed));

        let State {
            providers, targets, ..
        } = &mut *state;
        let discovered = &shared.metrics.discovered_targets;
        providers.retain_mut(|provider| {
            if provider.new_subs.is_empty() {
                if let Some(task) = provider.task.take() {
                    task.abort();
                }
                for set in &provider.subs {
                    targets.remove(&(set.clone(), provider.name.clone()));
                }
                return false;
            }
            let mut reference = BTreeMap::new();
            for set in &provider.subs {
                let key = (set.clone(), provider.name.clone());
                if !provider.new_subs.contains(set) {
                    reference = targets.remove(&key).unwrap_or_default();
                } else if let Some(groups) = targets.get(&key) {
                    reference = groups.clone();
                }
            }
            for set in &provider.new_subs {
                if !provider.subs.contains(set) && !reference.is_empty() {
                    targets.insert((set.clone(), provider.name.clone()), reference.clone());
                }
            }
            provider.subs = std::mem::take(&mut provider.new_subs);
            true
        });
        // Sets that lost every provider no longer report a target count; new ones start at 0.
        let live: BTreeSet<String> = providers.iter().flat_map(|p| p.subs.clone()).collect();
        for set in state.counted_sets.difference(&live) {
            let _ = discovered.remove_label_values(&[set, name]);
        }
        for set in live.difference(&state.counted_sets) {
            discovered.with_label_values(&[set, name]).set(0.0);
        }
        state.counted_sets = live;
        // Consumers expect the full state soon after a reload, without waiting for the
        // providers' first reports.
        state.triggered = true;
    }

    /// Subscribes `set` to the provider running `config`, creating it if none does.
    fn register(
        &self,
        state: &mut State,
        config: SdConfig,
        set: &str,
    ) -> Result<(), provider::ProviderError> {
        if let Some(existing) = state.providers.iter_mut().find(|p| p.config == config) {
            existing.new_subs.insert(set.to_owned());
            return Ok(());
        }
        let name = format!("{}/{}", config.mechanism(), state.created);
        let ctx = Context {
            metrics: Arc::clone(&self.shared.metrics),
            set_name: set.to_owned(),
            nameservers: self.options.dns_nameservers.clone(),
        };
        let sink = ProviderSink {
            shared: Arc::clone(&self.shared),
            provider: name.clone(),
        };
        let future = provider::start(&config, ctx, Updates(Arc::new(sink)))?;
        state.created += 1;
        state.providers.push(Provider {
            name,
            config,
            subs: BTreeSet::new(),
            new_subs: BTreeSet::from([set.to_owned()]),
            task: Some(tokio::spawn(future)),
        });
        Ok(())
    }

    /// The names of the running providers, for tests and debugging: `mechanism/number`.
    pub fn provider_names(&self) -> Vec<String> {
        let state = self.shared.lock();
        state.providers.iter().map(|p| p.name.clone()).collect()
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        self.sender.abort();
        for provider in &mut self.shared.lock().providers {
            if let Some(task) = provider.task.take() {
                task.abort();
            }
        }
    }
}

/// Publishes a snapshot on every throttle tick that follows a change.
async fn publish(
    shared: Arc<Shared>,
    snapshots: watch::Sender<Arc<TargetSets>>,
    throttle: Duration,
) {
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + throttle, throttle);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let sets = {
            let mut state = shared.lock();
            if !std::mem::take(&mut state.triggered) {
                continue;
            }
            all_groups(&state, &shared)
        };
        shared
            .metrics
            .sent_updates
            .with_label_values(&[&shared.name])
            .inc();
        snapshots.send_replace(Arc::new(sets));
    }
}

/// Every set's groups; a set whose providers have reported nothing yet is present and empty
/// so that consumers drop its stale targets.
fn all_groups(state: &State, shared: &Shared) -> TargetSets {
    let mut sets = TargetSets::new();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for provider in &state.providers {
        for set in &provider.subs {
            let groups = sets.entry(set.clone()).or_default();
            let count = counts.entry(set).or_default();
            if let Some(pool) = state.targets.get(&(set.clone(), provider.name.clone())) {
                for group in pool.values() {
                    *count += group.targets.len();
                    groups.push(group.clone());
                }
            }
        }
    }
    for (set, count) in counts {
        shared
            .metrics
            .discovered_targets
            .with_label_values(&[set, &shared.name])
            .set(count as f64);
    }
    sets
}

#[cfg(test)]
mod tests;
