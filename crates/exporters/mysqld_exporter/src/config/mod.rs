//! The client configuration: `--config.my-cnf` sections, completed by `--mysqld.address`,
//! `--mysqld.username` and `MYSQLD_EXPORTER_PASSWORD`, as upstream's (0.15+) loader does.
//!
//! `[client]` serves `/metrics` and is `/probe`'s default `auth_module`; any other section
//! (`[client.servers]` inheriting from `[client]`) can be named by `auth_module`. A missing
//! file is not an error, so flags and the environment alone can configure the exporter.

mod ini;
mod section;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use ini::Ini;
pub use section::{Section, Tls};

use crate::error::ConfigError;

/// The section `/metrics` uses.
pub const CLIENT: &str = "client";

/// The environment variable that gives `[client]` a password.
pub const PASSWORD_ENV: &str = "MYSQLD_EXPORTER_PASSWORD";

/// What the loader takes from the command line.
#[derive(Debug, Clone)]
pub struct Sources {
    pub my_cnf: PathBuf,
    /// `host:port` or `unix:///path/to.sock`.
    pub address: String,
    pub username: String,
    /// `--tls.insecure-skip-verify`, the default of every section's `ssl-skip-verfication`.
    pub insecure_skip_verify: bool,
}

/// Every valid section, by name.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    pub sections: BTreeMap<String, Section>,
}

impl ClientConfig {
    /// Reads the file and applies the flags; sections that do not validate are logged and
    /// left out, and having none left is an error.
    pub fn load(sources: &Sources) -> Result<Self, ConfigError> {
        let mut ini = Ini::default();
        ini.set(CLIENT, "password", format!("${{{PASSWORD_ENV}}}"));
        match std::fs::read_to_string(&sources.my_cnf) {
            Ok(text) => ini.merge(&sources.my_cnf, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(ConfigError::Read {
                    path: sources.my_cnf.clone(),
                    source,
                });
            }
        }
        Self::from_ini(ini, sources)
    }

    fn from_ini(mut ini: Ini, sources: &Sources) -> Result<Self, ConfigError> {
        let unset = |ini: &Ini, key| ini.own(CLIENT, key).is_none_or(str::is_empty);
        if let Some(socket) = sources.address.strip_prefix("unix://") {
            if unset(&ini, "socket") {
                ini.set(CLIENT, "socket", socket.to_owned());
            }
        } else {
            let (host, port) = split_host_port(&sources.address)
                .ok_or_else(|| ConfigError::Address(sources.address.clone()))?;
            if unset(&ini, "host") {
                ini.set(CLIENT, "host", host.to_owned());
            }
            if unset(&ini, "port") {
                ini.set(CLIENT, "port", port.to_owned());
            }
        }
        if unset(&ini, "user") {
            ini.set(CLIENT, "user", sources.username.clone());
        }
        ini.expand_env();
        let mut sections = BTreeMap::new();
        for (name, _) in &ini.sections {
            if name == ini::DEFAULT_SECTION {
                continue;
            }
            match Section::from_ini(&ini, name, sources.insecure_skip_verify) {
                Ok(section) => {
                    sections.insert(name.clone(), section);
                }
                Err(err) => {
                    tracing::error!(section = %name, %err, "failed to validate config");
                }
            }
        }
        if sections.is_empty() {
            return Err(ConfigError::Empty);
        }
        Ok(Self { sections })
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.get(name)
    }
}

/// Go's `net.SplitHostPort`: `host:port` or `[v6]:port`.
pub fn split_host_port(address: &str) -> Option<(&str, &str)> {
    let (host, port) = address.rsplit_once(':')?;
    let host = match host.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']')?,
        None if host.contains(':') => return None,
        None => host,
    };
    Some((host, port))
}

/// `$HOME/.my.cnf`, the default of `--config.my-cnf` (Debian's 0.14 release).
pub fn default_my_cnf() -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    Path::new(&home)
        .join(".my.cnf")
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests;
