use std::sync::Arc;

use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::{ChunkEncoding, ChunkMeta, Querier};

use super::merge::{merge_chunks, samples_of};
use super::*;
use crate::block::testutil::{VecChunkSeriesSet, collect};
use crate::block::{open_blocks, write_block};
use crate::querier::BlockChunk;

type Data = Vec<(Labels, Vec<(i64, f64)>)>;

fn series(name: &str, samples: impl IntoIterator<Item = (i64, f64)>) -> (Labels, Vec<(i64, f64)>) {
    (
        Labels::from_pairs([("__name__", "m"), ("s", name)]),
        samples.into_iter().collect(),
    )
}

fn block(dir: &Path, mint: i64, maxt: i64, data: Data) -> Arc<Block> {
    let ulid = write_block(dir, mint, maxt, &mut VecChunkSeriesSet::new(data).unwrap()).unwrap();
    Arc::new(Block::open(dir.join(ulid.to_string())).unwrap())
}

fn read_all(b: &Block) -> Data {
    let m = b.meta();
    let all = Matcher::new(MatchType::Regexp, "__name__", ".+").unwrap();
    collect(Querier::select(
        &b.querier(m.min_time, m.max_time),
        true,
        None,
        &[all],
    ))
}

fn chunk(samples: &[(i64, f64)]) -> ChunkMeta {
    ChunkMeta {
        min_time: samples[0].0,
        max_time: samples[samples.len() - 1].0,
        chunk: Arc::new(BlockChunk::encode_floats(samples).unwrap()),
    }
}

#[test]
fn adjacent_blocks_merge_with_lineage() {
    let dir = tempfile::tempdir().unwrap();
    let a = block(
        dir.path(),
        0,
        100,
        vec![
            series("a", (0..10).map(|i| (i * 10, i as f64))),
            series("b", [(5, 1.0)]),
        ],
    );
    let b = block(
        dir.path(),
        100,
        200,
        vec![
            series("a", (10..20).map(|i| (i * 10, i as f64))),
            series("c", [(150, 2.0)]),
        ],
    );
    let c = Compactor::new(vec![100, 300]).unwrap();
    let ulid = c
        .compact(dir.path(), &[a.clone(), b.clone()])
        .unwrap()
        .unwrap();
    let merged = Block::open(dir.path().join(ulid.to_string())).unwrap();
    let meta = merged.meta();
    assert_eq!((meta.min_time, meta.max_time), (0, 200));
    assert_eq!(meta.compaction.level, 2);
    let mut sources = vec![a.meta().ulid, b.meta().ulid];
    sources.sort();
    assert_eq!(meta.compaction.sources, sources);
    let parents: Vec<Ulid> = meta.compaction.parents.iter().map(|p| p.ulid).collect();
    assert_eq!(parents, [a.meta().ulid, b.meta().ulid]);
    assert_eq!(meta.stats.num_series, 3);
    assert_eq!(meta.stats.num_samples, 22);
    assert_eq!(
        read_all(&merged),
        vec![
            series("a", (0..20).map(|i| (i * 10, i as f64))),
            series("b", [(5, 1.0)]),
            series("c", [(150, 2.0)]),
        ]
    );
}

#[test]
fn overlapping_blocks_are_merged_vertically() {
    let dir = tempfile::tempdir().unwrap();
    let a = block(
        dir.path(),
        0,
        100,
        vec![series("a", (0..50).map(|t| (t * 2, 1.0)))],
    );
    // Overlaps `a` and repeats some of its timestamps with other values: `a` wins those.
    let b = block(
        dir.path(),
        50,
        150,
        vec![series("a", (25..75).map(|t| (t * 2, 2.0)))],
    );
    let c = Compactor::new(vec![100]).unwrap();
    let planned = c.plan(dir.path()).unwrap();
    assert_eq!(planned, [a.dir().to_owned(), b.dir().to_owned()]);
    let ulid = c.compact(dir.path(), &[a, b]).unwrap().unwrap();
    let merged = Block::open(dir.path().join(ulid.to_string())).unwrap();
    let got = read_all(&merged);
    let mut want: Vec<(i64, f64)> = (0..50).map(|t| (t * 2, 1.0)).collect();
    want.extend((50..75).map(|t| (t * 2, 2.0)));
    assert_eq!(got, vec![series("a", want)]);
    // The merged chunks no longer overlap.
    let mut it = merged.querier(0, 150).all_chunk_series().unwrap();
    let s = pm_storage::ChunkSeriesSet::next(&mut it).unwrap();
    let mut chunks = s.chunks();
    let mut last = i64::MIN;
    while let Some(c) = chunks.next() {
        assert!(c.min_time > last);
        last = c.max_time;
    }
}

#[test]
fn equal_timestamps_keep_the_first_source() {
    let a = chunk(&[(1, 1.0), (2, 1.0), (3, 1.0)]);
    let b = chunk(&[(0, 2.0), (2, 2.0), (4, 2.0)]);
    assert_eq!(
        samples_of(merge_chunks(vec![a.clone(), b.clone()]).unwrap()),
        [(0, 2.0), (1, 1.0), (2, 1.0), (3, 1.0), (4, 2.0)]
    );
    assert_eq!(
        samples_of(merge_chunks(vec![b, a]).unwrap()),
        [(0, 2.0), (1, 1.0), (2, 2.0), (3, 1.0), (4, 2.0)]
    );
    // Disjoint chunks are passed through as they are.
    let (x, y) = (chunk(&[(0, 1.0)]), chunk(&[(5, 1.0)]));
    let out = merge_chunks(vec![y, x.clone()]).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].chunk.bytes(), x.chunk.bytes());
    assert_eq!(out[0].chunk.encoding(), ChunkEncoding::Xor);
}

#[test]
fn tombstones_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let a = block(
        dir.path(),
        0,
        100,
        vec![
            series("a", (0..100).map(|t| (t, 1.0))),
            series("b", [(1, 1.0)]),
        ],
    );
    let b = block(dir.path(), 100, 200, vec![series("a", [(150, 1.0)])]);
    a.delete(10, 89, &[Matcher::new(MatchType::Equal, "s", "a").unwrap()])
        .unwrap();
    a.delete(0, 99, &[Matcher::new(MatchType::Equal, "s", "b").unwrap()])
        .unwrap();
    let c = Compactor::new(vec![100]).unwrap();
    let ulid = c.compact(dir.path(), &[a, b]).unwrap().unwrap();
    let merged = Block::open(dir.path().join(ulid.to_string())).unwrap();
    let want: Vec<(i64, f64)> = (0..10)
        .chain(90..100)
        .chain([150])
        .map(|t| (t, 1.0))
        .collect();
    assert_eq!(read_all(&merged), vec![series("a", want)]);
    assert_eq!(merged.meta().stats.num_series, 1);
    assert_eq!(merged.meta().stats.num_tombstones, 0);
}

#[test]
fn an_empty_result_marks_the_sources_deletable() {
    let dir = tempfile::tempdir().unwrap();
    let a = block(dir.path(), 0, 100, vec![series("a", [(1, 1.0)])]);
    a.delete(0, 99, &[Matcher::new(MatchType::Equal, "s", "a").unwrap()])
        .unwrap();
    let c = Compactor::new(vec![100]).unwrap();
    assert_eq!(
        c.compact(dir.path(), std::slice::from_ref(&a)).unwrap(),
        None
    );
    assert!(a.meta().compaction.deletable);
    assert!(BlockMeta::read(a.dir()).unwrap().compaction.deletable);
    // Only the source is left.
    assert_eq!(open_blocks(dir.path()).unwrap().len(), 1);
}

#[test]
fn writing_trims_to_the_range_and_skips_empty_results() {
    let dir = tempfile::tempdir().unwrap();
    let c = Compactor::new(vec![100]).unwrap();
    let set = VecChunkSeriesSet::new(vec![series("a", (0..300).map(|t| (t, t as f64)))]).unwrap();
    let ulid = c
        .write(dir.path(), Box::new(set), 100, 200)
        .unwrap()
        .unwrap();
    let b = Block::open(dir.path().join(ulid.to_string())).unwrap();
    assert_eq!(b.meta().compaction.level, 1);
    assert_eq!(b.meta().compaction.sources, [ulid]);
    assert_eq!(
        read_all(&b),
        vec![series("a", (100..200).map(|t| (t, t as f64)))]
    );
    let set = VecChunkSeriesSet::new(vec![series("a", [(5, 1.0)])]).unwrap();
    assert_eq!(c.write(dir.path(), Box::new(set), 100, 200).unwrap(), None);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// Chunks of histograms (as the head or another block would hold them), one value type each.
fn histogram_chunks(samples: &[pm_storage::SeriesSample]) -> Vec<ChunkMeta> {
    crate::chunkenc::encode_samples(samples, 120)
        .unwrap()
        .into_iter()
        .map(|c| ChunkMeta {
            min_time: c.min_time,
            max_time: c.max_time,
            chunk: Arc::new(BlockChunk::new(c.encoding, c.bytes)),
        })
        .collect()
}

#[test]
fn overlapping_histogram_chunks_merge_vertically() {
    use pm_common::model::{Histogram, Span};
    use pm_storage::{ChunksIterator, SampleIterator, SeriesSample, ValueType};
    let h = |n: u32, c: u64| Histogram {
        count: c * u64::from(n),
        sum: 1.0,
        positive_spans: vec![Span {
            offset: 0,
            length: n,
        }],
        positive_deltas: (0..n).map(|i| if i == 0 { c as i64 } else { 0 }).collect(),
        ..Histogram::default()
    };
    // Source a: even minutes with 2 buckets; source b: odd minutes with 3 buckets, and a
    // float at the end. Merging interleaves them, so the 2-bucket samples are widened.
    let a: Vec<_> = (0..10)
        .map(|i| SeriesSample::histogram(i * 2, h(2, i as u64 + 1)))
        .collect();
    let mut b: Vec<_> = (0..10)
        .map(|i| SeriesSample::histogram(i * 2 + 1, h(3, i as u64 + 1)))
        .collect();
    b.push(SeriesSample::float(40, 7.0));
    let mut input = histogram_chunks(&a);
    input.extend(histogram_chunks(&b));
    let merged = merge_chunks(input).unwrap();
    let encodings: Vec<_> = merged.iter().map(|c| c.chunk.encoding()).collect();
    assert_eq!(encodings.last(), Some(&ChunkEncoding::Xor));
    assert!(
        encodings[..encodings.len() - 1]
            .iter()
            .all(|e| *e == ChunkEncoding::Histogram)
    );
    let mut it = ChunksIterator::new(merged);
    let mut got = Vec::new();
    while let vt @ (ValueType::Histogram | ValueType::Float) = it.next() {
        if vt == ValueType::Float {
            got.push((it.at_t(), it.at().1));
            continue;
        }
        let mut fh = pm_common::model::FloatHistogram::default();
        let t = it.at_float_histogram(&mut fh);
        got.push((t, fh.count));
    }
    let mut want: Vec<(i64, f64)> = (0..10)
        .flat_map(|i| {
            [
                (i * 2, 2.0 * (i + 1) as f64),
                (i * 2 + 1, 3.0 * (i + 1) as f64),
            ]
        })
        .collect();
    want.push((40, 7.0));
    assert_eq!(got, want);
}
