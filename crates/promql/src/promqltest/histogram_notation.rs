//! The native-histogram notation of test scripts:
//! `{{schema:0 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 buckets:[1 2 1] offset:1
//! n_buckets:[1] n_offset:0 custom_values:[5 10] counter_reset_hint:gauge}}`.
//! Buckets are absolute counts forming one span starting at `offset`.

use pm_common::model::FloatHistogram;

use super::notation::{parse_float, parse_hint, single_span};

/// Parses one `{{...}}` (and nothing after it); returns the histogram and whether it stated
/// `counter_reset_hint`.
pub fn parse_histogram(s: &str) -> Result<(FloatHistogram, bool), String> {
    let inner = s
        .strip_prefix("{{")
        .and_then(|s| s.strip_suffix("}}"))
        .ok_or_else(|| format!("expected {{{{...}}}}: {s:?}"))?;
    let mut h = FloatHistogram::default();
    let (mut offset, mut n_offset) = (0i32, 0i32);
    let mut explicit_hint = false;
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let colon = rest
            .find(':')
            .ok_or_else(|| format!("expected key:value in histogram: {rest:?}"))?;
        let key = rest[..colon].trim();
        let after = rest[colon + 1..].trim_start();
        let (value, remaining) = if let Some(list) = after.strip_prefix('[') {
            let end = list
                .find(']')
                .ok_or_else(|| format!("unterminated list for {key}"))?;
            (&list[..end], &list[end + 1..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        rest = remaining.trim_start();
        let float = || parse_float(value).ok_or_else(|| format!("invalid {key} value {value:?}"));
        let list = || -> Result<Vec<f64>, String> {
            value
                .split_whitespace()
                .map(|v| parse_float(v).ok_or_else(|| format!("invalid {key} entry {v:?}")))
                .collect()
        };
        let int = || -> Result<i32, String> {
            value
                .parse()
                .map_err(|_| format!("invalid {key} value {value:?}"))
        };
        match key {
            "schema" => h.schema = int()?,
            "sum" => h.sum = float()?,
            "count" => h.count = float()?,
            "z_bucket" => h.zero_count = float()?,
            "z_bucket_w" => h.zero_threshold = float()?,
            "buckets" => h.positive_buckets = list()?,
            "n_buckets" => h.negative_buckets = list()?,
            "offset" => offset = int()?,
            "n_offset" => n_offset = int()?,
            "custom_values" => h.custom_values = list()?,
            "counter_reset_hint" => {
                h.counter_reset_hint = parse_hint(value)?;
                explicit_hint = true;
            }
            other => return Err(format!("unknown histogram key {other:?}")),
        }
    }
    h.positive_spans = single_span(offset, h.positive_buckets.len());
    h.negative_spans = single_span(n_offset, h.negative_buckets.len());
    Ok((h, explicit_hint))
}

#[cfg(test)]
mod tests {
    use pm_common::model::{CounterResetHint, Span};

    use super::*;

    #[test]
    fn every_key() {
        let (h, hint) = parse_histogram(
            "{{schema:1 sum:-0.5 count:7 z_bucket:1 z_bucket_w:0.001 buckets:[1 2] offset:-1 \
             n_buckets:[3] n_offset:2 counter_reset_hint:not_reset}}",
        )
        .unwrap();
        assert!(hint);
        assert_eq!(h.schema, 1);
        assert_eq!(
            (h.sum, h.count, h.zero_count, h.zero_threshold),
            (-0.5, 7.0, 1.0, 0.001)
        );
        assert_eq!(
            h.positive_spans,
            vec![Span {
                offset: -1,
                length: 2
            }]
        );
        assert_eq!(h.positive_buckets, vec![1.0, 2.0]);
        assert_eq!(
            h.negative_spans,
            vec![Span {
                offset: 2,
                length: 1
            }]
        );
        assert_eq!(h.counter_reset_hint, CounterResetHint::NotCounterReset);
    }

    #[test]
    fn custom_buckets_and_defaults() {
        let (h, hint) =
            parse_histogram("{{schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1]}}")
                .unwrap();
        assert!(!hint);
        assert_eq!(h.custom_values, vec![5.0, 10.0]);
        assert!(h.validate().is_ok());
        let (empty, _) = parse_histogram("{{}}").unwrap();
        assert_eq!(empty, FloatHistogram::default());
        assert!(parse_histogram("{{bogus:1}}").is_err());
    }
}
