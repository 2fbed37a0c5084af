//! Summation, mean, variance and quantile helpers shared by the `*_over_time` functions and the
//! `sum`/`avg`/`stddev`/`stdvar`/`quantile` aggregations, computed exactly as upstream does so
//! that results agree to the last bit.

pub use pm_common::model::kahan_inc as kahan_sum_inc;

/// A running compensated sum (`sum`, `sum_over_time`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct KahanSum {
    sum: f64,
    c: f64,
}

impl KahanSum {
    pub fn new() -> KahanSum {
        KahanSum::default()
    }

    pub fn add(&mut self, v: f64) {
        (self.sum, self.c) = kahan_sum_inc(v, self.sum, self.c);
    }

    /// The compensated total.
    pub fn value(&self) -> f64 {
        if self.sum.is_infinite() {
            self.sum
        } else {
            self.sum + self.c
        }
    }
}

/// A running mean (`avg`, `avg_over_time`): a compensated direct sum while it stays finite,
/// switching to the incremental mean once the sum would overflow (inputs near `f64::MAX`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanAccumulator {
    count: f64,
    sum: f64,
    mean: f64,
    c: f64,
    incremental: bool,
}

impl MeanAccumulator {
    /// Starts with the first value.
    pub fn new(first: f64) -> MeanAccumulator {
        MeanAccumulator {
            count: 1.0,
            sum: first,
            mean: first,
            c: 0.0,
            incremental: false,
        }
    }

    pub fn add(&mut self, v: f64) {
        self.count += 1.0;
        let count = self.count;
        if !self.incremental {
            let (sum, c) = kahan_sum_inc(v, self.sum, self.c);
            if !sum.is_infinite() {
                (self.sum, self.c) = (sum, c);
                return;
            }
            self.incremental = true;
            self.mean = self.sum / (count - 1.0);
            self.c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (self.mean, self.c) = kahan_sum_inc(v / count, q * self.mean, q * self.c);
    }

    /// How many values were added.
    pub fn count(&self) -> f64 {
        self.count
    }

    pub fn mean(&self) -> f64 {
        if self.incremental {
            self.mean + self.c
        } else {
            self.sum / self.count + self.c / self.count
        }
    }
}

/// Population variance of `values` with Welford's algorithm and compensated sums, as
/// `stddev_over_time`/`stdvar_over_time` compute it. `None` for no values.
pub fn variance_over_time(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for v in values {
        count += 1.0;
        let delta = v - (mean + c_mean);
        (mean, c_mean) = kahan_sum_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_sum_inc(delta * (v - (mean + c_mean)), aux, c_aux);
    }
    (count > 0.0).then(|| (aux + c_aux) / count)
}

/// The `stddev`/`stdvar` aggregation state: plain Welford (upstream does not compensate
/// here), and NaN from the start when the first value is NaN or infinite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VarianceAccumulator {
    count: f64,
    mean: f64,
    m2: f64,
}

impl VarianceAccumulator {
    pub fn new(first: f64) -> VarianceAccumulator {
        VarianceAccumulator {
            count: 1.0,
            mean: first,
            m2: if first.is_finite() { 0.0 } else { f64::NAN },
        }
    }

    pub fn add(&mut self, v: f64) {
        self.count += 1.0;
        let delta = v - self.mean;
        self.mean += delta / self.count;
        self.m2 += delta * (v - self.mean);
    }

    /// Population variance (`stdvar`); its square root is `stddev`.
    pub fn variance(&self) -> f64 {
        self.m2 / self.count
    }
}

/// The `q`-quantile of `values` with upstream's linear interpolation between closest ranks
/// (sorts `values`, NaN first). NaN for no values or a NaN `q`; `-Inf` for `q < 0`, `+Inf`
/// for `q > 1`.
pub fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_unstable_by(nan_first_ascending);
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// Ascending order with NaN before every number, the order upstream's value heap sorts by.
pub fn nan_first_ascending(a: &f64, b: &f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (false, false) => a.partial_cmp(b).expect("neither is NaN"),
    }
}

/// Median absolute deviation (`mad_over_time`); NaN if any value is NaN. `None` for no values.
pub fn median_absolute_deviation(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    if values.iter().any(|v| v.is_nan()) {
        return Some(f64::NAN);
    }
    let median = quantile(0.5, values);
    for v in values.iter_mut() {
        *v = (*v - median).abs();
    }
    Some(quantile(0.5, values))
}

/// Whether `a` and `b` are equal within the relative `epsilon` (upstream `almost.Equal`):
/// both NaN counts as equal, and values near zero compare absolutely.
pub fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    let (a_stale, b_stale) = (
        pm_common::model::is_stale_nan(a),
        pm_common::model::is_stale_nan(b),
    );
    if a_stale || b_stale {
        return a_stale && b_stale;
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < epsilon * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

#[cfg(test)]
mod tests;
