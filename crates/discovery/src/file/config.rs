//! The `file_sd_configs` entry.

use std::path::Path;

use pm_common::config::{Duration, join_dir};
use serde::{Deserialize, Serialize};

/// Targets read from JSON or YAML files, re-read when they change and every
/// `refresh_interval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileSdConfig {
    /// Paths; the last element may hold a `*` glob.
    pub files: Vec<String>,
    #[serde(skip_serializing_if = "crate::config::is_zero_duration")]
    pub refresh_interval: Duration,
}

impl Default for FileSdConfig {
    fn default() -> Self {
        FileSdConfig {
            files: Vec::new(),
            refresh_interval: Duration::from_secs(300),
        }
    }
}

impl FileSdConfig {
    /// Resolves relative paths against the directory of the config file, as upstream does.
    pub fn set_directory(&mut self, dir: &Path) {
        for file in &mut self.files {
            *file = join_dir(dir, file);
        }
    }
}
