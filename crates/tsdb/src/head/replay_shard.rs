//! The apply half of the WAL replay: shard threads that own disjoint sets of series (by head
//! reference modulo the shard count) and append their replayed samples.
//!
//! A shard takes each series' data out of its lock when the series record arrives and keeps
//! it in a dense vector until the replay ends, so a sample costs no lock, no atomic and no
//! hash lookup; the head is not visible to anyone before the replay returns, and the decoder
//! never touches series data (metadata goes through the shard too). One series is always
//! applied by one shard in log order, which is all the head's semantics depend on: samples of
//! different series never interact.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, SyncSender};

use foldhash::HashMap as FastMap;
use pm_common::model::Metadata;
use pm_storage::SampleValue;

use super::HeadInner;
use super::chunk_files::MappedChunk;
use super::series::{Applied, MemSeries, SeriesData};

/// Operations a shard receives per send: enough to make the channel's cost per sample small.
pub(super) const BATCH: usize = 4096;

/// Values by reference. Heads hand out references densely (upstream's too, from 1 up), so a
/// vector indexed from the first reference seen replaces hashing for nearly every lookup;
/// references far from the others (after much churn, or a gap) fall back to a hash map.
pub(super) struct RefMap<T> {
    base: Option<u64>,
    dense: Vec<Option<T>>,
    sparse: FastMap<u64, T>,
    len: usize,
}

impl<T> Default for RefMap<T> {
    fn default() -> Self {
        RefMap {
            base: None,
            dense: Vec::new(),
            sparse: FastMap::default(),
            len: 0,
        }
    }
}

impl<T> RefMap<T> {
    fn index(&self, r: u64) -> Option<usize> {
        let i = usize::try_from(r.checked_sub(self.base?)?).ok()?;
        (i < self.dense.len()).then_some(i)
    }

    pub(super) fn get(&self, r: u64) -> Option<&T> {
        match self.index(r) {
            Some(i) if self.dense[i].is_some() => self.dense[i].as_ref(),
            _ if self.sparse.is_empty() => None,
            _ => self.sparse.get(&r),
        }
    }

    fn get_mut(&mut self, r: u64) -> Option<&mut T> {
        match self.index(r) {
            Some(i) if self.dense[i].is_some() => self.dense[i].as_mut(),
            _ => self.sparse.get_mut(&r),
        }
    }

    /// Inserts or replaces; returns the value replaced.
    pub(super) fn insert(&mut self, r: u64, v: T) -> Option<T> {
        // A reference put in the hash map while far away stays there when the vector grows
        // past it.
        if !self.sparse.is_empty()
            && let Some(slot) = self.sparse.get_mut(&r)
        {
            return Some(std::mem::replace(slot, v));
        }
        let base = *self.base.get_or_insert(r);
        if let Some(i) = self.index(r) {
            let old = self.dense[i].replace(v);
            self.len += usize::from(old.is_none());
            return old;
        }
        // Grow the vector only for references near the ones held, so its size stays within a
        // small factor of the number of entries.
        let near = r
            .checked_sub(base)
            .and_then(|i| usize::try_from(i).ok())
            .filter(|&i| i < 2 * self.len + 4096);
        match near {
            Some(i) => {
                self.dense.resize_with(i + 1, || None);
                self.dense[i] = Some(v);
            }
            None => {
                self.sparse.insert(r, v);
            }
        }
        self.len += 1;
        None
    }

    pub(super) fn into_values(self) -> impl Iterator<Item = T> {
        self.dense
            .into_iter()
            .flatten()
            .chain(self.sparse.into_values())
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.dense
            .iter_mut()
            .flatten()
            .chain(self.sparse.values_mut())
    }
}

/// What the decoder sends a shard.
pub(super) enum Op {
    /// A series record named this series: the shard owns its data from now on, and attaches
    /// its chunks from the head chunk files (if any).
    Series(Arc<MemSeries>, Vec<MappedChunk>),
    /// A sample for the series with this head reference.
    Sample(u64, i64, SampleValue),
    Metadata(u64, Box<Metadata>),
}

/// A series' data while the replay owns it.
struct Owned {
    series: Arc<MemSeries>,
    data: SeriesData,
    /// The newest time the series' chunks from the head chunk files cover: the WAL's samples
    /// up to it are already there.
    mapped_max: Option<i64>,
}

/// Counts a shard adds to the replay's statistics.
#[derive(Debug, Default)]
pub(super) struct ShardStats {
    pub(super) samples: u64,
    pub(super) mmapped_chunks: u64,
    pub(super) mmapped_samples_skipped: u64,
}

/// One shard's series and counters; lives across the replay's passes (checkpoint, segments,
/// write-behind log), each of which runs it on a thread of its own.
pub(super) struct Shard {
    /// Series by head reference divided by the shard count (dense within the shard).
    series: RefMap<Owned>,
    shards: u64,
    pub(super) stats: ShardStats,
    /// Oldest and newest timestamp applied, merged into the head's range after each pass.
    pub(super) min_t: i64,
    pub(super) max_t: i64,
}

impl Shard {
    pub(super) fn new(shards: usize) -> Self {
        Shard {
            series: RefMap::default(),
            shards: shards as u64,
            stats: ShardStats::default(),
            min_t: i64::MAX,
            max_t: i64::MIN,
        }
    }

    fn observe(&mut self, t: i64) {
        self.min_t = self.min_t.min(t);
        self.max_t = self.max_t.max(t);
    }

    /// Applies batches until the decoder hangs up, handing emptied buffers back for reuse.
    /// `wbl` says whether the samples come from the write-behind log: out-of-order by
    /// definition, and never skipped for a chunk file (those hold in-order chunks only).
    pub(super) fn run(
        &mut self,
        inner: &HeadInner,
        ooo_allowed: bool,
        wbl: bool,
        batches: Receiver<Vec<Op>>,
        recycle: Sender<Vec<Op>>,
    ) {
        for mut batch in batches {
            for op in batch.drain(..) {
                self.apply(inner, ooo_allowed, wbl, op);
            }
            // The decoder may be gone already; the buffer is then simply dropped.
            let _ = recycle.send(batch);
        }
    }

    fn apply(&mut self, inner: &HeadInner, ooo_allowed: bool, wbl: bool, op: Op) {
        match op {
            Op::Series(series, mapped) => self.own(series, mapped),
            Op::Sample(r, t, v) => {
                let Some(o) = self.series.get_mut(r / self.shards) else {
                    unreachable!("the decoder sends a series before its samples")
                };
                if !wbl && o.mapped_max.is_some_and(|max| t <= max) {
                    self.stats.mmapped_samples_skipped += 1;
                    return;
                }
                if let Applied::InOrder {
                    chunk_created: true,
                } = o.data.apply(t, v, 0, ooo_allowed || wbl, &inner.chunk_opts)
                {
                    inner.spill(&o.series, &mut o.data);
                }
                o.data.trim_commits(0);
                self.observe(t);
                self.stats.samples += 1;
            }
            Op::Metadata(r, m) => {
                if let Some(o) = self.series.get_mut(r / self.shards) {
                    o.data.metadata = Some(*m);
                }
            }
        }
    }

    fn own(&mut self, series: Arc<MemSeries>, mapped: Vec<MappedChunk>) {
        let key = series.r / self.shards;
        let owned = self
            .series
            .get(key)
            .is_some_and(|o| Arc::ptr_eq(&o.series, &series));
        if !owned {
            let data = std::mem::replace(&mut *series.lock(), SeriesData::empty());
            let new = Owned {
                series,
                data,
                mapped_max: None,
            };
            // A different series under the same reference (a log naming one reference twice)
            // takes over the reference, as a map from the log's references would.
            if let Some(old) = self.series.insert(key, new) {
                *old.series.lock() = old.data;
            }
        }
        let o = self.series.get_mut(key).expect("owned above");
        let Some(first) = mapped.first().map(|c| c.min_t) else {
            return;
        };
        if let Some((n, max)) = o.data.attach(mapped) {
            self.stats.mmapped_chunks += n;
            o.mapped_max = Some(max);
            self.observe(first);
            self.observe(max);
        }
    }

    /// After the WAL (before the write-behind log): forgets commit records, and reads back
    /// the newest sample of series whose newest chunk is in a chunk file.
    pub(super) fn finish_wal(&mut self, inner: &HeadInner) {
        for o in self.series.values_mut() {
            o.data.trim_commits(0);
            if let Some(files) = &inner.chunk_files
                && o.mapped_max.is_some()
                && let Err(e) = o.data.restore_last(files)
            {
                tracing::warn!(err = %e, series = o.series.r, "reading the newest head chunk back failed");
            }
        }
    }

    /// Puts every series' data back under its lock, for the open head.
    pub(super) fn release(self) {
        for o in self.series.into_values() {
            *o.series.lock() = o.data;
        }
    }
}

/// The decoder's end of the shards' channels: per-shard buffers sent when full.
pub(super) struct Dispatch {
    senders: Vec<SyncSender<Vec<Op>>>,
    bufs: Vec<Vec<Op>>,
    recycled: Receiver<Vec<Op>>,
}

impl Dispatch {
    pub(super) fn new(senders: Vec<SyncSender<Vec<Op>>>, recycled: Receiver<Vec<Op>>) -> Self {
        let bufs = senders.iter().map(|_| Vec::with_capacity(BATCH)).collect();
        Dispatch {
            senders,
            bufs,
            recycled,
        }
    }

    /// Queues `op` for the shard owning head reference `r`.
    pub(super) fn push(&mut self, r: u64, op: Op) {
        let k = (r % self.senders.len() as u64) as usize;
        self.bufs[k].push(op);
        if self.bufs[k].len() >= BATCH {
            self.flush(k);
        }
    }

    fn flush(&mut self, k: usize) {
        if self.bufs[k].is_empty() {
            return;
        }
        let next = self
            .recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let full = std::mem::replace(&mut self.bufs[k], next);
        // A shard only hangs up by panicking, which the thread scope re-raises when it ends.
        let _ = self.senders[k].send(full);
    }

    /// Sends what is queued and hangs up, so the shards finish.
    pub(super) fn finish(mut self) {
        for k in 0..self.senders.len() {
            self.flush(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RefMap;

    #[test]
    fn ref_map_finds_dense_and_far_references() {
        let mut m = RefMap::default();
        assert_eq!(m.get(1), None::<&u64>);
        // The first reference sets the base; far ones and ones below it go to the hash map.
        for r in [100, 101, 103, 1 << 40, 5, 10_000] {
            assert_eq!(m.insert(r, r * 2), None);
        }
        // 10,000 was far when inserted; filling the gap grows the vector past it.
        for r in 104..10_100 {
            if r != 10_000 {
                assert_eq!(m.insert(r, r * 2), None);
            }
        }
        assert_eq!(m.insert(10_000, 7), Some(20_000));
        assert_eq!(m.insert(101, 9), Some(202));
        assert_eq!(m.get(10_000), Some(&7));
        assert_eq!(m.get(101), Some(&9));
        assert_eq!(m.get(1 << 40), Some(&(1 << 41)));
        assert_eq!(m.get(5), Some(&10));
        assert_eq!(m.get(102), None);
        assert_eq!(m.get(99), None);
        *m.get_mut(5).unwrap() = 11;
        let mut all: Vec<_> = m.into_values().collect();
        all.sort_unstable();
        assert_eq!(all.len(), 6 + (10_100 - 104 - 1));
        assert_eq!(
            all.iter().filter(|&&v| v == 7 || v == 9 || v == 11).count(),
            3
        );
    }
}
