//! `/api/v1/status/*`: the loaded config, the flags, runtime and build information.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use axum::extract::State;
use jiff::Timestamp;

use super::ApiState;
use super::json::{push_str, push_str_object};
use super::response::{ApiError, ApiResponse, ErrorType};
use crate::config::Config;

/// What the daemon knows about itself that the status endpoints show; the daemon updates it
/// on every (re)load.
#[derive(Debug)]
pub struct ServerStatus {
    config: RwLock<Arc<Config>>,
    reload_success: AtomicBool,
    last_config_time: RwLock<Timestamp>,
    start_time: Timestamp,
    cwd: String,
    /// Every flag with its value, sorted by name.
    flags: Vec<(&'static str, String)>,
    /// `15d`, `1GiB` or `15d or 1GiB`, as upstream shows the retention.
    storage_retention: String,
}

impl ServerStatus {
    pub fn new(
        config: Arc<Config>,
        mut flags: Vec<(&'static str, String)>,
        storage_retention: String,
    ) -> Self {
        flags.sort_unstable_by_key(|(k, _)| *k);
        Self {
            config: RwLock::new(config),
            reload_success: AtomicBool::new(true),
            last_config_time: RwLock::new(Timestamp::now()),
            start_time: Timestamp::now(),
            cwd: std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            flags,
            storage_retention,
        }
    }

    pub fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records a successful (re)load of `config`.
    pub fn set_config(&self, config: Arc<Config>) {
        *self.config.write().unwrap_or_else(PoisonError::into_inner) = config;
        *self
            .last_config_time
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Timestamp::now();
        self.reload_success.store(true, Ordering::Release);
    }

    /// Records a failed reload; the old config stays.
    pub fn set_reload_failed(&self) {
        self.reload_success.store(false, Ordering::Release);
    }

    pub fn reload_success(&self) -> bool {
        self.reload_success.load(Ordering::Acquire)
    }

    pub fn last_config_time(&self) -> Timestamp {
        *self
            .last_config_time
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Go's `time.Time` JSON form (RFC 3339 with the nanoseconds it has, trailing zeros trimmed).
fn push_time(out: &mut String, t: Timestamp) {
    push_str(out, &t.to_string());
}

pub async fn config(State(state): State<Arc<ApiState>>) -> ApiResponse {
    match state.status.config().to_yaml() {
        Ok(yaml) => {
            let mut out = String::from("{\"yaml\":");
            push_str(&mut out, &yaml);
            out.push('}');
            ApiResponse::data(out)
        }
        Err(e) => ApiError::new(ErrorType::Internal, e.to_string()).into(),
    }
}

pub async fn flags(State(state): State<Arc<ApiState>>) -> ApiResponse {
    let mut out = String::new();
    push_str_object(&mut out, &state.status.flags);
    ApiResponse::data(out)
}

pub async fn runtime_info(State(state): State<Arc<ApiState>>) -> ApiResponse {
    let s = &state.status;
    let mut out = String::from("{\"startTime\":");
    push_time(&mut out, s.start_time);
    out.push_str(",\"CWD\":");
    push_str(&mut out, &s.cwd);
    out.push_str(",\"hostname\":");
    push_str(
        &mut out,
        &std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default(),
    );
    out.push_str(",\"serverTime\":");
    push_time(&mut out, Timestamp::now());
    out.push_str(&format!(",\"reloadConfigSuccess\":{}", s.reload_success()));
    out.push_str(",\"lastConfigTime\":");
    push_time(&mut out, s.last_config_time());
    // The Go runtime fields have Tokio counterparts where there is one: tasks for
    // goroutines, worker threads for GOMAXPROCS; no GC, so no memory limit or GOGC.
    let metrics = tokio::runtime::Handle::current().metrics();
    out.push_str(&format!(
        ",\"corruptionCount\":0,\"goroutineCount\":{},\"GOMAXPROCS\":{},\"GOMEMLIMIT\":{},\"GOGC\":\"\",\"GODEBUG\":\"\",\"storageRetention\":",
        metrics.num_alive_tasks(),
        metrics.num_workers(),
        i64::MAX
    ));
    push_str(&mut out, &s.storage_retention);
    out.push('}');
    ApiResponse::data(out)
}

pub async fn build_info() -> ApiResponse {
    let mut out = String::new();
    push_str_object(
        &mut out,
        &[
            ("version", env!("CARGO_PKG_VERSION")),
            ("revision", "unknown"),
            ("branch", "unknown"),
            ("buildUser", ""),
            ("buildDate", ""),
            ("goVersion", ""),
        ],
    );
    ApiResponse::data(out)
}

/// Upstream's retention string: the time (`15d`), the size (`1GiB`), or both joined by `or`.
pub fn retention_string(time: std::time::Duration, size: Option<u64>) -> String {
    let mut parts = Vec::new();
    if !time.is_zero() {
        parts.push(pm_common::config::Duration::from(time).to_string());
    }
    if let Some(bytes) = size.filter(|b| *b > 0) {
        const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        let mut unit = 0;
        let mut value = bytes;
        while unit + 1 < UNITS.len() && value % 1024 == 0 {
            value /= 1024;
            unit += 1;
        }
        parts.push(format!("{value}{}", UNITS[unit]));
    }
    parts.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retention_strings() {
        assert_eq!(
            retention_string(Duration::from_secs(15 * 86400), None),
            "15d"
        );
        assert_eq!(retention_string(Duration::ZERO, Some(1 << 30)), "1GiB");
        assert_eq!(
            retention_string(Duration::from_secs(3600), Some(1536)),
            "1h or 1536B"
        );
    }
}
