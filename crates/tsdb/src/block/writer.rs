//! Writes a block from a sorted chunk series set (the head's, or a merge of blocks).
//!
//! Everything goes into `<ULID>.tmp-for-creation`, which is fsynced and then renamed to `<ULID>`:
//! a crash leaves either the finished block or a temporary directory cleaned up on next open.

use std::collections::BTreeSet;
use std::path::Path;

use pm_common::model::Labels;
use pm_storage::ChunkSeriesSet;
use ulid::Ulid;

use super::{
    BlockDesc, BlockError, BlockMeta, BlockMetaCompaction, BlockStats, CHUNKS_DIR, INDEX_FILE,
    META_VERSION, TMP_FOR_CREATION, sync_dir,
};
use crate::chunks::ChunkWriter;
use crate::index::{ChunkIndexMeta, IndexWriter};
use crate::tombstones::Tombstones;

/// Compaction lineage recorded in the new block's meta.json.
#[derive(Clone, Debug, Default)]
pub struct BlockWriteOptions {
    /// 1 (the default when 0) for blocks cut from the head.
    pub level: u32,
    /// Level-1 ancestors; empty means the new block is its own source.
    pub sources: Vec<Ulid>,
    pub parents: Vec<BlockDesc>,
}

/// Writes a level-1 block covering `[mint, maxt)` into `dir` and returns its ULID.
pub fn write_block(
    dir: &Path,
    mint: i64,
    maxt: i64,
    set: &mut dyn ChunkSeriesSet,
) -> Result<Ulid, BlockError> {
    write_block_with(dir, mint, maxt, set, BlockWriteOptions::default())
}

/// Writes a block with explicit compaction lineage. Series must come sorted by labels; series
/// without chunks are left out, as upstream does.
pub fn write_block_with(
    dir: &Path,
    mint: i64,
    maxt: i64,
    set: &mut dyn ChunkSeriesSet,
    opts: BlockWriteOptions,
) -> Result<Ulid, BlockError> {
    let ulid = Ulid::new();
    let tmp = dir.join(format!("{ulid}{TMP_FOR_CREATION}"));
    let result = write_into(&tmp, ulid, mint, maxt, set, opts);
    if result.is_err() {
        // Best effort: the directory is garbage either way and is also removed on next open.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result?;
    let dest = dir.join(ulid.to_string());
    std::fs::rename(&tmp, &dest).map_err(BlockError::io("rename", &tmp))?;
    sync_dir(dir)?;
    Ok(ulid)
}

fn write_into(
    tmp: &Path,
    ulid: Ulid,
    mint: i64,
    maxt: i64,
    set: &mut dyn ChunkSeriesSet,
    opts: BlockWriteOptions,
) -> Result<(), BlockError> {
    std::fs::create_dir_all(tmp).map_err(BlockError::io("create", tmp))?;
    let mut chunk_writer = ChunkWriter::new(tmp.join(CHUNKS_DIR))?;
    let mut stats = BlockStats::default();
    let mut series: Vec<(Labels, Vec<ChunkIndexMeta>)> = Vec::new();
    let mut symbols: BTreeSet<Box<str>> = BTreeSet::new();

    while let Some(s) = set.next() {
        let mut it = s.chunks();
        let mut metas = Vec::new();
        while let Some(c) = it.next() {
            let r = chunk_writer.write_chunk(c.chunk.encoding(), c.chunk.bytes())?;
            stats.num_chunks += 1;
            stats.num_samples += c.chunk.num_samples() as u64;
            metas.push(ChunkIndexMeta {
                min_time: c.min_time,
                max_time: c.max_time,
                chunk_ref: r.0,
            });
        }
        if let Some(e) = it.err() {
            return Err(BlockError::Source(e.clone()));
        }
        if metas.is_empty() {
            continue;
        }
        for l in s.labels().iter() {
            for sym in [l.name, l.value] {
                if !symbols.contains(sym) {
                    symbols.insert(sym.into());
                }
            }
        }
        stats.num_series += 1;
        series.push((s.labels().clone(), metas));
    }
    if let Some(e) = set.err() {
        return Err(BlockError::Source(e.clone()));
    }
    chunk_writer.close()?;

    let mut index = IndexWriter::create(tmp.join(INDEX_FILE), symbols.iter().map(|s| &**s))?;
    for (labels, metas) in &series {
        index.add_series(labels, metas)?;
    }
    index.finish()?;

    let meta = BlockMeta {
        ulid,
        min_time: mint,
        max_time: maxt,
        stats,
        compaction: BlockMetaCompaction {
            level: opts.level.max(1),
            sources: if opts.sources.is_empty() {
                vec![ulid]
            } else {
                opts.sources
            },
            parents: opts.parents,
            ..Default::default()
        },
        version: META_VERSION,
    };
    meta.write(tmp)?;
    Tombstones::default().write(tmp)?;
    sync_dir(tmp)
}
