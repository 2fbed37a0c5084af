//! Moving data along: head → level-1 blocks → compacted blocks → deleted by retention.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use pm_storage::{ChunkQuerier, ChunkQueryable};
use ulid::Ulid;

use super::{DbError, Shared};
use crate::block::{Block, BlockError, META_FILE, delete_block_dir};
use crate::retention::{RetentionBlock, beyond_size_retention, beyond_time_retention};

/// Upstream's `rangeForTimestamp`: the end of the `width`-aligned range `t` falls into (Go's
/// truncating division, which Rust's `%` shares).
fn range_end(t: i64, width: i64) -> i64 {
    t - t % width + width
}

impl Shared {
    pub(super) fn compact(&self) -> Result<(), DbError> {
        let _running = self.compaction_guard();
        self.stats
            .compactions_triggered
            .fetch_add(1, Ordering::Relaxed);
        let result = self.compact_head().and_then(|()| self.compact_blocks());
        if result.is_err() {
            self.stats
                .compactions_failed
                .fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// Whether the head spans more than one and a half block ranges (upstream's
    /// `Head.compactable`): then its oldest range is complete and can be persisted, while the
    /// newest half range still takes late samples.
    fn head_compactable(&self) -> bool {
        let (mint, maxt) = (self.head.min_time(), self.head.max_time());
        mint != i64::MAX && maxt - mint > self.opts.min_block_duration / 2 * 3
    }

    /// Persists the head's oldest block ranges, one at a time. Each block is on disk (fsynced,
    /// renamed into place) and loaded before the head and WAL let go of its data; a crash in
    /// between leaves the data in both, which [`super::Db::open`] resolves.
    fn compact_head(&self) -> Result<(), DbError> {
        while self.head_compactable() {
            let mint = self.head.min_time();
            let maxt = range_end(mint, self.opts.min_block_duration);
            let querier = self
                .head
                .chunk_querier(mint, maxt - 1)
                .expect("the head always hands out queriers");
            let set = ChunkQuerier::select(querier.as_ref(), true, None, &[]);
            let written = self.compactor.write(&self.dir, set, mint, maxt)?;
            drop(querier);
            if written.is_some() {
                self.stats.compactions.fetch_add(1, Ordering::Relaxed);
                self.reload_blocks()?;
            }
            self.head.truncate(maxt)?;
        }
        Ok(())
    }

    /// Merges blocks while the planner finds something to merge.
    fn compact_blocks(&self) -> Result<(), DbError> {
        loop {
            let plan = self.compactor.plan(&self.dir)?;
            if plan.is_empty() {
                return Ok(());
            }
            let loaded = self.blocks();
            let sources: Vec<Arc<Block>> = plan
                .iter()
                .filter_map(|dir| loaded.iter().find(|b| b.dir() == dir).cloned())
                .collect();
            if sources.len() != plan.len() {
                // A block on disk that is not loaded (e.g. added behind our back): load it and
                // plan again next time.
                return self.reload_blocks();
            }
            self.compactor.compact(&self.dir, &sources)?;
            self.stats.compactions.fetch_add(1, Ordering::Relaxed);
            self.reload_blocks()?;
        }
    }

    pub(super) fn reload_blocks(&self) -> Result<(), DbError> {
        self.stats.reloads.fetch_add(1, Ordering::Relaxed);
        let result = self.reload_blocks_inner();
        if result.is_err() {
            self.stats.reload_failures.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// Loads blocks new on disk (keeping the already open ones), then deletes those marked
    /// deletable, those compacted into a loaded block (listed among its parents), and those
    /// outside the retention.
    fn reload_blocks_inner(&self) -> Result<(), DbError> {
        let old = self.blocks();
        let blocks = open_blocks_keeping(&self.dir, &old)?;
        let mut doomed: HashSet<Ulid> = HashSet::new();
        for b in &blocks {
            let meta = b.meta();
            if meta.compaction.deletable {
                doomed.insert(meta.ulid);
            }
            doomed.extend(meta.compaction.parents.iter().map(|p| p.ulid));
        }
        let mut newest_first: Vec<RetentionBlock> = blocks
            .iter()
            .filter(|b| !doomed.contains(&b.meta().ulid))
            .map(|b| {
                let meta = b.meta();
                RetentionBlock {
                    ulid: meta.ulid,
                    max_time: meta.max_time,
                    size: b.size(),
                }
            })
            .collect();
        newest_first.sort_by_key(|b| std::cmp::Reverse(b.max_time));
        let by_time = beyond_time_retention(&newest_first, self.opts.retention_duration);
        if !by_time.is_empty() {
            self.stats.time_retentions.fetch_add(1, Ordering::Relaxed);
        }
        doomed.extend(by_time);
        let kept: Vec<RetentionBlock> = newest_first
            .into_iter()
            .filter(|b| !doomed.contains(&b.ulid))
            .collect();
        let by_size = beyond_size_retention(&kept, head_size(&self.dir), self.opts.max_bytes);
        if !by_size.is_empty() {
            self.stats.size_retentions.fetch_add(1, Ordering::Relaxed);
        }
        doomed.extend(by_size);

        let (gone, live): (Vec<_>, Vec<_>) = blocks
            .into_iter()
            .partition(|b| doomed.contains(&b.meta().ulid));
        // Queriers still holding a deleted block keep reading it: its files stay readable
        // until the last handle goes (they are memory-mapped or read into memory).
        *self.blocks.write().unwrap_or_else(|e| e.into_inner()) = live;
        for b in gone {
            tracing::info!(ulid = %b.meta().ulid, "deleting obsolete block");
            delete_block_dir(b.dir())?;
        }
        Ok(())
    }
}

/// The blocks in `dir` sorted by min time, reusing the handles in `open` and opening only new
/// ones. Temporary directories are left alone: one may be a compaction in progress (those a
/// crash left are removed by [`crate::block::open_blocks`] when the DB opens).
fn open_blocks_keeping(dir: &Path, open: &[Arc<Block>]) -> Result<Vec<Arc<Block>>, DbError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(BlockError::io("list", dir))? {
        let entry = entry.map_err(BlockError::io("list", dir))?;
        let name = entry.file_name();
        let Some(ulid) = name.to_str().and_then(|n| Ulid::from_string(n).ok()) else {
            continue;
        };
        let path = entry.path();
        if let Some(b) = open.iter().find(|b| b.meta().ulid == ulid) {
            out.push(b.clone());
        } else if path.join(META_FILE).exists() {
            out.push(Arc::new(Block::open(&path)?));
        }
    }
    out.sort_by_key(|b| b.meta().min_time);
    Ok(out)
}

/// What the head occupies on disk under the data directory `dir`, counted first by the size
/// retention: the WAL (with its checkpoints), the write-behind log and the head chunk files,
/// as upstream's `Head.Size`.
pub(super) fn head_size(dir: &Path) -> u64 {
    ["wal", "wbl", "chunks_head"]
        .iter()
        .map(|d| dir_size(&dir.join(d)))
        .sum()
}

/// Bytes of the files under `dir` (the WAL and its checkpoints), 0 when missing.
pub(super) fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}
