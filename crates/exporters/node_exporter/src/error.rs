//! Why a collector could not report.

use std::io;
use std::path::PathBuf;

/// A collector's failure. It marks only that collector as failed for the scrape
/// (`node_scrape_collector_success 0`); the other collectors still report.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    #[error("failed to read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to parse {path}: {reason}")]
    Parse { path: PathBuf, reason: String },
    /// The source exists on some systems only (no bonding, no InfiniBand…); upstream logs
    /// these at debug level instead of as errors.
    #[error("no data: {0}")]
    NoData(String),
    /// Boxed: zbus's error is large and every collector returns this type.
    #[error("D-Bus: {context}: {source}")]
    Dbus {
        context: String,
        #[source]
        source: Box<zbus::Error>,
    },
}

impl CollectorError {
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub fn parse(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Parse {
            path: path.into(),
            reason: reason.into(),
        }
    }

    pub fn dbus(context: impl Into<String>, source: zbus::Error) -> Self {
        Self::Dbus {
            context: context.into(),
            source: Box::new(source),
        }
    }

    /// Whether upstream treats this as "no data" rather than an error worth logging loudly.
    pub fn is_no_data(&self) -> bool {
        match self {
            Self::NoData(_) => true,
            Self::Io { source, .. } => source.kind() == io::ErrorKind::NotFound,
            Self::Parse { .. } | Self::Dbus { .. } => false,
        }
    }
}

/// A flag value that cannot be used (an invalid regular expression, an unknown collector).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("flag --{flag}: invalid regular expression {pattern:?}: {source}")]
    Regex {
        flag: &'static str,
        pattern: String,
        #[source]
        source: regex::Error,
    },
    #[error("flag --{flag}: {reason}")]
    Invalid { flag: &'static str, reason: String },
}
