//! Persistent blocks: a directory `<ULID>/` holding `meta.json`, `index`, `chunks/` and
//! `tombstones`, laid out exactly as upstream's so either implementation reads the other's.

mod memory;
mod meta;
mod reader;
mod writer;

use std::path::PathBuf;

use crate::chunks::SegmentError;
use crate::index::IndexError;
use crate::tombstones::TombstoneError;

pub use memory::VecChunkSeriesSet;
pub use meta::{BlockDesc, BlockMeta, BlockMetaCompaction, BlockStats, META_FILE, META_VERSION};
pub use reader::{Block, open_blocks};
pub use writer::{BlockWriteOptions, write_block, write_block_with};

pub const INDEX_FILE: &str = "index";
pub const CHUNKS_DIR: &str = "chunks";
/// Suffix of a block directory still being written; left by a crash, it is removed on open.
pub const TMP_FOR_CREATION: &str = ".tmp-for-creation";
/// Suffix of a block directory being deleted.
pub const TMP_FOR_DELETION: &str = ".tmp-for-deletion";

#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Meta {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: unsupported meta.json version {version}")]
    MetaVersion { path: PathBuf, version: u32 },
    #[error("index: {0}")]
    Index(#[from] IndexError),
    #[error("chunks: {0}")]
    Chunks(#[from] SegmentError),
    #[error(transparent)]
    Tombstones(#[from] TombstoneError),
    #[error("reading the series to write: {0}")]
    Source(pm_storage::StorageError),
}

impl BlockError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { op, path, source }
    }
}

/// Deletes a block directory so that a crash midway never leaves a half-deleted block that
/// looks intact: it is first renamed to `<ulid>.tmp-for-deletion` (removed on the next open if
/// the removal is interrupted).
pub fn delete_block_dir(path: &std::path::Path) -> Result<(), BlockError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(TMP_FOR_DELETION);
    let tmp = PathBuf::from(tmp);
    std::fs::rename(path, &tmp).map_err(BlockError::io("rename", path))?;
    std::fs::remove_dir_all(&tmp).map_err(BlockError::io("remove", &tmp))?;
    if let Some(parent) = path.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Fsyncs a directory so entries created or renamed in it survive a crash.
pub(crate) fn sync_dir(dir: &std::path::Path) -> Result<(), BlockError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(BlockError::io("fsync", dir))
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;
