//! Promethium's time-series database.
//!
//! The storage formats everything else builds on: the chunk encodings ([`chunkenc`]), the
//! chunk segment files of a block ([`chunks`]), WAL records ([`record`]) and the write-ahead
//! log ([`wal`]), all byte-compatible with upstream Prometheus so that data written by either
//! can be read by the other; and the in-memory [`head`] that ingests samples.

#![forbid(unsafe_code)]

pub mod chunkenc;
pub mod chunks;
pub mod head;
pub mod lockfile;
pub mod record;
pub mod wal;
