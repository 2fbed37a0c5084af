use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::Querier;

use super::testutil::{VecChunkSeriesSet, collect};
use super::*;

fn data() -> Vec<(Labels, Vec<(i64, f64)>)> {
    (0..20)
        .map(|i| {
            let labels = Labels::from_pairs([
                ("__name__", "up".to_owned()),
                ("instance", format!("i{i:02}")),
            ]);
            let samples = (0..300).map(|s| (s * 15_000, (i * s) as f64)).collect();
            (labels, samples)
        })
        .collect()
}

fn eq(name: &str, value: &str) -> Matcher {
    Matcher::new(MatchType::Equal, name, value).unwrap()
}

#[test]
fn written_block_reads_back_with_upstream_meta() {
    let dir = tempfile::tempdir().unwrap();
    let data = data();
    let ulid = write_block(
        dir.path(),
        0,
        300 * 15_000,
        &mut VecChunkSeriesSet::new(data.clone()).unwrap(),
    )
    .unwrap();
    let block_dir = dir.path().join(ulid.to_string());
    let entries: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        entries,
        [ulid.to_string()],
        "no temporary directory is left"
    );

    let block = Block::open(&block_dir).unwrap();
    let meta = block.meta();
    assert_eq!(meta.ulid, ulid);
    assert_eq!(meta.stats.num_series, 20);
    assert_eq!(meta.stats.num_samples, 20 * 300);
    assert_eq!(meta.stats.num_chunks, 20 * 3);
    assert_eq!(meta.compaction.level, 1);
    assert_eq!(meta.compaction.sources, [ulid]);

    let json = std::fs::read_to_string(block_dir.join(META_FILE)).unwrap();
    assert!(json.starts_with("{\n\t\"ulid\": \""), "{json}");
    assert!(
        json.contains("\"minTime\": 0,\n\t\"maxTime\": 4500000,"),
        "{json}"
    );
    assert!(json.ends_with("\"version\": 1\n}"), "{json}");

    let got = collect(Querier::select(
        &block.querier(i64::MIN, i64::MAX),
        true,
        None,
        &[eq("__name__", "up")],
    ));
    assert_eq!(got, data);
}

#[test]
fn delete_writes_tombstones_that_queries_honour() {
    let dir = tempfile::tempdir().unwrap();
    let ulid = write_block(
        dir.path(),
        0,
        300 * 15_000,
        &mut VecChunkSeriesSet::new(data()).unwrap(),
    )
    .unwrap();
    let block_dir = dir.path().join(ulid.to_string());
    let block = Block::open(&block_dir).unwrap();
    block
        .delete(15_000, 30_000, &[eq("instance", "i03")])
        .unwrap();
    // The whole series i04 goes.
    block
        .delete(i64::MIN, i64::MAX, &[eq("instance", "i04")])
        .unwrap();
    assert_eq!(block.meta().stats.num_tombstones, 2);

    // Reopened, the tombstones are still there.
    let block = Block::open(&block_dir).unwrap();
    let got = collect(Querier::select(
        &block.querier(0, 60_000),
        true,
        None,
        &[eq("__name__", "up")],
    ));
    assert_eq!(got.len(), 19);
    let i03 = &got
        .iter()
        .find(|(l, _)| l.get("instance") == Some("i03"))
        .unwrap()
        .1;
    assert_eq!(i03, &[(0, 0.0), (45_000, 9.0), (60_000, 12.0)]);
    assert!(!got.iter().any(|(l, _)| l.get("instance") == Some("i04")));
}

#[test]
fn unfinished_block_directories_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let ulid = write_block(
        dir.path(),
        0,
        300 * 15_000,
        &mut VecChunkSeriesSet::new(data()).unwrap(),
    )
    .unwrap();
    let crashed = dir
        .path()
        .join(format!("01ARZ3NDEKTSV4RRFFQ69G5FAV{TMP_FOR_CREATION}"));
    std::fs::create_dir_all(crashed.join("chunks")).unwrap();
    let deleting = dir
        .path()
        .join(format!("01ARZ3NDEKTSV4RRFFQ69G5FAW{TMP_FOR_DELETION}"));
    std::fs::create_dir_all(&deleting).unwrap();
    let blocks = open_blocks(dir.path()).unwrap();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].meta().ulid, ulid);
    assert!(!crashed.exists() && !deleting.exists());
}
