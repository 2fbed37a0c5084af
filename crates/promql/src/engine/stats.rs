//! Per-query statistics, shaped as upstream's `/api/v1/query?stats=…` reports them.
//!
//! Two sample counts are kept, as upstream 3.x does: *total queryable samples* count, at every
//! step, every sample a selector hands on (a range-vector function counts its whole window at
//! each step, so a point may count at several steps), and *samples read* count each point only
//! the first time a window covers it. Per-step breakdowns are kept only when asked for
//! (`stats=all` with per-step statistics enabled), because they cost a vector per query.

use std::time::Duration;

/// Where a query's time went (upstream's `timings` object, in seconds there).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueryTimings {
    /// Preparation, evaluation and result sorting.
    pub eval_total: Duration,
    pub result_sort: Duration,
    pub query_preparation: Duration,
    pub inner_eval: Duration,
    /// Waiting for a slot under `--query.max-concurrency`.
    pub exec_queue: Duration,
    /// From the call to the result, queue included.
    pub exec_total: Duration,
}

/// A count at one step; upstream renders it as `[seconds, count]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepStat {
    /// The step's time in milliseconds.
    pub t: i64,
    pub v: u64,
}

/// Sample counters of one evaluator: the query's, or a subquery's while it runs.
#[derive(Clone, Debug, Default)]
pub(crate) struct SampleCounter {
    pub total: u64,
    pub read: u64,
    /// Per-step counts over the evaluator's step grid, when tracked.
    per_step: Option<PerStep>,
}

#[derive(Clone, Debug)]
struct PerStep {
    start: i64,
    interval: i64,
    total: Vec<u64>,
    read: Vec<u64>,
}

impl SampleCounter {
    /// A counter over the steps `start, start + interval, …, end`, per step when `per_step`.
    pub fn new(per_step: bool, start: i64, end: i64, interval: i64) -> Self {
        let per_step = per_step.then(|| {
            let steps = ((end - start) / interval.max(1)) as usize + 1;
            PerStep {
                start,
                interval: interval.max(1),
                total: vec![0; steps],
                read: vec![0; steps],
            }
        });
        SampleCounter {
            per_step,
            ..SampleCounter::default()
        }
    }

    /// Counts `n` samples loaded, and read, at step number `step`.
    pub fn add_loaded(&mut self, step: usize, n: u64) {
        self.add_total(step, n);
        self.add_read(step, n);
    }

    pub fn add_total(&mut self, step: usize, n: u64) {
        self.total += n;
        if let Some(p) = &mut self.per_step
            && let Some(c) = p.total.get_mut(step)
        {
            *c += n;
        }
    }

    pub fn add_read(&mut self, step: usize, n: u64) {
        self.read += n;
        if let Some(p) = &mut self.per_step
            && let Some(c) = p.read.get_mut(step)
        {
            *c += n;
        }
    }

    /// Takes over the samples a subquery read. Each of its steps is attributed to the first
    /// parent step at or after it (shifted by the subquery's `outer_offset`); with an
    /// `outer_range`, steps no parent window covers are dropped, since nothing consumed them.
    /// `child` must track per-step counts.
    pub fn merge_read_from_subquery(
        &mut self,
        child: &SampleCounter,
        (parent_start, parent_interval, parent_steps): (i64, i64, usize),
        outer_offset: i64,
        outer_range: i64,
    ) {
        if parent_steps <= 1 {
            self.add_read(0, child.read);
            return;
        }
        let Some(c) = &child.per_step else {
            return;
        };
        for (k, &n) in c.read.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let tk = c.start + k as i64 * c.interval + outer_offset;
            let step = if tk > parent_start {
                ((tk - parent_start + parent_interval - 1) / parent_interval) as usize
            } else {
                0
            }
            .min(parent_steps - 1);
            if outer_range > 0 && tk <= parent_start + step as i64 * parent_interval - outer_range {
                continue;
            }
            self.add_read(step, n);
        }
    }

    /// The per-step totals and reads, empty unless tracked.
    pub fn per_step(&self) -> (Vec<StepStat>, Vec<StepStat>) {
        let Some(p) = &self.per_step else {
            return (Vec::new(), Vec::new());
        };
        let points = |counts: &[u64]| {
            counts
                .iter()
                .enumerate()
                .map(|(i, &v)| StepStat {
                    t: p.start + i as i64 * p.interval,
                    v,
                })
                .collect()
        };
        (points(&p.total), points(&p.read))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_step_counts_follow_the_grid() {
        let mut c = SampleCounter::new(true, 1000, 3000, 1000);
        c.add_loaded(0, 2);
        c.add_total(2, 5);
        c.add_read(7, 1);
        assert_eq!((c.total, c.read), (7, 3));
        let (total, read) = c.per_step();
        assert_eq!(
            total,
            [
                StepStat { t: 1000, v: 2 },
                StepStat { t: 2000, v: 0 },
                StepStat { t: 3000, v: 5 }
            ]
        );
        assert_eq!(read.iter().map(|s| s.v).collect::<Vec<_>>(), [2, 0, 0]);
        assert_eq!(
            SampleCounter::new(false, 0, 0, 1).per_step(),
            (vec![], vec![])
        );
    }

    #[test]
    fn subquery_reads_go_to_the_consuming_step_and_gaps_are_dropped() {
        // Child steps every 10s from 0 to 60s, one sample read at each.
        let mut child = SampleCounter::new(true, 0, 60_000, 10_000);
        for k in 0..7 {
            child.add_read(k, 1);
        }
        // Parent steps at 30s and 60s with 10s windows: only 30s, 60s and the steps inside
        // (20s, 30s] and (50s, 60s] count.
        let mut parent = SampleCounter::new(true, 30_000, 60_000, 30_000);
        parent.merge_read_from_subquery(&child, (30_000, 30_000, 2), 0, 10_000);
        assert_eq!(parent.read, 2);
        // Without a range, everything is attributed (early steps to the first parent step).
        let mut parent = SampleCounter::new(true, 30_000, 60_000, 30_000);
        parent.merge_read_from_subquery(&child, (30_000, 30_000, 2), 0, 0);
        let (_, read) = parent.per_step();
        assert_eq!(read.iter().map(|s| s.v).collect::<Vec<_>>(), [4, 3]);
        // An instant parent takes the child's total.
        let mut parent = SampleCounter::new(false, 0, 0, 1);
        parent.merge_read_from_subquery(&child, (0, 1, 1), 0, 0);
        assert_eq!(parent.read, 7);
    }
}
