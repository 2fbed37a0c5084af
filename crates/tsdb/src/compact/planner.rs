//! Which blocks to compact next, with upstream's leveled semantics (`LeveledCompactor.Plan`):
//! overlapping blocks first (vertical compaction), then the first run of blocks filling one of
//! the larger ranges, then a single big block with many tombstones to rewrite.

use std::path::PathBuf;

use crate::block::BlockMeta;

/// A block as the planner sees it: where it lives and its meta.json.
#[derive(Clone, Debug)]
pub struct PlanBlock {
    pub dir: PathBuf,
    pub meta: BlockMeta,
}

/// The directories of the blocks to compact into one, oldest first; empty when nothing is due.
/// `ranges` are the compaction ranges, smallest first (e.g. 2h, 6h, 18h).
pub fn plan(mut blocks: Vec<PlanBlock>, ranges: &[i64]) -> Vec<PathBuf> {
    if blocks.is_empty() {
        return Vec::new();
    }
    blocks.sort_by_key(|b| b.meta.min_time);
    let overlapping = select_overlapping(&blocks);
    if !overlapping.is_empty() {
        return overlapping;
    }
    // The newest block stays out: it was most likely just cut from the head, and leaving it
    // alone for one range lets users back up new data without caring about overlaps.
    blocks.pop();
    let selected = select_range(&blocks, ranges);
    if !selected.is_empty() {
        return selected.iter().map(|b| b.dir.clone()).collect();
    }
    tombstoned(&blocks, ranges).into_iter().collect()
}

/// The newest block big enough to be worth rewriting whose tombstones exceed 5% of its
/// series; or, among the newest small blocks, one that is entirely deleted.
fn tombstoned(blocks: &[PlanBlock], ranges: &[i64]) -> Option<PathBuf> {
    let big = ranges[ranges.len() / 2];
    for b in blocks.iter().rev() {
        let stats = &b.meta.stats;
        if b.meta.max_time - b.meta.min_time < big {
            let all_deleted = stats.num_tombstones > 0 && stats.num_tombstones >= stats.num_series;
            return all_deleted.then(|| b.dir.clone());
        }
        if stats.num_tombstones as f64 / (stats.num_series + 1) as f64 > 0.05 {
            return Some(b.dir.clone());
        }
    }
    None
}

/// The first run of overlapping blocks (input sorted by min time), in input order.
fn select_overlapping(blocks: &[PlanBlock]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Some(first) = blocks.first() else {
        return out;
    };
    let mut max_t = first.meta.max_time;
    for (i, b) in blocks.iter().enumerate().skip(1) {
        if b.meta.min_time < max_t {
            if out.is_empty() {
                out.push(blocks[i - 1].dir.clone());
            }
            out.push(b.dir.clone());
        } else if !out.is_empty() {
            break;
        }
        max_t = max_t.max(b.meta.max_time);
    }
    out
}

/// For each range above the smallest, the first aligned group of several blocks that either
/// fills the whole range or ends before the newest block starts (so no block of the same size
/// may still join it). Groups containing a block whose compaction failed are skipped.
fn select_range<'a>(blocks: &'a [PlanBlock], ranges: &[i64]) -> &'a [PlanBlock] {
    let Some(newest) = blocks.last() else {
        return &[];
    };
    let high = newest.meta.min_time;
    for &range in ranges.iter().skip(1) {
        for group in split_by_range(blocks, range) {
            if group.len() < 2 || group.iter().any(|b| b.meta.compaction.failed) {
                continue;
            }
            let mint = group[0].meta.min_time;
            let maxt = group[group.len() - 1].meta.max_time;
            if maxt - mint == range || maxt <= high {
                return group;
            }
        }
    }
    &[]
}

/// Groups blocks (sorted by min time) by the range-aligned window `[k*range, (k+1)*range]`
/// each lies in; blocks crossing a window edge belong to no group.
fn split_by_range(blocks: &[PlanBlock], range: i64) -> Vec<&[PlanBlock]> {
    let mut groups = Vec::new();
    let mut i = 0;
    while i < blocks.len() {
        let start = blocks[i].meta.min_time.div_euclid(range) * range;
        let end = start + range;
        if blocks[i].meta.max_time > end {
            i += 1;
            continue;
        }
        let from = i;
        while i < blocks.len() && blocks[i].meta.max_time <= end {
            i += 1;
        }
        groups.push(&blocks[from..i]);
    }
    groups
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
