//! Promethium's time-series database.
//!
//! So far this holds the storage formats everything else builds on: the chunk encodings
//! ([`chunkenc`]) and the chunk segment files of a block ([`chunks`]). Both are byte-compatible
//! with upstream Prometheus so that blocks written by either can be read by the other.

#![forbid(unsafe_code)]

pub mod chunkenc;
pub mod chunks;
pub mod head;
pub mod lockfile;
pub mod record;
pub mod wal;
