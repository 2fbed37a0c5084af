//! The contract between Promethium's storage, query engine and scrape loop.
//!
//! The TSDB implements these traits; PromQL, the HTTP API, federation and remote read consume
//! [`Queryable`]; the scrape loop, rule evaluation and the remote-write receiver consume
//! [`Appendable`]. None of them sees the others' types. The shapes follow upstream Prometheus'
//! `storage` package and `tsdb/chunkenc` iterators, so its behaviour carries over.
//!
//! # Promises every implementation keeps
//!
//! * **Commit is durable and atomic.** When [`Appender::commit`] returns `Ok`, everything the
//!   transaction accepted is in the write-ahead log (when there is one) and visible to new
//!   queriers; nothing was visible before. An append that fails changed nothing. Dropping an
//!   appender rolls it back.
//! * **Errors keep upstream's texts and kinds** ([`StorageError`]), so callers classify them as
//!   upstream does (out-of-order, duplicate, out-of-bounds samples are counted, not fatal).
//! * **Series order.** A select with `sort = true` yields series in ascending label order
//!   without repeats; with `sort = false` the order is unspecified. Merging needs sorted input,
//!   so [`MergeQuerier`] asks its queriers for sorted sets whenever there are several.
//! * **Samples** come in strictly ascending timestamp order. [`SampleIterator::seek`] moves to
//!   the first sample at or after `t` and never backwards: seeking a time at or before the
//!   current sample leaves the iterator where it is.
//! * **Queriers see a snapshot**: what they return does not change while they live.
//! * **Errors of sets and iterators** are reported after iteration stops (`err()`), as upstream,
//!   so that selects stay lazy; warnings travel beside the data ([`Warnings`]).
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "testsuite")] {
//! use pm_common::model::{Labels, MatchType, Matcher};
//! use pm_storage::{Appendable, MemStorage, Queryable, SeriesRef, ValueType};
//!
//! let storage = MemStorage::new();
//! let labels = Labels::from_pairs([("__name__", "up"), ("job", "node")]);
//! let mut app = storage.appender();
//! let r = app.append(SeriesRef::UNKNOWN, &labels, 1000, 1.0).unwrap();
//! app.append(r, &labels, 2000, 0.0).unwrap();
//! app.commit().unwrap();
//!
//! let querier = storage.querier(0, 10_000).unwrap();
//! let matcher = Matcher::new(MatchType::Equal, "job", "node").unwrap();
//! let mut set = querier.select(true, None, &[matcher]);
//! let series = set.next().unwrap();
//! let mut it = series.iter();
//! assert_eq!(it.seek(1500), ValueType::Float);
//! assert_eq!(it.at(), (2000, 0.0));
//! assert!(set.next().is_none() && set.err().is_none());
//! # }
//! ```
#![forbid(unsafe_code)]

mod append;
mod chunk;
mod error;
mod exemplar;
mod fanout;
mod histogram;
mod iterator;
#[cfg(feature = "testsuite")]
mod memstorage;
pub mod merge;
mod query;
mod series;
mod storage;

pub use append::{AppendOptions, Appendable, Appender, SeriesRef};
pub use chunk::{
    Chunk, ChunkEncoding, ChunkIterator, ChunkMeta, ChunkQuerier, ChunkQueryable, ChunkSeries,
    ChunkSeriesSet, ChunkedSeries, ChunksIterator, SeriesSetFromChunks, fill_from_disjoint_chunks,
};
pub use error::{
    DuplicateExisting, DuplicateSample, EXEMPLAR_MAX_LABEL_SET_LENGTH, Result, StorageError,
    Warnings,
};
pub use exemplar::{ExemplarQuerier, ExemplarQueryResult, ExemplarQueryable};
pub use fanout::{Fanout, FanoutAppender};
pub use histogram::{
    HistogramError, HistogramErrorKind, validate_float_histogram, validate_histogram,
};
pub use iterator::{EmptyIterator, ErrorIterator, HistogramSample, SampleIterator, ValueType};
#[cfg(feature = "testsuite")]
pub use memstorage::MemStorage;
pub use merge::{MergeQuerier, merge_label_lists, merge_sorted_strings};
pub use query::{LabelHints, LabelQuerier, Querier, Queryable, SelectHints};
pub use series::{
    BoxSeries, BoxSeriesSet, EmptySeriesSet, ErrorSeriesSet, ListIterator, ListSeries, SampleValue,
    Series, SeriesSample, SeriesSet, VecSeriesSet, fill_range_by_iter,
};
pub use storage::Storage;
