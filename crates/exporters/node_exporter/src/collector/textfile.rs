//! `textfile`: metrics from `*.prom` files that other programs write (cron jobs, hardware
//! checks), merged across files with upstream's consistency rules.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use pm_common::expfmt::dto::{self, MetricFamily};
use pm_common::expfmt::textparse::decode_text_families;

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge, gauge_family};

/// Reads every `*.prom` file of the configured directories on each scrape.
#[derive(Debug)]
pub struct TextfileCollector {
    directories: Vec<PathBuf>,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(TextfileCollector::new(
        s.flags.textfile_directories.clone(),
    )))
}

/// A family being merged, with the help text its file gave explicitly (if any).
struct Merged {
    family: MetricFamily,
    explicit_help: Option<String>,
}

impl TextfileCollector {
    pub fn new(directories: Vec<PathBuf>) -> Self {
        Self { directories }
    }

    /// The `*.prom` files of one directory, sorted by name.
    fn files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".prom"))
            .map(|e| e.path())
            .collect();
        files.sort();
        Ok(files)
    }

    /// Everything one scrape reports.
    pub fn collect(&self, out: &mut Out) {
        let mut error = false;
        let mut merged: Vec<Merged> = Vec::new();
        let mut mtimes = gauge_family(
            "node_textfile_mtime_seconds",
            "Unixtime mtime of textfiles successfully read.",
        );
        let mut any_mtime = false;
        for dir in &self.directories {
            let files = match Self::files(dir) {
                Ok(f) => f,
                Err(e) => {
                    tracing::error!(path = %dir.display(), err = %e, "failed to read textfile collector directory");
                    error = true;
                    continue;
                }
            };
            for path in files {
                match read_file(&path) {
                    Ok((families, mtime)) => {
                        mtimes.push(&[("file", &path.to_string_lossy())], mtime);
                        any_mtime = true;
                        error |= merge(&mut merged, families, &path);
                    }
                    Err(e) => {
                        tracing::error!(file = %path.display(), err = %e, "failed to collect textfile data");
                        error = true;
                    }
                }
            }
        }
        for m in merged {
            out.push(fill_labels(m.family));
        }
        if any_mtime {
            out.push(mtimes.into_family());
        }
        gauge(
            out,
            "node_textfile_scrape_error",
            "1 if there was an error opening or reading a file, 0 otherwise",
            if error { 1.0 } else { 0.0 },
        );
    }
}

impl Collector for TextfileCollector {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        self.collect(out);
        Ok(())
    }
}

/// Parses one file; a file with client-side timestamps is refused whole, as upstream does.
fn read_file(path: &Path) -> Result<(Vec<MetricFamily>, f64), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let mtime = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|e| e.to_string())?
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs() as f64);
    let mut families = decode_text_families(&bytes).map_err(|e| e.to_string())?;
    if families
        .iter()
        .any(|f| f.metric.iter().any(|m| m.timestamp_ms.is_some()))
    {
        return Err(
            "textfile contains unsupported client-side timestamps, skipping entire file".into(),
        );
    }
    for f in &mut families {
        if f.help.as_deref().is_none_or(str::is_empty) {
            f.help = Some(format!("Metric read from {}", path.display()));
        }
    }
    Ok((families, mtime))
}

/// Adds `families` (from `path`) to `merged`; returns whether a family had to be dropped
/// because it disagrees with the same name from an earlier file.
fn merge(merged: &mut Vec<Merged>, families: Vec<MetricFamily>, path: &Path) -> bool {
    let mut error = false;
    for family in families {
        let explicit_help = family
            .help
            .clone()
            .filter(|h| !h.starts_with("Metric read from "));
        match merged.iter_mut().find(|m| m.family.name == family.name) {
            Some(m) => {
                let help_clash = matches!(
                    (&m.explicit_help, &explicit_help),
                    (Some(a), Some(b)) if a != b
                );
                if m.family.r#type != family.r#type || help_clash {
                    tracing::error!(
                        metric = family.name(),
                        file = %path.display(),
                        "metric family differs from the same family in an earlier file; skipping"
                    );
                    error = true;
                    continue;
                }
                if m.explicit_help.is_none() && explicit_help.is_none() {
                    // Upstream names every file a help-less family came from.
                    let help = m.family.help.get_or_insert_with(String::new);
                    help.push_str(&format!(", {}", path.display()));
                }
                m.family.metric.extend(family.metric);
            }
            None => merged.push(Merged {
                family,
                explicit_help,
            }),
        }
    }
    error
}

/// Gives every metric of a family the same label names, missing ones as empty values, as
/// the Prometheus registry requires of one family.
fn fill_labels(mut family: MetricFamily) -> MetricFamily {
    let names: BTreeSet<String> = family
        .metric
        .iter()
        .flat_map(|m| m.label.iter().map(|l| l.name().to_owned()))
        .collect();
    for m in &mut family.metric {
        for name in &names {
            if !m.label.iter().any(|l| l.name() == name) {
                m.label.push(dto::LabelPair {
                    name: Some(name.clone()),
                    value: Some(String::new()),
                });
            }
        }
    }
    family
}
