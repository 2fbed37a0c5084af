use pm_common::model::{CUSTOM_BUCKETS_SCHEMA, FloatHistogram, Histogram, Span};

use super::*;

/// Schema 1, positive buckets 1..=4 with counts 1, 2, 3, 4 and negative bucket 0 with 5.
fn int_histogram() -> Histogram {
    Histogram {
        schema: 1,
        count: 15,
        sum: 20.0,
        positive_spans: vec![Span {
            offset: 1,
            length: 4,
        }],
        positive_deltas: vec![1, 1, 1, 1],
        negative_spans: vec![Span {
            offset: 0,
            length: 1,
        }],
        negative_deltas: vec![5],
        ..Histogram::default()
    }
}

fn fit(
    limits: HistogramLimits,
    h: NativeHistogram,
) -> Result<NativeHistogram, BucketLimitExceeded> {
    limits.fit(&h).map(Cow::into_owned)
}

fn int(h: NativeHistogram) -> Histogram {
    match h {
        NativeHistogram::Int(h) => h,
        NativeHistogram::Float(_) => panic!("expected an integer histogram"),
    }
}

#[test]
fn within_limits_is_borrowed() {
    let h = NativeHistogram::Int(int_histogram());
    let limits = HistogramLimits::new(5, 0.0);
    assert!(matches!(limits.fit(&h), Ok(Cow::Borrowed(_))));
    assert!(matches!(
        HistogramLimits::default().fit(&h),
        Ok(Cow::Borrowed(_))
    ));
}

#[test]
fn integer_buckets_merge_until_under_the_limit() {
    // 5 buckets, limit 4: schema 1 -> 0 merges positive (1,2) and (3,4).
    let h = int(fit(
        HistogramLimits::new(4, 0.0),
        NativeHistogram::Int(int_histogram()),
    )
    .unwrap());
    assert_eq!(h.schema, 0);
    assert_eq!(
        h.positive_spans,
        [Span {
            offset: 1,
            length: 2
        }]
    );
    assert_eq!(h.positive_deltas, [3, 4]); // counts 3 and 7
    assert_eq!(h.negative_deltas, [5]);
    assert_eq!((h.count, h.sum), (15, 20.0));

    // Limit 2: one more step, schema -1, positive buckets all in index 1.
    let h = int(fit(
        HistogramLimits::new(2, 0.0),
        NativeHistogram::Int(int_histogram()),
    )
    .unwrap());
    assert_eq!(h.schema, -1);
    assert_eq!(h.positive_deltas, [10]);
    assert_eq!(
        h.negative_spans,
        [Span {
            offset: 0,
            length: 1
        }]
    );
}

#[test]
fn float_buckets_merge_like_integer_ones() {
    let h = NativeHistogram::Float(int_histogram().to_float());
    let NativeHistogram::Float(fh) = fit(HistogramLimits::new(4, 0.0), h).unwrap() else {
        panic!("expected a float histogram");
    };
    assert_eq!(fh.schema, 0);
    assert_eq!(fh.positive_buckets, [3.0, 7.0]);
    assert_eq!(fh.negative_buckets, [5.0]);
}

#[test]
fn impossible_limits_fail_the_sample() {
    // Two buckets far apart stay two buckets even at the coarsest schema.
    let mut h = int_histogram();
    h.schema = MIN_EXPONENTIAL_SCHEMA;
    assert_eq!(
        fit(HistogramLimits::new(1, 0.0), NativeHistogram::Int(h)).unwrap_err(),
        BucketLimitExceeded
    );
    // Custom buckets cannot be merged.
    let nhcb = FloatHistogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        positive_spans: vec![Span {
            offset: 0,
            length: 3,
        }],
        positive_buckets: vec![1.0, 2.0, 3.0],
        custom_values: vec![1.0, 2.0],
        ..FloatHistogram::default()
    };
    assert_eq!(
        fit(
            HistogramLimits::new(2, 0.0),
            NativeHistogram::Float(nhcb.clone())
        )
        .unwrap_err(),
        BucketLimitExceeded
    );
    assert!(fit(HistogramLimits::new(3, 0.0), NativeHistogram::Float(nhcb)).is_ok());
    assert_eq!(
        BucketLimitExceeded.to_string(),
        "histogram bucket limit exceeded"
    );
}

#[test]
fn min_bucket_factor_caps_the_schema() {
    assert_eq!(pick_schema(0.0), 8);
    assert_eq!(pick_schema(1.0), 8);
    assert_eq!(pick_schema(1.1), 2);
    assert_eq!(pick_schema(2.0), 0);
    assert_eq!(pick_schema(4.0), -1);
    assert_eq!(pick_schema(1e9), -4);
    // Factor 2: schema 1 -> 0 without a bucket limit.
    let h = int(fit(
        HistogramLimits::new(0, 2.0),
        NativeHistogram::Int(int_histogram()),
    )
    .unwrap());
    assert_eq!(h.schema, 0);
    assert_eq!(h.positive_deltas, [3, 4]);
}
