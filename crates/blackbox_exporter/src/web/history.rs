//! Recent probe results with their debug output, for the landing page and `/logs`.
//!
//! As upstream, the newest `limit` results are kept, and failures pushed out of that window
//! are preserved in a second window of the same size, so a rare failure stays inspectable.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

#[derive(Debug, Clone)]
pub struct ProbeResult {
    pub id: u64,
    pub module: String,
    pub target: String,
    pub debug_output: String,
    pub success: bool,
}

#[derive(Debug)]
pub struct History {
    limit: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    results: VecDeque<ProbeResult>,
    preserved_failures: VecDeque<ProbeResult>,
}

impl History {
    pub fn new(limit: usize) -> Self {
        History {
            limit,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn add(&self, module: &str, target: &str, debug_output: String, success: bool) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let id = inner.next_id;
        inner.next_id += 1;
        inner.results.push_back(ProbeResult {
            id,
            module: module.to_owned(),
            target: target.to_owned(),
            debug_output,
            success,
        });
        if inner.results.len() > self.limit
            && let Some(oldest) = inner.results.pop_front()
            && !oldest.success
        {
            inner.preserved_failures.push_back(oldest);
            if inner.preserved_failures.len() > self.limit {
                inner.preserved_failures.pop_front();
            }
        }
    }

    /// Preserved failures first, then recent results, oldest first.
    pub fn list(&self) -> Vec<ProbeResult> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner
            .preserved_failures
            .iter()
            .chain(&inner.results)
            .cloned()
            .collect()
    }

    pub fn by_id(&self, id: u64) -> Option<ProbeResult> {
        self.find(|r| r.id == id)
    }

    pub fn by_target(&self, target: &str, module: &str) -> Option<ProbeResult> {
        self.find(|r| r.target == target && (module.is_empty() || r.module == module))
    }

    fn find(&self, pred: impl Fn(&ProbeResult) -> bool) -> Option<ProbeResult> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner
            .preserved_failures
            .iter()
            .chain(&inner.results)
            .find(|r| pred(r))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_recent_and_preserves_failures() {
        let history = History::new(2);
        history.add("m", "fail-0", String::new(), false);
        for i in 1..5 {
            history.add("m", &format!("ok-{i}"), String::new(), true);
        }
        let targets: Vec<_> = history.list().into_iter().map(|r| r.target).collect();
        assert_eq!(targets, ["fail-0", "ok-3", "ok-4"]);
        assert_eq!(history.by_id(0).unwrap().target, "fail-0");
        assert!(history.by_id(1).is_none());
        assert_eq!(history.by_target("ok-4", "m").unwrap().id, 4);
        assert!(history.by_target("ok-4", "other").is_none());
    }
}
