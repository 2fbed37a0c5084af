//! Promethium's time-series database.
//!
//! The on-disk side: chunk encodings ([`chunkenc`]), chunk segment files ([`chunks`]), the block
//! index ([`index`]), tombstones ([`tombstones`]), whole blocks ([`block`]) and queries over them
//! ([`querier`]). All formats are byte-compatible with upstream Prometheus so that blocks written
//! by either can be read by the other.

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
