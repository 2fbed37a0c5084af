//! `tsdb list`: one row per block, in upstream's tab-aligned table.

use std::io::{self, Write};
use std::path::Path;

use jiff::{SignedDuration, Timestamp};
use pm_common::template::time::duration_string;
use pm_tsdb::block::{Block, META_FILE};

use super::read_blocks;
use crate::promtool::{FAILURE, Output, SUCCESS};

const HEADER: [&str; 8] = [
    "BLOCK ULID",
    "MIN TIME",
    "MAX TIME",
    "DURATION",
    "NUM SAMPLES",
    "NUM CHUNKS",
    "NUM SERIES",
    "SIZE",
];

/// Lists the blocks of `dir`; `human_readable` prints times as dates and sizes in binary units.
pub fn list(o: &mut Output<'_>, dir: &Path, human_readable: bool) -> io::Result<u8> {
    let blocks = match read_blocks(dir) {
        Ok(blocks) => blocks,
        Err(err) => {
            writeln!(o.err, "{err}")?;
            return Ok(FAILURE);
        }
    };
    write_table(o.out, &block_rows(&blocks, true, human_readable))?;
    Ok(SUCCESS)
}

/// The table rows of `blocks`, after the header row when `header` is set.
pub(super) fn block_rows(blocks: &[Block], header: bool, human_readable: bool) -> Vec<Vec<String>> {
    let mut rows = Vec::with_capacity(blocks.len() + 1);
    if header {
        rows.push(HEADER.map(str::to_owned).to_vec());
    }
    rows.extend(blocks.iter().map(|b| row(b, human_readable)));
    rows
}

fn row(block: &Block, human_readable: bool) -> Vec<String> {
    let meta = block.meta();
    let time = |ms: i64| {
        if human_readable {
            Timestamp::from_second(ms.div_euclid(1000))
                .map(|t| t.strftime("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
                .unwrap_or_else(|_| ms.to_string())
        } else {
            ms.to_string()
        }
    };
    let size = block_size(block);
    vec![
        meta.ulid.to_string(),
        time(meta.min_time),
        time(meta.max_time),
        duration_string(SignedDuration::from_millis(meta.max_time - meta.min_time)),
        meta.stats.num_samples.to_string(),
        meta.stats.num_chunks.to_string(),
        meta.stats.num_series.to_string(),
        if human_readable {
            base2_bytes(size)
        } else {
            size.to_string()
        },
    ]
}

/// Upstream's block size: index, chunks, tombstones and meta.json.
fn block_size(block: &Block) -> u64 {
    let file_len = |name: &str| {
        std::fs::metadata(block.dir().join(name))
            .map(|m| m.len())
            .unwrap_or(0)
    };
    block.size() + file_len(META_FILE) + file_len("tombstones")
}

/// A byte count as `alecthomas/units.Base2Bytes` prints it: every non-zero 1024-power part,
/// largest first (`1KiB512B`, `3MiB`).
pub(super) fn base2_bytes(mut n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n == 0 {
        return "0B".into();
    }
    let mut parts = Vec::new();
    for unit in UNITS {
        if !n.is_multiple_of(1024) {
            parts.push(format!("{}{unit}", n % 1024));
        }
        n /= 1024;
        if n == 0 {
            break;
        }
    }
    parts.reverse();
    parts.concat()
}

/// Go's `tabwriter` as promtool configures it (minimum cell width 13, padding 2, spaces):
/// every column but the last is padded to its widest cell plus two.
pub(super) fn write_table(out: &mut dyn Write, rows: &[Vec<String>]) -> io::Result<()> {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns.saturating_sub(1))
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count() + 2)
                .max()
                .unwrap_or(0)
                .max(13)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if let Some(width) = widths.get(c) {
                let pad = width - cell.chars().count();
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}
