//! `file_sd_configs`: groups read from JSON or YAML files, re-read when the files' directories
//! change (inotify through the `notify` crate, upstream uses fsnotify) and every
//! `refresh_interval`. A file that cannot be read keeps its last good groups.

pub(crate) mod config;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant, UNIX_EPOCH};

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use self::config::FileSdConfig;
use crate::provider::{Context, Updates};
use crate::{TargetGroup, wire};

/// The label naming the file a group was read from.
pub const FILEPATH_LABEL: &str = "__meta_filepath";

/// Why one file could not be read.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Decode(#[from] wire::WireError),
    #[error("unhandled file extension")]
    Extension,
}

pub(crate) struct Discovery {
    patterns: Vec<String>,
    interval: Duration,
    ctx: Context,
    /// How many groups each file had at the last refresh, to withdraw vanished ones.
    last: HashMap<String, usize>,
    watched: HashSet<String>,
}

impl Discovery {
    pub(crate) fn new(config: &FileSdConfig, ctx: Context) -> Discovery {
        Discovery {
            patterns: config.files.clone(),
            interval: config.refresh_interval.into(),
            ctx,
            last: HashMap::new(),
            watched: HashSet::new(),
        }
    }

    pub(crate) async fn run(mut self, updates: Updates) {
        let (changed_tx, mut changed) = mpsc::channel::<()>(1);
        let metrics = std::sync::Arc::clone(&self.ctx.metrics);
        let mut watcher = notify::recommended_watcher(
            move |event: notify::Result<notify::Event>| {
                match event {
                    // Reading a file, or changing only its metadata, changes no target.
                    Ok(event) if needs_reread(&event.kind) => {
                        let _ = changed_tx.try_send(());
                    }
                    Ok(_) => {}
                    Err(err) => {
                        metrics.file_watcher_errors.inc();
                        tracing::error!(%err, "Error watching file SD directories");
                    }
                }
            },
        )
        .inspect_err(|err| {
            self.ctx.metrics.file_watcher_errors.inc();
            tracing::error!(%err, "Error creating file watcher; falling back to refresh_interval");
        })
        .ok();
        let period = self.interval.max(Duration::from_millis(1));
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                Some(()) = changed.recv() => {}
            }
            self.refresh(&updates);
            if let Some(watcher) = &mut watcher {
                self.watch_directories(watcher);
            }
        }
    }

    /// Re-reads every file and withdraws the groups of files that vanished or shrank.
    fn refresh(&mut self, updates: &Updates) {
        let start = Instant::now();
        let mut counts = HashMap::new();
        let mut groups = Vec::new();
        for path in self.patterns.iter().flat_map(|p| {
            // The config loader refuses malformed patterns; one that slips by finds nothing.
            pm_common::glob::glob(p).unwrap_or_default()
        }) {
            match self.read_file(&path) {
                Ok(read) => {
                    counts.insert(path, read.len());
                    groups.extend(read);
                }
                Err(err) => {
                    self.ctx.metrics.file_read_errors.inc();
                    tracing::error!(path, %err, "Error reading file");
                    let previous = self.last.get(&path).copied().unwrap_or(0);
                    counts.insert(path, previous);
                }
            }
        }
        for (path, &before) in &self.last {
            let now = counts.get(path).copied();
            if now.is_none() {
                let _ = self.ctx.metrics.file_mtime.remove_label_values(&[path]);
            }
            for i in now.unwrap_or(0)..before {
                groups.push(TargetGroup {
                    source: source(path, i),
                    ..TargetGroup::default()
                });
            }
        }
        self.last = counts;
        if !groups.is_empty() {
            updates.send(groups);
        }
        self.ctx
            .metrics
            .file_scan_duration
            .observe(start.elapsed().as_secs_f64());
    }

    fn read_file(&self, path: &str) -> Result<Vec<TargetGroup>, ReadError> {
        let text = std::fs::read_to_string(path)?;
        let extension = Path::new(path)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let raw = match extension.as_deref() {
            Some("json") => wire::from_json(text.as_bytes())?,
            Some("yml" | "yaml") => wire::from_yaml(&text)?,
            _ => return Err(ReadError::Extension),
        };
        if let Ok(modified) = std::fs::metadata(path).and_then(|m| m.modified()) {
            let seconds = modified
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            self.ctx
                .metrics
                .file_mtime
                .with_label_values(&[path])
                .set(seconds);
        }
        Ok(raw
            .into_iter()
            .enumerate()
            .map(|(i, group)| group.into_group(source(path, i), (FILEPATH_LABEL, path)))
            .collect())
    }

    /// Watches the directory of every pattern; one that does not exist yet is retried after
    /// the next refresh.
    fn watch_directories(&mut self, watcher: &mut impl Watcher) {
        for pattern in &self.patterns {
            let dir = match pattern.rfind('/') {
                Some(0) => "/".to_owned(),
                Some(slash) => pattern[..slash].to_owned(),
                None => ".".to_owned(),
            };
            if self.watched.contains(&dir) {
                continue;
            }
            match watcher.watch(Path::new(&dir), RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(dir);
                }
                Err(err) => tracing::error!(%err, path = dir, "Error adding file watch"),
            }
        }
    }
}

fn needs_reread(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Access(_) | EventKind::Modify(notify::event::ModifyKind::Metadata(_))
    )
}

/// A group's source: the file and the group's index in it.
fn source(path: &str, index: usize) -> String {
    format!("{path}:{index}")
}

#[cfg(test)]
mod tests;
