//! The exemplar store: a fixed-capacity ring shared by all series, oldest overwritten first,
//! as upstream's circular exemplar storage.

use std::collections::{HashMap, VecDeque};

use pm_common::model::Exemplar;
use pm_storage::{EXEMPLAR_MAX_LABEL_SET_LENGTH, Result, StorageError};

pub(crate) struct ExemplarStore {
    capacity: usize,
    ring: VecDeque<(u64, Exemplar)>,
    /// Per series: how many of its exemplars the ring holds, and the newest.
    newest: HashMap<u64, (usize, Exemplar)>,
}

impl ExemplarStore {
    pub(crate) fn new(capacity: usize) -> Self {
        ExemplarStore {
            capacity,
            ring: VecDeque::new(),
            newest: HashMap::new(),
        }
    }

    /// Upstream's checks: label length, then duplicate of and order against the series'
    /// newest exemplar. `e.ts` is set.
    pub(crate) fn validate(&self, series: u64, e: &Exemplar) -> Result<()> {
        let len: usize = e
            .labels
            .iter()
            .map(|l| l.name.chars().count() + l.value.chars().count())
            .sum();
        if len > EXEMPLAR_MAX_LABEL_SET_LENGTH {
            return Err(StorageError::ExemplarLabelLength);
        }
        let Some((_, newest)) = self.newest.get(&series) else {
            return Ok(());
        };
        if newest.ts == e.ts
            && newest.value.to_bits() == e.value.to_bits()
            && newest.labels == e.labels
        {
            return Err(StorageError::DuplicateExemplar);
        }
        let (ts, nts) = (e.ts.unwrap_or(0), newest.ts.unwrap_or(0));
        if ts < nts
            || (ts == nts && e.value < newest.value)
            || (ts == nts
                && e.value == newest.value
                && e.labels.hash_value() < newest.labels.hash_value())
        {
            return Err(StorageError::OutOfOrderExemplar);
        }
        Ok(())
    }

    /// Stores an exemplar; invalid ones (rechecked, since another transaction may have added
    /// newer ones meanwhile) are dropped.
    pub(crate) fn add(&mut self, series: u64, e: Exemplar) {
        if self.capacity == 0 || self.validate(series, &e).is_err() {
            return;
        }
        if self.ring.len() == self.capacity
            && let Some((old, _)) = self.ring.pop_front()
            && let Some(entry) = self.newest.get_mut(&old)
        {
            entry.0 -= 1;
            if entry.0 == 0 {
                self.newest.remove(&old);
            }
        }
        let entry = self.newest.entry(series).or_insert((0, e.clone()));
        entry.0 += 1;
        entry.1 = e.clone();
        self.ring.push_back((series, e));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.ring.len()
    }

    /// The exemplars of `series` in `[start, end]`, oldest first, grouped by series.
    pub(crate) fn select(
        &self,
        series: &std::collections::HashSet<u64>,
        start: i64,
        end: i64,
    ) -> HashMap<u64, Vec<Exemplar>> {
        let mut out: HashMap<u64, Vec<Exemplar>> = HashMap::new();
        for (r, e) in &self.ring {
            let ts = e.ts.unwrap_or(0);
            if ts >= start && ts <= end && series.contains(r) {
                out.entry(*r).or_default().push(e.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use pm_common::model::Labels;

    use super::*;

    fn ex(ts: i64, v: f64) -> Exemplar {
        Exemplar {
            labels: Labels::from_pairs([("trace_id", "a")]),
            value: v,
            ts: Some(ts),
        }
    }

    #[test]
    fn ring_overwrites_oldest_and_validates_like_upstream() {
        let mut s = ExemplarStore::new(2);
        s.add(1, ex(10, 1.0));
        assert!(matches!(
            s.validate(1, &ex(10, 1.0)),
            Err(StorageError::DuplicateExemplar)
        ));
        assert!(matches!(
            s.validate(1, &ex(9, 1.0)),
            Err(StorageError::OutOfOrderExemplar)
        ));
        assert!(matches!(
            s.validate(1, &ex(10, 0.5)),
            Err(StorageError::OutOfOrderExemplar)
        ));
        s.add(1, ex(11, 1.0));
        s.add(2, ex(5, 1.0));
        assert_eq!(s.len(), 2);
        let all = s.select(&[1, 2].into_iter().collect(), 0, 100);
        assert_eq!(all[&1], [ex(11, 1.0)]);
        assert_eq!(all[&2], [ex(5, 1.0)]);
        let long = Exemplar {
            labels: Labels::from_pairs([("t", "x".repeat(128))]),
            value: 1.0,
            ts: Some(1),
        };
        assert!(matches!(
            s.validate(3, &long),
            Err(StorageError::ExemplarLabelLength)
        ));
    }
}
