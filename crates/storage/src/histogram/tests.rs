use super::*;

fn span(offset: i32, length: u32) -> Span {
    Span { offset, length }
}

/// A valid exponential histogram: buckets 2, 1 on the positive side, 1 on the negative side,
/// one observation in the zero bucket.
fn valid() -> Histogram {
    Histogram {
        schema: 0,
        zero_threshold: 0.001,
        zero_count: 1,
        count: 5,
        sum: 12.5,
        positive_spans: vec![span(-1, 1), span(2, 1)],
        positive_deltas: vec![2, -1],
        negative_spans: vec![span(0, 1)],
        negative_deltas: vec![1],
        ..Histogram::default()
    }
}

fn nhcb() -> Histogram {
    Histogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: 3,
        sum: 1.0,
        positive_spans: vec![span(0, 2)],
        positive_deltas: vec![1, 1],
        custom_values: vec![0.5, 1.0],
        ..Histogram::default()
    }
}

fn err(h: &Histogram) -> String {
    validate_histogram(h).unwrap_err().to_string()
}

#[test]
fn valid_histograms_pass() {
    validate_histogram(&valid()).unwrap();
    validate_float_histogram(&valid().to_float()).unwrap();
    validate_histogram(&nhcb()).unwrap();
    validate_float_histogram(&nhcb().to_float()).unwrap();
    validate_histogram(&Histogram::default()).unwrap();
}

#[test]
fn count_must_match_buckets_unless_sum_is_nan() {
    let h = Histogram {
        count: 4,
        ..valid()
    };
    assert_eq!(
        err(&h),
        "5 observations found in buckets, but the Count field is 4: histogram's observation \
         count should equal the number of observations found in the buckets (in absence of NaN)"
    );
    // NaN observations count but land in no bucket: a larger count is fine then.
    let nan = Histogram {
        count: 7,
        sum: f64::NAN,
        ..valid()
    };
    validate_histogram(&nan).unwrap();
    let too_small = Histogram { count: 4, ..nan };
    assert_eq!(
        validate_histogram(&too_small).unwrap_err().kind,
        HistogramErrorKind::CountNotBigEnough
    );
}

#[test]
fn spans_and_buckets_must_agree() {
    let h = Histogram {
        positive_deltas: vec![2],
        ..valid()
    };
    assert_eq!(
        err(&h),
        "positive side: spans need 2 buckets, have 1 buckets: histogram spans specify different \
         number of buckets than provided"
    );
    let h = Histogram {
        negative_spans: vec![span(0, 1), span(-2, 0)],
        ..valid()
    };
    assert_eq!(
        err(&h),
        "negative side: span number 2 with offset -2: histogram has a span whose offset is \
         negative"
    );
}

#[test]
fn negative_bucket_counts_are_rejected() {
    let h = Histogram {
        positive_deltas: vec![1, -2],
        ..valid()
    };
    assert_eq!(
        err(&h),
        "positive side: bucket number 2 has observation count of -1: histogram has a bucket \
         whose observation count is negative"
    );
    let mut fh = valid().to_float();
    fh.negative_buckets[0] = -0.5;
    assert_eq!(
        validate_float_histogram(&fh).unwrap_err().to_string(),
        "negative side: bucket number 1 has observation count of -0.5: histogram has a bucket \
         whose observation count is negative"
    );
}

#[test]
fn exponential_schema_must_not_carry_custom_bounds() {
    let h = Histogram {
        custom_values: vec![1.0],
        ..valid()
    };
    assert_eq!(
        err(&h),
        "histogram with exponential schema must not have custom bounds"
    );
}

#[test]
fn custom_bucket_rules() {
    let cases: Vec<(Histogram, &str)> = vec![
        (
            Histogram {
                custom_values: vec![1.0, 0.5],
                ..nhcb()
            },
            "custom buckets: previous bound is 1.000000 and current is 0.500000: histogram \
             custom bounds must be in strictly increasing order",
        ),
        (
            Histogram {
                custom_values: vec![0.5, f64::NAN],
                ..nhcb()
            },
            "custom buckets: histogram custom bounds must not be NaN",
        ),
        (
            Histogram {
                custom_values: vec![0.5, f64::INFINITY],
                ..nhcb()
            },
            "custom buckets: last +Inf bound must not be explicitly defined: histogram custom \
             bounds must be finite",
        ),
        (
            Histogram {
                positive_spans: vec![span(2, 2)],
                ..nhcb()
            },
            "custom buckets: only 2 custom bounds defined which is insufficient to cover total \
             span length of 4: histogram custom bounds are too few",
        ),
        (
            Histogram {
                positive_spans: vec![span(-1, 2)],
                ..nhcb()
            },
            "custom buckets: span number 1 with offset -1: histogram has a span whose offset is \
             negative",
        ),
        (
            Histogram {
                zero_count: 1,
                count: 4,
                ..nhcb()
            },
            "custom buckets: must have zero count of 0",
        ),
        (
            Histogram {
                zero_threshold: 0.1,
                ..nhcb()
            },
            "custom buckets: must have zero threshold of 0",
        ),
        (
            Histogram {
                negative_spans: vec![span(0, 1)],
                ..nhcb()
            },
            "custom buckets: must not have negative spans",
        ),
        (
            Histogram {
                negative_deltas: vec![1],
                ..nhcb()
            },
            "custom buckets: must not have negative buckets",
        ),
    ];
    for (h, want) in cases {
        assert_eq!(err(&h), want);
        assert_eq!(
            validate_float_histogram(&h.to_float())
                .unwrap_err()
                .to_string(),
            want
        );
    }
}
