use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pm_common::model::Labels;

use super::*;
use crate::iterator::ValueType;
use crate::series::{ListIterator, Series, SeriesSample, SeriesSet};

/// A "chunk" holding decoded samples, counting how often it is opened.
struct VecChunk {
    samples: Arc<[SeriesSample]>,
    opened: Arc<AtomicUsize>,
}

impl Chunk for VecChunk {
    fn encoding(&self) -> ChunkEncoding {
        ChunkEncoding::Xor
    }

    fn bytes(&self) -> &[u8] {
        &[]
    }

    fn num_samples(&self) -> usize {
        self.samples.len()
    }

    fn iter(&self) -> Box<dyn SampleIterator> {
        self.opened.fetch_add(1, Ordering::Relaxed);
        Box::new(ListIterator::new(self.samples.clone()))
    }
}

fn meta(ts: &[i64], opened: &Arc<AtomicUsize>) -> ChunkMeta {
    let samples: Vec<SeriesSample> = ts
        .iter()
        .map(|&t| SeriesSample::float(t, t as f64))
        .collect();
    ChunkMeta {
        min_time: ts[0],
        max_time: ts[ts.len() - 1],
        chunk: Arc::new(VecChunk {
            samples: samples.into(),
            opened: opened.clone(),
        }),
    }
}

struct VecChunkSeries {
    labels: Labels,
    chunks: Vec<ChunkMeta>,
    fail: bool,
}

struct VecChunkIter {
    chunks: std::vec::IntoIter<ChunkMeta>,
    err: Option<StorageError>,
}

impl ChunkIterator for VecChunkIter {
    fn next(&mut self) -> Option<ChunkMeta> {
        if self.err.is_some() {
            return None;
        }
        self.chunks.next()
    }

    fn err(&self) -> Option<&StorageError> {
        self.err.as_ref()
    }
}

impl ChunkSeries for VecChunkSeries {
    fn labels(&self) -> &Labels {
        &self.labels
    }

    fn chunks(&self) -> Box<dyn ChunkIterator> {
        Box::new(VecChunkIter {
            chunks: self.chunks.clone().into_iter(),
            err: self.fail.then_some(StorageError::NotFound),
        })
    }
}

fn series(chunks: Vec<ChunkMeta>) -> ChunkedSeries {
    ChunkedSeries::new(Box::new(VecChunkSeries {
        labels: Labels::from_pairs([("__name__", "m")]),
        chunks,
        fail: false,
    }))
}

fn drain(it: &mut dyn SampleIterator) -> Vec<i64> {
    let mut out = Vec::new();
    while it.next() == ValueType::Float {
        out.push(it.at_t());
    }
    out
}

#[test]
fn disjoint_chunks_are_read_in_turn_and_seek_skips_without_decoding() {
    let opened = Arc::new(AtomicUsize::new(0));
    let s = series(vec![
        meta(&[1, 2], &opened),
        meta(&[5, 6], &opened),
        meta(&[9, 10], &opened),
    ]);
    assert_eq!(drain(s.iter().as_mut()), [1, 2, 5, 6, 9, 10]);
    assert_eq!(opened.swap(0, Ordering::Relaxed), 3);

    let mut it = s.iter();
    assert_eq!(it.seek(7), ValueType::Float);
    assert_eq!(it.at_t(), 9);
    assert_eq!(
        opened.load(Ordering::Relaxed),
        1,
        "chunks before 7 never opened"
    );
    assert_eq!(it.seek(3), ValueType::Float, "no going back");
    assert_eq!(it.at_t(), 9);
    assert_eq!(it.seek(10), ValueType::Float);
    assert_eq!(it.at_t(), 10);
    assert_eq!(it.seek(11), ValueType::None);
    assert_eq!(it.next(), ValueType::None);
}

#[test]
fn seek_into_a_gap_lands_on_next_chunk() {
    let opened = Arc::new(AtomicUsize::new(0));
    let s = series(vec![meta(&[1, 2], &opened), meta(&[5, 6], &opened)]);
    let mut it = s.iter();
    assert_eq!(it.next(), ValueType::Float);
    assert_eq!(it.seek(3), ValueType::Float);
    assert_eq!(it.at_t(), 5);
    assert_eq!(drain(it.as_mut()), [6]);
}

#[test]
fn overlapping_chunks_are_merged() {
    let opened = Arc::new(AtomicUsize::new(0));
    let s = series(vec![meta(&[1, 4, 7], &opened), meta(&[2, 4, 8], &opened)]);
    assert_eq!(drain(s.iter().as_mut()), [1, 2, 4, 7, 8]);
}

#[test]
fn chunk_iteration_errors_surface_in_the_sample_iterator() {
    let s = ChunkedSeries::new(Box::new(VecChunkSeries {
        labels: Labels::empty(),
        chunks: Vec::new(),
        fail: true,
    }));
    let mut it = s.iter();
    assert_eq!(it.next(), ValueType::None);
    assert!(matches!(it.err(), Some(StorageError::NotFound)));
}

#[test]
fn series_set_adapter_passes_series_and_errors_through() {
    struct OneThenFail(Option<Box<dyn ChunkSeries>>);
    impl ChunkSeriesSet for OneThenFail {
        fn next(&mut self) -> Option<Box<dyn ChunkSeries>> {
            self.0.take()
        }
        fn err(&self) -> Option<&StorageError> {
            self.0.is_none().then_some(&StorageError::OutOfBounds)
        }
        fn warnings(&self) -> Warnings {
            let mut w = Warnings::new();
            w.push("partial");
            w
        }
    }
    let opened = Arc::new(AtomicUsize::new(0));
    let labels = Labels::from_pairs([("__name__", "x")]);
    let mut set = SeriesSetFromChunks::new(Box::new(OneThenFail(Some(Box::new(VecChunkSeries {
        labels: labels.clone(),
        chunks: vec![meta(&[3], &opened)],
        fail: false,
    })))));
    let s = set.next().unwrap();
    assert_eq!(s.labels(), &labels);
    assert_eq!(drain(s.iter().as_mut()), [3]);
    assert!(set.next().is_none());
    assert!(matches!(set.err(), Some(StorageError::OutOfBounds)));
    assert_eq!(set.warnings().len(), 1);
}

#[test]
fn encodings_use_upstream_numbers() {
    for e in [
        ChunkEncoding::Xor,
        ChunkEncoding::Histogram,
        ChunkEncoding::FloatHistogram,
    ] {
        assert_eq!(ChunkEncoding::from_u8(e as u8), Some(e));
    }
    assert_eq!(ChunkEncoding::Xor as u8, 1);
    assert_eq!(ChunkEncoding::FloatHistogram.as_str(), "floathistogram");
    assert_eq!(ChunkEncoding::from_u8(0), None);
}

#[test]
fn empty_and_error_sets_are_chunk_sets_too() {
    assert!(ChunkSeriesSet::next(&mut EmptySeriesSet).is_none());
    let e = ErrorSeriesSet(StorageError::NotFound);
    assert!(ChunkSeriesSet::err(&e).is_some());
}
