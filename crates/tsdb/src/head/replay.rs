//! Rebuilding the head from the WAL on open.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::series::MemSeries;
use super::{HeadError, HeadInner, lock};
use crate::record::{self, Record};
use crate::wal::checkpoint::last_checkpoint;
use crate::wal::{LogReader, WalError, repair};

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
    /// Records the head cannot hold yet (native histograms), skipped.
    pub skipped: u64,
    /// What the repair of a torn or corrupt tail did.
    pub repaired: Option<String>,
}

pub(super) fn replay(inner: &HeadInner, wal_dir: &Path) -> Result<ReplayStats, HeadError> {
    let mut stats = ReplayStats::default();
    let mut refs = HashMap::new();
    let checkpoint = last_checkpoint(wal_dir)?;
    if let Some((dir, n)) = &checkpoint {
        stats.checkpoint = Some(*n);
        // A checkpoint was fsynced before it got its name: damage there is not a torn write.
        replay_log(inner, dir, 0..=u32::MAX, &mut refs, &mut stats)?;
    }
    let first = checkpoint.map_or(0, |(_, n)| n + 1);
    match replay_log(inner, wal_dir, first..=u32::MAX, &mut refs, &mut stats) {
        Err(HeadError::Wal(WalError::Corruption(c))) => {
            tracing::warn!(err = %c, "WAL corruption detected; repairing");
            let what = repair(wal_dir, &c)?;
            tracing::warn!(repair = %what, "WAL repaired");
            stats.repaired = Some(what);
        }
        other => other?,
    }
    for s in refs.values() {
        s.lock().trim_commits(0);
    }
    if stats.skipped > 0 {
        tracing::warn!(
            records = stats.skipped,
            "skipped WAL records of kinds the head does not hold (native histograms)"
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

fn replay_log(
    inner: &HeadInner,
    dir: &Path,
    segments: RangeInclusive<u32>,
    refs: &mut HashMap<u64, Arc<MemSeries>>,
    stats: &mut ReplayStats,
) -> Result<(), HeadError> {
    let mut reader = LogReader::open(dir, segments)?;
    let ooo = inner.opts.out_of_order_time_window > 0;
    loop {
        let rec = match reader.next_record()? {
            Some(rec) => record::decode(rec),
            None => return Ok(()),
        };
        let rec = rec.map_err(|e| WalError::Corruption(reader.corruption(e.to_string())))?;
        stats.records += 1;
        match rec {
            Record::Series(series) => {
                for s in series {
                    let (m, _) = inner.get_or_create(&s.labels, Some(s.r));
                    m.logged.store(true, Ordering::Release);
                    // After a checkpoint the same labels may come back under a new reference.
                    refs.insert(s.r, m);
                    stats.series += 1;
                }
            }
            Record::Samples(samples) => {
                for s in samples {
                    let Some(m) = refs.get(&s.r) else {
                        stats.unknown_refs += 1;
                        continue;
                    };
                    let mut d = m.lock();
                    d.apply(s.t, s.v, 0, ooo, &inner.chunk_opts);
                    d.trim_commits(0);
                    drop(d);
                    inner.observe_time(s.t);
                    stats.samples += 1;
                }
            }
            Record::Exemplars(exemplars) => {
                let mut store = lock(&inner.exemplars);
                for e in exemplars {
                    if !refs.contains_key(&e.r) {
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
                    let Some(s) = refs.get(&m.r) else {
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
                    match refs.get(&s.r) {
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
            Record::Histograms(_) | Record::FloatHistograms(_) | Record::MmapMarkers(_) => {
                stats.skipped += 1
            }
        }
    }
}
