//! `xfs`: per-filesystem XFS statistics from `/sys/fs/xfs/<device>/stats/stats`.

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter_family};
use crate::paths::{Paths, read, sorted_entries};

/// One exported column: the stats line, how many values that line must have, the column,
/// the metric suffix and its help.
type Column = (&'static str, usize, usize, &'static str, &'static str);

const COLUMNS: &[Column] = &[
    (
        "extent_alloc",
        4,
        0,
        "extent_allocation_extents_allocated_total",
        "Number of extents allocated for a filesystem.",
    ),
    (
        "extent_alloc",
        4,
        1,
        "extent_allocation_blocks_allocated_total",
        "Number of blocks allocated for a filesystem.",
    ),
    (
        "extent_alloc",
        4,
        2,
        "extent_allocation_extents_freed_total",
        "Number of extents freed for a filesystem.",
    ),
    (
        "extent_alloc",
        4,
        3,
        "extent_allocation_blocks_freed_total",
        "Number of blocks freed for a filesystem.",
    ),
    (
        "abt",
        4,
        0,
        "allocation_btree_lookups_total",
        "Number of allocation B-tree lookups for a filesystem.",
    ),
    (
        "abt",
        4,
        1,
        "allocation_btree_compares_total",
        "Number of allocation B-tree compares for a filesystem.",
    ),
    (
        "abt",
        4,
        2,
        "allocation_btree_records_inserted_total",
        "Number of allocation B-tree records inserted for a filesystem.",
    ),
    (
        "abt",
        4,
        3,
        "allocation_btree_records_deleted_total",
        "Number of allocation B-tree records deleted for a filesystem.",
    ),
    (
        "blk_map",
        7,
        0,
        "block_mapping_reads_total",
        "Number of block map for read operations for a filesystem.",
    ),
    (
        "blk_map",
        7,
        1,
        "block_mapping_writes_total",
        "Number of block map for write operations for a filesystem.",
    ),
    (
        "blk_map",
        7,
        2,
        "block_mapping_unmaps_total",
        "Number of block unmaps (deletes) for a filesystem.",
    ),
    (
        "blk_map",
        7,
        3,
        "block_mapping_extent_list_insertions_total",
        "Number of extent list insertions for a filesystem.",
    ),
    (
        "blk_map",
        7,
        4,
        "block_mapping_extent_list_deletions_total",
        "Number of extent list deletions for a filesystem.",
    ),
    (
        "blk_map",
        7,
        5,
        "block_mapping_extent_list_lookups_total",
        "Number of extent list lookups for a filesystem.",
    ),
    (
        "blk_map",
        7,
        6,
        "block_mapping_extent_list_compares_total",
        "Number of extent list compares for a filesystem.",
    ),
    (
        "bmbt",
        4,
        0,
        "block_map_btree_lookups_total",
        "Number of block map B-tree lookups for a filesystem.",
    ),
    (
        "bmbt",
        4,
        1,
        "block_map_btree_compares_total",
        "Number of block map B-tree compares for a filesystem.",
    ),
    (
        "bmbt",
        4,
        2,
        "block_map_btree_records_inserted_total",
        "Number of block map B-tree records inserted for a filesystem.",
    ),
    (
        "bmbt",
        4,
        3,
        "block_map_btree_records_deleted_total",
        "Number of block map B-tree records deleted for a filesystem.",
    ),
    (
        "dir",
        4,
        0,
        "directory_operation_lookup_total",
        "Number of file name directory lookups which miss the operating systems directory name lookup cache.",
    ),
    (
        "dir",
        4,
        1,
        "directory_operation_create_total",
        "Number of times a new directory entry was created for a filesystem.",
    ),
    (
        "dir",
        4,
        2,
        "directory_operation_remove_total",
        "Number of times an existing directory entry was created for a filesystem.",
    ),
    (
        "dir",
        4,
        3,
        "directory_operation_getdents_total",
        "Number of times the directory getdents operation was performed for a filesystem.",
    ),
    (
        "ig",
        7,
        0,
        "inode_operation_attempts_total",
        "Number of times the OS looked for an XFS inode in the inode cache.",
    ),
    (
        "ig",
        7,
        1,
        "inode_operation_found_total",
        "Number of times the OS looked for and found an XFS inode in the inode cache.",
    ),
    (
        "ig",
        7,
        2,
        "inode_operation_recycled_total",
        "Number of times the OS found an XFS inode in the cache, but could not use it as it was being recycled.",
    ),
    (
        "ig",
        7,
        3,
        "inode_operation_missed_total",
        "Number of times the OS looked for an XFS inode in the cache, but did not find it.",
    ),
    (
        "ig",
        7,
        4,
        "inode_operation_duplicates_total",
        "Number of times the OS tried to add a missing XFS inode to the inode cache, but found it had already been added by another process.",
    ),
    (
        "ig",
        7,
        5,
        "inode_operation_reclaims_total",
        "Number of times the OS reclaimed an XFS inode from the inode cache to free memory for another purpose.",
    ),
    (
        "ig",
        7,
        6,
        "inode_operation_attribute_changes_total",
        "Number of times the OS explicitly changed the attributes of an XFS inode.",
    ),
    (
        "rw",
        2,
        0,
        "write_calls_total",
        "Number of write(2) system calls made to files in a filesystem.",
    ),
    (
        "rw",
        2,
        1,
        "read_calls_total",
        "Number of read(2) system calls made to files in a filesystem.",
    ),
    (
        "vnodes",
        8,
        0,
        "vnode_active_total",
        "Number of vnodes not on free lists for a filesystem.",
    ),
    (
        "vnodes",
        8,
        1,
        "vnode_allocate_total",
        "Number of times vn_alloc called for a filesystem.",
    ),
    (
        "vnodes",
        8,
        2,
        "vnode_get_total",
        "Number of times vn_get called for a filesystem.",
    ),
    (
        "vnodes",
        8,
        3,
        "vnode_hold_total",
        "Number of times vn_hold called for a filesystem.",
    ),
    (
        "vnodes",
        8,
        4,
        "vnode_release_total",
        "Number of times vn_rele called for a filesystem.",
    ),
    (
        "vnodes",
        8,
        5,
        "vnode_reclaim_total",
        "Number of times vn_reclaim called for a filesystem.",
    ),
    (
        "vnodes",
        8,
        6,
        "vnode_remove_total",
        "Number of times vn_remove called for a filesystem.",
    ),
];

/// The exported columns of one stats file, in `COLUMNS` order; a line the file lacks reads as
/// zeros, a known line with the wrong number of values is an error.
fn parse(text: &str) -> Result<Vec<u64>, String> {
    let mut values = vec![0; COLUMNS.len()];
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(label) = fields.next() else { continue };
        let wanted: Vec<(usize, &Column)> = COLUMNS
            .iter()
            .enumerate()
            .filter(|(_, c)| c.0 == label)
            .collect();
        let Some((_, first)) = wanted.first() else {
            continue;
        };
        let row = fields
            .map(str::parse::<u64>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("failed to parse XFS {label} stats: {e}"))?;
        if row.len() != first.1 {
            return Err(format!(
                "incorrect number of values for XFS {label} stats: {}",
                row.len()
            ));
        }
        for (i, c) in wanted {
            values[i] = row[c.2];
        }
    }
    Ok(values)
}

struct Xfs(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Xfs(s.paths.clone())))
}

impl Collector for Xfs {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let devices = match sorted_entries(&self.0.sys("fs/xfs")) {
            Err(e) if e.is_no_data() => Vec::new(),
            r => r?,
        };
        let mut families: Vec<_> = COLUMNS
            .iter()
            .map(|c| counter_family(format!("node_xfs_{}", c.3), c.4))
            .collect();
        for (device, dir) in devices {
            let path = dir.join("stats/stats");
            if !path.is_file() {
                continue;
            }
            let values = parse(&read(&path)?).map_err(|r| CollectorError::parse(&path, r))?;
            for (family, v) in families.iter_mut().zip(values) {
                family.push(&[("device", &device)], v as f64);
            }
        }
        out.extend(families.into_iter().map(|f| f.into_family()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_map_by_line_and_bad_lines_fail() {
        let v = parse("rw 28 3\nvnodes 4 0 0 0 1 2 3 0\nxpc 1 2 3\n").unwrap();
        let at = |m: &str| v[COLUMNS.iter().position(|c| c.3 == m).unwrap()];
        assert_eq!(at("write_calls_total"), 28);
        assert_eq!(at("read_calls_total"), 3);
        assert_eq!(at("vnode_reclaim_total"), 2);
        assert_eq!(at("directory_operation_lookup_total"), 0);
        assert!(parse("rw 1\n").is_err());
        assert!(parse("dir 1 2 x 4\n").is_err());
    }
}
