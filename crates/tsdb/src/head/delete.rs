//! Deleting from the head: tombstones kept in memory and logged to the WAL, applied by every
//! querier (and so by the compaction that persists the head).

use std::sync::Arc;

use pm_common::model::Matcher;
use pm_storage::ChunkMeta;

use super::querier::encode_head_chunks;
use super::series::decode_range;
use super::{Head, HeadError, lock};
use crate::record::{self, Stone};
use crate::tombstones::{Interval, Tombstones};

/// `[mint, maxt]` cut down to `[lo, hi]` (upstream's `clampInterval`).
fn clamp(mint: i64, maxt: i64, lo: i64, hi: i64) -> (i64, i64) {
    (mint.max(lo), maxt.min(hi))
}

impl Head {
    /// Marks the samples in `[mint, maxt]` of the series matching `matchers` deleted. As
    /// upstream, each series' interval is cut to the time range it holds, the tombstones are
    /// written to the WAL first (so a restart keeps them), and they apply to whatever the series
    /// holds in that range, including samples appended later.
    pub fn delete(&self, mint: i64, maxt: i64, matchers: &[Matcher]) -> Result<(), HeadError> {
        let inner = &self.inner;
        let (mint, maxt) = clamp(mint, maxt, self.min_time(), self.max_time());
        let mut stones = Vec::new();
        for s in inner.matching(matchers) {
            let d = s.lock();
            let (Some(t0), Some(t1)) = (d.min_time(), d.max_time()) else {
                continue;
            };
            drop(d);
            let (t0, t1) = clamp(mint, maxt, t0, t1);
            if t0 <= t1 {
                stones.push(Stone {
                    r: s.r,
                    mint: t0,
                    maxt: t1,
                });
            }
        }
        if stones.is_empty() {
            return Ok(());
        }
        // Under the commit lock, so the record lands between whole commits.
        let mut state = lock(&inner.commit);
        if let Some(wal) = state.wal.as_mut() {
            let mut buf = Vec::new();
            record::encode_tombstones(&stones, &mut buf);
            wal.log(&[buf])?;
        }
        inner.add_tombstones(&stones);
        Ok(())
    }

    /// The head's current tombstones (deleted intervals by series reference).
    pub fn tombstones(&self) -> Arc<Tombstones> {
        self.inner.tombstones()
    }
}

impl super::HeadInner {
    pub(super) fn tombstones(&self) -> Arc<Tombstones> {
        self.tombstones
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the tombstones with a changed copy, so open queriers keep their snapshot.
    pub(super) fn update_tombstones(&self, f: impl FnOnce(&mut Tombstones)) {
        let mut guard = self.tombstones.write().unwrap_or_else(|e| e.into_inner());
        let mut next = (**guard).clone();
        f(&mut next);
        *guard = Arc::new(next);
    }

    pub(super) fn add_tombstones(&self, stones: &[Stone]) {
        self.update_tombstones(|t| {
            for s in stones {
                t.add(
                    s.r,
                    Interval {
                        mint: s.mint,
                        maxt: s.maxt,
                    },
                );
            }
        });
    }
}

/// `chunks` (XOR chunks of the head) without the samples in `deleted`: chunks inside a deleted
/// interval are dropped, chunks touching one are re-encoded without its samples.
pub(super) fn apply_tombstones(chunks: Vec<ChunkMeta>, deleted: &[Interval]) -> Vec<ChunkMeta> {
    if deleted.is_empty() {
        return chunks;
    }
    let mut out = Vec::with_capacity(chunks.len());
    for c in chunks {
        let touched = deleted
            .iter()
            .any(|iv| iv.mint <= c.max_time && c.min_time <= iv.maxt);
        if !touched {
            out.push(c);
            continue;
        }
        if deleted.iter().any(|iv| iv.covers(c.min_time, c.max_time)) {
            continue;
        }
        let mut samples = decode_range(c.chunk.encoding(), c.chunk.bytes(), i64::MIN, i64::MAX);
        samples.retain(|s| !deleted.iter().any(|iv| iv.contains(s.t)));
        out.extend(encode_head_chunks(&samples, usize::from(u16::MAX)));
    }
    out
}
