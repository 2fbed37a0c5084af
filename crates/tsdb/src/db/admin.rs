//! Operations behind the admin API: deleting series, cleaning tombstones, snapshots.

use std::path::Path;

use pm_common::model::Matcher;
use pm_storage::{ChunkQuerier, ChunkQueryable};

use super::{Db, DbError};
use crate::block::BlockError;

impl Db {
    /// Marks the samples in `[mint, maxt]` (both inclusive) of the series matching `matchers`
    /// deleted, in every block overlapping the range and in the head (upstream's `DB.Delete`).
    /// Blocks persist their tombstones file, the head its WAL, before the deletion is visible;
    /// the data stays on disk until a compaction or [`Db::clean_tombstones`] rewrites it.
    pub fn delete(&self, mint: i64, maxt: i64, matchers: &[Matcher]) -> Result<(), DbError> {
        let shared = &self.shared;
        // No compaction may persist the head or replace blocks underneath.
        let _running = shared.compaction_guard();
        for b in shared.blocks() {
            let meta = b.meta();
            // A block's max time is exclusive.
            if meta.min_time <= maxt && mint < meta.max_time {
                b.delete(mint, maxt, matchers)?;
            }
        }
        let head = &shared.head;
        if head.min_time() <= maxt && mint <= head.max_time() {
            head.delete(mint, maxt, matchers)?;
        }
        Ok(())
    }

    /// Rewrites every block that has tombstones without the deleted samples, then deletes the
    /// original (upstream's `DB.CleanTombstones`). A block left with nothing is just deleted.
    /// The head's tombstones stay: they are applied when the head is persisted.
    pub fn clean_tombstones(&self) -> Result<(), DbError> {
        let shared = &self.shared;
        let _running = shared.compaction_guard();
        // Each pass rewrites one block and reloads; a rewritten block has no tombstones, so
        // this ends after at most as many passes as there are blocks with tombstones.
        while let Some(b) = shared
            .blocks()
            .into_iter()
            .find(|b| !b.tombstones().is_empty())
        {
            let written = shared.compactor.rewrite(&shared.dir, &b)?;
            tracing::info!(
                block = %b.meta().ulid,
                new = ?written.map(|u| u.to_string()),
                "cleaned tombstones"
            );
            shared.reload_blocks()?;
        }
        Ok(())
    }

    /// Writes a copy of the database into `dir`: every block hard-linked (no space used until
    /// the original goes), plus, with `with_head`, the head's samples as one more block over
    /// `[head min time, head max time + 1)` (upstream's `DB.Snapshot`). The result opens as a
    /// data directory of its own.
    pub fn snapshot(&self, dir: impl AsRef<Path>, with_head: bool) -> Result<(), DbError> {
        let dir = dir.as_ref();
        let shared = &self.shared;
        if dir == shared.dir {
            return Err(DbError::SnapshotIntoDataDir);
        }
        if dir
            .to_str()
            .is_some_and(|d| ulid::Ulid::from_string(d).is_ok())
        {
            return Err(DbError::SnapshotDirIsUlid(dir.to_owned()));
        }
        let _running = shared.compaction_guard();
        std::fs::create_dir_all(dir).map_err(BlockError::io("create", dir))?;
        for b in shared.blocks() {
            tracing::info!(block = %b.meta().ulid, "snapshotting block");
            b.snapshot(dir)?;
        }
        if !with_head {
            return Ok(());
        }
        let head = &shared.head;
        let (mint, maxt) = (head.min_time(), head.max_time());
        if mint > maxt {
            return Ok(());
        }
        let querier = head
            .chunk_querier(mint, maxt)
            .expect("the head always hands out queriers");
        let set = ChunkQuerier::select(querier.as_ref(), true, None, &[]);
        shared.compactor.write(dir, set, mint, maxt + 1)?;
        Ok(())
    }
}
