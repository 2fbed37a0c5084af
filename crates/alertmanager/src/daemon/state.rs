//! What the daemon shares between its handlers and background tasks: the alert store, the
//! silences, and the current configuration (swapped whole on reload, so a request sees one
//! consistent config from start to end).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use pm_common::config::yaml::YamlError;
use pm_common::expfmt::dto;
use pm_common::metrics::{Collector, ConstFamily, ConstKind, CounterVec, Gauge, Opts, Registry};
use pm_common::process::{ProcessCollector, build_info_family};

use super::metrics::{ServerMetrics, seconds_since};
use super::muting::Muting;
use crate::alert::{Alert, AlertStore, LabelSet};
use crate::api::GroupsCache;
use crate::clock::Clock;
use crate::config::Config;
use crate::dispatch::{Dispatcher, RouteTree};
use crate::inhibit::Inhibitor;
use crate::notify::Notifier;
use crate::notify::metrics::NotifyMetrics;
use crate::notify::nflog::NotificationLog;
use crate::silence::snapshot::SnapshotError;
use crate::silence::{SilenceState, Silences};
use crate::template::TemplateError;

/// Why the daemon cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] YamlError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("failed to parse templates: {0}")]
    Templates(#[from] TemplateError),
}

/// A loaded configuration with what is derived from it.
#[derive(Debug)]
pub struct Runtime {
    pub config: Config,
    pub tree: Arc<RouteTree>,
    pub inhibitor: Inhibitor,
    /// Replaced with the config, as upstream: groups start afresh and the notification log
    /// keeps a reload from re-sending.
    pub dispatcher: Dispatcher,
    pub notifier: Notifier,
}

impl Runtime {
    /// Fails when the config's templates do not load.
    fn new(config: Config) -> Result<Self, TemplateError> {
        let tree = Arc::new(RouteTree::new(config.root_route()));
        Ok(Runtime {
            dispatcher: Dispatcher::new(Arc::clone(&tree)),
            notifier: Notifier::new(&config)?,
            tree,
            inhibitor: Inhibitor::new(&config.inhibit_rules),
            config,
        })
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
    config_hash: Gauge,
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
        let config_hash = registry
            .gauge(Opts::new(
                "alertmanager_config_hash",
                "Hash of the currently loaded alertmanager configuration.",
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
            config_hash,
        }
    }
}

/// Upstream's `alertmanager_config_hash` value: the first 6 bytes of the file's MD5 as a
/// little-endian integer (so the float holds it exactly).
fn config_hash(path: &std::path::Path) -> f64 {
    use md5::Digest as _;
    let Ok(bytes) = std::fs::read(path) else {
        return 0.0;
    };
    let sum = md5::Md5::digest(&bytes);
    let mut small = [0u8; 8];
    small[..6].copy_from_slice(&sum[..6]);
    u64::from_le_bytes(small) as f64
}

/// How the daemon (or a test) sets up the state.
#[derive(Debug)]
pub struct AppOptions {
    pub config_file: PathBuf,
    /// `--storage.path`: silences and the notification log persist there when set.
    pub storage_dir: Option<PathBuf>,
    pub clock: Arc<dyn Clock>,
    pub retention: SignedDuration,
    /// `--web.external-url`, as notifications link back to it.
    pub external_url: String,
}

#[derive(Debug)]
pub struct App {
    pub clock: Arc<dyn Clock>,
    pub alerts: AlertStore,
    pub silences: Silences,
    runtime: RwLock<Arc<Runtime>>,
    config_file: PathBuf,
    /// `--storage.path`, when silences and the notification log persist.
    storage_dir: Option<PathBuf>,
    pub nflog: NotificationLog,
    pub notify_metrics: NotifyMetrics,
    pub server_metrics: ServerMetrics,
    pub external_url: String,
    pub metrics: Metrics,
    pub registry: Arc<Registry>,
    /// When the process started (`uptime` in `/api/v2/status`).
    pub started: Timestamp,
    pub groups_cache: GroupsCache,
}

impl App {
    /// Loads the config file and the snapshots of silences and notification log (when a
    /// storage directory is set); an invalid config or a corrupt snapshot fails start-up as
    /// upstream's does.
    pub fn new(opts: AppOptions) -> Result<Arc<App>, StartError> {
        let AppOptions {
            config_file,
            storage_dir,
            clock,
            retention,
            external_url,
        } = opts;
        let config = Config::load_file(&config_file)?;
        let silences = Silences::new(Arc::clone(&clock), retention);
        let nflog = NotificationLog::new(retention);
        if let Some(dir) = &storage_dir {
            let path = dir.join("silences");
            let loaded = silences.load(&path)?;
            tracing::info!(file = %path.display(), silences = loaded, "Loaded silences");
            let path = dir.join("nflog");
            let loaded = nflog.load(&path, clock.now())?;
            tracing::info!(file = %path.display(), entries = loaded, "Loaded notification log");
        }
        let registry = Arc::new(Registry::new());
        let metrics = Metrics::new(&registry);
        metrics.reload_success.set(1.0);
        metrics.reload_timestamp.set_to_current_time();
        metrics.config_hash.set(config_hash(&config_file));
        let notify_metrics = NotifyMetrics::new(&registry);
        let server_metrics = ServerMetrics::new(&registry);
        registry.register(Arc::new(ProcessCollector::new()));
        let app = Arc::new(App {
            started: clock.now(),
            silences,
            clock,
            alerts: AlertStore::default(),
            runtime: RwLock::new(Arc::new(Runtime::new(config)?)),
            config_file,
            storage_dir,
            nflog,
            notify_metrics,
            server_metrics,
            external_url,
            metrics,
            registry: Arc::clone(&registry),
            groups_cache: GroupsCache::default(),
        });
        registry.register(Arc::new(StateCollector(Arc::downgrade(&app))));
        Ok(app)
    }

    /// Stores a posted alert and hands it to the dispatcher.
    pub fn put_alert(&self, alert: Alert, now: Timestamp) {
        self.put_alerts(std::iter::once(alert), now);
    }

    /// Stores a batch of posted alerts and hands them to the dispatcher of one config.
    pub fn put_alerts(&self, alerts: impl IntoIterator<Item = Alert>, now: Timestamp) {
        let runtime = self.runtime();
        let alerts = alerts.into_iter();
        // Each alert's time runs from the end of the previous one's; the summary takes them
        // all under one lock at the end.
        let mut durations = Vec::with_capacity(alerts.size_hint().0);
        self.groups_cache.forget_all();
        let mut store = self.alerts.batch();
        let mut dispatch = runtime.dispatcher.batch();
        let mut started = Instant::now();
        for alert in alerts {
            let stored = store.put(alert, now);
            dispatch.ingest(&stored, now);
            let done = Instant::now();
            durations.push(done.duration_since(started).as_secs_f64());
            started = done;
        }
        self.server_metrics
            .alert_processing_duration
            .observe_all(durations);
    }

    pub fn runtime(&self) -> Arc<Runtime> {
        Arc::clone(&self.runtime.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Re-reads the config file; on error the running config stays.
    pub fn reload(&self) -> Result<(), StartError> {
        tracing::info!(file = %self.config_file.display(), "Loading configuration file");
        let loaded = Config::load_file(&self.config_file)
            .map_err(StartError::from)
            .and_then(|config| Ok(Runtime::new(config)?));
        match loaded {
            Ok(runtime) => {
                let runtime = Arc::new(runtime);
                let old = std::mem::replace(
                    &mut *self.runtime.write().unwrap_or_else(PoisonError::into_inner),
                    Arc::clone(&runtime),
                );
                // Alerts posted from here on reach the new dispatcher; replay the rest.
                let now = self.clock.now();
                let mut replay = runtime.dispatcher.batch();
                for alert in self.alerts.snapshot() {
                    replay.ingest(&alert, now);
                }
                drop(replay);
                old.dispatcher.wake();
                self.metrics.reload_success.set(1.0);
                self.metrics.config_hash.set(config_hash(&self.config_file));
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

    /// Drops silences and log entries past their retention and writes the snapshots;
    /// upstream's maintenance pass, also run at shutdown.
    pub fn maintain(&self) {
        let (server, notify) = (&self.server_metrics, &self.notify_metrics);
        let started = Instant::now();
        let removed = self.silences.gc();
        server.silences_gc_duration.observe(seconds_since(started));
        tracing::debug!(removed, "silence GC done");
        let started = Instant::now();
        let removed = self.nflog.gc(self.clock.now());
        notify.nflog_gc_duration.observe(seconds_since(started));
        tracing::debug!(removed, "notification log GC done");
        notify.nflog_maintenance.inc();
        let Some(dir) = &self.storage_dir else { return };
        let started = Instant::now();
        match self.silences.save(&dir.join("silences")) {
            Ok(size) => {
                server
                    .silences_snapshot_duration
                    .observe(seconds_since(started));
                server.silences_snapshot_size.set(size as f64);
                tracing::debug!(size, "silences snapshot written");
            }
            Err(err) => tracing::error!(err = %err, "writing the silences snapshot failed"),
        }
        let started = Instant::now();
        match self.nflog.save(&dir.join("nflog")) {
            Ok(size) => {
                notify
                    .nflog_snapshot_duration
                    .observe(seconds_since(started));
                notify.nflog_snapshot_size.set(size as f64);
                tracing::debug!(size, "notification log snapshot written");
            }
            Err(err) => {
                self.notify_metrics.nflog_maintenance_errors.inc();
                tracing::error!(err = %err, "writing the notification log snapshot failed");
            }
        }
    }

    /// The status context for a request at the clock's time.
    pub fn muting(&self) -> Muting<'_> {
        let now = self.clock.now();
        let queried = Instant::now();
        let active_silences = self.silences.active_at(now);
        let metrics = &self.server_metrics;
        metrics.silences_queries.inc();
        metrics
            .silences_query_duration
            .observe(seconds_since(queried));
        Muting::new(now, self.runtime(), active_silences, &self.alerts)
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
        let snap = app.muting();
        // `alerts` counts the unresolved ones, `marked_alerts` every stored one. The alerts
        // are copied first: a status may need to read the store.
        let (mut current, mut marked) = ([0.0; 2], [0.0; 2]);
        for alert in app.alerts.snapshot() {
            let state = usize::from(!snap.status(&alert).is_active());
            marked[state] += 1.0;
            if !alert.resolved_at(snap.now) {
                current[state] += 1.0;
            }
        }
        for (name, help, [active, suppressed]) in [
            ("alertmanager_alerts", "How many alerts by state.", current),
            (
                "alertmanager_marked_alerts",
                "How many alerts by state are currently marked in the Alertmanager regardless of their expiry.",
                marked,
            ),
        ] {
            out.push(
                ConstFamily::new(name, help, ConstKind::Gauge)
                    .with(&[("state", "active")], active)
                    .with(&[("state", "suppressed")], suppressed)
                    .with(&[("state", "unprocessed")], 0.0)
                    .into_family(),
            );
        }
        // As upstream, only receivers some route uses count, with their integrations.
        let tree = &snap.runtime.tree;
        let used: BTreeSet<&str> = (0..tree.len())
            .map(|id| tree.node(id).opts.receiver.as_str())
            .collect();
        let integrations: usize = snap
            .runtime
            .config
            .receivers
            .iter()
            .filter(|r| used.contains(r.name.as_str()))
            .map(|r| r.integration_count())
            .sum();
        for (name, help, value) in [
            (
                "alertmanager_receivers",
                "Number of configured receivers.",
                used.len(),
            ),
            (
                "alertmanager_integrations",
                "Number of configured integrations.",
                integrations,
            ),
        ] {
            out.push(
                ConstFamily::new(name, help, ConstKind::Gauge)
                    .with(&[], value as f64)
                    .into_family(),
            );
        }
        out.push(
            ConstFamily::new(
                "alertmanager_dispatcher_aggregation_groups",
                "Number of active aggregation groups",
                ConstKind::Gauge,
            )
            .with(&[], snap.runtime.dispatcher.group_count() as f64)
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
