//! Secrets that must never leak into logs or the `/api/v1/status/config` dump, and the `*_file`
//! convention for values that live in a file.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a secret prints as, everywhere (upstream's `secretToken`).
const REDACTED: &str = "<secret>";

/// A configuration value that is hidden when printed or serialized.
///
/// Serializing yields `<secret>` (or nothing when empty) exactly like upstream, so a config dump
/// can be shown to users; only [`Secret::expose`] gives the real value.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value, for the few places that send it somewhere.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() {
            serializer.serialize_str("")
        } else {
            serializer.serialize_str(REDACTED)
        }
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// Failure to read a secret kept in a file.
#[derive(Debug, thiserror::Error)]
#[error("unable to read file {}: {source}", path.display())]
pub struct SecretError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Where a secret comes from: written inline in the config, or kept in a file.
///
/// Files are read at use time, not at load time, so that rotated credentials are picked up
/// without a reload (upstream's `FileSecret`); surrounding whitespace is trimmed as upstream does
/// with `strings.TrimSpace`, so a trailing newline in the file is harmless.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Inline(Secret),
    File(PathBuf),
}

impl SecretSource {
    /// Picks the configured source of a `value` / `value_file` pair, inline first as upstream;
    /// `None` when neither is set. Validation that at most one is set happens elsewhere.
    pub fn from_pair(inline: &Secret, file: &str) -> Option<SecretSource> {
        if !inline.is_empty() {
            Some(SecretSource::Inline(inline.clone()))
        } else if !file.is_empty() {
            Some(SecretSource::File(PathBuf::from(file)))
        } else {
            None
        }
    }

    /// The current value; reads the file each time for file sources.
    pub fn fetch(&self) -> Result<String, SecretError> {
        match self {
            SecretSource::Inline(secret) => Ok(secret.expose().to_owned()),
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map(|text| text.trim().to_owned())
                .map_err(|source| SecretError {
                    path: path.clone(),
                    source,
                }),
        }
    }

    /// Whether the value can change between calls to [`SecretSource::fetch`].
    pub fn is_immutable(&self) -> bool {
        matches!(self, SecretSource::Inline(_))
    }

    /// Names the source without revealing it, for error messages (`inline` or `file <path>`).
    pub fn description(&self) -> String {
        match self {
            SecretSource::Inline(_) => "inline".to_owned(),
            SecretSource::File(path) => format!("file {}", path.display()),
        }
    }
}

/// Resolves a path from a config file against the file's directory (upstream's `JoinDir`):
/// empty and absolute paths are kept as they are.
pub fn join_dir(dir: &Path, path: &str) -> String {
    if path.is_empty() || Path::new(path).is_absolute() {
        return path.to_owned();
    }
    dir.join(path).to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_everywhere_but_expose() {
        let s = Secret::new("hunter2");
        assert_eq!(s.to_string(), "<secret>");
        assert_eq!(format!("{s:?}"), "<secret>");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"<secret>\"");
        assert_eq!(serde_json::to_string(&Secret::default()).unwrap(), "\"\"");
        assert_eq!(s.expose(), "hunter2");
        let parsed: Secret = serde_norway::from_str("hunter2").unwrap();
        assert_eq!(parsed, s);
    }

    #[test]
    fn file_secrets_are_read_at_use_time_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "  first\n").unwrap();
        let source = SecretSource::from_pair(&Secret::default(), path.to_str().unwrap()).unwrap();
        assert!(!source.is_immutable());
        assert_eq!(source.fetch().unwrap(), "first");
        std::fs::write(&path, "second\r\n").unwrap();
        assert_eq!(source.fetch().unwrap(), "second");
        std::fs::remove_file(&path).unwrap();
        let err = source.fetch().unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("unable to read file {}: ", path.display())),
            "{err}"
        );
    }

    #[test]
    fn inline_wins_and_empty_pair_is_none() {
        let inline = SecretSource::from_pair(&Secret::new("x"), "/f").unwrap();
        assert_eq!(inline.fetch().unwrap(), "x");
        assert_eq!(inline.description(), "inline");
        assert!(SecretSource::from_pair(&Secret::default(), "").is_none());
        assert_eq!(SecretSource::File("/a/b".into()).description(), "file /a/b");
    }

    #[test]
    fn join_dir_resolves_relative_paths_only() {
        let dir = Path::new("/etc/prometheus");
        assert_eq!(join_dir(dir, "token"), "/etc/prometheus/token");
        assert_eq!(join_dir(dir, "sub/token"), "/etc/prometheus/sub/token");
        assert_eq!(join_dir(dir, "/abs/token"), "/abs/token");
        assert_eq!(join_dir(dir, ""), "");
    }
}
