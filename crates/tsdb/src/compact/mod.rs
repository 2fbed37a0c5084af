//! Compaction: merging blocks into bigger ones along upstream's leveled ranges, and writing the
//! head's oldest range out as a new block.
//!
//! A compaction writes the new block completely (in `<ulid>.tmp-for-creation`, renamed when
//! done) before anything happens to its sources. The sources are deleted later, by whoever
//! reloads the blocks and finds them listed as parents of a loaded block, so a crash at any
//! point leaves either the sources or the new block (or, briefly, both: the reload then removes
//! the sources).

mod merge;
mod planner;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pm_storage::{ChunkSeriesSet, StorageError};
use ulid::Ulid;

use crate::block::{
    Block, BlockDesc, BlockError, BlockMeta, BlockWriteOptions, META_FILE, TMP_FOR_CREATION,
    TMP_FOR_DELETION, delete_block_dir, write_block_with,
};

pub use merge::MergedChunkSeriesSet;
pub use planner::{PlanBlock, plan};

#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    #[error("at least one compaction range is needed")]
    NoRanges,
    #[error("nothing to compact: no source blocks given")]
    NoSources,
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error("reading block {dir}: {source}")]
    Read {
        dir: PathBuf,
        #[source]
        source: StorageError,
    },
}

/// Plans and runs compactions for one data directory's blocks.
#[derive(Clone, Debug)]
pub struct Compactor {
    ranges: Vec<i64>,
}

impl Compactor {
    /// `ranges` are the block ranges in milliseconds, smallest first (upstream's
    /// `ExponentialBlockRanges(2h, 3, 3)` by default, see [`crate::retention::block_ranges`]).
    pub fn new(ranges: Vec<i64>) -> Result<Self, CompactError> {
        if ranges.is_empty() {
            return Err(CompactError::NoRanges);
        }
        Ok(Self { ranges })
    }

    pub fn ranges(&self) -> &[i64] {
        &self.ranges
    }

    /// The directories of the blocks in `dir` to compact next (see [`plan`]).
    pub fn plan(&self, dir: &Path) -> Result<Vec<PathBuf>, CompactError> {
        Ok(plan(block_metas(dir)?, &self.ranges))
    }

    /// Merges `sources` into one new block in `dir` and returns its ULID, or `None` when the
    /// result held no samples (then no block is written and the sources are marked deletable,
    /// as upstream). On failure the sources are marked so the planner skips them.
    pub fn compact(
        &self,
        dir: &Path,
        sources: &[Arc<Block>],
    ) -> Result<Option<Ulid>, CompactError> {
        if sources.is_empty() {
            return Err(CompactError::NoSources);
        }
        let metas: Vec<BlockMeta> = sources.iter().map(|b| b.meta()).collect();
        let mint = metas.iter().map(|m| m.min_time).min().unwrap_or_default();
        let maxt = metas.iter().map(|m| m.max_time).max().unwrap_or_default();
        let mut lineage: Vec<Ulid> = metas
            .iter()
            .flat_map(|m| m.compaction.sources.iter().copied())
            .collect();
        lineage.sort();
        lineage.dedup();
        let opts = BlockWriteOptions {
            level: metas.iter().map(|m| m.compaction.level).max().unwrap_or(0) + 1,
            sources: lineage,
            parents: metas
                .iter()
                .map(|m| BlockDesc {
                    ulid: m.ulid,
                    min_time: m.min_time,
                    max_time: m.max_time,
                })
                .collect(),
        };
        let mut sets = Vec::with_capacity(sources.len());
        for (b, m) in sources.iter().zip(&metas) {
            let set = b
                .querier(m.min_time, m.max_time - 1)
                .all_chunk_series()
                .map_err(|source| CompactError::Read {
                    dir: b.dir().to_owned(),
                    source,
                })?;
            sets.push(Box::new(set) as Box<dyn ChunkSeriesSet>);
        }
        let mut merged = MergedChunkSeriesSet::new(sets);
        let written = write_block_with(dir, mint, maxt, &mut merged, opts);
        let ulid = match written {
            Ok(ulid) => ulid,
            Err(e) => {
                for b in sources {
                    // The compaction error is what matters; a failure to record it only means
                    // the planner may pick these blocks again.
                    let _ = b.update_meta(|m| m.compaction.failed = true);
                }
                return Err(e.into());
            }
        };
        drop_if_empty(dir, ulid, || {
            for b in sources {
                b.update_meta(|m| m.compaction.deletable = true)?;
            }
            Ok(())
        })
    }

    /// Rewrites `block` without the samples its tombstones delete (upstream's
    /// `Block.CleanTombstones` through `Compactor.Write`): a level-1 block over the same range
    /// naming `block` as its parent, so the next reload deletes the original. `None` when
    /// nothing was left; the original is then marked deletable.
    pub fn rewrite(&self, dir: &Path, block: &Block) -> Result<Option<Ulid>, CompactError> {
        let meta = block.meta();
        let mut set = block
            .querier(meta.min_time, meta.max_time - 1)
            .all_chunk_series()
            .map_err(|source| CompactError::Read {
                dir: block.dir().to_owned(),
                source,
            })?;
        let opts = BlockWriteOptions {
            parents: vec![BlockDesc {
                ulid: meta.ulid,
                min_time: meta.min_time,
                max_time: meta.max_time,
            }],
            ..BlockWriteOptions::default()
        };
        let ulid = write_block_with(dir, meta.min_time, meta.max_time, &mut set, opts)?;
        drop_if_empty(dir, ulid, || {
            block.update_meta(|m| m.compaction.deletable = true)
        })
    }

    /// Writes the samples of `set` in `[mint, maxt)` as a level-1 block (the head's oldest
    /// range); `None` when there were none, and then nothing is left on disk.
    pub fn write(
        &self,
        dir: &Path,
        set: Box<dyn ChunkSeriesSet>,
        mint: i64,
        maxt: i64,
    ) -> Result<Option<Ulid>, CompactError> {
        let mut trimmed = MergedChunkSeriesSet::new(vec![set]).with_range(mint, maxt - 1);
        let ulid = write_block_with(dir, mint, maxt, &mut trimmed, BlockWriteOptions::default())?;
        drop_if_empty(dir, ulid, || Ok(()))
    }
}

/// Removes the freshly written block `ulid` if it holds no samples, running `on_empty` first.
fn drop_if_empty(
    dir: &Path,
    ulid: Ulid,
    on_empty: impl FnOnce() -> Result<(), BlockError>,
) -> Result<Option<Ulid>, CompactError> {
    let path = dir.join(ulid.to_string());
    if BlockMeta::read(&path)?.stats.num_samples > 0 {
        return Ok(Some(ulid));
    }
    on_empty()?;
    delete_block_dir(&path)?;
    Ok(None)
}

/// The meta.json of every block directory in `dir`, skipping directories of interrupted
/// writes and deletes.
fn block_metas(dir: &Path) -> Result<Vec<PlanBlock>, BlockError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(BlockError::io("list", dir))? {
        let entry = entry.map_err(BlockError::io("list", dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.ends_with(TMP_FOR_CREATION) || name.ends_with(TMP_FOR_DELETION) {
            continue;
        }
        let path = entry.path();
        if Ulid::from_string(name).is_ok() && path.join(META_FILE).exists() {
            let meta = BlockMeta::read(&path)?;
            out.push(PlanBlock { dir: path, meta });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
