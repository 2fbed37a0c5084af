//! Change counters that let a cached answer prove it is still current.
//!
//! Each structure whose contents an API answer is computed from (the alert store, the
//! dispatcher's groups, the silences) owns one counter and bumps it after every change, before
//! the changing call returns. A reader takes the counters *before* it reads the data: if a
//! counter it took already counts a change, that change happened before the read (the bump is
//! a release, the read an acquire, and the data sits behind locks), and if it does not, the
//! answer is stamped older than the change and is never served after it.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Generation(AtomicU64);

impl Generation {
    /// Records a change; call after the change is visible to readers.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::Release);
    }

    /// How many changes have been recorded; take this before reading the guarded data.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}
