//! Promethium's time-series database.
//!
//! The write path: WAL records ([`record`]), the write-ahead log ([`wal`]) and the in-memory
//! [`head`] that ingests samples. The on-disk side: chunk encodings ([`chunkenc`]), chunk segment
//! files ([`chunks`]), the block index ([`index`]), tombstones ([`tombstones`]), whole blocks
//! ([`block`]), queries over them ([`querier`]), [`compact`]ion and retention. [`db`] ties them
//! together over one data directory. All formats are byte-compatible
//! with upstream Prometheus so that data written by either can be read by the other.

#![forbid(unsafe_code)]

pub mod block;
pub mod chunkenc;
pub mod chunks;
pub mod compact;
pub mod db;
pub mod encoding;
pub mod head;
pub mod index;
pub mod lockfile;
pub mod querier;
pub mod record;
pub mod retention;
pub mod tombstones;
pub mod wal;

pub use db::{Db, DbError, DbOptions};
