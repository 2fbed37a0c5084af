//! A streaming quantile estimator for targeted quantiles (Cormode, Korn, Muthukrishnan,
//! Srivastava: "Effective computation of biased quantiles over data streams", 2005), behaving
//! as the estimator behind client_golang's summaries (beorn7/perks): observations are buffered
//! and merged into the compressed sample list 500 at a time, and until the first merge a query
//! reads the exact buffered values, so small sets give exact quantiles.

/// The number of observations buffered before they are merged.
const BUFFER: usize = 500;

/// A quantile to track and its allowed rank error (e.g. 0.9 ± 0.01).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    pub quantile: f64,
    pub epsilon: f64,
}

/// One entry of the compressed list: a value, how many observations it stands for (`width`,
/// the paper's g) and the uncertainty of its rank (`delta`, the paper's Δ).
#[derive(Debug, Clone, Copy)]
struct Entry {
    value: f64,
    width: f64,
    delta: f64,
}

#[derive(Debug, Clone)]
pub struct Stream {
    objectives: Vec<Objective>,
    buffer: Vec<f64>,
    sorted: bool,
    /// The compressed list, ordered by value.
    entries: Vec<Entry>,
    /// The list before the last merge, kept as the next merge's buffer.
    spare: Vec<Entry>,
    /// Observations merged into `entries`.
    merged: f64,
}

impl Stream {
    pub fn new(objectives: &[Objective]) -> Self {
        Self {
            objectives: objectives.to_vec(),
            buffer: Vec::with_capacity(BUFFER),
            sorted: true,
            entries: Vec::new(),
            spare: Vec::new(),
            merged: 0.0,
        }
    }

    pub fn insert(&mut self, value: f64) {
        self.buffer.push(value);
        self.sorted = false;
        if self.buffer.len() == BUFFER {
            self.flush();
        }
    }

    /// Observations seen since the last reset.
    pub fn count(&self) -> usize {
        self.buffer.len() + self.merged as usize
    }

    pub fn reset(&mut self) {
        self.buffer.clear();
        self.sorted = true;
        self.entries.clear();
        self.merged = 0.0;
    }

    /// The estimate of quantile `q`; 0 when nothing was observed.
    pub fn query(&mut self, q: f64) -> f64 {
        if self.entries.is_empty() {
            if self.buffer.is_empty() {
                return 0.0;
            }
            self.sort_buffer();
            let rank = (self.buffer.len() as f64 * q).ceil() as usize;
            return self.buffer[rank.saturating_sub(1).min(self.buffer.len() - 1)];
        }
        self.flush();
        let target = (q * self.merged).ceil();
        let target = target + (self.allowed_error(target) / 2.0).ceil();
        let mut rank = 0.0;
        let mut previous = self.entries[0];
        for entry in &self.entries[1..] {
            rank += previous.width;
            if rank + entry.width + entry.delta > target {
                return previous.value;
            }
            previous = *entry;
        }
        previous.value
    }

    fn sort_buffer(&mut self) {
        if !self.sorted {
            self.buffer.sort_by(f64::total_cmp);
            self.sorted = true;
        }
    }

    /// Merges the buffer into the compressed list, then compresses it. One pass over both
    /// sorted lists into the spare one: inserting each value in place moved the entries
    /// above it, once per value.
    fn flush(&mut self) {
        self.sort_buffer();
        let buffer = std::mem::take(&mut self.buffer);
        let mut previous = std::mem::take(&mut self.entries);
        let mut entries = std::mem::take(&mut self.spare);
        entries.clear();
        let mut old = previous.drain(..).peekable();
        let mut rank = 0.0;
        for &value in &buffer {
            while let Some(entry) = old.next_if(|e| e.value <= value) {
                rank += entry.width;
                entries.push(entry);
            }
            // A value above every entry has an exact rank; one inserted between entries gets
            // the rank uncertainty the invariant allows there.
            let delta = if old.peek().is_none() {
                0.0
            } else {
                (self.allowed_error(rank).floor() - 1.0).max(0.0)
            };
            entries.push(Entry {
                value,
                width: 1.0,
                delta,
            });
            self.merged += 1.0;
            rank += 1.0;
        }
        entries.extend(old);
        self.entries = entries;
        self.spare = previous;
        self.buffer = buffer;
        self.buffer.clear();
        self.compress();
    }

    /// The invariant f(r, n): the largest rank error allowed at rank `rank` so that every
    /// target quantile stays within its epsilon.
    fn allowed_error(&self, rank: f64) -> f64 {
        let n = self.merged;
        self.objectives
            .iter()
            .map(|t| {
                if t.quantile * n <= rank {
                    2.0 * t.epsilon * rank / t.quantile
                } else {
                    2.0 * t.epsilon * (n - rank) / (1.0 - t.quantile)
                }
            })
            .fold(f64::MAX, f64::min)
    }

    /// Folds entries into their upper neighbour while the invariant allows, from the top down,
    /// in one pass that moves each survivor down next to the one above it (removing each
    /// folded entry in place moved every entry above it), then drops the gap at the bottom.
    fn compress(&mut self) {
        let Some(top) = self.entries.len().checked_sub(1) else {
            return;
        };
        let mut rank = self.merged - 1.0 - self.entries[top].width;
        // The lowest survivor so far: the entry each lower one may fold into.
        let mut above = top;
        for i in (0..top).rev() {
            let entry = self.entries[i];
            let upper = self.entries[above];
            if entry.width + upper.width + upper.delta <= self.allowed_error(rank) {
                self.entries[above].width += entry.width;
            } else {
                above -= 1;
                self.entries[above] = entry;
            }
            rank -= entry.width;
        }
        self.entries.drain(..above);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGETS: [Objective; 3] = [
        Objective {
            quantile: 0.1,
            epsilon: 0.01,
        },
        Objective {
            quantile: 0.5,
            epsilon: 0.05,
        },
        Objective {
            quantile: 0.9,
            epsilon: 0.01,
        },
    ];

    #[test]
    fn small_sets_are_exact() {
        let mut s = Stream::new(&TARGETS);
        assert_eq!(s.query(0.5), 0.0);
        for v in [5.0, 1.0, 4.0, 2.0, 3.0] {
            s.insert(v);
        }
        assert_eq!(s.query(0.1), 1.0);
        assert_eq!(s.query(0.5), 3.0);
        assert_eq!(s.query(0.9), 5.0);
        assert_eq!(s.count(), 5);
    }

    /// A fixed pseudo-random sequence of `n` values in 0..1.
    fn values(n: usize) -> impl Iterator<Item = f64> {
        let mut x: u64 = 12_345;
        (0..n).map(move |_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        })
    }

    #[test]
    fn estimates_are_those_of_the_reference_merge_and_compress() {
        // Pinned from the entry-by-entry insert and remove this stream first had (the
        // paper's algorithm as beorn7/perks runs it); the one-pass merge and compress must
        // give the same estimates and keep the same entries.
        let mut s = Stream::new(&TARGETS);
        let mut seen = Vec::new();
        for (i, v) in values(20_000).enumerate() {
            s.insert(v);
            if i % 4_999 == 0 {
                seen.push((s.query(0.5), s.entries.len()));
            }
        }
        let pinned = [
            (0.10957860598549463, 0),
            (0.5119565882684587, 45),
            (0.5119565882684587, 37),
            (0.5119565882684587, 44),
            (0.5119565882684587, 37),
        ];
        assert_eq!(seen, pinned);
        assert_eq!(
            [s.query(0.1), s.query(0.5), s.query(0.9)],
            [0.1077499619993042, 0.5119565882684587, 0.9059884507583384]
        );
    }

    #[test]
    fn large_sets_stay_within_the_targets_and_compress() {
        let mut s = Stream::new(&TARGETS);
        let n = 100_000u64;
        // A fixed permutation of 1..=n, so the order is not sorted.
        for i in 0..n {
            s.insert(((i * 7919) % n + 1) as f64);
        }
        assert_eq!(s.count(), n as usize);
        for t in TARGETS {
            let got = s.query(t.quantile);
            let want = t.quantile * n as f64;
            let allowed = t.epsilon * n as f64 + 1.0;
            assert!(
                (got - want).abs() <= allowed,
                "q{}: {got} not within {allowed} of {want}",
                t.quantile
            );
        }
        assert!(s.entries.len() < 2_000, "{} entries", s.entries.len());
        s.reset();
        assert_eq!(s.count(), 0);
    }
}
