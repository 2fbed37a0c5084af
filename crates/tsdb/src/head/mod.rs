//! The head: the in-memory, writable part of the TSDB holding the newest samples, backed by the
//! write-ahead log.
//!
//! Series live in a striped hash map keyed by label hash (see [`index`]) so that scrape loops
//! rarely contend; each series holds Gorilla/XOR chunks of 120 samples cut as upstream does,
//! plus an out-of-order buffer when an out-of-order window is set. Commits are serialised:
//! each writes its WAL records, then applies its samples under a commit sequence number that
//! queriers snapshot, so a querier never sees a commit that finished after it was opened.

mod appender;
mod cardinality;
mod chunk_files;
mod delete;
mod exemplars;
mod index;
mod querier;
mod replay;
mod replay_shard;
mod series;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_chunk_files;
#[cfg(test)]
mod tests_histograms;
#[cfg(test)]
mod tests_replay;
#[cfg(test)]
mod tests_wbl;
mod wbl;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use pm_common::model::{Labels, Matcher};

use crate::tombstones::Tombstones;

use crate::wal::checkpoint::{self, CheckpointError, Retain};
use crate::wal::{Wal, WalError, WalMetrics, WalOptions};

pub use appender::HeadAppender;
pub use cardinality::{PostingsStats, Stat};
pub use chunk_files::ChunkFileError;
pub use querier::{HeadChunkQuerier, HeadQuerier};
pub use replay::{ReplayStats, WalReplayProgress, WalReplayStatus};

use chunk_files::ChunkFiles;
use exemplars::ExemplarStore;
use index::{Postings, SeriesMap};
use series::{ChunkOpts, MemSeries};

/// Upstream's default block and head chunk range: two hours.
pub const DEFAULT_CHUNK_RANGE: i64 = 2 * 60 * 60 * 1000;

#[derive(Clone, Copy, Debug)]
pub struct HeadOptions {
    /// Width of the ranges chunks are aligned to (upstream `--storage.tsdb.min-block-duration`).
    pub chunk_range: i64,
    /// How far behind the head's newest sample an out-of-order sample may be, in
    /// milliseconds; `0` rejects out-of-order samples (upstream's
    /// `out_of_order_time_window`).
    pub out_of_order_time_window: i64,
    /// Capacity of the exemplar ring (`--storage.tsdb.max-exemplars`); `0` disables exemplars.
    pub max_exemplars: usize,
    pub samples_per_chunk: usize,
    /// `None` keeps the head in memory only.
    pub wal: Option<WalOptions>,
}

impl Default for HeadOptions {
    fn default() -> Self {
        HeadOptions {
            chunk_range: DEFAULT_CHUNK_RANGE,
            out_of_order_time_window: 0,
            max_exemplars: 100_000,
            samples_per_chunk: 120,
            wal: Some(WalOptions::default()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error(transparent)]
    Wal(#[from] WalError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    ChunkFiles(#[from] ChunkFileError),
    #[error(
        "histogram has an invalid schema, which must be between {min} and {max} for exponential buckets, or {custom} for custom buckets, got schema {0}",
        min = pm_common::model::MIN_EXPONENTIAL_SCHEMA,
        max = pm_common::model::MAX_EXPONENTIAL_SCHEMA,
        custom = pm_common::model::CUSTOM_BUCKETS_SCHEMA
    )]
    InvalidSchema(i32),
    #[error("unknown series reference {0} for an exemplar or metadata update")]
    UnknownSeries(u64),
}

/// A counter split by sample type, upstream's `type` label (`float`, `histogram`).
#[derive(Debug, Default)]
pub struct TypedCounter {
    pub float: AtomicU64,
    pub histogram: AtomicU64,
}

impl TypedCounter {
    pub(crate) fn inc(&self, histogram: bool) {
        self.add([u64::from(!histogram), u64::from(histogram)]);
    }

    /// Adds `[floats, histograms]`.
    pub(crate) fn add(&self, n: [u64; 2]) {
        self.float.fetch_add(n[0], Ordering::Relaxed);
        self.histogram.fetch_add(n[1], Ordering::Relaxed);
    }

    /// Both counts, floats first.
    pub fn get(&self) -> [u64; 2] {
        [
            self.float.load(Ordering::Relaxed),
            self.histogram.load(Ordering::Relaxed),
        ]
    }
}

/// Counters the head keeps (exposed with upstream's metric names by the server).
#[derive(Debug, Default)]
pub struct HeadStats {
    pub samples_appended: TypedCounter,
    pub out_of_order_samples_appended: TypedCounter,
    pub out_of_order_samples_rejected: TypedCounter,
    pub out_of_bound_samples: TypedCounter,
    pub too_old_samples: TypedCounter,
    pub series_created: AtomicU64,
    pub series_removed: AtomicU64,
    pub chunks_created: AtomicU64,
    pub chunks_removed: AtomicU64,
    pub truncations: AtomicU64,
    /// WAL corruptions found (and repaired) on replay.
    pub wal_corruptions: AtomicU64,
    pub truncations_failed: AtomicU64,
    /// Appender transactions open now.
    pub active_appenders: AtomicU64,
    pub checkpoint_creations: AtomicU64,
    pub checkpoint_creations_failed: AtomicU64,
    /// Damaged head chunk files found (and deleted) on open.
    pub mmap_chunk_corruptions: AtomicU64,
}

/// A handle to the head; clones share it.
#[derive(Clone)]
pub struct Head {
    inner: Arc<HeadInner>,
}

struct CommitState {
    wal: Option<Wal>,
    /// The write-behind log of out-of-order samples (`<dir>/wbl`), open when an out-of-order
    /// window is set or a previous run left one.
    wbl: Option<Wal>,
    /// Sequence number of the last commit applied.
    seq: u64,
}

pub(crate) struct HeadInner {
    opts: HeadOptions,
    chunk_opts: ChunkOpts,
    series: SeriesMap,
    postings: RwLock<Postings>,
    next_ref: AtomicU64,
    min_time: AtomicI64,
    max_time: AtomicI64,
    /// Samples before this time are out of bounds (raised by truncation).
    min_valid_time: AtomicI64,
    commit: Mutex<CommitState>,
    /// Commits up to this sequence number are visible to new queriers.
    visible_seq: AtomicU64,
    /// Snapshots of open queriers, with how many share each.
    readers: Mutex<BTreeMap<u64, usize>>,
    exemplars: Mutex<ExemplarStore>,
    /// Deleted intervals by series reference; replaced whole on change so queriers keep theirs.
    tombstones: RwLock<Arc<Tombstones>>,
    stats: HeadStats,
    /// The WAL's counters, readable without the commit lock.
    wal_metrics: Option<Arc<WalMetrics>>,
    /// The write-behind log's counters.
    wbl_metrics: Option<Arc<WalMetrics>>,
    /// Where full chunks go (`<dir>/chunks_head`); `None` keeps them in memory.
    chunk_files: Option<ChunkFiles>,
    /// Buffers of finished transactions, for the next ones.
    append_pool: Mutex<Vec<appender::AppendBuffers>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Head {
    /// A head without a WAL: nothing survives the process.
    pub fn in_memory(opts: HeadOptions) -> Head {
        Head {
            inner: Arc::new(HeadInner::new(HeadOptions { wal: None, ..opts }, None)),
        }
    }

    /// Opens the head of the data directory `dir`: loads the full chunks of `dir/chunks_head`,
    /// replays `dir/wal` (checkpoint first, then the segments after it; samples a chunk file
    /// already holds are skipped), repairing a torn or corrupt tail, and starts a new WAL
    /// segment. A head without a WAL keeps its chunks in memory too.
    pub fn open(
        dir: impl AsRef<Path>,
        opts: HeadOptions,
    ) -> Result<(Head, ReplayStats), HeadError> {
        Self::open_with_progress(dir, opts, &WalReplayProgress::default())
    }

    /// [`Head::open`], reporting the replay's progress to `progress` as it goes (it is not
    /// marked done: the caller decides when it is ready).
    pub fn open_with_progress(
        dir: impl AsRef<Path>,
        opts: HeadOptions,
        progress: &WalReplayProgress,
    ) -> Result<(Head, ReplayStats), HeadError> {
        Self::open_sharded(dir, opts, progress, replay::default_shards())
    }

    /// [`Head::open_with_progress`] with the replay's samples applied on `shards` threads.
    pub(crate) fn open_sharded(
        dir: impl AsRef<Path>,
        opts: HeadOptions,
        progress: &WalReplayProgress,
        shards: usize,
    ) -> Result<(Head, ReplayStats), HeadError> {
        let wal_dir = dir.as_ref().join("wal");
        let wbl_dir = dir.as_ref().join(wbl::DIR);
        let mut inner = HeadInner::new(opts, None);
        let stats = match opts.wal {
            Some(_) => {
                let (files, loaded) = ChunkFiles::open(&dir.as_ref().join("chunks_head"))?;
                if loaded.repaired.is_some() {
                    let corruptions = &inner.stats.mmap_chunk_corruptions;
                    corruptions.fetch_add(1, Ordering::Relaxed);
                }
                inner.chunk_files = Some(files);
                replay::replay(&inner, &wal_dir, &wbl_dir, progress, loaded, shards)?
            }
            None => ReplayStats::default(),
        };
        let wal = opts.wal.map(|w| Wal::open(&wal_dir, w)).transpose()?;
        inner.wal_metrics = wal.as_ref().map(|w| w.metrics().clone());
        let wbl = match opts.wal {
            Some(w) if opts.out_of_order_time_window > 0 || wbl_dir.exists() => {
                Some(Wal::open(&wbl_dir, w)?)
            }
            _ => None,
        };
        inner.wbl_metrics = wbl.as_ref().map(|w| w.metrics().clone());
        let state = inner.commit.get_mut().unwrap_or_else(|e| e.into_inner());
        state.wal = wal;
        state.wbl = wbl;
        Ok((
            Head {
                inner: Arc::new(inner),
            },
            stats,
        ))
    }

    /// Oldest sample timestamp in the head, `i64::MAX` when empty.
    pub fn min_time(&self) -> i64 {
        self.inner.min_time.load(Ordering::Acquire)
    }

    /// Newest sample timestamp in the head, `i64::MIN` when empty.
    pub fn max_time(&self) -> i64 {
        self.inner.max_time.load(Ordering::Acquire)
    }

    pub fn num_series(&self) -> usize {
        self.inner.series.len()
    }

    /// The cardinality statistics of the head's series: the top `limit` of each list, with
    /// `by_label`'s values as the first list (upstream's `Head.PostingsCardinalityStats`).
    pub fn postings_stats(&self, by_label: &str, limit: usize) -> PostingsStats {
        index_read(&self.inner.postings).stats(by_label, limit)
    }

    pub fn stats(&self) -> &HeadStats {
        &self.inner.stats
    }

    /// The WAL's counters; `None` for a head without a WAL.
    pub fn wal_metrics(&self) -> Option<&Arc<WalMetrics>> {
        self.inner.wal_metrics.as_ref()
    }

    /// The write-behind log's counters; `None` without an out-of-order window.
    pub fn wbl_metrics(&self) -> Option<&Arc<WalMetrics>> {
        self.inner.wbl_metrics.as_ref()
    }

    /// Bytes of the head chunk files (`chunks_head/`), `0` for a head without them.
    pub fn chunk_files_bytes(&self) -> u64 {
        self.inner
            .chunk_files
            .as_ref()
            .map_or(0, ChunkFiles::size_bytes)
    }

    /// Number of chunks (closed and open) across all series.
    pub fn num_chunks(&self) -> usize {
        self.inner
            .series
            .all()
            .iter()
            .map(|s| s.lock().chunk_count())
            .sum()
    }

    /// Drops chunks entirely before `mint` and series left empty, rejects samples before
    /// `mint` from now on, and checkpoints the WAL so its old segments can go.
    pub fn truncate(&self, mint: i64) -> Result<(), HeadError> {
        self.truncate_keeping(mint, false)
    }

    /// [`Head::truncate`] for in-order data only: out-of-order samples before `mint` stay,
    /// for compaction to persist. Opening a database uses it to drop what its blocks already
    /// hold, since the write-behind log's samples may belong before the newest block.
    pub fn truncate_in_order(&self, mint: i64) -> Result<(), HeadError> {
        self.truncate_keeping(mint, true)
    }

    fn truncate_keeping(&self, mint: i64, keep_ooo: bool) -> Result<(), HeadError> {
        let result = self.truncate_inner(mint, keep_ooo);
        if result.is_err() {
            let failed = &self.inner.stats.truncations_failed;
            failed.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn truncate_inner(&self, mint: i64, keep_ooo: bool) -> Result<(), HeadError> {
        let inner = &self.inner;
        inner.min_valid_time.fetch_max(mint, Ordering::AcqRel);
        let mut new_min = i64::MAX;
        for s in inner.series.all() {
            let mut d = s.lock();
            let removed = d.truncate_before(mint, keep_ooo);
            inner
                .stats
                .chunks_removed
                .fetch_add(removed as u64, Ordering::Relaxed);
            if d.is_empty() && s.try_retire(&d) {
                inner.series.remove(&s);
                index_write(&inner.postings).remove(s.r, &s.labels);
                drop(d);
                inner.stats.series_removed.fetch_add(1, Ordering::Relaxed);
            } else if let Some(t) = d.min_time() {
                new_min = new_min.min(t);
            }
        }
        // As upstream, a head left with data starts at the truncation time (or earlier, if a
        // chunk reaches back past it), so the blocks cut from it next are aligned to the block
        // range rather than to their first sample.
        let new_min = if new_min == i64::MAX {
            new_min
        } else {
            new_min.min(mint)
        };
        inner.update_tombstones(|t| {
            t.truncate_before(mint);
            t.retain_series(|r| inner.series.by_ref(r).is_some());
        });
        inner.min_time.store(new_min, Ordering::Release);
        if new_min == i64::MAX {
            inner.max_time.store(i64::MIN, Ordering::Release);
        }
        inner.stats.truncations.fetch_add(1, Ordering::Relaxed);
        if let Some(files) = &inner.chunk_files {
            files.truncate(mint)?;
        }
        let mut guard = lock(&inner.commit);
        let state = &mut *guard;
        if let Some(wbl) = state.wbl.as_mut() {
            wbl::rewrite(inner, wbl)?;
        }
        let Some(wal) = state.wal.as_mut() else {
            return Ok(());
        };
        // Everything before the new segment is complete and can be condensed.
        let current = wal.next_segment()?;
        let live = |r: u64| inner.series.by_ref(r).is_some();
        let dir = wal.dir().to_owned();
        inner
            .stats
            .checkpoint_creations
            .fetch_add(1, Ordering::Relaxed);
        let retain = Retain {
            series: &live,
            mint,
        };
        if let Err(e) = checkpoint::checkpoint(&dir, current - 1, &retain) {
            inner
                .stats
                .checkpoint_creations_failed
                .fetch_add(1, Ordering::Relaxed);
            return Err(e.into());
        }
        wal.truncate(current)?;
        Ok(())
    }

    /// Flushes the WAL and the head chunk files to disk.
    pub fn close(&self) -> Result<(), HeadError> {
        let mut guard = lock(&self.inner.commit);
        let state = &mut *guard;
        for log in [state.wal.as_mut(), state.wbl.as_mut()]
            .into_iter()
            .flatten()
        {
            log.sync()?;
        }
        drop(guard);
        if let Some(files) = &self.inner.chunk_files {
            files.sync()?;
        }
        Ok(())
    }
}

fn index_write(p: &RwLock<Postings>) -> std::sync::RwLockWriteGuard<'_, Postings> {
    p.write().unwrap_or_else(|e| e.into_inner())
}

fn index_read(p: &RwLock<Postings>) -> std::sync::RwLockReadGuard<'_, Postings> {
    p.read().unwrap_or_else(|e| e.into_inner())
}

impl HeadInner {
    fn new(opts: HeadOptions, wal: Option<Wal>) -> Self {
        HeadInner {
            opts,
            chunk_opts: ChunkOpts {
                chunk_range: opts.chunk_range,
                samples_per_chunk: opts.samples_per_chunk,
            },
            series: SeriesMap::new(),
            postings: RwLock::default(),
            next_ref: AtomicU64::new(1),
            min_time: AtomicI64::new(i64::MAX),
            max_time: AtomicI64::new(i64::MIN),
            min_valid_time: AtomicI64::new(i64::MIN),
            commit: Mutex::new(CommitState {
                wal,
                wbl: None,
                seq: 0,
            }),
            visible_seq: AtomicU64::new(0),
            readers: Mutex::new(BTreeMap::new()),
            exemplars: Mutex::new(ExemplarStore::new(opts.max_exemplars)),
            tombstones: RwLock::default(),
            wal_metrics: None,
            wbl_metrics: None,
            chunk_files: None,
            stats: HeadStats::default(),
            append_pool: Mutex::default(),
        }
    }

    /// The series with `labels`, created (with a fresh reference, or `with_ref` during replay)
    /// when missing.
    fn get_or_create(&self, labels: &Labels, with_ref: Option<u64>) -> (Arc<MemSeries>, bool) {
        let (s, created) = self.series.get_or_create(labels.hash_value(), labels, || {
            with_ref.unwrap_or_else(|| self.next_ref.fetch_add(1, Ordering::AcqRel))
        });
        if created {
            if let Some(r) = with_ref {
                self.next_ref.fetch_max(r + 1, Ordering::AcqRel);
            }
            index_write(&self.postings).add(s.r, &s.labels);
            self.stats.series_created.fetch_add(1, Ordering::Relaxed);
        }
        (s, created)
    }

    /// The series whose labels satisfy all `matchers`, in no particular order.
    fn matching(&self, matchers: &[Matcher]) -> Vec<Arc<MemSeries>> {
        let candidates = index_read(&self.postings).candidates(matchers);
        let series: Vec<_> = match candidates {
            Some(refs) => refs
                .into_iter()
                .filter_map(|r| self.series.by_ref(r))
                .collect(),
            None => self.series.all(),
        };
        series
            .into_iter()
            .filter(|s| {
                matchers
                    .iter()
                    .all(|m| m.matches(s.labels.get_or_empty(m.name())))
            })
            .collect()
    }

    /// Moves a series' newly closed chunks to the head chunk files. A failed write keeps
    /// them in memory (the WAL has them anyway) and is retried with the series' next chunk.
    fn spill(&self, s: &MemSeries, d: &mut series::SeriesData) {
        if let Some(files) = &self.chunk_files
            && let Err(e) = d.spill(s.r, files)
        {
            tracing::error!(err = %e, series = s.r, "writing a full head chunk to its file failed");
        }
    }

    /// The bytes of a closed chunk. A chunk file that cannot be read is logged and the chunk
    /// left out: the samples are still in the WAL and come back on the next open.
    fn closed_bytes(&self, c: &series::ClosedChunk) -> Option<Arc<[u8]>> {
        match &c.data {
            series::ChunkData::Mem(bytes) => Some(bytes.clone()),
            series::ChunkData::Disk(disk) => {
                let files = self.chunk_files.as_ref()?;
                match files.read(*disk) {
                    Ok(bytes) => Some(bytes),
                    Err(e) => {
                        tracing::error!(err = %e, "reading a head chunk failed");
                        None
                    }
                }
            }
        }
    }

    fn observe_time(&self, t: i64) {
        self.min_time.fetch_min(t, Ordering::AcqRel);
        self.max_time.fetch_max(t, Ordering::AcqRel);
    }

    /// Registers an open querier and returns its snapshot.
    fn open_reader(&self) -> u64 {
        let mut readers = lock(&self.readers);
        let snapshot = self.visible_seq.load(Ordering::Acquire);
        *readers.entry(snapshot).or_default() += 1;
        snapshot
    }

    fn close_reader(&self, snapshot: u64) {
        let mut readers = lock(&self.readers);
        if let Some(n) = readers.get_mut(&snapshot) {
            *n -= 1;
            if *n == 0 {
                readers.remove(&snapshot);
            }
        }
    }

    /// The oldest snapshot any querier may still ask about.
    fn oldest_snapshot(&self) -> u64 {
        let readers = lock(&self.readers);
        readers
            .keys()
            .next()
            .copied()
            .unwrap_or_else(|| self.visible_seq.load(Ordering::Acquire))
    }
}
