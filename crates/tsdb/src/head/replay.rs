//! Rebuilding the head from the WAL on open.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use pm_storage::SampleValue;

use super::chunk_files::Loaded;
use super::series::MemSeries;
use super::{HeadError, HeadInner, lock};
use crate::record::{self, Record};
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

pub(super) fn replay(
    inner: &HeadInner,
    wal_dir: &Path,
    wbl_dir: &Path,
    progress: &WalReplayProgress,
    mapped: Loaded,
) -> Result<ReplayStats, HeadError> {
    let mut stats = ReplayStats::default();
    let mut refs = Refs {
        mapped,
        ..Refs::default()
    };
    let checkpoint = last_checkpoint(wal_dir)?;
    if let Some((dir, n)) = &checkpoint {
        stats.checkpoint = Some(*n);
        // A checkpoint was fsynced before it got its name: damage there is not a torn write.
        replay_log(inner, dir, 0..=u32::MAX, &mut refs, &mut stats, None)?;
    }
    let first = checkpoint.map_or(0, |(_, n)| n + 1);
    let last = list_segments(wal_dir)?.last().map_or(-1, |&n| i64::from(n));
    progress.start(i64::from(first), last);
    let replayed = replay_log(
        inner,
        wal_dir,
        first..=u32::MAX,
        &mut refs,
        &mut stats,
        Some(progress),
    );
    repair_corruption(inner, wal_dir, replayed, &mut stats)?;
    progress.current.store(last, Ordering::Release);
    for s in refs.series.values() {
        let mut d = s.lock();
        d.trim_commits(0);
        if let Some(files) = &inner.chunk_files
            && refs.mapped_max.contains_key(&s.r)
            && let Err(e) = d.restore_last(files)
        {
            tracing::warn!(err = %e, series = s.r, "reading the newest head chunk back failed");
        }
    }
    if wbl_dir.exists() {
        // Out-of-order by definition: into the out-of-order buffers whatever the window, and
        // never skipped for a chunk file (those hold in-order chunks only).
        refs.replaying_wbl = true;
        let replayed = replay_log(inner, wbl_dir, 0..=u32::MAX, &mut refs, &mut stats, None);
        repair_corruption(inner, wbl_dir, replayed, &mut stats)?;
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

/// The replay's view of the series: the WAL's references, and the newest time each series'
/// chunks from the head chunk files cover (the WAL's samples up to it are already there).
#[derive(Default)]
struct Refs {
    series: HashMap<u64, Arc<MemSeries>>,
    mapped: Loaded,
    mapped_max: HashMap<u64, i64>,
    /// Whether the samples come from the write-behind log.
    replaying_wbl: bool,
}

/// Applies one replayed sample to its series, as a commit would.
fn apply_sample(
    inner: &HeadInner,
    refs: &Refs,
    ooo: bool,
    r: u64,
    t: i64,
    v: SampleValue,
    stats: &mut ReplayStats,
) {
    let Some(m) = refs.series.get(&r) else {
        stats.unknown_refs += 1;
        return;
    };
    if !refs.replaying_wbl && refs.mapped_max.get(&m.r).is_some_and(|&max| t <= max) {
        stats.mmapped_samples_skipped += 1;
        return;
    }
    let mut d = m.lock();
    if let super::series::Applied::InOrder {
        chunk_created: true,
    } = d.apply(t, v, 0, ooo || refs.replaying_wbl, &inner.chunk_opts)
    {
        inner.spill(m, &mut d);
    }
    d.trim_commits(0);
    drop(d);
    inner.observe_time(t);
    stats.samples += 1;
}

fn replay_log(
    inner: &HeadInner,
    dir: &Path,
    segments: RangeInclusive<u32>,
    refs: &mut Refs,
    stats: &mut ReplayStats,
    progress: Option<&WalReplayProgress>,
) -> Result<(), HeadError> {
    let mut reader = LogReader::open(dir, segments)?;
    let ooo = inner.opts.out_of_order_time_window > 0;
    loop {
        let rec = match reader.next_record()? {
            Some(rec) => record::decode(rec),
            None => return Ok(()),
        };
        let rec = rec.map_err(|e| WalError::Corruption(reader.corruption(e.to_string())))?;
        if let (Some(p), (Some(segment), _)) = (progress, reader.position()) {
            p.current.store(i64::from(segment), Ordering::Relaxed);
        }
        stats.records += 1;
        match rec {
            Record::Series(series) => {
                for s in series {
                    let (m, _) = inner.get_or_create(&s.labels, Some(s.r));
                    m.logged.store(true, Ordering::Release);
                    if let Some(chunks) = refs.mapped.series.remove(&s.r) {
                        let first = chunks[0].min_t;
                        if let Some((n, max)) = m.lock().attach(chunks) {
                            stats.mmapped_chunks += n;
                            refs.mapped_max.insert(m.r, max);
                            inner.observe_time(first);
                            inner.observe_time(max);
                        }
                    }
                    // After a checkpoint the same labels may come back under a new reference.
                    refs.series.insert(s.r, m);
                    stats.series += 1;
                }
            }
            Record::Samples(samples) => {
                for s in samples {
                    apply_sample(inner, refs, ooo, s.r, s.t, SampleValue::Float(s.v), stats);
                }
            }
            Record::Histograms(samples) => {
                for s in samples {
                    apply_sample(
                        inner,
                        refs,
                        ooo,
                        s.r,
                        s.t,
                        SampleValue::Histogram(Arc::new(s.h)),
                        stats,
                    );
                }
            }
            Record::FloatHistograms(samples) => {
                for s in samples {
                    apply_sample(
                        inner,
                        refs,
                        ooo,
                        s.r,
                        s.t,
                        SampleValue::FloatHistogram(Arc::new(s.fh)),
                        stats,
                    );
                }
            }
            Record::Exemplars(exemplars) => {
                let mut store = lock(&inner.exemplars);
                for e in exemplars {
                    if !refs.series.contains_key(&e.r) {
                        stats.unknown_refs += 1;
                        continue;
                    }
                    store.add(
                        e.r,
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
                    let Some(s) = refs.series.get(&m.r) else {
                        stats.unknown_refs += 1;
                        continue;
                    };
                    s.lock().metadata = Some(pm_common::model::Metadata {
                        metric_type: m.metric_type,
                        help: m.help,
                        unit: m.unit,
                    });
                }
            }
            Record::Tombstones(stones) => {
                let mut known = Vec::with_capacity(stones.len());
                for mut s in stones {
                    match refs.series.get(&s.r) {
                        Some(m) => {
                            s.r = m.r;
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
}
