//! The head's cardinality statistics behind `/api/v1/status/tsdb`, computed from its postings
//! as upstream's `MemPostings.Stats` does.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::index::Postings;

/// A name and its count; ordered by count, then reverse name so that among equal counts the
/// alphabetically first wins (upstream leaves ties in heap order).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Stat {
    pub name: String,
    pub value: u64,
}

impl Ord for Stat {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value
            .cmp(&other.value)
            .then_with(|| other.name.cmp(&self.name))
    }
}

impl PartialOrd for Stat {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The `limit` largest stats pushed, kept in a min-heap of that size.
struct TopK {
    limit: usize,
    heap: BinaryHeap<Reverse<Stat>>,
}

impl TopK {
    fn new(limit: usize) -> Self {
        TopK {
            limit,
            heap: BinaryHeap::with_capacity(limit + 1),
        }
    }

    /// Takes the name lazily: most candidates never make it in.
    fn push(&mut self, value: u64, name: impl FnOnce() -> String) {
        if self.limit == 0 {
            return;
        }
        if self.heap.len() == self.limit
            && self
                .heap
                .peek()
                .is_some_and(|Reverse(min)| value < min.value)
        {
            return;
        }
        self.heap.push(Reverse(Stat {
            name: name(),
            value,
        }));
        if self.heap.len() > self.limit {
            self.heap.pop();
        }
    }

    /// Largest first.
    fn into_sorted(self) -> Vec<Stat> {
        let mut v: Vec<Stat> = self.heap.into_iter().map(|Reverse(s)| s).collect();
        v.sort_by(|a, b| b.cmp(a));
        v
    }
}

/// Upstream's `PostingsStats`: the top entries of each list, largest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostingsStats {
    /// Series per value of the chosen label (per metric name for `__name__`).
    pub series_count_by_metric_name: Vec<Stat>,
    /// Distinct values per label name.
    pub label_value_count_by_label_name: Vec<Stat>,
    /// Bytes of label values per label name: each value's length times its series.
    pub memory_in_bytes_by_label_name: Vec<Stat>,
    /// Series per `name=value` pair.
    pub series_count_by_label_value_pair: Vec<Stat>,
    /// Distinct label pairs.
    pub num_label_pairs: usize,
}

impl Postings {
    pub(crate) fn stats(&self, by_label: &str, limit: usize) -> PostingsStats {
        let mut metrics = TopK::new(limit);
        let mut names = TopK::new(limit);
        let mut memory = TopK::new(limit);
        let mut pairs = TopK::new(limit);
        let mut num_label_pairs = 0;
        for (name, values) in self.iter() {
            names.push(values.len() as u64, || name.to_owned());
            num_label_pairs += values.len();
            let mut size = 0u64;
            for (value, refs) in values {
                let series = refs.len() as u64;
                if name == by_label {
                    metrics.push(series, || value.clone());
                }
                pairs.push(series, || format!("{name}={value}"));
                size += value.len() as u64 * series;
            }
            memory.push(size, || name.to_owned());
        }
        PostingsStats {
            series_count_by_metric_name: metrics.into_sorted(),
            label_value_count_by_label_name: names.into_sorted(),
            memory_in_bytes_by_label_name: memory.into_sorted(),
            series_count_by_label_value_pair: pairs.into_sorted(),
            num_label_pairs,
        }
    }
}

#[cfg(test)]
mod tests {
    use pm_common::model::Labels;

    use super::*;

    fn stat(name: &str, value: u64) -> Stat {
        Stat {
            name: name.to_owned(),
            value,
        }
    }

    #[test]
    fn top_lists_follow_upstream_definitions() {
        let mut p = Postings::default();
        let series = [
            ("up", "a", "x"),
            ("up", "b", "x"),
            ("up", "c", "yy"),
            ("go_goroutines", "a", "x"),
        ];
        for (r, (name, job, zone)) in series.into_iter().enumerate() {
            let labels = Labels::from_pairs([
                ("__name__", name.to_owned()),
                ("job", job.to_owned()),
                ("zone", zone.to_owned()),
            ]);
            p.add(r as u64 + 1, &labels);
        }
        let s = p.stats("__name__", 2);
        assert_eq!(
            s.series_count_by_metric_name,
            [stat("up", 3), stat("go_goroutines", 1)]
        );
        // job has three values, zone two, __name__ two: ties go alphabetically.
        assert_eq!(
            s.label_value_count_by_label_name,
            [stat("job", 3), stat("__name__", 2)]
        );
        // __name__: 2*3 + 13*1; zone: 1*3 + 2*1; job: 1*4.
        assert_eq!(
            s.memory_in_bytes_by_label_name,
            [stat("__name__", 19), stat("zone", 5)]
        );
        assert_eq!(
            s.series_count_by_label_value_pair,
            [stat("__name__=up", 3), stat("zone=x", 3)]
        );
        assert_eq!(s.num_label_pairs, 7);
        assert_eq!(p.stats("job", 10).series_count_by_metric_name.len(), 3);
        assert!(
            p.stats("__name__", 0)
                .series_count_by_metric_name
                .is_empty()
        );
    }
}
