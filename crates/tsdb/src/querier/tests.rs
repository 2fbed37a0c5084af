use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::{ChunkQuerier, LabelQuerier, Querier, SelectHints};

use crate::block::testutil::{VecChunkSeriesSet, collect};
use crate::block::{Block, write_block};

fn block() -> (tempfile::TempDir, Block) {
    let series = [
        vec![("__name__", "a"), ("job", "x"), ("env", "prod")],
        vec![("__name__", "a"), ("job", "y")],
        vec![("__name__", "a"), ("job", "foo1"), ("env", "")],
        vec![("__name__", "b"), ("job", "foo2"), ("env", "dev")],
        vec![("__name__", "b"), ("job", "bar")],
    ];
    let data = series
        .into_iter()
        .map(|l| {
            let samples = (0..250).map(|i| (i * 1000, i as f64)).collect();
            (Labels::from_pairs(l), samples)
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let ulid = write_block(
        dir.path(),
        0,
        250_000,
        &mut VecChunkSeriesSet::new(data).unwrap(),
    )
    .unwrap();
    let block = Block::open(dir.path().join(ulid.to_string())).unwrap();
    (dir, block)
}

fn m(t: MatchType, name: &str, value: &str) -> Matcher {
    Matcher::new(t, name, value).unwrap()
}

/// `job` values of the selected series, in output order.
fn jobs(block: &Block, matchers: &[Matcher]) -> Vec<String> {
    collect(Querier::select(
        &block.querier(0, 250_000),
        true,
        None,
        matchers,
    ))
    .into_iter()
    .map(|(l, _)| l.get("job").unwrap().to_owned())
    .collect()
}

#[test]
fn matchers_select_like_upstream() {
    use MatchType::*;
    let (_dir, b) = block();
    assert_eq!(jobs(&b, &[m(Equal, "__name__", "a")]), ["x", "foo1", "y"]);
    assert_eq!(jobs(&b, &[m(Equal, "job", "x")]), ["x"]);
    assert_eq!(
        jobs(&b, &[m(NotEqual, "job", "x")]),
        ["foo1", "y", "foo2", "bar"]
    );
    assert_eq!(jobs(&b, &[m(Regexp, "job", "x|y|nope")]), ["x", "y"]);
    assert_eq!(jobs(&b, &[m(Regexp, "job", "foo.*")]), ["foo1", "foo2"]);
    assert_eq!(jobs(&b, &[m(Regexp, "job", "fo+[0-9]")]), ["foo1", "foo2"]);
    assert_eq!(jobs(&b, &[m(NotRegexp, "job", "foo.*|y")]), ["x", "bar"]);
    // Matchers accepting "" also select series without the label.
    assert_eq!(jobs(&b, &[m(Equal, "env", "")]), ["foo1", "y", "bar"]);
    assert_eq!(
        jobs(&b, &[m(NotEqual, "env", "prod")]),
        ["foo1", "y", "foo2", "bar"]
    );
    assert_eq!(
        jobs(&b, &[m(Regexp, "env", "prod|")]),
        ["x", "foo1", "y", "bar"]
    );
    assert_eq!(
        jobs(&b, &[m(Equal, "__name__", "a"), m(NotEqual, "env", "")]),
        ["x"]
    );
    assert_eq!(
        jobs(
            &b,
            &[
                m(Regexp, "job", ".+"),
                m(NotEqual, "job", "x"),
                m(Equal, "__name__", "a")
            ]
        ),
        ["foo1", "y"]
    );
    assert!(jobs(&b, &[m(Equal, "job", "nope")]).is_empty());
    assert!(jobs(&b, &[m(Equal, "nope", "x")]).is_empty());
}

#[test]
fn samples_are_trimmed_to_the_range_unless_disabled() {
    let (_dir, b) = block();
    let q = b.querier(100_500, 130_000);
    let sel = [m(MatchType::Equal, "job", "x")];
    let got = collect(Querier::select(&q, true, None, &sel));
    let ts: Vec<i64> = got[0].1.iter().map(|s| s.0).collect();
    assert_eq!(ts, (101..=130).map(|i| i * 1000).collect::<Vec<_>>());

    let hints = SelectHints {
        disable_trimming: true,
        ..Default::default()
    };
    let got = collect(Querier::select(&q, true, Some(&hints), &sel));
    // Whole chunk: samples 0..120 and 120..240 overlap the range.
    assert_eq!(got[0].1.len(), 240);

    // Chunk querier: the chunk reaching outside is re-encoded to the range.
    let mut set = ChunkQuerier::select(&q, true, None, &sel);
    let s = set.next().unwrap();
    let mut it = s.chunks();
    let c1 = it.next().unwrap();
    assert_eq!(
        (c1.min_time, c1.max_time, c1.chunk.num_samples()),
        (101_000, 119_000, 19)
    );
    let c2 = it.next().unwrap();
    assert_eq!((c2.min_time, c2.max_time), (120_000, 130_000));
    assert!(it.next().is_none() && set.next().is_none());

    // A range with no chunks selects nothing.
    assert!(
        collect(Querier::select(
            &b.querier(300_000, 400_000),
            true,
            None,
            &sel
        ))
        .is_empty()
    );
}

#[test]
fn label_names_and_values() {
    let (_dir, b) = block();
    let q = b.querier(0, 250_000);
    let (names, _) = q.label_names(None, &[]).unwrap();
    assert_eq!(names, ["__name__", "env", "job"]);
    let (values, _) = q.label_values("job", None, &[]).unwrap();
    assert_eq!(values, ["bar", "foo1", "foo2", "x", "y"]);
    let sel = [m(MatchType::Equal, "__name__", "b")];
    let (values, _) = q.label_values("env", None, &sel).unwrap();
    assert_eq!(values, ["dev"]);
    let (names, _) = q
        .label_names(None, &[m(MatchType::Equal, "job", "y")])
        .unwrap();
    assert_eq!(names, ["__name__", "job"]);
    let hints = pm_storage::LabelHints { limit: 2 };
    let (values, _) = q.label_values("job", Some(&hints), &[]).unwrap();
    assert_eq!(values, ["bar", "foo1"]);
}

#[test]
fn native_histogram_chunks_read_back_as_histogram_samples() {
    use std::sync::Arc;

    use pm_storage::{ChunkEncoding, ChunkMeta, ValueType};

    use crate::chunkenc::histogram::tests::{FLOAT, INT, hex};
    use crate::chunkenc::{decode_float_histograms, decode_histograms};
    use crate::querier::BlockChunk;

    let chunk = |encoding, golden: &str, mint, maxt| ChunkMeta {
        min_time: mint,
        max_time: maxt,
        chunk: Arc::new(BlockChunk::new(encoding, hex(golden))),
    };
    let series = vec![
        (
            Labels::from_pairs([("__name__", "h")]),
            vec![chunk(ChunkEncoding::Histogram, INT, 1000, 61016)],
        ),
        (
            Labels::from_pairs([("__name__", "fh")]),
            vec![chunk(ChunkEncoding::FloatHistogram, FLOAT, 2000, 122_000)],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut set = VecChunkSeriesSet::from_chunks(series);
    let ulid = write_block(dir.path(), 0, 200_000, &mut set).unwrap();
    let block = Block::open(dir.path().join(ulid.to_string())).unwrap();
    assert_eq!(block.meta().stats.num_samples, 10);

    // Trimmed to the querier's range like float samples.
    let q = block.querier(2000, 200_000);
    let mut set = Querier::select(&q, true, None, &[m(MatchType::Regexp, "__name__", ".+")]);
    let fh_series = set.next().unwrap();
    let mut it = fh_series.iter();
    let mut got = Vec::new();
    while it.next() == ValueType::FloatHistogram {
        let mut fh = pm_common::model::FloatHistogram::default();
        let t = it.at_float_histogram(&mut fh);
        got.push((t, fh));
    }
    assert_eq!(got, decode_float_histograms(&hex(FLOAT)).unwrap());
    let h_series = set.next().unwrap();
    let mut it = h_series.iter();
    let mut got = Vec::new();
    while it.next() == ValueType::Histogram {
        let mut h = pm_common::model::Histogram::default();
        let t = it.at_histogram(&mut h);
        got.push((t, h));
    }
    let want: Vec<_> = decode_histograms(&hex(INT))
        .unwrap()
        .into_iter()
        .filter(|(t, _)| *t >= 2000)
        .collect();
    assert_eq!(got.len(), 4);
    assert_eq!(got, want);
    assert!(set.next().is_none());
    drop(set);

    // Deleted samples leave the chunks when the block is rewritten.
    block
        .delete(0, 20_000, &[m(MatchType::Regexp, "__name__", ".+")])
        .unwrap();
    let compactor = crate::compact::Compactor::new(vec![7_200_000]).unwrap();
    let ulid = compactor.rewrite(dir.path(), &block).unwrap().unwrap();
    let clean = Block::open(dir.path().join(ulid.to_string())).unwrap();
    assert_eq!(clean.meta().stats.num_samples, 10 - 2 - 1);
    let q = clean.querier(0, 200_000);
    let mut set = ChunkQuerier::select(&q, true, None, &[m(MatchType::Equal, "__name__", "h")]);
    let series = set.next().unwrap();
    let mut chunks = series.chunks();
    let c = chunks.next().unwrap();
    assert_eq!((c.min_time, c.max_time), (31004, 61016));
    let kept = decode_histograms(c.chunk.bytes()).unwrap();
    let mut want = decode_histograms(&hex(INT)).unwrap().split_off(2);
    // The first sample of a chunk carries no hint of its own.
    want[0].1.counter_reset_hint = pm_common::model::CounterResetHint::Unknown;
    assert_eq!(kept, want);
}

/// The direct decode of `Series::fill_range` against the iterator it shortcuts, over
/// querier ranges that trim chunks, fill ranges inside and across chunk boundaries, and a
/// tombstone inside a chunk.
#[test]
fn fill_range_decodes_like_the_iterator() {
    use pm_storage::fill_range_by_iter;

    let (_dir, b) = block();
    b.delete(50_000, 70_500, &[m(MatchType::Equal, "job", "x")])
        .unwrap();
    let sel = [m(MatchType::Regexp, "job", "x|y")];
    let ranges = [(0, 250_000), (100_500, 130_000), (119_000, 120_000)];
    let fills = [
        (i64::MIN, i64::MAX),
        (0, 249_000),
        (45_000, 75_000),
        (119_500, 200_000),
        (240_000, 240_000),
        (300_000, 400_000),
    ];
    let mut checked = 0;
    for (qmin, qmax) in ranges {
        let mut set = Querier::select(&b.querier(qmin, qmax), true, None, &sel);
        while let Some(s) = set.next() {
            for (mint, maxt) in fills {
                let (mut f1, mut h1, mut f2, mut h2) = (vec![], vec![], vec![], vec![]);
                s.fill_range(mint, maxt, &mut f1, &mut h1).unwrap();
                fill_range_by_iter(s.as_ref(), mint, maxt, &mut f2, &mut h2).unwrap();
                assert_eq!(f1, f2, "query {qmin}..{qmax}, fill {mint}..{maxt}");
                assert!(h1.is_empty() && h2.is_empty());
                checked += f1.len();
            }
        }
    }
    // Not vacuous: the tombstone and the trimming left samples to compare.
    assert!(checked > 1000, "{checked}");
}

/// Chunk series read as sample series (how head series reach the engine) decode through
/// `Chunk::fill_range` like the chunk-by-chunk iterator, including re-encoded chunks.
#[test]
fn chunked_series_fill_range_decodes_like_the_iterator() {
    use pm_storage::{ChunkedSeries, Series, fill_range_by_iter};

    let (_dir, b) = block();
    let sel = [m(MatchType::Regexp, "job", "x|bar")];
    let mut checked = 0;
    for (qmin, qmax) in [(0, 250_000), (100_500, 130_000)] {
        let mut set = ChunkQuerier::select(&b.querier(qmin, qmax), true, None, &sel);
        while let Some(cs) = set.next() {
            let s = ChunkedSeries::new(cs);
            for (mint, maxt) in [(i64::MIN, i64::MAX), (45_000, 125_000), (119_000, 119_000)] {
                let (mut f1, mut h1, mut f2, mut h2) = (vec![], vec![], vec![], vec![]);
                s.fill_range(mint, maxt, &mut f1, &mut h1).unwrap();
                fill_range_by_iter(&s, mint, maxt, &mut f2, &mut h2).unwrap();
                assert_eq!(f1, f2, "query {qmin}..{qmax}, fill {mint}..{maxt}");
                assert!(h1.is_empty() && h2.is_empty());
                checked += f1.len();
            }
        }
    }
    assert!(checked > 500, "{checked}");
}
