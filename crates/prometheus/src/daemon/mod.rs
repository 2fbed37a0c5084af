//! The `prometheus` daemon: loads the config, serves HTTP at once (503 on `/-/ready` and the
//! API until the storage is open), opens the TSDB (replaying the WAL), applies the config to
//! whatever is plugged in, then reloads on SIGHUP or `POST /-/reload` and stops cleanly on
//! SIGTERM or `POST /-/quit`, closing the database so the WAL is complete.
//!
//! Subsystems the lead wires in later (scrape manager, service discovery) plug in through
//! [`Plugins`]: reloaders called with each new config, a [`TargetsSource`] for the targets and
//! metadata APIs, and callbacks given the opened database.

pub mod flags;
mod notifier;
pub mod remote;
pub mod rules;
mod scraping;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use pm_common::metrics::Registry;
use pm_common::model::GoRegex;
use pm_common::web::{Readiness, ReloadSignals, ServeError, Server, shutdown_signal};
use pm_promql::engine::{Engine, EngineOptions};
use pm_promql::parser::ParserOptions;
use pm_storage::Queryable;
use pm_tsdb::db::{Db, DbError};
use pm_tsdb::head::WalReplayProgress;
use tokio::sync::{Notify, mpsc};

use crate::config::{self, Config, ConfigError};
use crate::remote::read_storage::{ReadFanout, RemoteReads};
use crate::web::api::v1::alertmanagers::AlertmanagersSource;
use crate::web::api::v1::query_log::QueryLog;
use crate::web::api::v1::rules::RulesSource;
use crate::web::api::v1::status::{ServerStatus, retention_string};
use crate::web::api::v1::targets::TargetsSource;
use crate::web::api::v1::tsdb::TsdbState;
use crate::web::api::v1::{ApiState, Storage, StorageSlot};
use crate::web::federate::FederationState;
use crate::web::metrics::ServerMetrics;
use crate::web::{ReloadRequest, WebOptions};
pub use flags::Flags;
pub use notifier::plugins as notifier_plugins;
pub use scraping::plugins;

/// Applies a newly loaded config to one subsystem; an `Err` fails the reload (the other
/// reloaders still run, as upstream's do).
pub type Reloader = Box<dyn Fn(&Config) -> Result<(), String> + Send + Sync>;

/// What a subsystem is given once the database is open.
pub struct Services<'a> {
    pub db: Arc<Db>,
    /// The database merged with the `remote_read` endpoints: what queries read (the API's
    /// and the rules').
    pub queryable: Arc<dyn Queryable>,
    /// For the subsystem's own metrics.
    pub registry: &'a Registry,
    /// The query engine the API uses; clones share its concurrency limit and metrics.
    pub engine: Engine,
    /// The `prometheus_sd_*` metrics every discovery manager (scrape, notify) shares.
    pub discovery_metrics: Arc<pm_discovery::Metrics>,
    pub flags: &'a Flags,
}

/// Starts a subsystem once the database is open (e.g. scraping into it). Whatever it keeps
/// must be released by an [`OnStop`] hook.
pub type OnStorage = Box<dyn FnOnce(&Services<'_>) + Send>;

/// Run at shutdown, after HTTP has drained and before the database closes, so that nothing
/// still appends to it (e.g. the scrape loops stop here).
pub type OnStop = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// The subsystems plugged into the daemon; [`Plugins::and`] combines several.
#[derive(Default)]
pub struct Plugins {
    /// Named for the logs, called in order on the initial load and every reload.
    pub reloaders: Vec<(&'static str, Reloader)>,
    pub targets: Option<Arc<dyn TargetsSource>>,
    /// Backs `/api/v1/alertmanagers`.
    pub alertmanagers: Option<Arc<dyn AlertmanagersSource>>,
    /// Backs the rules and alerts APIs.
    pub rules: Option<Arc<dyn RulesSource>>,
    pub on_storage: Vec<OnStorage>,
    pub on_stop: Vec<OnStop>,
}

impl Plugins {
    /// Both sets of subsystems; `self`'s reloaders and hooks run first. At most one of the
    /// two may back each of the targets, Alertmanagers and rules APIs.
    pub fn and(mut self, other: Plugins) -> Plugins {
        self.reloaders.extend(other.reloaders);
        self.targets = self.targets.or(other.targets);
        self.alertmanagers = self.alertmanagers.or(other.alertmanagers);
        self.rules = self.rules.or(other.rules);
        self.on_storage.extend(other.on_storage);
        self.on_stop.extend(other.on_stop);
        self
    }
}

/// Why the daemon could not start or stop cleanly; [`DaemonError::exit_code`] is upstream's.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("Error loading config (--config.file={path}): {source}", path = path.display())]
    Config {
        path: PathBuf,
        #[source]
        source: ConfigError,
    },
    #[error("invalid --web.cors.origin: {0}")]
    CorsOrigin(String),
    #[error("Error starting web server: {0}")]
    Web(#[from] ServeError),
    #[error("Opening storage failed: {0}")]
    Storage(#[source] DbError),
    #[error("Error loading config: {0}")]
    InitialReload(String),
    #[error("registering metrics: {0}")]
    Metrics(String),
    #[error("Error closing storage: {0}")]
    Close(#[source] DbError),
    #[error("storage task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

impl DaemonError {
    /// 2 for a config that does not load at start, as upstream; 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            DaemonError::Config { .. } => 2,
            _ => 1,
        }
    }
}

/// How long the daemon waits, at shutdown, for in-flight queries to let go of the database.
const CLOSE_WAIT: Duration = Duration::from_secs(30);

/// Runs the server until SIGTERM/SIGINT or `/-/quit`.
pub async fn run(flags: Flags, plugins: Plugins) -> Result<(), DaemonError> {
    let features = flags.features();
    let initial = load_config(&flags.config_path)?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "Starting Prometheus Server"
    );

    let metrics = ServerMetrics::new();
    crate::template::register_metrics(&metrics.registry);
    let readiness = Readiness::default();
    let storage: StorageSlot = Arc::new(OnceLock::new());
    let status = Arc::new(ServerStatus::new(
        Arc::new(initial.clone()),
        flags.values(),
        retention_string(flags.retention(), flags.retention_size),
    ));
    let engine = Engine::with_metrics(
        EngineOptions {
            lookback_delta: millis(flags.lookback_delta),
            max_samples: flags.query_max_samples,
            timeout: Some(flags.query_timeout),
            enable_delayed_name_removal: features.promql_delayed_name_removal,
            enable_per_step_stats: features.promql_per_step_stats,
            enable_type_and_unit_labels: features.type_and_unit_labels,
            parser: ParserOptions {
                enable_experimental_functions: features.promql_experimental_functions,
                ..ParserOptions::default()
            },
            default_subquery_step: millis(initial.global.evaluation_interval.as_std()),
            max_concurrency: Some(flags.query_max_concurrency.max(1)),
            ..EngineOptions::default()
        },
        &metrics.registry,
    )
    .map_err(|e| DaemonError::Metrics(e.to_string()))?;
    let cors_origin =
        GoRegex::new(&flags.cors_origin).map_err(|e| DaemonError::CorsOrigin(e.to_string()))?;
    let query_log = Arc::new(
        QueryLog::new(&metrics.registry).map_err(|e| DaemonError::Metrics(e.to_string()))?,
    );
    let (reload_tx, mut reload_rx) = mpsc::channel::<ReloadRequest>(1);
    let quit = Arc::new(Notify::new());
    let replay = Arc::new(WalReplayProgress::default());
    let router = crate::web::router(WebOptions {
        prefix: flags.route_prefix(),
        enable_lifecycle: flags.enable_lifecycle,
        cors_origin,
        readiness: readiness.clone(),
        metrics: metrics.clone(),
        api: Arc::new(ApiState {
            storage: storage.clone(),
            engine: engine.clone(),
            status: status.clone(),
            targets: plugins.targets.clone(),
            tsdb: TsdbState {
                dir: flags.tsdb_path.clone(),
                enable_admin: flags.enable_admin_api,
                replay: replay.clone(),
            },
            alertmanagers: plugins.alertmanagers.clone(),
            remote: Arc::new(flags.remote_api()),
            rules: plugins.rules.clone(),
            query_log: query_log.clone(),
        }),
        federation: Arc::new(FederationState {
            storage: storage.clone(),
            status: status.clone(),
            lookback: millis(flags.lookback_delta),
        }),
        reload: reload_tx,
        quit: quit.clone(),
    });

    let server = Server::bind(&flags.web).await?;
    let stop_http = Arc::new(Notify::new());
    let http = {
        let stop = stop_http.clone();
        tokio::spawn(server.run(router, async move { stop.notified().await }))
    };

    let mut db_options = flags.db_options();
    db_options.out_of_order_time_window =
        millis(initial.storage.tsdb.out_of_order_time_window.as_std());
    if features.exemplar_storage {
        db_options.max_exemplars = initial
            .storage
            .exemplars
            .as_ref()
            .map_or(0, |e| usize::try_from(e.max_exemplars).unwrap_or(0));
    }
    let path = flags.tsdb_path.clone();
    let registry = metrics.registry.clone();
    tracing::info!(path = %path.display(), "Starting TSDB ...");
    let began = Instant::now();
    let opened = tokio::task::spawn_blocking(move || {
        Db::open_with_progress(&path, db_options, &registry, replay)
    })
    .await?;
    let db = match opened {
        Ok(db) => Arc::new(db),
        Err(e) => {
            stop(&stop_http, http).await;
            return Err(DaemonError::Storage(e));
        }
    };
    tracing::info!(duration = ?began.elapsed(), "TSDB started");
    let compaction = db.start_background_compaction(Duration::from_secs(60));
    let remote_reads = Arc::new(RemoteReads::new(tokio::runtime::Handle::current()));
    let queryable: Arc<dyn Queryable> = Arc::new(ReadFanout {
        local: db.clone(),
        remotes: remote_reads.clone(),
        start_margin_ms: 2 * millis(flags.min_block_duration),
    });
    let _ = storage.set(Storage {
        queryable: queryable.clone(),
        ..Storage::of_db(db.clone())
    });
    let discovery_metrics = match pm_discovery::Metrics::register(&metrics.registry) {
        Ok(m) => Arc::new(m),
        Err(e) => {
            stop(&stop_http, http).await;
            return Err(DaemonError::Metrics(e.to_string()));
        }
    };
    let services = Services {
        db: db.clone(),
        queryable,
        registry: &metrics.registry,
        engine,
        discovery_metrics,
        flags: &flags,
    };
    for hook in plugins.on_storage {
        hook(&services);
    }
    drop(services);
    let read_reloader: Reloader = Box::new(move |cfg: &Config| remote_reads.apply_config(cfg));
    let log_reloader: Reloader = Box::new(move |cfg: &Config| {
        query_log
            .apply(&cfg.global.query_log_file)
            .map_err(|e| e.to_string())
    });
    let mut reloaders = vec![
        ("query_engine", log_reloader),
        ("remote_read", read_reloader),
    ];
    reloaders.extend(plugins.reloaders);
    let reloader = ConfigReloader {
        path: &flags.config_path,
        status: &status,
        metrics: &metrics,
        reloaders: &reloaders,
    };
    if let Err(e) = reloader.apply(initial) {
        stop(&stop_http, http).await;
        return Err(DaemonError::InitialReload(e));
    }
    readiness.set_ready(true);
    metrics.ready.set(1.0);
    tracing::info!("Server is ready to receive web requests.");

    let mut hup = ReloadSignals::new().ok();
    let terminate = shutdown_signal();
    tokio::pin!(terminate);
    loop {
        tokio::select! {
            () = &mut terminate => break,
            () = quit.notified() => {
                tracing::warn!("Received termination request via web service, exiting gracefully...");
                break;
            }
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => None } } => {
                if let Err(e) = reloader.reload() {
                    tracing::error!(err = %e, "Error reloading config");
                }
            }
            Some(answer) = reload_rx.recv() => {
                let _ = answer.send(reloader.reload());
            }
        }
    }

    readiness.set_ready(false);
    metrics.ready.set(0.0);
    stop(&stop_http, http).await;
    tracing::info!("Stopping scrape discovery manager...");
    for hook in plugins.on_stop {
        hook().await;
    }
    drop(reloaders);
    drop(compaction);
    // The slot holds the last other handle on the database, now that the routes are gone.
    drop(storage);
    close(db).await
}

/// Signals the HTTP server to stop and waits while it drains.
async fn stop(stop_http: &Notify, http: tokio::task::JoinHandle<()>) {
    stop_http.notify_one();
    if let Err(e) = http.await {
        tracing::error!(err = %e, "HTTP server task failed");
    }
}

/// Closes the database once every in-flight reader has let go (bounded by [`CLOSE_WAIT`]).
async fn close(mut db: Arc<Db>) -> Result<(), DaemonError> {
    let deadline = Instant::now() + CLOSE_WAIT;
    loop {
        match Arc::try_unwrap(db) {
            Ok(db) => {
                tokio::task::spawn_blocking(move || db.close())
                    .await?
                    .map_err(DaemonError::Close)?;
                tracing::info!("TSDB closed, see you next time!");
                return Ok(());
            }
            Err(shared) if Instant::now() < deadline => {
                db = shared;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(_) => {
                tracing::error!("TSDB still in use at shutdown; leaving the WAL as written");
                return Ok(());
            }
        }
    }
}

fn load_config(path: &Path) -> Result<Config, DaemonError> {
    config::load_file(path, false).map_err(|source| DaemonError::Config {
        path: path.to_owned(),
        source,
    })
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Loads and applies the config file, recording the outcome in the status and metrics.
struct ConfigReloader<'a> {
    path: &'a Path,
    status: &'a ServerStatus,
    metrics: &'a ServerMetrics,
    reloaders: &'a [(&'static str, Reloader)],
}

impl ConfigReloader<'_> {
    fn reload(&self) -> Result<(), String> {
        tracing::info!(filename = %self.path.display(), "Loading configuration file");
        match config::load_file(self.path, false) {
            Ok(config) => self.apply(config),
            Err(e) => {
                self.failed();
                Err(format!(
                    "couldn't load configuration (--config.file={:?}): {e}",
                    self.path.display().to_string()
                ))
            }
        }
    }

    fn apply(&self, config: Config) -> Result<(), String> {
        let mut ok = true;
        for (name, reloader) in self.reloaders {
            if let Err(e) = reloader(&config) {
                tracing::error!(initializer = name, err = %e, "Failed to apply configuration");
                ok = false;
            }
        }
        if !ok {
            self.failed();
            return Err(format!(
                "one or more errors occurred while applying the new configuration (--config.file={:?})",
                self.path.display().to_string()
            ));
        }
        self.status.set_config(Arc::new(config));
        self.metrics.config_success.set(1.0);
        self.metrics.config_success_time.set_to_current_time();
        tracing::info!(filename = %self.path.display(), "Completed loading of configuration file");
        Ok(())
    }

    fn failed(&self) {
        self.status.set_reload_failed();
        self.metrics.config_success.set(0.0);
    }
}
