//! Upstream's event queue: listeners append parsed events, and a batch goes to the exporter
//! when `--statsd.event-flush-threshold` events are waiting or every
//! `--statsd.event-flush-interval`, through a channel of `--statsd.event-queue-size` batches.

use std::sync::{Mutex, PoisonError};

use pm_common::metrics::Counter;
use tokio::sync::mpsc;

use crate::event::Event;

#[derive(Debug)]
pub struct EventQueue {
    pending: Mutex<Vec<Event>>,
    threshold: usize,
    tx: mpsc::Sender<Vec<Event>>,
    flushed: Counter,
}

impl EventQueue {
    /// The queue and the receiving end the exporter drains.
    pub fn new(
        threshold: usize,
        queue_size: usize,
        flushed: Counter,
    ) -> (Self, mpsc::Receiver<Vec<Event>>) {
        let (tx, rx) = mpsc::channel(queue_size.max(1));
        let queue = EventQueue {
            pending: Mutex::new(Vec::with_capacity(threshold)),
            threshold: threshold.max(1),
            tx,
            flushed,
        };
        (queue, rx)
    }

    /// Appends `events`, flushing whenever the threshold is reached.
    pub async fn push(&self, events: Vec<Event>) {
        let mut full = Vec::new();
        {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            for event in events {
                pending.push(event);
                if pending.len() >= self.threshold {
                    full.push(std::mem::replace(
                        &mut *pending,
                        Vec::with_capacity(self.threshold),
                    ));
                }
            }
        }
        for batch in full {
            self.send(batch).await;
        }
    }

    /// Sends whatever is waiting (upstream counts a flush even when nothing waits).
    pub async fn flush(&self) {
        let batch =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        self.send(batch).await;
    }

    async fn send(&self, batch: Vec<Event>) {
        self.flushed.inc();
        // The receiver lives as long as the exporter task; after shutdown events are moot.
        let _ = self.tx.send(batch).await;
    }
}
