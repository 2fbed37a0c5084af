//! Reading the head: sample and chunk queriers over a snapshot, label lookups, exemplars.

use std::collections::HashSet;
use std::sync::Arc;

use pm_common::model::{Exemplar, FloatHistogram, Histogram, Matcher};
use pm_storage::{
    BoxSeriesSet, ChunkEncoding, ChunkIterator, ChunkMeta, ChunkQuerier, ChunkQueryable,
    ChunkSeries, ChunkSeriesSet, ChunkedSeries, EmptySeriesSet, ExemplarQuerier,
    ExemplarQueryResult, ExemplarQueryable, LabelHints, LabelQuerier, ListSeries, Querier,
    Queryable, Result, SampleIterator, SelectHints, Series, SeriesSample, StorageError, ValueType,
    VecSeriesSet, Warnings,
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
                    chunk: Arc::new(BlockChunk::new(c.encoding(), c.bytes().into_owned())),
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
    /// Samples are trimmed to the querier's range, as upstream's head querier does.
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
        let (mut floats, mut hists) = (Vec::new(), Vec::new());
        let series = q.select_chunks(sort, matchers).into_iter().filter_map(|s| {
            let labels = s.labels.clone();
            let chunked = ChunkedSeries::new(Box::new(s));
            // Float-only series (nearly all) are decoded by the chunks' batch reads; a
            // series with histograms keeps the sample walk, which keeps their order with
            // floats and their integer form.
            floats.clear();
            hists.clear();
            if chunked
                .fill_range(q.mint, q.maxt, &mut floats, &mut hists)
                .is_ok()
                && hists.is_empty()
            {
                let samples: Vec<SeriesSample> = floats
                    .iter()
                    .map(|p| SeriesSample::float(p.t, p.v))
                    .collect();
                return (!samples.is_empty())
                    .then(|| Box::new(ListSeries::new(labels, samples)) as pm_storage::BoxSeries);
            }
            let mut samples = Vec::new();
            let mut it = chunked.iter();
            let mut vt = it.seek(q.mint);
            while vt.is_some() && it.at_t() <= q.maxt {
                samples.push(current_sample(it.as_ref(), vt));
                vt = it.next();
            }
            (!samples.is_empty())
                .then(|| Box::new(ListSeries::new(labels, samples)) as pm_storage::BoxSeries)
        });
        Box::new(VecSeriesSet::new(series.collect::<Vec<_>>()))
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

    /// The head querier's float series, decoded by batch reads, hold what the sample walk
    /// gives, over ranges cutting through closed and open chunks.
    #[test]
    fn float_series_read_like_the_sample_walk() {
        let dir = tempfile::tempdir().unwrap();
        let (h, _) = Head::open(dir.path(), HeadOptions::default()).unwrap();
        for batch in 0..50 {
            let mut app = Appendable::appender(&h);
            for i in 0..10 {
                let t = (batch * 10 + i) * 15_000;
                for job in ["a", "b"] {
                    let l = Labels::from_pairs([("__name__", "up"), ("job", job)]);
                    app.append(SeriesRef::UNKNOWN, &l, t, (t / 7) as f64)
                        .unwrap();
                }
            }
            app.commit().unwrap();
        }
        let sel = [Matcher::new(MatchType::Equal, "__name__", "up").unwrap()];
        let mut checked = 0;
        for (mint, maxt) in [
            (0, 10_000_000),
            (1_000_000, 2_000_000),
            (7_485_000, 9_000_000),
        ] {
            let mut got = Querier::select(&*h.querier(mint, maxt).unwrap(), true, None, &sel);
            let mut want =
                ChunkQuerier::select(&*h.chunk_querier(mint, maxt).unwrap(), true, None, &sel);
            while let Some(w) = want.next() {
                let labels = w.labels().clone();
                let expected = walk(w, mint, maxt);
                let g = got.next().expect("as many series");
                assert_eq!(g.labels(), &labels);
                let mut it = g.iter();
                let mut samples = Vec::new();
                while it.next().is_some() {
                    samples.push(current_sample(it.as_ref(), ValueType::Float));
                }
                assert_eq!(samples, expected, "{labels} in [{mint}, {maxt}]");
                checked += samples.len();
            }
            assert!(got.next().is_none());
        }
        assert!(checked > 1000, "{checked}");
    }
}
