//! The write-behind log (`<dir>/wbl`): out-of-order samples, in the WAL's segment and record
//! format, written after the WAL records of the same commit and replayed after the WAL.
//!
//! Out-of-order samples may belong before the newest block, so the WAL's checkpoint (which
//! keeps only samples after the truncation time) cannot hold them; the WBL is never
//! checkpointed. Instead, each head truncation starts a new segment holding the out-of-order
//! samples the head still has and deletes the older segments: everything else in them was
//! persisted in the blocks the truncation follows.

use super::appender::{Records, sample_records};
use super::{HeadError, HeadInner};
use crate::wal::Wal;

/// The log's directory in a data directory, as upstream names it.
pub(super) const DIR: &str = "wbl";

/// Samples per rewritten record, so a large out-of-order head is not one huge record.
const BATCH: usize = 10_000;

/// Rewrites the live out-of-order samples into a fresh segment (fsynced) and deletes the
/// segments before it. Runs under the commit lock, so no commit interleaves.
pub(super) fn rewrite(inner: &HeadInner, wbl: &mut Wal) -> Result<(), HeadError> {
    let first = wbl.next_segment()?;
    let mut live = Vec::new();
    for s in inner.series.all() {
        let d = s.lock();
        live.extend(d.ooo.iter().map(|(t, v, _)| (s.r, *t, v.clone())));
    }
    for batch in live.chunks(BATCH) {
        let mut recs = Records::default();
        sample_records(batch.iter().map(|(r, t, v)| (*r, *t, v)), &mut recs);
        wbl.log(&recs.slices())?;
    }
    wbl.sync()?;
    wbl.truncate(first)?;
    Ok(())
}
