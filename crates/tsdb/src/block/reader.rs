//! An opened block: meta, index and chunks loaded, tombstones guarded for deletes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use pm_common::model::Matcher;

use super::{
    BlockError, BlockMeta, CHUNKS_DIR, INDEX_FILE, META_FILE, TMP_FOR_CREATION, TMP_FOR_DELETION,
};
use crate::chunks::ChunkReader;
use crate::index::IndexReader;
use crate::querier::{BlockQuerier, postings_for_matchers};
use crate::tombstones::{Interval, Tombstones};

#[derive(Debug)]
pub struct Block {
    dir: PathBuf,
    meta: RwLock<BlockMeta>,
    index: Arc<IndexReader>,
    chunks: Arc<ChunkReader>,
    /// Replaced whole on delete, so queriers keep the snapshot they started with.
    tombstones: RwLock<Arc<Tombstones>>,
}

impl Block {
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, BlockError> {
        let dir = dir.as_ref().to_path_buf();
        let meta = BlockMeta::read(&dir)?;
        let index = IndexReader::open(dir.join(INDEX_FILE))?;
        let chunks = ChunkReader::open(dir.join(CHUNKS_DIR))?;
        let tombstones = Tombstones::read(&dir)?;
        Ok(Self {
            dir,
            meta: RwLock::new(meta),
            index: Arc::new(index),
            chunks: Arc::new(chunks),
            tombstones: RwLock::new(Arc::new(tombstones)),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn meta(&self) -> BlockMeta {
        self.meta.read().expect("meta lock").clone()
    }

    pub fn index(&self) -> &IndexReader {
        &self.index
    }

    pub fn chunks(&self) -> &ChunkReader {
        &self.chunks
    }

    pub fn tombstones(&self) -> Arc<Tombstones> {
        self.tombstones.read().expect("tombstones lock").clone()
    }

    /// Changes the block's meta.json (compaction marks), on disk first.
    pub fn update_meta(&self, f: impl FnOnce(&mut BlockMeta)) -> Result<(), BlockError> {
        let mut meta = self.meta.write().expect("meta lock");
        let mut next = meta.clone();
        f(&mut next);
        next.write(&self.dir)?;
        *meta = next;
        Ok(())
    }

    /// Bytes on disk of index and chunks (upstream's block size, less meta and tombstones).
    pub fn size(&self) -> u64 {
        self.index.size() + self.chunks.size()
    }

    /// Whether the block holds data in `[mint, maxt]` (both inclusive; the block's own max
    /// time is exclusive).
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        let meta = self.meta.read().expect("meta lock");
        meta.min_time <= maxt && mint < meta.max_time
    }

    /// A querier over `[mint, maxt]` that sees the current tombstones.
    pub fn querier(&self, mint: i64, maxt: i64) -> BlockQuerier {
        BlockQuerier::new(
            self.index.clone(),
            self.chunks.clone(),
            self.tombstones(),
            mint,
            maxt,
        )
    }

    /// Marks the samples in `[mint, maxt]` of every series matching `matchers` deleted, writing
    /// the tombstones file before the new tombstones become visible.
    pub fn delete(&self, mint: i64, maxt: i64, matchers: &[Matcher]) -> Result<(), BlockError> {
        let mut guard = self.tombstones.write().expect("tombstones lock");
        let postings = postings_for_matchers(&self.index, matchers)?;
        let mut next = (**guard).clone();
        let mut chunks = Vec::new();
        for r in postings {
            self.index.series(r, &mut chunks)?;
            let overlaps = chunks
                .iter()
                .any(|c| c.min_time <= maxt && mint <= c.max_time);
            if let (true, Some(first), Some(last)) = (overlaps, chunks.first(), chunks.last()) {
                // As upstream, only as far as the series has samples.
                let iv = Interval {
                    mint: mint.max(first.min_time),
                    maxt: maxt.min(last.max_time),
                };
                next.add(r, iv);
            }
        }
        if next == **guard {
            return Ok(());
        }
        next.write(&self.dir)?;
        let mut meta = self.meta.write().expect("meta lock");
        meta.stats.num_tombstones = next.num_intervals();
        meta.write(&self.dir)?;
        *guard = Arc::new(next);
        Ok(())
    }
}

impl Block {
    /// Hard-links the block's files into `dir/<ulid>/` (upstream's `Block.Snapshot`): the
    /// snapshot costs no space until the block is deleted or rewritten, and files are only ever
    /// replaced by rename, never changed in place, so the links keep the snapshot's contents.
    pub fn snapshot(&self, dir: &Path) -> Result<(), BlockError> {
        let dest = dir.join(self.meta().ulid.to_string());
        let dest_chunks = dest.join(CHUNKS_DIR);
        std::fs::create_dir_all(&dest_chunks).map_err(BlockError::io("create", &dest_chunks))?;
        for name in [META_FILE, INDEX_FILE, crate::tombstones::FILE_NAME] {
            let src = self.dir.join(name);
            // Blocks written by old versions may have no tombstones file.
            if name == crate::tombstones::FILE_NAME && !src.exists() {
                continue;
            }
            std::fs::hard_link(&src, dest.join(name)).map_err(BlockError::io("link", &src))?;
        }
        let chunks = self.dir.join(CHUNKS_DIR);
        for entry in std::fs::read_dir(&chunks).map_err(BlockError::io("list", &chunks))? {
            let entry = entry.map_err(BlockError::io("list", &chunks))?;
            let src = entry.path();
            std::fs::hard_link(&src, dest_chunks.join(entry.file_name()))
                .map_err(BlockError::io("link", &src))?;
        }
        Ok(())
    }
}

/// Opens every block in a data directory, sorted by min time. Directories left by an
/// interrupted write or delete (`*.tmp-for-creation`, `*.tmp-for-deletion`) are removed first,
/// as upstream does on start-up; other entries without a ULID name are ignored.
pub fn open_blocks(dir: &Path) -> Result<Vec<Block>, BlockError> {
    let mut blocks = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(BlockError::io("list", dir))?;
    for entry in entries {
        let entry = entry.map_err(BlockError::io("list", dir))?;
        let path = entry.path();
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.ends_with(TMP_FOR_CREATION) || name.ends_with(TMP_FOR_DELETION) {
            std::fs::remove_dir_all(&path).map_err(BlockError::io("remove", &path))?;
            continue;
        }
        if ulid::Ulid::from_string(name).is_ok() && path.join(META_FILE).exists() {
            blocks.push(Block::open(&path)?);
        }
    }
    blocks.sort_by_key(|b| b.meta().min_time);
    Ok(blocks)
}
