//! Rebuilding the head from the WAL on open.

use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, mpsc};

use pm_storage::SampleValue;

use super::chunk_files::Loaded;
use super::replay_shard::{Dispatch, Op, RefMap, Shard};
use super::series::MemSeries;
use super::{HeadError, HeadInner, lock};
use crate::record::{self, Record, RecordType, RefSample};
use crate::wal::checkpoint::last_checkpoint;
use crate::wal::{LogReader, WalError, list_segments, repair};

/// What a replay found, for the startup log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// The checkpoint replayed first, if any.
    pub checkpoint: Option<u32>,
    pub records: u64,
    pub series: u64,
    pub samples: u64,
    pub exemplars: u64,
    pub tombstones: u64,
    /// Samples, exemplars or metadata naming a series no record defined (upstream logs these
    /// as unknown series references).
    pub unknown_refs: u64,
    /// Records the head has no use for (m-map markers of upstream's head chunk files), skipped.
    pub skipped: u64,
    /// Full chunks taken from the head chunk files (`chunks_head/`) instead of the WAL.
    pub mmapped_chunks: u64,
    /// Samples in the WAL that a chunk file already held, skipped.
    pub mmapped_samples_skipped: u64,
    /// What the repair of a torn or corrupt tail did.
    pub repaired: Option<String>,
}

/// Where the WAL replay is, for `/api/v1/status/walreplay`, and whether the database is open
/// (so `/-/ready` can say no until then). Shared with whoever waits for the open.
#[derive(Debug, Default)]
pub struct WalReplayProgress {
    min: AtomicI64,
    max: AtomicI64,
    current: AtomicI64,
    done: AtomicBool,
}

/// Upstream's WAL replay status: the first and last segment to replay (after the checkpoint),
/// and the segment being replayed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WalReplayStatus {
    pub min: i64,
    pub max: i64,
    pub current: i64,
}

impl WalReplayProgress {
    pub fn status(&self) -> WalReplayStatus {
        WalReplayStatus {
            min: self.min.load(Ordering::Acquire),
            max: self.max.load(Ordering::Acquire),
            current: self.current.load(Ordering::Acquire),
        }
    }

    /// Whether the replay (and, for a database, the whole open) has finished.
    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    pub(crate) fn finish(&self) {
        self.done.store(true, Ordering::Release);
    }

    fn start(&self, min: i64, max: i64) {
        self.min.store(min, Ordering::Release);
        self.max.store(max, Ordering::Release);
        self.current.store(min, Ordering::Release);
    }
}

/// How many shard threads apply replayed samples by default: one per available core (the
/// decoder is lighter and shares them), at most 8.
pub(super) fn default_shards() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// Replays the checkpoint, the WAL segments after it and the write-behind log into the head.
/// Records are read and decoded on this thread; samples are applied on `shards` threads, each
/// owning the series whose head reference is its index modulo `shards` (see
/// [`replay_shard`](super::replay_shard)), so every series sees its samples in log order.
pub(super) fn replay(
    inner: &HeadInner,
    wal_dir: &Path,
    wbl_dir: &Path,
    progress: &WalReplayProgress,
    mapped: Loaded,
    shards: usize,
) -> Result<ReplayStats, HeadError> {
    let mut stats = ReplayStats::default();
    let mut refs = Refs {
        series: RefMap::default(),
        mapped,
        samples: Vec::new(),
    };
    let mut shards: Vec<Shard> = (0..shards.max(1))
        .map(|_| Shard::new(shards.max(1)))
        .collect();
    let checkpoint = last_checkpoint(wal_dir)?;
    if let Some((dir, n)) = &checkpoint {
        stats.checkpoint = Some(*n);
        // A checkpoint was fsynced before it got its name: damage there is not a torn write.
        let pass = Pass::new(dir, 0..=u32::MAX, None, false);
        replay_log(inner, &pass, &mut refs, &mut shards, &mut stats)?;
    }
    let first = checkpoint.map_or(0, |(_, n)| n + 1);
    let last = list_segments(wal_dir)?.last().map_or(-1, |&n| i64::from(n));
    progress.start(i64::from(first), last);
    let pass = Pass::new(wal_dir, first..=u32::MAX, Some(progress), false);
    let replayed = replay_log(inner, &pass, &mut refs, &mut shards, &mut stats);
    repair_corruption(inner, wal_dir, replayed, &mut stats)?;
    progress.current.store(last, Ordering::Release);
    std::thread::scope(|scope| {
        for shard in &mut shards {
            scope.spawn(|| shard.finish_wal(inner));
        }
    });
    if wbl_dir.exists() {
        let pass = Pass::new(wbl_dir, 0..=u32::MAX, None, true);
        let replayed = replay_log(inner, &pass, &mut refs, &mut shards, &mut stats);
        repair_corruption(inner, wbl_dir, replayed, &mut stats)?;
    }
    for shard in shards {
        stats.samples += shard.stats.samples;
        stats.mmapped_chunks += shard.stats.mmapped_chunks;
        stats.mmapped_samples_skipped += shard.stats.mmapped_samples_skipped;
        shard.release();
    }
    if refs.mapped.skipped > 0 {
        tracing::info!(
            chunks = refs.mapped.skipped,
            "skipped out-of-order chunks in the head chunk files (rebuilt from the WBL)"
        );
    }
    if stats.skipped > 0 {
        tracing::warn!(
            records = stats.skipped,
            "skipped WAL records of kinds the head does not hold (m-map markers)"
        );
    }
    if stats.unknown_refs > 0 {
        tracing::warn!(
            count = stats.unknown_refs,
            "unknown series references in WAL"
        );
    }
    Ok(stats)
}

/// A torn or corrupt tail of the WAL or WBL in `dir` is cut off (as upstream repairs it);
/// other errors stop the open.
fn repair_corruption(
    inner: &HeadInner,
    dir: &Path,
    replayed: Result<(), HeadError>,
    stats: &mut ReplayStats,
) -> Result<(), HeadError> {
    match replayed {
        Err(HeadError::Wal(WalError::Corruption(c))) => {
            inner.stats.wal_corruptions.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(err = %c, dir = %dir.display(), "log corruption detected; repairing");
            let what = repair(dir, &c)?;
            tracing::warn!(repair = %what, "log repaired");
            stats.repaired = Some(what);
            Ok(())
        }
        other => other,
    }
}

/// The decoder's view of the series: the log's references (each with the head reference of
/// its series, which differs when labels came back under a new reference after a checkpoint),
/// and the chunks from the head chunk files not yet handed to a series.
struct Refs {
    series: RefMap<(u64, Arc<MemSeries>)>,
    mapped: Loaded,
    /// Reused for every samples record.
    samples: Vec<RefSample>,
}

/// One log to replay.
struct Pass<'a> {
    dir: &'a Path,
    segments: RangeInclusive<u32>,
    progress: Option<&'a WalReplayProgress>,
    /// Whether this is the write-behind log of out-of-order samples.
    wbl: bool,
}

impl<'a> Pass<'a> {
    fn new(
        dir: &'a Path,
        segments: RangeInclusive<u32>,
        progress: Option<&'a WalReplayProgress>,
        wbl: bool,
    ) -> Self {
        Pass {
            dir,
            segments,
            progress,
            wbl,
        }
    }
}

/// Replays one log: shard threads apply while this thread decodes. Everything decoded before
/// an error is applied (a repair keeps those records); the record that failed is not.
fn replay_log(
    inner: &HeadInner,
    pass: &Pass<'_>,
    refs: &mut Refs,
    shards: &mut [Shard],
    stats: &mut ReplayStats,
) -> Result<(), HeadError> {
    let ooo = inner.opts.out_of_order_time_window > 0;
    let result = std::thread::scope(|scope| {
        let (recycle, recycled) = mpsc::channel();
        let mut senders = Vec::with_capacity(shards.len());
        for shard in shards.iter_mut() {
            let (tx, rx) = mpsc::sync_channel(4);
            senders.push(tx);
            let recycle = recycle.clone();
            let wbl = pass.wbl;
            scope.spawn(move || shard.run(inner, ooo, wbl, rx, recycle));
        }
        let mut dispatch = Dispatch::new(senders, recycled);
        let result = decode_log(inner, pass, refs, &mut dispatch, stats);
        dispatch.finish();
        result
    });
    for shard in shards.iter_mut() {
        if shard.min_t <= shard.max_t {
            inner.observe_time(shard.min_t);
            inner.observe_time(shard.max_t);
        }
    }
    result
}

fn decode_log(
    inner: &HeadInner,
    pass: &Pass<'_>,
    refs: &mut Refs,
    dispatch: &mut Dispatch,
    stats: &mut ReplayStats,
) -> Result<(), HeadError> {
    let mut reader = LogReader::open(pass.dir, pass.segments.clone())?;
    while let Some(rec) = reader.next_record()? {
        // Samples records, nearly all of the log, are decoded into a reused buffer.
        let decoded = if RecordType::of(rec) == Some(RecordType::Samples) {
            record::decode_samples_into(rec, &mut refs.samples).map(|()| None)
        } else {
            record::decode(rec).map(Some)
        };
        let rec = decoded.map_err(|e| WalError::Corruption(reader.corruption(e.to_string())))?;
        if let (Some(p), (Some(segment), _)) = (pass.progress, reader.position()) {
            p.current.store(i64::from(segment), Ordering::Relaxed);
        }
        stats.records += 1;
        match rec {
            None => {
                for s in &refs.samples {
                    match refs.series.get(s.r) {
                        Some(&(r, _)) => {
                            dispatch.push(r, Op::Sample(r, s.t, SampleValue::Float(s.v)))
                        }
                        None => stats.unknown_refs += 1,
                    }
                }
            }
            Some(rec) => apply_record(inner, rec, refs, dispatch, stats),
        }
    }
    Ok(())
}

/// Every record but float samples.
fn apply_record(
    inner: &HeadInner,
    rec: Record,
    refs: &mut Refs,
    dispatch: &mut Dispatch,
    stats: &mut ReplayStats,
) {
    let mut sample = |r: u64, t: i64, v: SampleValue| match refs.series.get(r) {
        Some(&(r, _)) => dispatch.push(r, Op::Sample(r, t, v)),
        None => stats.unknown_refs += 1,
    };
    match rec {
        Record::Samples(samples) => {
            for s in samples {
                sample(s.r, s.t, SampleValue::Float(s.v));
            }
        }
        Record::Histograms(samples) => {
            for s in samples {
                sample(s.r, s.t, SampleValue::Histogram(Arc::new(s.h)));
            }
        }
        Record::FloatHistograms(samples) => {
            for s in samples {
                sample(s.r, s.t, SampleValue::FloatHistogram(Arc::new(s.fh)));
            }
        }
        Record::Series(series) => {
            for s in series {
                let (m, _) = inner.get_or_create(&s.labels, Some(s.r));
                m.logged.store(true, Ordering::Release);
                let mapped = refs.mapped.series.remove(&s.r).unwrap_or_default();
                // After a checkpoint the same labels may come back under a new reference.
                refs.series.insert(s.r, (m.r, m.clone()));
                dispatch.push(m.r, Op::Series(m, mapped));
                stats.series += 1;
            }
        }
        Record::Exemplars(exemplars) => {
            let mut store = lock(&inner.exemplars);
            for e in exemplars {
                // Stored under the head's reference, which differs from the log's when the
                // label set came back under a new one.
                let Some(&(r, _)) = refs.series.get(e.r) else {
                    stats.unknown_refs += 1;
                    continue;
                };
                store.add(
                    r,
                    pm_common::model::Exemplar {
                        labels: e.labels,
                        value: e.v,
                        ts: Some(e.t),
                    },
                );
                stats.exemplars += 1;
            }
        }
        Record::Metadata(metadata) => {
            for m in metadata {
                let Some(&(r, _)) = refs.series.get(m.r) else {
                    stats.unknown_refs += 1;
                    continue;
                };
                let metadata = pm_common::model::Metadata {
                    metric_type: m.metric_type,
                    help: m.help,
                    unit: m.unit,
                };
                dispatch.push(r, Op::Metadata(r, Box::new(metadata)));
            }
        }
        Record::Tombstones(stones) => {
            let mut known = Vec::with_capacity(stones.len());
            for mut s in stones {
                match refs.series.get(s.r) {
                    Some(&(r, _)) => {
                        s.r = r;
                        known.push(s);
                    }
                    None => stats.unknown_refs += 1,
                }
            }
            stats.tombstones += known.len() as u64;
            inner.add_tombstones(&known);
        }
        Record::MmapMarkers(_) => stats.skipped += 1,
    }
}
