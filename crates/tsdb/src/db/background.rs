//! The compaction loop upstream runs every minute.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::Shared;

/// Stops the loop and waits for a running compaction to finish when dropped.
pub struct BackgroundCompaction {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundCompaction {
    pub(super) fn start(db: Arc<Shared>, interval: Duration) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("tsdb-compaction".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    // Failures are counted and logged; the next round tries again.
                    if let Err(e) = db.compact() {
                        tracing::error!(error = %e, "compaction failed");
                    }
                }
            })
            .expect("spawning the compaction thread");
        Self {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for BackgroundCompaction {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            // A panic in the loop has been reported on its thread already.
            let _ = t.join();
        }
    }
}
