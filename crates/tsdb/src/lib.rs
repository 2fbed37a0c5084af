//! Promethium's time-series database.
//!
//! The on-disk side: chunk encodings ([`chunkenc`]), chunk segment files ([`chunks`]), the block
//! index ([`index`]), tombstones ([`tombstones`]), whole blocks ([`block`]) and queries over them
//! ([`querier`]). All formats are byte-compatible with upstream Prometheus so that blocks written
//! by either can be read by the other.
//! The storage formats everything else builds on: the chunk encodings ([`chunkenc`]), the
//! chunk segment files of a block ([`chunks`]), WAL records ([`record`]) and the write-ahead
//! log ([`wal`]), all byte-compatible with upstream Prometheus so that data written by either
//! can be read by the other; and the in-memory [`head`] that ingests samples.

#![forbid(unsafe_code)]

pub mod block;
pub mod chunkenc;
pub mod chunks;
pub mod encoding;
pub mod index;
pub mod querier;
pub mod retention;
pub mod tombstones;
pub mod record;
pub mod wal;
pub mod head;
pub mod lockfile;
pub mod record;
pub mod wal;
