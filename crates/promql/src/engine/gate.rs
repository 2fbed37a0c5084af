//! The limit on concurrently executing queries (`--query.max-concurrency`): a counting
//! semaphore that queries wait on, up to their deadline, as upstream's active-query tracker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::error::QueryError;

/// Where upstream says a query waiting for a slot failed.
const ENV_QUEUE: &str = "query queue";

/// How long a waiting query sleeps before it looks at its cancellation flag again; a freed slot
/// wakes it at once.
const CANCEL_POLL: Duration = Duration::from_millis(20);

#[derive(Debug)]
pub(crate) struct QueryGate {
    max: usize,
    active: Mutex<usize>,
    freed: Condvar,
}

/// A held slot; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct Slot<'a>(&'a QueryGate);

impl QueryGate {
    pub fn new(max: usize) -> Self {
        QueryGate {
            max: max.max(1),
            active: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Waits for a free slot until `deadline`, failing with upstream's errors when the deadline
    /// passes or `cancel` is set first.
    pub fn acquire(
        &self,
        deadline: Option<Instant>,
        cancel: Option<&AtomicBool>,
    ) -> Result<Slot<'_>, QueryError> {
        let mut active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if *active < self.max {
                *active += 1;
                return Ok(Slot(self));
            }
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(QueryError::Canceled(ENV_QUEUE));
            }
            let now = Instant::now();
            let wait = match deadline {
                Some(d) if d <= now => return Err(QueryError::Timeout(ENV_QUEUE)),
                Some(d) => (d - now).min(CANCEL_POLL),
                None => CANCEL_POLL,
            };
            active = self
                .freed
                .wait_timeout(active, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut active = self.0.active.lock().unwrap_or_else(PoisonError::into_inner);
        *active -= 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_a_free_slot_or_fails_as_upstream() {
        let gate = QueryGate::new(1);
        let held = gate.acquire(None, None).unwrap();
        let past = Some(Instant::now());
        assert_eq!(
            gate.acquire(past, None).unwrap_err().to_string(),
            "query timed out in query queue"
        );
        let canceled = AtomicBool::new(true);
        assert_eq!(
            gate.acquire(None, Some(&canceled)).unwrap_err().to_string(),
            "query was canceled in query queue"
        );
        std::thread::scope(|s| {
            let waiter = s.spawn(|| gate.acquire(None, None).map(drop).is_ok());
            drop(held);
            assert!(waiter.join().unwrap());
        });
        assert!(gate.acquire(None, None).is_ok());
    }
}
