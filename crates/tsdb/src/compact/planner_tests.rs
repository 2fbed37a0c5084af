//! The planner cases of upstream's `TestLeveledCompactor_plan` and
//! `TestRangeWithFailedCompactionWontGetSelected`, same inputs and expectations.

use std::path::PathBuf;

use ulid::Ulid;

use super::{PlanBlock, plan};
use crate::block::{BlockMeta, BlockMetaCompaction, BlockStats, META_VERSION};

/// Upstream's test ranges: `ExponentialBlockRanges(20, 5, 3)`.
const RANGES: [i64; 5] = [20, 60, 180, 540, 1620];

fn block(name: &str, min_time: i64, max_time: i64) -> PlanBlock {
    block_with(name, min_time, max_time, BlockStats::default())
}

fn block_with(name: &str, min_time: i64, max_time: i64, stats: BlockStats) -> PlanBlock {
    PlanBlock {
        dir: PathBuf::from(name),
        meta: BlockMeta {
            ulid: Ulid::nil(),
            min_time,
            max_time,
            stats,
            compaction: BlockMetaCompaction::default(),
            version: META_VERSION,
        },
    }
}

fn tombstoned(series: u64, tombstones: u64) -> BlockStats {
    BlockStats {
        num_series: series,
        num_tombstones: tombstones,
        ..Default::default()
    }
}

fn names(dirs: Vec<PathBuf>) -> Vec<String> {
    dirs.into_iter()
        .map(|d| d.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn leveled_plan_matches_upstream_cases() {
    let cases: Vec<(&str, Vec<PlanBlock>, Vec<&str>)> = vec![
        ("outside range", vec![block("1", 0, 20)], vec![]),
        (
            "waits for four blocks of the smallest size",
            vec![block("1", 0, 20), block("2", 20, 40)],
            vec![],
        ),
        (
            "ignores the fresh block, so three are not enough",
            vec![block("1", 0, 20), block("2", 20, 40), block("3", 40, 60)],
            vec![],
        ),
        (
            "a block filling the parent range appeared",
            vec![
                block("1", 0, 20),
                block("2", 20, 40),
                block("3", 40, 60),
                block("4", 60, 80),
            ],
            vec!["1", "2", "3"],
        ),
        (
            "next parent range begun after a gap, but the fresh block is still ignored",
            vec![block("1", 0, 20), block("2", 20, 40), block("3", 60, 80)],
            vec![],
        ),
        (
            "the gap will not be filled any more: compact the two",
            vec![
                block("1", 0, 20),
                block("2", 20, 40),
                block("3", 60, 80),
                block("4", 80, 100),
            ],
            vec!["1", "2"],
        ),
        (
            "20, 20, 20, 60, 60 with the last fresh",
            vec![
                block("1", 0, 20),
                block("2", 20, 40),
                block("3", 40, 60),
                block("4", 60, 120),
                block("5", 120, 180),
            ],
            vec!["1", "2", "3"],
        ),
        (
            "20 + 60 + 60 fill a 180 range",
            vec![
                block("2", 20, 40),
                block("4", 60, 120),
                block("5", 960, 980),
                block("6", 120, 180),
                block("7", 720, 960),
            ],
            vec!["2", "4", "6"],
        ),
        (
            "a large tombstoned block alone is left alone",
            vec![block_with("1", 0, 540, tombstoned(10, 3))],
            vec![],
        ),
        (
            "a large tombstoned block is rewritten once a fresh one appears",
            vec![
                block_with("1", 0, 540, tombstoned(10, 3)),
                block("2", 540, 560),
            ],
            vec!["1"],
        ),
        (
            "small blocks are not rewritten for tombstones",
            vec![
                block_with("1", 0, 60, tombstoned(10, 3)),
                block("2", 60, 80),
            ],
            vec![],
        ),
        (
            "no loop on a block with neither series nor tombstones",
            vec![
                block_with("1", 0, 540, tombstoned(0, 0)),
                block("2", 540, 560),
            ],
            vec![],
        ),
        (
            "the fresh block is the one with the newest min time, not the newest ULID",
            vec![
                block("5", 0, 360),
                block("6", 540, 560),
                block("7", 360, 420),
                block("8", 420, 540),
            ],
            vec!["7", "8"],
        ),
        (
            "overlapping 1",
            vec![block("1", 0, 20), block("2", 19, 40), block("3", 40, 60)],
            vec!["1", "2"],
        ),
        (
            "overlapping 2",
            vec![block("1", 0, 20), block("2", 20, 40), block("3", 30, 50)],
            vec!["2", "3"],
        ),
        (
            "overlapping 3",
            vec![block("1", 0, 20), block("2", 10, 40), block("3", 30, 50)],
            vec!["1", "2", "3"],
        ),
        (
            "overlapping 4",
            vec![
                block("5", 0, 360),
                block("6", 340, 560),
                block("7", 360, 420),
                block("8", 420, 540),
            ],
            vec!["5", "6", "7", "8"],
        ),
        (
            "overlapping 5: only the first run",
            vec![
                block("1", 0, 10),
                block("2", 9, 20),
                block("3", 30, 40),
                block("4", 39, 50),
            ],
            vec!["1", "2"],
        ),
    ];
    for (title, blocks, want) in cases {
        assert_eq!(names(plan(blocks, &RANGES)), want, "{title}");
    }
}

#[test]
fn ranges_with_a_failed_compaction_are_skipped() {
    let ranges = [20, 60, 240, 720, 2160];
    let cases = [
        vec![
            block("1", 0, 20),
            block("2", 20, 40),
            block("3", 40, 60),
            block("4", 60, 80),
        ],
        vec![
            block("1", 0, 20),
            block("2", 20, 40),
            block("3", 60, 80),
            block("4", 80, 100),
        ],
        vec![
            block("1", 0, 20),
            block("2", 20, 40),
            block("3", 40, 60),
            block("4", 60, 120),
            block("5", 120, 180),
            block("6", 180, 200),
        ],
    ];
    for mut blocks in cases {
        assert!(!plan(blocks.clone(), &ranges).is_empty());
        blocks[1].meta.compaction.failed = true;
        assert!(plan(blocks, &ranges).is_empty());
    }
}

#[test]
fn blocks_before_the_epoch_align_downwards() {
    // [-20, 0) and [0, 20) are in different 60-wide windows: [-60, 0] and [0, 60].
    let blocks = vec![
        block("1", -40, -20),
        block("2", -20, 0),
        block("3", 0, 20),
        block("4", 20, 40),
    ];
    assert_eq!(names(plan(blocks, &RANGES)), ["1", "2"]);
}
