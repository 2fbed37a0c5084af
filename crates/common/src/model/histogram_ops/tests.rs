use super::*;

fn span(offset: i32, length: u32) -> Span {
    Span { offset, length }
}

fn hist(schema: i32, spans: Vec<Span>, buckets: Vec<f64>) -> FloatHistogram {
    let count = buckets.iter().sum();
    FloatHistogram {
        schema,
        count,
        sum: count,
        positive_spans: spans,
        positive_buckets: buckets,
        ..Default::default()
    }
}

#[test]
fn bounds_of_exponential_buckets() {
    assert_eq!(exponential_bucket_bound(0, 0), 1.0);
    assert_eq!(exponential_bucket_bound(1, 0), 2.0);
    assert_eq!(exponential_bucket_bound(-1, 0), 0.5);
    assert_eq!(exponential_bucket_bound(1, -2), 16.0);
    assert!((exponential_bucket_bound(1, 1) - 2f64.sqrt()).abs() < 1e-15);
    assert_eq!(exponential_bucket_bound(2, 1), 2.0);
    assert!((exponential_bucket_bound(3, 8) - 2f64.powf(3.0 / 256.0)).abs() < 1e-15);
    assert_eq!(exponential_bucket_bound(64, -4), f64::MAX);
}

#[test]
fn compact_drops_empty_buckets_and_merges_spans() {
    let mut h = hist(
        0,
        vec![span(-2, 3), span(0, 2), span(3, 1)],
        vec![0.0, 1.0, 0.0, 2.0, 3.0, 0.0],
    );
    h.compact();
    assert_eq!(h.positive_spans, vec![span(-1, 1), span(1, 2)]);
    assert_eq!(h.positive_buckets, vec![1.0, 2.0, 3.0]);
}

#[test]
fn reduce_resolution_merges_pairs_of_buckets() {
    // Schema 1 indices 1..=4 map to schema 0 indices 1, 1, 2, 2.
    let mut h = hist(1, vec![span(1, 4)], vec![1.0, 2.0, 3.0, 4.0]);
    h.reduce_resolution(0);
    assert_eq!(h.schema, 0);
    assert_eq!(h.positive_spans, vec![span(1, 2)]);
    assert_eq!(h.positive_buckets, vec![3.0, 7.0]);
    // Indices 0 and -1 at schema 1 both fall into schema 0 index 0.
    let mut h = hist(1, vec![span(-1, 2)], vec![1.0, 1.0]);
    h.reduce_resolution(0);
    assert_eq!(h.positive_spans, vec![span(0, 1)]);
    assert_eq!(h.positive_buckets, vec![2.0]);
}

#[test]
fn add_uses_the_lower_schema() {
    let mut a = hist(1, vec![span(1, 2)], vec![1.0, 2.0]);
    let b = hist(0, vec![span(0, 2)], vec![5.0, 1.0]);
    a.add(&b).unwrap();
    assert_eq!(a.schema, 0);
    assert_eq!(a.count, 9.0);
    assert_eq!(a.positive_spans, vec![span(0, 2)]);
    assert_eq!(a.positive_buckets, vec![5.0, 4.0]);
}

#[test]
fn add_widens_the_zero_bucket() {
    let mut a = hist(0, vec![span(-1, 3)], vec![1.0, 2.0, 3.0]);
    a.zero_threshold = 0.001;
    let mut b = hist(0, vec![span(1, 1)], vec![4.0]);
    b.zero_threshold = 0.5;
    b.zero_count = 1.0;
    a.add(&b).unwrap();
    // Bucket -1 of `a`, (0.25, 0.5], now lies in the zero bucket.
    assert_eq!(a.zero_threshold, 0.5);
    assert_eq!(a.zero_count, 2.0);
    assert_eq!(a.positive_spans, vec![span(0, 2)]);
    assert_eq!(a.positive_buckets, vec![2.0, 7.0]);
}

#[test]
fn sub_can_go_negative_and_rejects_mixed_schemas() {
    let mut a = hist(0, vec![span(0, 1)], vec![1.0]);
    a.sub(&hist(0, vec![span(0, 2)], vec![2.0, 1.0])).unwrap();
    assert_eq!(a.positive_buckets, vec![-1.0, -1.0]);
    assert_eq!(a.count, -2.0);
    let mut nhcb = hist(CUSTOM_BUCKETS_SCHEMA, vec![span(0, 1)], vec![1.0]);
    nhcb.custom_values = vec![1.0];
    assert_eq!(a.add(&nhcb), Err(HistogramError::IncompatibleSchema));
}

#[test]
fn mismatched_custom_bounds_reconcile_to_the_shared_ones() {
    // Bounds [1, 2, 5] and [2, 4, 5] share 2 and 5: buckets move up to the next shared bound.
    let mut a = hist(
        CUSTOM_BUCKETS_SCHEMA,
        vec![span(0, 4)],
        vec![1.0, 2.0, 3.0, 4.0],
    );
    a.custom_values = vec![1.0, 2.0, 5.0];
    let mut b = hist(CUSTOM_BUCKETS_SCHEMA, vec![span(1, 2)], vec![10.0, 20.0]);
    b.custom_values = vec![2.0, 4.0, 5.0];
    let done = a.add(&b).unwrap();
    assert!(done.custom_bounds_reconciled);
    assert_eq!(a.custom_values, vec![2.0, 5.0]);
    assert_eq!(a.positive_spans, vec![span(0, 3)]);
    assert_eq!(a.positive_buckets, vec![3.0, 33.0, 4.0]);
    assert_eq!(a.count, 40.0);
    let mut same = hist(CUSTOM_BUCKETS_SCHEMA, vec![span(0, 1)], vec![1.0]);
    same.custom_values = vec![1.0];
    let done = same.clone().add(&same).unwrap();
    assert!(!done.custom_bounds_reconciled);
}

#[test]
fn kahan_add_keeps_what_plain_addition_loses() {
    let big = |sum: f64| FloatHistogram {
        sum,
        ..hist(0, vec![span(0, 1)], vec![1.0])
    };
    let parts = [big(1e100), big(1.0), big(-1e100)];
    let mut plain = parts[0].clone();
    let mut kahan = parts[0].clone();
    let mut c = None;
    for p in &parts[1..] {
        plain.add(p).unwrap();
        kahan.kahan_add(p, &mut c).unwrap();
    }
    assert_eq!(plain.sum, 0.0);
    kahan.add(&c.expect("compensation created")).unwrap();
    assert_eq!(kahan.sum, 1.0);
    assert_eq!(kahan.positive_buckets, vec![3.0]);
    assert_eq!(kahan.count, 3.0);
}

#[test]
fn hints_of_sums() {
    use CounterResetHint::*;
    assert_eq!(
        combined_hint(NotCounterReset, NotCounterReset),
        NotCounterReset
    );
    assert_eq!(combined_hint(Gauge, CounterReset), Gauge);
    assert_eq!(combined_hint(CounterReset, NotCounterReset), Unknown);
}

#[test]
fn scaling() {
    let mut h = hist(0, vec![span(0, 2)], vec![2.0, 4.0]);
    h.mul(3.0);
    assert_eq!(
        (h.count, h.sum, h.positive_buckets.clone()),
        (18.0, 18.0, vec![6.0, 12.0])
    );
    h.div(6.0);
    assert_eq!(h.positive_buckets, vec![1.0, 2.0]);
    h.div(0.0);
    assert_eq!(h.count, f64::INFINITY);
}

#[test]
fn reset_detection() {
    let prev = hist(0, vec![span(0, 2)], vec![2.0, 4.0]);
    assert!(!hist(0, vec![span(0, 2)], vec![2.0, 5.0]).detect_reset(&prev));
    assert!(hist(0, vec![span(0, 2)], vec![1.0, 6.0]).detect_reset(&prev));
    assert!(hist(0, vec![span(1, 1)], vec![7.0]).detect_reset(&prev));
    assert!(hist(1, vec![span(0, 2)], vec![3.0, 4.0]).detect_reset(&prev));
    // A finer previous histogram is reduced first: schema 1 buckets 1, 2 are schema 0 bucket 1.
    let fine = hist(1, vec![span(1, 2)], vec![1.0, 1.0]);
    assert!(!hist(0, vec![span(1, 1)], vec![2.0]).detect_reset(&fine));
    let mut hinted = hist(0, vec![span(0, 2)], vec![1.0, 1.0]);
    hinted.counter_reset_hint = CounterResetHint::NotCounterReset;
    assert!(!hinted.detect_reset(&prev));
    // Gauges are inspected like counters.
    hinted.counter_reset_hint = CounterResetHint::Gauge;
    assert!(hinted.detect_reset(&prev));
    hinted.counter_reset_hint = CounterResetHint::CounterReset;
    assert!(hinted.detect_reset(&hinted.clone()));
}

#[test]
fn reset_detection_across_custom_bounds_compares_shared_bounds() {
    let nhcb = |bounds: Vec<f64>, buckets: Vec<f64>| {
        let mut h = hist(
            CUSTOM_BUCKETS_SCHEMA,
            vec![span(0, buckets.len() as u32)],
            buckets,
        );
        h.custom_values = bounds;
        h
    };
    // Shared bounds [5]: previous (≤5: 1, +Inf: 0); current (≤5: 2, +Inf: 1).
    let prev = nhcb(vec![5.0], vec![1.0]);
    assert!(!nhcb(vec![5.0, 10.0], vec![2.0, 1.0]).detect_reset(&prev));
    // Current lost the observation at or below 5.
    let prev = nhcb(vec![2.0, 5.0], vec![1.0, 1.0]);
    assert!(nhcb(vec![5.0, 10.0], vec![1.0, 0.0, 2.0]).detect_reset(&prev));
    // Exponential vs custom buckets is always a reset.
    assert!(hist(0, vec![span(0, 1)], vec![5.0]).detect_reset(&prev));
}

#[test]
fn equality_ignores_layout() {
    let a = hist(0, vec![span(0, 3)], vec![1.0, 0.0, 2.0]);
    let b = hist(0, vec![span(0, 1), span(1, 1)], vec![1.0, 2.0]);
    assert!(a.equals(&b));
    let mut gauge = b.clone();
    gauge.counter_reset_hint = CounterResetHint::Gauge;
    assert!(a.equals(&gauge), "hints are not data");
    assert!(!a.equals(&hist(0, vec![span(0, 1), span(1, 1)], vec![1.0, 3.0])));
}

#[test]
fn validation() {
    assert!(hist(0, vec![span(0, 2)], vec![1.0, 2.0]).validate().is_ok());
    let err = hist(0, vec![span(0, 3)], vec![1.0]).validate().unwrap_err();
    assert!(matches!(
        err,
        HistogramError::SpansBucketsMismatch {
            need: 3,
            have: 1,
            ..
        }
    ));
    let mut h = hist(0, vec![span(0, 1)], vec![2.0]);
    h.count = 1.0;
    assert!(matches!(
        h.validate(),
        Err(HistogramError::CountNotBigEnough { .. })
    ));
    assert_eq!(
        hist(9, vec![], vec![]).validate(),
        Err(HistogramError::InvalidSchema(9))
    );
    let mut nhcb = hist(CUSTOM_BUCKETS_SCHEMA, vec![span(0, 3)], vec![1.0, 1.0, 1.0]);
    nhcb.custom_values = vec![1.0, 2.0];
    assert!(nhcb.validate().is_ok());
    nhcb.custom_values = vec![2.0, 1.0];
    assert!(matches!(
        nhcb.validate(),
        Err(HistogramError::CustomBucketsInvalid { .. })
    ));
    nhcb.custom_values = vec![1.0];
    assert!(matches!(
        nhcb.validate(),
        Err(HistogramError::CustomBucketsMismatch { .. })
    ));
}

#[test]
fn bucket_iteration() {
    let mut h = hist(0, vec![span(0, 2)], vec![1.0, 2.0]);
    h.negative_spans = vec![span(1, 1)];
    h.negative_buckets = vec![3.0];
    let pos: Vec<_> = h
        .positive_buckets_iter()
        .map(|b| (b.lower, b.upper, b.count))
        .collect();
    assert_eq!(pos, vec![(0.5, 1.0, 1.0), (1.0, 2.0, 2.0)]);
    let neg: Vec<_> = h
        .negative_buckets_iter()
        .map(|b| (b.lower, b.upper))
        .collect();
    assert_eq!(neg, vec![(-2.0, -1.0)]);
    let mut nhcb = hist(CUSTOM_BUCKETS_SCHEMA, vec![span(0, 3)], vec![1.0, 1.0, 1.0]);
    nhcb.custom_values = vec![5.0, 10.0];
    let bounds: Vec<_> = nhcb
        .positive_buckets_iter()
        .map(|b| (b.lower, b.upper))
        .collect();
    assert_eq!(
        bounds,
        vec![(f64::NEG_INFINITY, 5.0), (5.0, 10.0), (10.0, f64::INFINITY)]
    );
}

#[test]
fn integer_round_trip() {
    let h = hist(0, vec![span(0, 3)], vec![2.0, 5.0, 1.0]);
    let int = h.to_int().unwrap();
    assert_eq!(int.positive_deltas, vec![2, 3, -4]);
    assert_eq!(int.to_float(), h);
    assert!(hist(0, vec![span(0, 1)], vec![0.5]).to_int().is_none());
}
