use super::*;

#[test]
fn kahan_recovers_lost_low_bits() {
    let mut naive = 0.0;
    let mut sum = KahanSum::new();
    for v in [1.0, 1e100, 1.0, -1e100] {
        naive += v;
        sum.add(v);
    }
    assert_eq!(naive, 0.0);
    assert_eq!(sum.value(), 2.0);
}

#[test]
fn kahan_infinite_sum_drops_compensation() {
    let mut sum = KahanSum::new();
    sum.add(f64::MAX);
    sum.add(f64::MAX);
    assert_eq!(sum.value(), f64::INFINITY);
    assert_eq!(kahan_sum_inc(f64::INFINITY, 1.0, 0.5), (f64::INFINITY, 0.0));
}

#[test]
fn mean_switches_to_incremental_on_overflow() {
    let mut m = MeanAccumulator::new(f64::MAX);
    m.add(f64::MAX);
    m.add(f64::MAX);
    // The direct sum would be +Inf; the incremental mean stays finite.
    assert!(m.mean().is_finite());
    assert!((f64::MAX - m.mean()) / f64::MAX < 1e-15);
    assert_eq!(m.count(), 3.0);

    let mut m = MeanAccumulator::new(1.0);
    for v in [2.0, 3.0, 4.0] {
        m.add(v);
    }
    assert_eq!(m.mean(), 2.5);
}

#[test]
fn variance_helpers() {
    let values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
    assert_eq!(variance_over_time(values), Some(4.0));
    assert_eq!(variance_over_time([]), None);
    let mut acc = VarianceAccumulator::new(values[0]);
    for v in &values[1..] {
        acc.add(*v);
    }
    assert_eq!(acc.variance(), 4.0);
    let mut acc = VarianceAccumulator::new(f64::INFINITY);
    acc.add(1.0);
    assert!(acc.variance().is_nan());
}

#[test]
fn quantile_interpolates_and_handles_edges() {
    let mut v = [4.0, 1.0, 3.0, 2.0];
    assert_eq!(quantile(0.5, &mut v), 2.5);
    assert_eq!(quantile(0.0, &mut v), 1.0);
    assert_eq!(quantile(1.0, &mut v), 4.0);
    assert_eq!(quantile(0.25, &mut v), 1.75);
    assert_eq!(quantile(-0.1, &mut v), f64::NEG_INFINITY);
    assert_eq!(quantile(1.1, &mut v), f64::INFINITY);
    assert!(quantile(f64::NAN, &mut v).is_nan());
    assert!(quantile(0.5, &mut []).is_nan());
    // NaN sorts first.
    let mut v = [1.0, f64::NAN, 2.0];
    assert!(quantile(0.0, &mut v).is_nan());
    assert_eq!(quantile(1.0, &mut v), 2.0);
}

#[test]
fn mad() {
    let mut v = [1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0];
    assert_eq!(median_absolute_deviation(&mut v), Some(1.0));
    assert!(
        median_absolute_deviation(&mut [1.0, f64::NAN])
            .unwrap()
            .is_nan()
    );
    assert_eq!(median_absolute_deviation(&mut []), None);
}

#[test]
fn almost_equal_rules() {
    assert!(almost_equal(1.0, 1.0 + 1e-13, 1e-12));
    assert!(!almost_equal(1.0, 1.0 + 1e-11, 1e-12));
    assert!(almost_equal(f64::NAN, f64::NAN, 1e-12));
    assert!(!almost_equal(0.0, 1e-300, 1e-12));
    assert!(!almost_equal(
        pm_common::model::stale_nan(),
        f64::NAN,
        1e-12
    ));
}
