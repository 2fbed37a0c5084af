//! The database: a data directory holding persistent blocks and the head with its WAL, queried
//! as one, compacted and trimmed to its retention (upstream's `tsdb.DB`).
//!
//! Data moves one way: appends go to the head (and its WAL); once the head spans more than 1.5
//! block ranges its oldest range is written as a level-1 block, after which the head and the WAL
//! drop it; blocks are then merged into bigger ones by the leveled planner, and retention
//! deletes the oldest. Every step writes the new state completely before removing the old one,
//! and opening the directory resolves whatever a crash left in between (see [`Db::open`]).

mod admin;
mod background;
mod maintenance;
mod metrics;
mod options;
mod query;
mod status;
mod wal_metrics;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use pm_common::metrics::Registry;

use crate::block::{Block, BlockError, open_blocks};
use crate::compact::{CompactError, Compactor};
use crate::head::{Head, HeadError, HeadOptions, WalReplayProgress};
use crate::lockfile::{DirLock, LockError};
use crate::retention::block_ranges;
use crate::wal::WalOptions;

pub use background::BackgroundCompaction;
pub use options::DbOptions;
pub use status::{HeadStatus, TsdbStatus};

use metrics::{DbCollector, DbStats};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("create data directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error("head: {0}")]
    Head(#[from] HeadError),
    #[error("compaction: {0}")]
    Compact(#[from] CompactError),
    #[error("cannot snapshot into the data directory itself")]
    SnapshotIntoDataDir,
    #[error("snapshot directory {0} must not be a valid ULID")]
    SnapshotDirIsUlid(PathBuf),
}

/// An open data directory. Queriers and appenders it hands out may outlive calls on it, but
/// not [`Db::close`].
pub struct Db {
    shared: Arc<Shared>,
    /// Held until close; `None` with `--storage.tsdb.no-lockfile`.
    lock: Option<DirLock>,
}

/// What the background compaction and the metrics collector share with the handle.
pub(crate) struct Shared {
    dir: PathBuf,
    opts: DbOptions,
    head: Head,
    /// Loaded blocks, sorted by min time; replaced whole on reload.
    blocks: RwLock<Vec<Arc<Block>>>,
    compactor: Compactor,
    /// One compaction (head or blocks) at a time.
    compaction: Mutex<()>,
    stats: DbStats,
    replay: Arc<WalReplayProgress>,
}

impl Db {
    /// Opens (creating it if needed) the data directory `dir`: takes the lock, removes
    /// directories of interrupted block writes and deletions, loads the blocks, replays the WAL
    /// into the head, drops from the head what a block already holds (a crash between writing
    /// a block and truncating the head), deletes blocks that were compacted into others or fall
    /// outside the retention, and registers the `prometheus_tsdb_*` metrics in `registry`.
    pub fn open(
        dir: impl AsRef<Path>,
        opts: DbOptions,
        registry: &Registry,
    ) -> Result<Db, DbError> {
        Self::open_with_progress(dir, opts, registry, Arc::default())
    }

    /// [`Db::open`], reporting the WAL replay to `progress` (which a server hands to its status
    /// API and readiness check before it starts opening) and marking it done once open.
    pub fn open_with_progress(
        dir: impl AsRef<Path>,
        opts: DbOptions,
        registry: &Registry,
        progress: Arc<WalReplayProgress>,
    ) -> Result<Db, DbError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|source| DbError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        let lock = (!opts.no_lockfile)
            .then(|| DirLock::acquire(&dir))
            .transpose()?;
        let blocks: Vec<Arc<Block>> = open_blocks(&dir)?.into_iter().map(Arc::new).collect();
        let head_opts = HeadOptions {
            chunk_range: opts.min_block_duration,
            out_of_order_time_window: opts.out_of_order_time_window,
            max_exemplars: opts.max_exemplars,
            wal: Some(WalOptions {
                segment_size: opts.wal_segment_size,
                compression: opts.wal_compression,
            }),
            ..HeadOptions::default()
        };
        let started = std::time::Instant::now();
        let (head, replay) = Head::open_with_progress(&dir, head_opts, &progress)?;
        let replay_seconds = started.elapsed().as_secs_f64();
        tracing::info!(
            records = ?replay,
            blocks = blocks.len(),
            dir = %dir.display(),
            "TSDB opened"
        );
        // Also on an empty head: that sets the time before which appends are out of bounds.
        let persisted_until = blocks.iter().map(|b| b.meta().max_time).max();
        if let Some(maxt) = persisted_until
            && (head.min_time() < maxt || head.min_time() == i64::MAX)
        {
            tracing::info!(maxt, "dropping head data already persisted in blocks");
            head.truncate_in_order(maxt)?;
        }
        let compactor = Compactor::new(block_ranges(
            opts.min_block_duration,
            opts.max_block_duration,
        ))?;
        let shared = Arc::new(Shared {
            dir,
            opts,
            head,
            blocks: RwLock::new(blocks),
            compactor,
            compaction: Mutex::new(()),
            stats: DbStats {
                replay_seconds: replay_seconds.to_bits().into(),
                ..DbStats::default()
            },
            replay: progress,
        });
        shared.reload_blocks()?;
        registry.register(Arc::new(DbCollector::new(&shared)));
        shared.replay.finish();
        Ok(Db { shared, lock })
    }

    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    pub fn head(&self) -> &Head {
        &self.shared.head
    }

    /// The loaded blocks, sorted by min time.
    pub fn blocks(&self) -> Vec<Arc<Block>> {
        self.shared.blocks()
    }

    /// Runs what is due now: persists the head's oldest ranges as blocks, then compacts blocks
    /// until the planner finds nothing more (upstream's `DB.Compact`).
    pub fn compact(&self) -> Result<(), DbError> {
        self.shared.compact()
    }

    /// Re-reads the blocks on disk and applies retention (upstream's `reloadBlocks`).
    pub fn reload_blocks(&self) -> Result<(), DbError> {
        self.shared.reload_blocks()
    }

    /// Compacts every `interval` on a thread of its own until the returned guard is dropped.
    pub fn start_background_compaction(
        &self,
        interval: std::time::Duration,
    ) -> BackgroundCompaction {
        BackgroundCompaction::start(self.shared.clone(), interval)
    }

    /// Flushes the WAL and releases the directory lock (removing the lock file marks the
    /// shutdown clean). The head stays in the WAL: the next open replays it.
    pub fn close(self) -> Result<(), DbError> {
        let _running = self.shared.compaction_guard();
        self.shared.head.close()?;
        drop(self.lock);
        Ok(())
    }
}

impl Shared {
    fn blocks(&self) -> Vec<Arc<Block>> {
        self.blocks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn compaction_guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.compaction.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod admin_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_ooo;
