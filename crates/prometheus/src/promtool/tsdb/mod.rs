//! `promtool tsdb`: listing, analyzing, dumping and creating (backfilling) the blocks of a
//! data directory, which our TSDB and upstream's write in the same format, so either tool
//! reads the other's blocks.
//!
//! Only persisted blocks are read: the write-ahead log of a running server's head is not
//! replayed (upstream's read-only open also reads it).

mod analyze;
mod create;
mod dump;
mod list;
mod rules;
#[cfg(test)]
mod tests;

pub use analyze::{AnalyzeOptions, analyze};
pub use create::{CreateOptions, create_from_openmetrics};
pub use dump::{DumpFormat, dump};
pub use list::list;
pub use rules::{RulesBackfillOptions, create_from_rules};

use std::path::Path;

use pm_tsdb::block::{Block, BlockError, META_FILE};

/// The blocks of `dir`, oldest first. Unlike the server's open, leftovers of interrupted
/// writes are skipped rather than deleted: a read-only tool changes nothing.
fn read_blocks(dir: &Path) -> Result<Vec<Block>, BlockError> {
    let entries = std::fs::read_dir(dir).map_err(|source| BlockError::Io {
        op: "open",
        path: dir.to_owned(),
        source,
    })?;
    let mut blocks = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let is_block = entry
            .file_name()
            .to_str()
            .is_some_and(|name| ulid::Ulid::from_string(name).is_ok());
        if is_block && path.join(META_FILE).exists() {
            blocks.push(Block::open(&path)?);
        }
    }
    blocks.sort_by_key(|b| b.meta().min_time);
    Ok(blocks)
}
