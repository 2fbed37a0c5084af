//! The one place YAML is parsed, so every daemon reports config errors the same way.
//!
//! Errors name the file, the line and column, and the field path (`scrape_configs[0]: unknown
//! field ...`), because "invalid config" without a position is useless on a 500-line file.
//! Structs opt into strictness themselves with `#[serde(deny_unknown_fields)]`; duplicate
//! mapping keys are always refused, as upstream's `yaml.UnmarshalStrict` does.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// A config file that could not be read, parsed or validated.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    #[error("reading YAML file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing YAML file {}: line {line} column {column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// Parse errors without a position (rare: e.g. an error raised after the whole document).
    #[error("parsing YAML file {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    /// The document parsed but its content is inconsistent.
    #[error("{}: {source}", path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Parses `text`; `path` only names the source in errors.
///
/// A document with no content (empty, or only comments) is read as an empty mapping, so types
/// whose fields all have defaults yield their default, as upstream does for an empty file.
pub fn from_str<T: DeserializeOwned>(text: &str, path: impl AsRef<Path>) -> Result<T, YamlError> {
    let path = path.as_ref();
    // Typed deserialization silently keeps the last of two equal map keys; the generic value
    // refuses them (with a position), so it serves as the strictness check.
    serde_norway::from_str::<serde_norway::Value>(text).map_err(|err| convert(path, err))?;
    match serde_norway::from_str(text) {
        Ok(value) => Ok(value),
        Err(err) if is_empty_document(text) => {
            serde_norway::from_str("{}").map_err(|_| convert(path, err))
        }
        Err(err) => Err(convert(path, err)),
    }
}

/// Reads and parses the file at `path`.
pub fn load_file<T: DeserializeOwned>(path: impl AsRef<Path>) -> Result<T, YamlError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| YamlError::Read {
        path: path.to_owned(),
        source,
    })?;
    from_str(&text, path)
}

/// Runs a post-load check and attaches the file name to its error, so a message such as
/// `at most one of basic_auth, oauth2 & authorization must be configured` says which file.
pub fn validate<T, E>(
    path: impl AsRef<Path>,
    mut value: T,
    check: impl FnOnce(&mut T) -> Result<(), E>,
) -> Result<T, YamlError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match check(&mut value) {
        Ok(()) => Ok(value),
        Err(err) => Err(YamlError::Invalid {
            path: path.as_ref().to_owned(),
            source: Box::new(err),
        }),
    }
}

fn is_empty_document(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    })
}

fn convert(path: &Path, err: serde_norway::Error) -> YamlError {
    let path = path.to_owned();
    let mut message = err.to_string();
    match err.location() {
        Some(location) => {
            // The library appends the position to its message; we lead with it instead.
            let suffix = format!(" at line {} column {}", location.line(), location.column());
            if let Some(stripped) = message.strip_suffix(&suffix) {
                message.truncate(stripped.len());
            }
            YamlError::Syntax {
                path,
                line: location.line(),
                column: location.column(),
                message,
            }
        }
        None => YamlError::Parse { path, message },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Global {
        scrape_interval: String,
        labels: BTreeMap<String, String>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Root {
        global: Global,
        jobs: Vec<Global>,
    }

    #[test]
    fn unknown_field_names_file_position_and_field() {
        let text = "global:\n  scrape_interval: 1m\njobs:\n  - scrape_intervall: 5s\n";
        let err = from_str::<Root>(text, "prometheus.yml").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("parsing YAML file prometheus.yml: line 4 column 5: jobs[0]: unknown field `scrape_intervall`, expected `scrape_interval` or `labels`"),
            "{msg}"
        );
        assert!(matches!(
            err,
            YamlError::Syntax {
                line: 4,
                column: 5,
                ..
            }
        ));
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let err = from_str::<Root>(
            "global:\n  scrape_interval: 1m\n  scrape_interval: 2m\n",
            "a.yml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("parsing YAML file a.yml: line 2 column 3: global: duplicate entry with key \"scrape_interval\""),
            "{err}"
        );
        let err = from_str::<Root>("global:\n  labels:\n    a: x\n    a: y\n", "a.yml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("duplicate entry with key \"a\""), "{err}");
    }

    #[test]
    fn empty_document_gives_defaults() {
        for text in ["", "\n", "# only a comment\n", "---\n"] {
            assert_eq!(
                from_str::<Root>(text, "e.yml").unwrap(),
                Root::default(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn load_file_reports_missing_file_and_validates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.yml");
        let err = load_file::<Root>(&path).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("reading YAML file {}: ", path.display())),
            "{err}"
        );

        std::fs::write(&path, "global:\n  scrape_interval: 1m\n").unwrap();
        let root: Root = load_file(&path).unwrap();
        assert_eq!(root.global.scrape_interval, "1m");
        let err = validate(&path, root, |_| Err(std::fmt::Error)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: an error occurred when formatting an argument",
                path.display()
            )
        );
    }
}
