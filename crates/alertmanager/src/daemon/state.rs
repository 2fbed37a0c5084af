//! What the daemon shares between its handlers and background tasks: the alert store, the
//! silences, and the current configuration (swapped whole on reload, so a request sees one
//! consistent config from start to end).

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock, Weak};

use jiff::{SignedDuration, Timestamp};
use pm_common::config::yaml::YamlError;
use pm_common::expfmt::dto;
use pm_common::metrics::{Collector, ConstFamily, ConstKind, CounterVec, Gauge, Opts, Registry};
use pm_common::process::{ProcessCollector, build_info_family};

use crate::alert::{Alert, AlertStore, LabelSet};
use crate::clock::Clock;
use crate::config::Config;
use crate::dispatch::RouteTree;
use crate::inhibit::{InhibitIndex, Inhibitor};
use crate::silence::snapshot::SnapshotError;
use crate::silence::{Silence, SilenceState, Silences, silenced_by};

/// Why the daemon cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] YamlError),
    #[error(transparent)]
    Silences(#[from] SnapshotError),
}

/// A loaded configuration with what is derived from it.
#[derive(Debug)]
pub struct Runtime {
    pub config: Config,
    pub tree: RouteTree,
    pub inhibitor: Inhibitor,
}

impl Runtime {
    fn new(config: Config) -> Self {
        Runtime {
            tree: RouteTree::new(config.root_route()),
            inhibitor: Inhibitor::new(&config.inhibit_rules),
            config,
        }
    }

    pub fn resolve_timeout(&self) -> SignedDuration {
        SignedDuration::try_from(self.config.global.resolve_timeout.as_std())
            .unwrap_or(SignedDuration::MAX)
    }

    /// The receivers of the routes an alert with these labels ends in, in tree order.
    pub fn receivers(&self, labels: &LabelSet) -> Vec<String> {
        self.tree
            .matches(&|n| labels.get(n).map(String::as_str))
            .into_iter()
            .map(|id| self.tree.node(id).opts.receiver.clone())
            .collect()
    }
}

/// Counters the API updates.
#[derive(Debug)]
pub struct Metrics {
    pub received: CounterVec,
    pub invalid: CounterVec,
    reload_success: Gauge,
    reload_timestamp: Gauge,
}

impl Metrics {
    fn new(registry: &Registry) -> Self {
        let received = registry
            .counter_vec(
                Opts::new(
                    "alertmanager_alerts_received_total",
                    "The total number of received alerts.",
                ),
                &["status", "version"],
            )
            .expect("distinct metric names");
        let invalid = registry
            .counter_vec(
                Opts::new(
                    "alertmanager_alerts_invalid_total",
                    "The total number of received alerts that were invalid.",
                ),
                &["version"],
            )
            .expect("distinct metric names");
        for status in ["firing", "resolved"] {
            received.with_label_values(&[status, "v2"]);
        }
        invalid.with_label_values(&["v2"]);
        let reload_success = registry
            .gauge(Opts::new(
                "alertmanager_config_last_reload_successful",
                "Whether the last configuration reload attempt was successful.",
            ))
            .expect("distinct metric names");
        let reload_timestamp = registry
            .gauge(Opts::new(
                "alertmanager_config_last_reload_success_timestamp_seconds",
                "Timestamp of the last successful configuration reload.",
            ))
            .expect("distinct metric names");
        registry
            .gauge(Opts::new(
                "alertmanager_cluster_enabled",
                "Indicates whether the clustering is enabled or not.",
            ))
            .expect("distinct metric names");
        Metrics {
            received,
            invalid,
            reload_success,
            reload_timestamp,
        }
    }
}

#[derive(Debug)]
pub struct App {
    pub clock: Arc<dyn Clock>,
    pub alerts: AlertStore,
    pub silences: Silences,
    runtime: RwLock<Arc<Runtime>>,
    config_file: PathBuf,
    /// `<storage.path>/silences`, when silences persist.
    silences_file: Option<PathBuf>,
    pub metrics: Metrics,
    pub registry: Arc<Registry>,
    /// When the process started (`uptime` in `/api/v2/status`).
    pub started: Timestamp,
}

/// One consistent reading of the state for a request: the time, the config, every stored
/// alert and the silences active at that time.
#[derive(Debug)]
pub struct Snapshot {
    pub now: Timestamp,
    pub runtime: Arc<Runtime>,
    pub alerts: Vec<Arc<Alert>>,
    pub active_silences: Vec<Arc<Silence>>,
}

impl Snapshot {
    pub fn inhibition(&self) -> InhibitIndex<'_> {
        self.runtime.inhibitor.index(&self.alerts, self.now)
    }

    /// Silences and inhibitor of one alert, each sorted.
    pub fn muted_by(&self, index: &InhibitIndex<'_>, alert: &Alert) -> (Vec<String>, Vec<String>) {
        let silenced = silenced_by(&self.active_silences, &alert.labels);
        let inhibited = index
            .inhibited_by(&alert.labels)
            .map(|fp| vec![fp.to_string()])
            .unwrap_or_default();
        (silenced, inhibited)
    }
}

impl App {
    /// Loads the config file and the silences snapshot (when `silences_file` is set); an
    /// invalid config or a corrupt snapshot fails start-up as upstream's does.
    pub fn new(
        config_file: PathBuf,
        silences_file: Option<PathBuf>,
        clock: Arc<dyn Clock>,
        retention: SignedDuration,
    ) -> Result<Arc<App>, StartError> {
        let config = Config::load_file(&config_file)?;
        let silences = Silences::new(Arc::clone(&clock), retention);
        if let Some(path) = &silences_file {
            let loaded = silences.load(path)?;
            tracing::info!(file = %path.display(), silences = loaded, "Loaded silences");
        }
        let registry = Arc::new(Registry::new());
        let metrics = Metrics::new(&registry);
        metrics.reload_success.set(1.0);
        metrics.reload_timestamp.set_to_current_time();
        registry.register(Arc::new(ProcessCollector::new()));
        let app = Arc::new(App {
            started: clock.now(),
            silences,
            clock,
            alerts: AlertStore::default(),
            runtime: RwLock::new(Arc::new(Runtime::new(config))),
            config_file,
            silences_file,
            metrics,
            registry: Arc::clone(&registry),
        });
        registry.register(Arc::new(StateCollector(Arc::downgrade(&app))));
        Ok(app)
    }

    pub fn runtime(&self) -> Arc<Runtime> {
        Arc::clone(&self.runtime.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Re-reads the config file; on error the running config stays.
    pub fn reload(&self) -> Result<(), YamlError> {
        tracing::info!(file = %self.config_file.display(), "Loading configuration file");
        match Config::load_file(&self.config_file) {
            Ok(config) => {
                *self.runtime.write().unwrap_or_else(PoisonError::into_inner) =
                    Arc::new(Runtime::new(config));
                self.metrics.reload_success.set(1.0);
                self.metrics.reload_timestamp.set_to_current_time();
                tracing::info!(file = %self.config_file.display(), "Completed loading of configuration file");
                Ok(())
            }
            Err(err) => {
                self.metrics.reload_success.set(0.0);
                tracing::error!(file = %self.config_file.display(), err = %err, "Loading configuration file failed");
                Err(err)
            }
        }
    }

    /// Drops silences past their retention and writes the snapshot; upstream's maintenance
    /// pass, also run at shutdown.
    pub fn maintain(&self) {
        let removed = self.silences.gc();
        tracing::debug!(removed, "silence GC done");
        if let Some(path) = &self.silences_file {
            match self.silences.save(path) {
                Ok(size) => tracing::debug!(size, "silences snapshot written"),
                Err(err) => tracing::error!(err = %err, "writing the silences snapshot failed"),
            }
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let now = self.clock.now();
        Snapshot {
            now,
            runtime: self.runtime(),
            alerts: self.alerts.snapshot(),
            active_silences: self.silences.active_at(now),
        }
    }
}

/// Gauges computed at scrape time from the state: alerts and silences by state.
struct StateCollector(Weak<App>);

impl Collector for StateCollector {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        out.push(build_info_family(
            "alertmanager",
            env!("CARGO_PKG_VERSION"),
            "unknown",
            "unknown",
        ));
        let Some(app) = self.0.upgrade() else { return };
        let snap = app.snapshot();
        let index = snap.inhibition();
        let (mut active, mut suppressed) = (0.0, 0.0);
        for alert in snap.alerts.iter().filter(|a| !a.resolved_at(snap.now)) {
            let (silenced, inhibited) = snap.muted_by(&index, alert);
            if silenced.is_empty() && inhibited.is_empty() {
                active += 1.0;
            } else {
                suppressed += 1.0;
            }
        }
        out.push(
            ConstFamily::new(
                "alertmanager_alerts",
                "How many alerts by state.",
                ConstKind::Gauge,
            )
            .with(&[("state", "active")], active)
            .with(&[("state", "suppressed")], suppressed)
            .with(&[("state", "unprocessed")], 0.0)
            .into_family(),
        );
        let mut by_state = [0.0; 3];
        for s in app.silences.list() {
            by_state[s.state_at(snap.now) as usize] += 1.0;
        }
        let mut silences = ConstFamily::new(
            "alertmanager_silences",
            "How many silences by state.",
            ConstKind::Gauge,
        );
        for state in [
            SilenceState::Active,
            SilenceState::Pending,
            SilenceState::Expired,
        ] {
            silences.push(&[("state", state.as_str())], by_state[state as usize]);
        }
        out.push(silences.into_family());
    }
}
