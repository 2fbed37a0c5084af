//! Reading the head: sample and chunk queriers over a snapshot, label lookups, exemplars.

use std::collections::HashSet;
use std::sync::Arc;

use pm_common::model::{Exemplar, FloatHistogram, Histogram, Matcher, Sample};
use pm_storage::merge::ChainIterator;
use pm_storage::{
    BoxSeriesSet, ChunkEncoding, ChunkIterator, ChunkMeta, ChunkQuerier, ChunkQueryable,
    ChunkSeries, ChunkSeriesSet, ChunksIterator, EmptySeriesSet, ErrorIterator, ExemplarQuerier,
    ExemplarQueryResult, ExemplarQueryable, HistogramSample, LabelHints, LabelQuerier,
    ListIterator, Querier, Queryable, Result, SampleIterator, SelectHints, Series, SeriesSample,
    StorageError, ValueType, VecSeriesSet, Warnings, fill_from_disjoint_chunks, fill_range_by_iter,
};

use super::delete::apply_tombstones;
use super::series::{MemSeries, decode_range};
use super::{Head, HeadInner, index_read, lock};
use crate::querier::BlockChunk;
use crate::tombstones::Tombstones;

/// A sample querier over the head; see [`pm_storage::Querier`].
pub struct HeadQuerier {
    inner: HeadChunkQuerier,
}

/// A chunk querier over the head. Chunks overlapping the range are returned whole; the open
/// chunk is cut to what the querier's snapshot may see, and out-of-order samples come as one
/// extra chunk that may overlap the others.
pub struct HeadChunkQuerier {
    head: Arc<HeadInner>,
    mint: i64,
    maxt: i64,
    snapshot: u64,
    tombstones: Arc<Tombstones>,
}

impl Drop for HeadChunkQuerier {
    fn drop(&mut self) {
        self.head.close_reader(self.snapshot);
    }
}

impl Queryable for Head {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>> {
        Ok(Box::new(HeadQuerier {
            inner: self.chunk_querier_impl(mint, maxt),
        }))
    }
}

impl ChunkQueryable for Head {
    fn chunk_querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn ChunkQuerier>> {
        Ok(Box::new(self.chunk_querier_impl(mint, maxt)))
    }
}

impl Head {
    fn chunk_querier_impl(&self, mint: i64, maxt: i64) -> HeadChunkQuerier {
        let snapshot = self.inner.open_reader();
        HeadChunkQuerier {
            head: self.inner.clone(),
            mint,
            maxt,
            snapshot,
            tombstones: self.inner.tombstones(),
        }
    }
}

/// Chunks of `samples` (sorted, unique timestamps), cut as the head cuts them.
pub(super) fn encode_head_chunks(samples: &[SeriesSample], per_chunk: usize) -> Vec<ChunkMeta> {
    crate::chunkenc::encode_samples(samples, per_chunk)
        .expect("samples decoded from head chunks encode again")
        .into_iter()
        .map(|c| ChunkMeta {
            min_time: c.min_time,
            max_time: c.max_time,
            chunk: Arc::new(BlockChunk::new(c.encoding, c.bytes)),
        })
        .collect()
}

impl HeadChunkQuerier {
    fn matching(&self, matchers: &[Matcher]) -> Vec<Arc<MemSeries>> {
        self.head.matching(matchers)
    }

    /// The chunks of `s` this querier sees in its range, sorted by start time.
    fn chunks_of(&self, s: &MemSeries) -> Vec<ChunkMeta> {
        let d = s.lock();
        let visible = d.visible_max_t(self.snapshot).min(self.maxt);
        let mut out = Vec::new();
        for c in &d.closed {
            if c.max_t >= self.mint && c.min_t <= visible {
                // Read under the series lock: truncation drops the chunk (and only then its
                // file) under that lock too.
                let Some(bytes) = self.head.closed_bytes(c) else {
                    continue;
                };
                if c.max_t <= visible {
                    out.push(ChunkMeta {
                        min_time: c.min_t,
                        max_time: c.max_t,
                        chunk: Arc::new(BlockChunk::new(c.encoding, bytes)),
                    });
                } else {
                    out.extend(self.cut(c.encoding, &bytes, visible));
                }
            }
        }
        if let Some(c) = &d.open
            && c.max_t >= self.mint
            && c.min_t <= visible
        {
            if c.max_t <= visible {
                out.push(ChunkMeta {
                    min_time: c.min_t,
                    max_time: c.max_t,
                    chunk: Arc::new(BlockChunk::new(c.encoding(), &*c.bytes())),
                });
            } else {
                out.extend(self.cut(c.encoding(), &c.bytes(), visible));
            }
        }
        let ooo: Vec<_> = d
            .ooo
            .iter()
            .filter(|&(t, _, seq)| *seq <= self.snapshot && *t >= self.mint && *t <= self.maxt)
            .map(|(t, v, _)| SeriesSample {
                t: *t,
                value: v.clone(),
            })
            .collect();
        drop(d);
        out.extend(encode_head_chunks(
            &ooo,
            self.head.chunk_opts.samples_per_chunk,
        ));
        out.sort_by_key(|c| c.min_time);
        apply_tombstones(out, self.tombstones.get(s.r))
    }

    /// The samples of a chunk up to `maxt`, as chunks of their own.
    fn cut(&self, encoding: ChunkEncoding, bytes: &[u8], maxt: i64) -> Vec<ChunkMeta> {
        let samples = decode_range(encoding, bytes, i64::MIN, maxt);
        encode_head_chunks(&samples, usize::from(u16::MAX))
    }

    fn select_chunks(&self, sort: bool, matchers: &[Matcher]) -> Vec<HeadChunkSeries> {
        let mut out: Vec<_> = self
            .matching(matchers)
            .into_iter()
            .filter_map(|s| {
                let chunks = self.chunks_of(&s);
                (!chunks.is_empty()).then(|| HeadChunkSeries {
                    labels: s.labels.clone(),
                    chunks,
                })
            })
            .collect();
        if sort {
            out.sort_by(|a, b| a.labels.cmp(&b.labels));
        }
        out
    }

    fn label_values_impl(
        &self,
        name: &str,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> Vec<String> {
        let mut values: Vec<String> = if matchers.is_empty() {
            index_read(&self.head.postings)
                .values(name)
                .map(str::to_owned)
                .collect()
        } else {
            let set: std::collections::BTreeSet<String> = self
                .matching(matchers)
                .iter()
                .filter_map(|s| s.labels.get(name).map(str::to_owned))
                .collect();
            set.into_iter().collect()
        };
        truncate(&mut values, hints);
        values
    }

    fn label_names_impl(&self, hints: Option<&LabelHints>, matchers: &[Matcher]) -> Vec<String> {
        let mut names: Vec<String> = if matchers.is_empty() {
            index_read(&self.head.postings)
                .names()
                .map(str::to_owned)
                .collect()
        } else {
            let set: std::collections::BTreeSet<String> = self
                .matching(matchers)
                .iter()
                .flat_map(|s| {
                    s.labels
                        .iter()
                        .map(|l| l.name.to_owned())
                        .collect::<Vec<_>>()
                })
                .collect();
            set.into_iter().collect()
        };
        truncate(&mut names, hints);
        names
    }
}

fn truncate(v: &mut Vec<String>, hints: Option<&LabelHints>) {
    if let Some(h) = hints.filter(|h| h.limit > 0) {
        v.truncate(h.limit);
    }
}

struct HeadChunkSeries {
    labels: pm_common::model::Labels,
    chunks: Vec<ChunkMeta>,
}

impl ChunkSeries for HeadChunkSeries {
    fn labels(&self) -> &pm_common::model::Labels {
        &self.labels
    }

    fn chunks(&self) -> Box<dyn ChunkIterator> {
        Box::new(VecChunks(self.chunks.clone().into_iter()))
    }
}

struct VecChunks(std::vec::IntoIter<ChunkMeta>);

impl ChunkIterator for VecChunks {
    fn next(&mut self) -> Option<ChunkMeta> {
        self.0.next()
    }

    fn err(&self) -> Option<&StorageError> {
        None
    }
}

struct HeadChunkSet(std::vec::IntoIter<HeadChunkSeries>);

impl ChunkSeriesSet for HeadChunkSet {
    fn next(&mut self) -> Option<Box<dyn ChunkSeries>> {
        self.0.next().map(|s| Box::new(s) as Box<dyn ChunkSeries>)
    }

    fn err(&self) -> Option<&StorageError> {
        None
    }

    fn warnings(&self) -> Warnings {
        Warnings::new()
    }
}

impl LabelQuerier for HeadChunkQuerier {
    fn label_values(
        &self,
        name: &str,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings)> {
        Ok((
            self.label_values_impl(name, hints, matchers),
            Warnings::new(),
        ))
    }

    fn label_names(
        &self,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings)> {
        Ok((self.label_names_impl(hints, matchers), Warnings::new()))
    }
}

impl ChunkQuerier for HeadChunkQuerier {
    fn select(
        &self,
        sort: bool,
        _hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Box<dyn ChunkSeriesSet> {
        if self.mint > self.maxt {
            return Box::new(EmptySeriesSet);
        }
        Box::new(HeadChunkSet(self.select_chunks(sort, matchers).into_iter()))
    }
}

impl LabelQuerier for HeadQuerier {
    fn label_values(
        &self,
        name: &str,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings)> {
        self.inner.label_values(name, hints, matchers)
    }

    fn label_names(
        &self,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings)> {
        self.inner.label_names(hints, matchers)
    }
}

impl Querier for HeadQuerier {
    /// Samples are trimmed to the querier's range, as upstream's head querier does. Series
    /// are handed out with their chunks still encoded ([`HeadSeries`]), so a range query
    /// decodes each once, straight into the engine's buffers.
    fn select(
        &self,
        sort: bool,
        _hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> BoxSeriesSet {
        let q = &self.inner;
        if q.mint > q.maxt {
            return Box::new(EmptySeriesSet);
        }
        // A series whose chunks overlap the range but hold no sample inside it is left out, so
        // that callers never see empty series.
        let series = q
            .select_chunks(sort, matchers)
            .into_iter()
            .filter(|s| has_sample_in(&s.chunks, q.mint, q.maxt))
            .map(|s| {
                Box::new(HeadSeries {
                    labels: s.labels,
                    chunks: s.chunks,
                    mint: q.mint,
                    maxt: q.maxt,
                }) as pm_storage::BoxSeries
            });
        Box::new(VecSeriesSet::new(series.collect::<Vec<_>>()))
    }
}

/// Whether any of `chunks` holds a sample in `[mint, maxt]`. The head's chunk bounds are the
/// times of their first and last samples, so only a chunk reaching past both ends of the
/// range has to be decoded to tell.
fn has_sample_in(chunks: &[ChunkMeta], mint: i64, maxt: i64) -> bool {
    chunks.iter().any(|c| {
        if c.max_time < mint || c.min_time > maxt {
            return false;
        }
        if c.min_time >= mint || c.max_time <= maxt {
            return true;
        }
        let mut it = c.chunk.iter();
        it.seek(mint).is_some() && it.at_t() <= maxt
    })
}

/// A head series as a sample querier returns it: its chunks as the chunk querier sees them
/// (snapshot-cut, out-of-order chunk beside them, tombstones applied), read only within the
/// querier's `[mint, maxt]`.
struct HeadSeries {
    labels: pm_common::model::Labels,
    chunks: Vec<ChunkMeta>,
    mint: i64,
    maxt: i64,
}

impl Series for HeadSeries {
    fn labels(&self) -> &pm_common::model::Labels {
        &self.labels
    }

    /// The general path (histograms, out-of-order data, start timestamps): the samples in
    /// range, walked chunk by chunk (or merged where chunks overlap) into one list.
    fn iter(&self) -> Box<dyn SampleIterator> {
        let mut it: Box<dyn SampleIterator> = if self
            .chunks
            .windows(2)
            .all(|w| w[0].max_time < w[1].min_time)
        {
            Box::new(ChunksIterator::new(self.chunks.clone()))
        } else {
            Box::new(ChainIterator::new(
                self.chunks.iter().map(|c| c.chunk.iter()).collect(),
            ))
        };
        let mut samples = Vec::new();
        let mut vt = it.seek(self.mint);
        while vt.is_some() && it.at_t() <= self.maxt {
            samples.push(current_sample(it.as_ref(), vt));
            vt = it.next();
        }
        match it.err() {
            Some(e) => Box::new(ErrorIterator(e.clone())),
            None => Box::new(ListIterator::new(samples.into())),
        }
    }

    /// XOR chunks in time order (nearly every head series) are decoded by their batch reads
    /// straight into `floats`, only those overlapping the range; anything else takes the
    /// iterator.
    fn fill_range(
        &self,
        mint: i64,
        maxt: i64,
        floats: &mut Vec<Sample>,
        histograms: &mut Vec<HistogramSample>,
    ) -> Result<()> {
        let floats_only = self
            .chunks
            .iter()
            .all(|c| c.chunk.encoding() == ChunkEncoding::Xor);
        let (from, to) = (mint.max(self.mint), maxt.min(self.maxt));
        if floats_only && fill_from_disjoint_chunks(&self.chunks, from, to, floats, histograms)? {
            return Ok(());
        }
        fill_range_by_iter(self, mint, maxt, floats, histograms)
    }
}

/// The sample an iterator stands on, of type `vt`.
fn current_sample(it: &dyn SampleIterator, vt: ValueType) -> SeriesSample {
    match vt {
        ValueType::Histogram => {
            let mut h = Histogram::default();
            let t = it.at_histogram(&mut h);
            SeriesSample::histogram(t, h)
        }
        ValueType::FloatHistogram => {
            let mut h = FloatHistogram::default();
            let t = it.at_float_histogram(&mut h);
            SeriesSample::float_histogram(t, h)
        }
        _ => {
            let (t, v) = it.at();
            SeriesSample::float(t, v)
        }
    }
}

impl ExemplarQueryable for Head {
    fn exemplar_querier(&self) -> Result<Box<dyn ExemplarQuerier>> {
        Ok(Box::new(HeadExemplarQuerier {
            querier: self.chunk_querier_impl(i64::MIN, i64::MAX),
        }))
    }
}

struct HeadExemplarQuerier {
    querier: HeadChunkQuerier,
}

impl ExemplarQuerier for HeadExemplarQuerier {
    fn select(
        &self,
        start: i64,
        end: i64,
        matcher_sets: &[Vec<Matcher>],
    ) -> Result<Vec<ExemplarQueryResult>> {
        let mut series = Vec::new();
        let mut seen = HashSet::new();
        for set in matcher_sets {
            for s in self.querier.matching(set) {
                if seen.insert(s.r) {
                    series.push(s);
                }
            }
        }
        let mut found = lock(&self.querier.head.exemplars).select(&seen, start, end);
        let mut out: Vec<_> = series
            .into_iter()
            .filter_map(|s| {
                let exemplars: Vec<Exemplar> = found.remove(&s.r)?;
                Some(ExemplarQueryResult {
                    series_labels: s.labels.clone(),
                    exemplars,
                })
            })
            .collect();
        out.sort_by(|a, b| a.series_labels.cmp(&b.series_labels));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use pm_common::model::{Labels, MatchType};
    use pm_storage::{Appendable, SeriesRef};

    use pm_storage::ChunkedSeries;

    use super::*;
    use crate::head::HeadOptions;

    /// Every sample of `s` in `[mint, maxt]` through the chunk-by-chunk iterator: the walk the
    /// head querier's batch read replaces.
    fn walk(s: Box<dyn ChunkSeries>, mint: i64, maxt: i64) -> Vec<SeriesSample> {
        let mut it = ChunkedSeries::new(s).iter();
        let mut out = Vec::new();
        let mut vt = it.seek(mint);
        while vt.is_some() && it.at_t() <= maxt {
            out.push(current_sample(it.as_ref(), vt));
            vt = it.next();
        }
        out
    }

    fn floats(samples: &[SeriesSample]) -> Vec<(i64, f64)> {
        samples
            .iter()
            .map(|s| match s.value {
                pm_storage::SampleValue::Float(v) => (s.t, v),
                _ => panic!("only floats were appended"),
            })
            .collect()
    }

    /// Head series read by their batch reads (`fill_range`) hold what their own iterator and
    /// the chunk querier's sample walk give: over closed chunks in files, the open chunk cut
    /// to an older snapshot, an out-of-order chunk, a tombstone and ranges cutting chunks.
    #[test]
    fn head_series_fill_like_the_sample_walk() {
        let dir = tempfile::tempdir().unwrap();
        let opts = HeadOptions {
            out_of_order_time_window: 3_600_000,
            ..HeadOptions::default()
        };
        let (h, _) = Head::open(dir.path(), opts).unwrap();
        let series = |job: &str| Labels::from_pairs([("__name__", "up"), ("job", job)]);
        let commit = |ts: &mut dyn Iterator<Item = i64>, jobs: &[&str]| {
            let mut app = Appendable::appender(&h);
            for t in ts {
                for &job in jobs {
                    app.append(SeriesRef::UNKNOWN, &series(job), t, (t / 7) as f64)
                        .unwrap();
                }
            }
            app.commit().unwrap();
        };
        for batch in 0..50 {
            commit(
                &mut (0..10).map(|i| (batch * 10 + i) * 15_000),
                &["a", "b", "c"],
            );
        }
        // Out of order, between the in-order samples of `a`.
        commit(&mut (0..20).map(|i| 4_007_000 + i * 15_000), &["a"]);
        h.delete(
            2_000_000,
            2_500_000,
            &[Matcher::new(MatchType::Equal, "job", "b").unwrap()],
        )
        .unwrap();
        let sel = [Matcher::new(MatchType::Equal, "__name__", "up").unwrap()];
        let ranges = [
            (0, 10_000_000),
            (1_000_000, 2_000_000),
            (2_100_000, 2_400_000),
            (3_900_000, 4_400_000),
            (7_300_010, 7_300_020),
            (7_300_000, 9_000_000),
        ];
        let queriers: Vec<_> = ranges
            .iter()
            .map(|&(mint, maxt)| {
                (
                    h.querier(mint, maxt).unwrap(),
                    h.chunk_querier(mint, maxt).unwrap(),
                )
            })
            .collect();
        // Committed after the queriers' snapshot: the open chunk must be cut for them.
        commit(&mut (500..505).map(|i| i * 15_000), &["a", "b", "c"]);
        let mut counts = std::collections::HashMap::new();
        for (&(mint, maxt), (q, cq)) in ranges.iter().zip(&queriers) {
            let mut got = Querier::select(&**q, true, None, &sel);
            let mut want = ChunkQuerier::select(&**cq, true, None, &sel);
            while let Some(w) = want.next() {
                let labels = w.labels().clone();
                let expected = floats(&walk(w, mint, maxt));
                if expected.is_empty() {
                    continue;
                }
                let g = got.next().expect("every series with samples in range");
                assert_eq!(g.labels(), &labels);
                let mut it = g.iter();
                let mut walked = Vec::new();
                while it.next().is_some() {
                    walked.push(current_sample(it.as_ref(), ValueType::Float));
                }
                assert_eq!(floats(&walked), expected, "{labels} in [{mint}, {maxt}]");
                for (lo, hi) in [
                    (i64::MIN, i64::MAX),
                    (mint + 100_000, maxt - 100_000),
                    (mint - 1, mint + 30_000),
                    (maxt - 30_000, maxt + 1),
                ] {
                    let (mut fast, mut slow, mut hists) = (Vec::new(), Vec::new(), Vec::new());
                    g.fill_range(lo, hi, &mut fast, &mut hists).unwrap();
                    fill_range_by_iter(&*g, lo, hi, &mut slow, &mut hists).unwrap();
                    assert!(hists.is_empty());
                    let fast: Vec<_> = fast.iter().map(|p| (p.t, p.v)).collect();
                    let slow: Vec<_> = slow.iter().map(|p| (p.t, p.v)).collect();
                    let want: Vec<_> = expected
                        .iter()
                        .copied()
                        .filter(|&(t, _)| lo <= t && t <= hi)
                        .collect();
                    assert_eq!(
                        fast, want,
                        "{labels} in [{mint}, {maxt}], read [{lo}, {hi}]"
                    );
                    assert_eq!(
                        slow, want,
                        "{labels} in [{mint}, {maxt}], read [{lo}, {hi}]"
                    );
                }
                counts.insert(
                    (mint, labels.get_or_empty("job").to_owned()),
                    expected.len(),
                );
            }
            assert!(got.next().is_none(), "no series without samples in range");
        }
        let n = |mint: i64, job: &str| counts.get(&(mint, job.to_owned())).copied();
        // Up to the snapshot: 500 in-order samples, 20 more out of order for `a`, 33 deleted
        // from `b`; the series deleted over the whole range and the empty range are left out.
        assert_eq!(n(0, "c"), Some(500));
        assert_eq!(n(0, "a"), Some(520));
        assert_eq!(n(0, "b"), Some(500 - 33));
        assert_eq!((n(2_100_000, "b"), n(2_100_000, "c")), (None, Some(21)));
        assert_eq!(n(3_900_000, "a"), Some(n(3_900_000, "c").unwrap() + 20));
        assert_eq!(n(7_300_010, "c"), None);
        assert_eq!(n(7_300_000, "c"), Some(13));
    }
}
