//! How many shards a queue wants: enough that the time spent sending keeps up with the rate
//! samples come in, plus a share of the backlog, as upstream's `calculateDesiredShards`.

/// Shard counts within this fraction of the current one are not worth a reshard.
const TOLERANCE: f64 = 0.3;
/// The share of the backlog to catch up on per second.
const BACKLOG_CATCHUP: f64 = 0.05;
/// EWMA weight of the newest interval.
const ALPHA: f64 = 0.2;

/// An exponentially weighted rate of events per second, updated once per interval.
#[derive(Debug, Default, Clone, Copy)]
pub struct EwmaRate {
    rate: f64,
    init: bool,
}

impl EwmaRate {
    pub fn tick(&mut self, events: f64, interval_secs: f64) {
        let new = events / interval_secs;
        if self.init {
            self.rate += ALPHA * (new - self.rate);
        } else if events > 0.0 {
            self.init = true;
            self.rate = new;
        }
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }
}

/// One interval's rates.
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    /// Samples read from the WAL per second.
    pub data_in: f64,
    /// Samples sent per second.
    pub data_out: f64,
    /// Samples dropped (relabelling, unknown series) per second.
    pub dropped: f64,
    /// Seconds spent sending per second.
    pub out_duration: f64,
    /// Seconds between the newest sample read and the newest sent.
    pub delay: f64,
}

/// The desired (unrounded) shard count, and the count to run: unchanged within the
/// tolerance, never lowered while more than ten seconds behind, clamped to `[min, max]`.
pub fn desired_shards(current: usize, min: usize, max: usize, r: Rates) -> (f64, usize) {
    if r.data_out <= 0.0 {
        return (current as f64, current);
    }
    let kept = r.data_out / (r.data_out + r.dropped);
    let pending = r.delay * r.data_in * kept;
    let time_per_sample = r.out_duration / r.data_out;
    let desired = time_per_sample * (r.data_in * kept + BACKLOG_CATCHUP * pending);
    let lower = current as f64 * (1.0 - TOLERANCE);
    let upper = current as f64 * (1.0 + TOLERANCE);
    let rounded = desired.ceil();
    if lower <= rounded && rounded <= upper {
        return (desired, current);
    }
    let mut n = rounded.max(0.0) as usize;
    if n < current && r.delay > 10.0 {
        n = current;
    }
    (desired, n.clamp(min, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(data_in: f64, out_duration: f64, delay: f64) -> Rates {
        Rates {
            data_in,
            data_out: data_in,
            dropped: 0.0,
            out_duration,
            delay,
        }
    }

    #[test]
    fn scales_with_time_spent_sending() {
        // 1000 samples/s, each second of data takes 5 s to send: 5 shards.
        assert_eq!(desired_shards(1, 1, 50, rates(1000.0, 5.0, 0.0)), (5.0, 5));
        // Within 30% of the current count nothing changes.
        assert_eq!(desired_shards(5, 1, 50, rates(1000.0, 4.0, 0.0)).1, 5);
        // Clamped to the configured bounds.
        assert_eq!(desired_shards(1, 1, 3, rates(1000.0, 5.0, 0.0)).1, 3);
        assert_eq!(desired_shards(10, 2, 50, rates(1000.0, 0.1, 0.0)).1, 2);
        // No downsharding while far behind; no data out, no change.
        assert_eq!(desired_shards(10, 1, 50, rates(1000.0, 0.1, 60.0)).1, 10);
        assert_eq!(desired_shards(4, 1, 50, rates(0.0, 0.0, 0.0)).1, 4);
    }

    #[test]
    fn ewma_starts_at_the_first_nonzero_rate() {
        let mut r = EwmaRate::default();
        r.tick(0.0, 10.0);
        assert_eq!(r.rate(), 0.0);
        r.tick(100.0, 10.0);
        assert_eq!(r.rate(), 10.0);
        r.tick(200.0, 10.0);
        assert!((r.rate() - 12.0).abs() < 1e-9);
    }
}
