//! Go's `FloatHistogram.String()`, which users see as a value: `count_values` uses it as a label
//! value and `promtool tsdb dump` prints it.

use std::fmt;

use super::value::FloatHistogram;
use crate::expfmt::encode::float::format_g;

/// Count and sum, then every populated bucket from the most negative to the most positive as
/// `[lower,upper]:count` with Go's interval brackets, e.g.
/// `{count:5, sum:2.5, [-1,-0.5):1, [-0.001,0.001]:2}`.
impl fmt::Display for FloatHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{count:{}, sum:{}",
            format_g(self.count),
            format_g(self.sum)
        )?;
        let bucket =
            |f: &mut fmt::Formatter<'_>, lower: f64, upper: f64, incl: (bool, bool), count: f64| {
                write!(
                    f,
                    ", {}{},{}{}:{}",
                    if incl.0 { '[' } else { '(' },
                    format_g(lower),
                    format_g(upper),
                    if incl.1 { ']' } else { ')' },
                    format_g(count)
                )
            };
        let negative: Vec<_> = self
            .negative_buckets_iter()
            .filter(|b| b.count != 0.0)
            .collect();
        for b in negative.iter().rev() {
            bucket(
                f,
                b.lower,
                b.upper,
                (b.lower_inclusive, b.upper_inclusive),
                b.count,
            )?;
        }
        if self.zero_count != 0.0 {
            let z = self.zero_threshold;
            bucket(f, -z, z, (true, true), self.zero_count)?;
        }
        for b in self.positive_buckets_iter().filter(|b| b.count != 0.0) {
            bucket(
                f,
                b.lower,
                b.upper,
                (b.lower_inclusive, b.upper_inclusive),
                b.count,
            )?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{FloatHistogram, Span};

    #[test]
    fn formats_as_go() {
        let h = FloatHistogram {
            count: 5.0,
            sum: 12.5,
            zero_threshold: 0.001,
            zero_count: 1.0,
            schema: 0,
            positive_spans: vec![Span {
                offset: 0,
                length: 2,
            }],
            positive_buckets: vec![2.0, 2.0],
            negative_spans: vec![Span {
                offset: 1,
                length: 1,
            }],
            negative_buckets: vec![1.0],
            ..FloatHistogram::default()
        };
        assert_eq!(
            h.to_string(),
            "{count:5, sum:12.5, [-2,-1):1, [-0.001,0.001]:1, (0.5,1]:2, (1,2]:2}"
        );
    }
}
