//! `histogram_quantile`, `histogram_fraction` and the statistics of one native histogram.
//!
//! Classic histograms arrive as the `le` buckets of one series group ([`ClassicBucket`]);
//! native histograms as a [`FloatHistogram`]. The engine groups the series, parses `le`,
//! and reports [`Issue`]s and [`BucketRepair`]s as annotations.

mod classic;
mod native;
mod sum;

pub use classic::{BucketRepair, ClassicBucket, bucket_fraction, bucket_quantile};
pub use native::{
    histogram_avg, histogram_count, histogram_fraction, histogram_quantile, histogram_stddev,
    histogram_stdvar, histogram_sum,
};
pub use sum::HistogramSum;

use pm_common::model::{Bucket, FloatHistogram};

/// Every bucket of `h` in ascending order of bounds: negative buckets from the most negative,
/// the zero bucket (when it holds observations), then positive buckets. A bucket reaching
/// into the zero bucket's range is cut at the zero threshold, as upstream's iterator does.
fn all_buckets(h: &FloatHistogram) -> Vec<Bucket> {
    let zt = h.zero_threshold;
    let mut out: Vec<Bucket> = h.negative_buckets_iter().collect();
    out.reverse();
    if h.zero_count > 0.0 {
        out.push(Bucket {
            lower: -zt,
            upper: zt,
            lower_inclusive: true,
            upper_inclusive: true,
            count: h.zero_count,
            index: 0,
        });
    }
    out.extend(h.positive_buckets_iter());
    for b in &mut out {
        if b.upper < 0.0 && b.upper > -zt {
            b.upper = -zt;
        } else if b.lower > 0.0 && b.lower < zt {
            b.lower = zt;
        }
    }
    out
}

#[cfg(test)]
mod tests;
