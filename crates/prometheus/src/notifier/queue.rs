//! The bounded queue between the rule manager and the sender: new alerts push out the oldest
//! when it is full, since a newer state of an alert supersedes an older one.

use std::collections::VecDeque;

use super::Alert;

/// How many alerts a push had to drop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Overflow {
    /// Alerts of the pushed batch itself, when the batch alone exceeds the capacity.
    pub batch: usize,
    /// Queued alerts pushed out to make room.
    pub queued: usize,
}

#[derive(Debug)]
pub(crate) struct Queue {
    alerts: VecDeque<Alert>,
    capacity: usize,
}

impl Queue {
    pub fn new(capacity: usize) -> Self {
        Queue {
            alerts: VecDeque::new(),
            capacity,
        }
    }

    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    /// Appends `alerts`, keeping only the newest `capacity` alerts overall: first the head of
    /// an oversized batch goes, then the oldest queued alerts.
    pub fn push(&mut self, mut alerts: Vec<Alert>) -> Overflow {
        let mut overflow = Overflow::default();
        if alerts.len() > self.capacity {
            overflow.batch = alerts.len() - self.capacity;
            alerts.drain(..overflow.batch);
        }
        let total = self.alerts.len() + alerts.len();
        if total > self.capacity {
            overflow.queued = total - self.capacity;
            self.alerts.drain(..overflow.queued);
        }
        self.alerts.extend(alerts);
        overflow
    }

    /// Takes up to `max` of the oldest alerts.
    pub fn next_batch(&mut self, max: usize) -> Vec<Alert> {
        let n = self.alerts.len().min(max);
        self.alerts.drain(..n).collect()
    }

    /// Empties the queue; how many alerts it held.
    pub fn clear(&mut self) -> usize {
        let n = self.alerts.len();
        self.alerts.clear();
        n
    }
}
