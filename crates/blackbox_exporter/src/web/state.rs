//! The daemon's shared state: the current config (swapped atomically on reload), the probe
//! history and the exporter's own metrics.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use pm_common::config::yaml::YamlError;
use pm_common::expfmt::dto;
use pm_common::metrics::{Collector, Counter, Gauge, Opts, Registry};
use pm_common::process::{ProcessCollector, build_info_family};

use super::history::History;
use crate::config::Config;
use crate::prober::Level;

/// Settings taken from flags.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config_file: PathBuf,
    pub timeout_offset: f64,
    pub history_limit: usize,
    /// `--log.prober`: probe log lines at or above this level also go to the daemon log.
    pub prober_log_level: Level,
    /// With a leading and trailing `/` (just `/` when unset).
    pub route_prefix: String,
}

pub struct AppState {
    pub settings: Settings,
    config: RwLock<Arc<Config>>,
    pub history: History,
    pub registry: Arc<Registry>,
    pub module_unknown: Counter,
    reload_success: Gauge,
    reload_timestamp: Gauge,
}

struct BuildInfo;

impl Collector for BuildInfo {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        out.push(build_info_family(
            "blackbox_exporter",
            env!("CARGO_PKG_VERSION"),
            "unknown",
            "unknown",
        ));
    }
}

impl AppState {
    /// Loads the config file; fails as upstream does at start-up when it is invalid.
    pub fn new(settings: Settings) -> Result<Arc<Self>, YamlError> {
        let registry = Arc::new(Registry::new());
        let metric = |name: &str, help: &str| Opts::new(name, help);
        let module_unknown = registry
            .counter(metric(
                "blackbox_module_unknown_total",
                "Count of unknown modules requested by probes",
            ))
            .expect("distinct metric names");
        let reload_success = registry
            .gauge(metric(
                "blackbox_exporter_config_last_reload_successful",
                "Blackbox exporter config loaded successfully.",
            ))
            .expect("distinct metric names");
        let reload_timestamp = registry
            .gauge(metric(
                "blackbox_exporter_config_last_reload_success_timestamp_seconds",
                "Timestamp of the last successful configuration reload.",
            ))
            .expect("distinct metric names");
        registry.register(Arc::new(ProcessCollector::new()));
        registry.register(Arc::new(BuildInfo));
        let config = Config::load(&settings.config_file)?;
        reload_success.set(1.0);
        reload_timestamp.set_to_current_time();
        Ok(Arc::new(AppState {
            history: History::new(settings.history_limit),
            settings,
            config: RwLock::new(Arc::new(config)),
            registry,
            module_unknown,
            reload_success,
            reload_timestamp,
        }))
    }

    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Re-reads the config file; on error the running config stays.
    pub fn reload(&self) -> Result<(), YamlError> {
        match Config::load(&self.settings.config_file) {
            Ok(config) => {
                *self.config.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
                self.reload_success.set(1.0);
                self.reload_timestamp.set_to_current_time();
                tracing::info!("Reloaded config file");
                Ok(())
            }
            Err(err) => {
                self.reload_success.set(0.0);
                tracing::error!(err = %err, "Error reloading config");
                Err(err)
            }
        }
    }
}
