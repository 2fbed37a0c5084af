//! Block time ranges and retention: which compaction ranges a DB uses, and which blocks fall
//! outside the retention time or size (upstream's `ExponentialBlockRanges`,
//! `BeyondTimeRetention`, `BeyondSizeRetention`).

use ulid::Ulid;

/// Upstream's default smallest block range: 2h in milliseconds.
pub const DEFAULT_MIN_BLOCK_DURATION: i64 = 2 * 3600 * 1000;
/// The cap on the largest block range: 31 days.
pub const MAX_BLOCK_DURATION_CAP: i64 = 31 * 24 * 3600 * 1000;

/// `steps` ranges starting at `min`, each `factor` times the previous.
pub fn exponential_block_ranges(min: i64, steps: usize, factor: i64) -> Vec<i64> {
    std::iter::successors(Some(min), |r| r.checked_mul(factor))
        .take(steps)
        .collect()
}

/// The largest block a server with this retention (milliseconds, 0 for none) compacts into:
/// 10% of the retention, at most 31 days.
pub fn max_block_duration(retention: i64) -> i64 {
    if retention <= 0 {
        return MAX_BLOCK_DURATION_CAP;
    }
    (retention / 10).min(MAX_BLOCK_DURATION_CAP)
}

/// The compaction ranges the server uses: 10 ranges from `min` growing 3× each, dropping those
/// above `max` (as upstream's `tsdb.Open`).
pub fn block_ranges(min: i64, max: i64) -> Vec<i64> {
    let mut ranges = exponential_block_ranges(min, 10, 3);
    if let Some(i) = ranges.iter().position(|&r| r > max) {
        ranges.truncate(i.max(1));
    }
    ranges
}

/// A block as retention sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionBlock {
    pub ulid: Ulid,
    /// The block's `maxTime` from meta.json.
    pub max_time: i64,
    /// Bytes the block occupies on disk.
    pub size: u64,
}

/// Blocks whose end lies more than `retention` milliseconds before the newest block's end, and
/// every older block. `blocks` must be sorted newest first; a `retention` of 0 disables it.
pub fn beyond_time_retention(blocks: &[RetentionBlock], retention: i64) -> Vec<Ulid> {
    let Some(newest) = blocks.first() else {
        return Vec::new();
    };
    if retention <= 0 {
        return Vec::new();
    }
    match blocks
        .iter()
        .skip(1)
        .position(|b| newest.max_time - b.max_time > retention)
    {
        Some(i) => blocks[i + 1..].iter().map(|b| b.ulid).collect(),
        None => Vec::new(),
    }
}

/// Blocks that, added newest first to `head_size` (WAL and head chunks), push the total past
/// `max_bytes`, and every older block. `blocks` must be sorted newest first; a `max_bytes` of 0
/// or less disables it.
pub fn beyond_size_retention(
    blocks: &[RetentionBlock],
    head_size: u64,
    max_bytes: i64,
) -> Vec<Ulid> {
    let Ok(max) = u64::try_from(max_bytes) else {
        return Vec::new();
    };
    if max == 0 {
        return Vec::new();
    }
    let mut total = head_size;
    match blocks.iter().position(|b| {
        total = total.saturating_add(b.size);
        total > max
    }) {
        Some(i) => blocks[i..].iter().map(|b| b.ulid).collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600 * 1000;

    fn blocks(max_times: &[i64]) -> Vec<RetentionBlock> {
        max_times
            .iter()
            .enumerate()
            .map(|(i, &max_time)| RetentionBlock {
                ulid: Ulid::from_parts(i as u64, 0),
                max_time,
                size: 100,
            })
            .collect()
    }

    #[test]
    fn ranges_grow_threefold_up_to_the_cap() {
        assert_eq!(
            exponential_block_ranges(2 * H, 3, 3),
            [2 * H, 6 * H, 18 * H]
        );
        // 15 days of retention: blocks of at most 36h.
        assert_eq!(max_block_duration(15 * 24 * H), 36 * H);
        assert_eq!(max_block_duration(1000 * 24 * H), MAX_BLOCK_DURATION_CAP);
        assert_eq!(block_ranges(2 * H, 36 * H), [2 * H, 6 * H, 18 * H]);
        assert_eq!(block_ranges(2 * H, H), [2 * H]);
    }

    #[test]
    fn time_retention_drops_blocks_ending_too_long_before_the_newest() {
        let b = blocks(&[100 * H, 90 * H, 80 * H, 70 * H]);
        let ulids: Vec<Ulid> = b.iter().map(|b| b.ulid).collect();
        assert_eq!(beyond_time_retention(&b, 15 * H), ulids[2..]);
        // Exactly the retention apart is kept.
        assert_eq!(beyond_time_retention(&b, 20 * H), ulids[3..]);
        assert!(beyond_time_retention(&b, 0).is_empty());
        assert!(beyond_time_retention(&[], H).is_empty());
    }

    #[test]
    fn size_retention_counts_the_head_first() {
        let b = blocks(&[4 * H, 3 * H, 2 * H]);
        let ulids: Vec<Ulid> = b.iter().map(|b| b.ulid).collect();
        assert_eq!(beyond_size_retention(&b, 0, 250), ulids[2..]);
        assert_eq!(beyond_size_retention(&b, 60, 250), ulids[1..]);
        assert!(beyond_size_retention(&b, 0, 300).is_empty());
        assert!(beyond_size_retention(&b, 0, 0).is_empty());
    }
}
