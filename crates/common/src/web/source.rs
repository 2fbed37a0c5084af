//! The web config as the server uses it: validated once at start-up and then re-read whenever
//! the file (or a certificate, key or CA file it names) changes.
//!
//! Upstream re-reads the file on every request and every TLS handshake so that rotated
//! certificates and changed users apply without a restart. We keep that behaviour but pay for
//! a parse only when a `stat` shows that something changed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::ServerConfig;

use super::config::WebConfig;
use super::error::ConfigError;
use super::tls;

/// A parsed and fully checked web config, with the TLS configuration built from it.
#[derive(Debug)]
pub struct LoadedConfig {
    pub config: WebConfig,
    /// `None` when the file has no TLS settings.
    pub tls: Option<Arc<ServerConfig>>,
}

impl LoadedConfig {
    /// Loads and checks everything upstream checks before serving: syntax, headers, password
    /// hashes, and the TLS material (files readable, key matching the certificate, policy).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::from_config(WebConfig::from_file(path)?)
    }

    /// Checks an already parsed config and builds its TLS configuration.
    pub fn from_config(config: WebConfig) -> Result<Self, ConfigError> {
        config.validate_users()?;
        let tls = tls::server_config(&config.tls_server_config, config.http_server_config.http2)?;
        Ok(Self { config, tls })
    }
}

/// Checks a web config file the way `promtool check web-config` does.
pub fn check_web_config(path: &Path) -> Result<(), ConfigError> {
    LoadedConfig::load(path).map(drop)
}

/// Identity of a file's content as far as `stat` can tell.
type Stamp = Option<(u64, SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((meta.len(), meta.modified().ok()?, inode))
}

/// A web config file watched for changes.
#[derive(Debug)]
pub(crate) struct ConfigSource {
    path: PathBuf,
    cached: Mutex<Cached>,
}

#[derive(Debug)]
struct Cached {
    stamps: Vec<Stamp>,
    loaded: Arc<LoadedConfig>,
}

impl ConfigSource {
    /// Loads the file, failing if it is not valid now.
    pub(crate) fn open(path: PathBuf) -> Result<(Self, Arc<LoadedConfig>), ConfigError> {
        let (stamps, loaded) = Self::load_stamped(&path)?;
        let cached = Mutex::new(Cached {
            stamps,
            loaded: loaded.clone(),
        });
        Ok((Self { path, cached }, loaded))
    }

    /// The config as the files are now. A file that became invalid is an error for this caller
    /// (the request fails, the handshake is refused) and is tried again on the next call, as
    /// upstream does.
    pub(crate) fn current(&self) -> Result<Arc<LoadedConfig>, ConfigError> {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if Self::stamps(&self.path, &cached.loaded.config) == cached.stamps {
            return Ok(cached.loaded.clone());
        }
        let (stamps, loaded) = Self::load_stamped(&self.path)?;
        *cached = Cached {
            stamps,
            loaded: loaded.clone(),
        };
        Ok(loaded)
    }

    fn load_stamped(path: &Path) -> Result<(Vec<Stamp>, Arc<LoadedConfig>), ConfigError> {
        // Stamp before reading each file: a change racing with the load is then seen on the
        // next call rather than lost.
        let before = stamp(path);
        let config = WebConfig::from_file(path)?;
        let mut stamps = Self::stamps(path, &config);
        stamps[0] = before;
        Ok((stamps, Arc::new(LoadedConfig::from_config(config)?)))
    }

    fn stamps(path: &Path, config: &WebConfig) -> Vec<Stamp> {
        std::iter::once(stamp(path))
            .chain(config.tls_server_config.referenced_files().map(stamp))
            .collect()
    }
}
