use std::sync::Arc;

use pm_common::model::{CounterResetHint, FloatHistogram, Span};

use super::*;
use crate::functions::annotations::{Issue, Issues};

fn floats(points: &[(i64, f64)]) -> Vec<FPoint> {
    points
        .iter()
        .map(|&(s, f)| FPoint { t: s * 1000, f })
        .collect()
}

fn hist(count: f64, hint: CounterResetHint) -> FloatHistogram {
    FloatHistogram {
        counter_reset_hint: hint,
        schema: 0,
        count,
        sum: count,
        positive_spans: vec![Span {
            offset: 1,
            length: 1,
        }],
        positive_buckets: vec![count],
        ..Default::default()
    }
}

fn hpoints(points: &[(i64, f64)], hint: CounterResetHint) -> Vec<HPoint> {
    points
        .iter()
        .map(|&(s, c)| HPoint {
            t: s * 1000,
            h: Arc::new(hist(c, hint)),
        })
        .collect()
}

fn range(start_s: i64, end_s: i64) -> RangeBounds {
    RangeBounds {
        start: start_s * 1000,
        end: end_s * 1000,
    }
}

fn float_of(r: (Option<Output>, Issues)) -> f64 {
    r.0.and_then(|o| o.as_float()).expect("a float result")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn rate_extrapolates_to_the_zero_point_and_range_end() {
    let f = floats(
        &(1..=10)
            .map(|i| (30 * i, 10.0 * i as f64))
            .collect::<Vec<_>>(),
    );
    let w = Window::floats(&f);
    assert!(close(
        float_of(extrapolated_rate(RateKind::Increase, &w, range(0, 300))),
        100.0
    ));
    assert!(close(
        float_of(extrapolated_rate(RateKind::Rate, &w, range(0, 300))),
        100.0 / 300.0
    ));
}

#[test]
fn increase_counts_values_before_resets() {
    let f = floats(&[(60, 10.0), (120, 20.0), (180, 5.0), (240, 15.0)]);
    let got = float_of(extrapolated_rate(
        RateKind::Increase,
        &Window::floats(&f),
        range(0, 240),
    ));
    assert!(close(got, 25.0 * 4.0 / 3.0), "{got}");
}

#[test]
fn delta_extrapolates_half_an_interval_past_a_gap() {
    let f = floats(&[(200, 1.0), (300, 3.0)]);
    let got = float_of(extrapolated_rate(
        RateKind::Delta,
        &Window::floats(&f),
        range(0, 300),
    ));
    assert!(close(got, 3.0), "{got}");
    // Gauges may extrapolate below zero.
    let f = floats(&[(100, 1.0), (200, 0.0), (300, -1.0)]);
    let got = float_of(extrapolated_rate(
        RateKind::Delta,
        &Window::floats(&f),
        range(0, 300),
    ));
    assert!(close(got, -3.0), "{got}");
}

#[test]
fn rate_needs_two_points_of_one_kind() {
    let f = floats(&[(10, 1.0)]);
    assert_eq!(
        extrapolated_rate(RateKind::Rate, &Window::floats(&f), range(0, 60)),
        (None, Issues::NONE)
    );
    let h = hpoints(&[(20, 1.0)], CounterResetHint::Unknown);
    let (out, issues) = extrapolated_rate(RateKind::Rate, &Window::new(&f, &h), range(0, 60));
    assert_eq!(out, None);
    assert!(issues.contains(Issue::MixedFloatsHistograms));
}

#[test]
fn start_timestamp_inside_the_range_is_the_zero_point() {
    let f = floats(&[(30, 10.0), (60, 20.0)]);
    let sts = [15_000, 15_000];
    let w = Window::floats(&f).with_start_timestamps(&sts, &[]);
    // Increase from 0 at 15s to 20 at 60s, extrapolated to 90s (the gap is below 1.1
    // intervals).
    let got = float_of(extrapolated_rate(RateKind::Increase, &w, range(0, 90)));
    assert!(close(got, 20.0 * (45.0 + 30.0) / 45.0), "{got}");
}

#[test]
fn histogram_rate_and_hints() {
    let h = hpoints(
        &[(60, 2.0), (120, 4.0), (180, 6.0)],
        CounterResetHint::NotCounterReset,
    );
    let (out, issues) =
        extrapolated_rate(RateKind::Increase, &Window::histograms(&h), range(0, 180));
    let out = out.unwrap();
    let got = out.as_histogram().unwrap();
    // 4 observed over 120s, extrapolated to the zero point 120s·(2/4) = 60s before.
    assert!(close(got.count, 6.0), "{}", got.count);
    assert_eq!(got.counter_reset_hint, CounterResetHint::Gauge);
    assert!(issues.is_empty());
    // A reset adds back the pre-reset histogram.
    let h = hpoints(
        &[(60, 2.0), (120, 4.0), (180, 1.0)],
        CounterResetHint::Unknown,
    );
    let (out, _) = extrapolated_rate(RateKind::Increase, &Window::histograms(&h), range(60, 180));
    assert!(close(out.unwrap().as_histogram().unwrap().count, 3.0));
    // delta on counter histograms, rate on gauges: notes.
    let (_, issues) = extrapolated_rate(RateKind::Delta, &Window::histograms(&h), range(0, 180));
    assert!(issues.contains(Issue::NativeHistogramNotGauge));
    let g = hpoints(&[(60, 2.0), (120, 4.0)], CounterResetHint::Gauge);
    let (_, issues) = extrapolated_rate(RateKind::Rate, &Window::histograms(&g), range(0, 120));
    assert!(issues.contains(Issue::NativeHistogramNotCounter));
}

#[test]
fn irate_and_idelta() {
    let f = floats(&[(0, 1.0), (10, 10.0), (20, 5.0)]);
    let w = Window::floats(&f);
    assert_eq!(float_of(instant_rate(&w, true)), 0.5);
    assert_eq!(float_of(instant_rate(&w, false)), -5.0);
    let f = floats(&[(10, 10.0), (20, 15.0)]);
    assert_eq!(float_of(instant_rate(&Window::floats(&f), true)), 0.5);
    assert_eq!(
        instant_rate(&Window::floats(&f[..1]), true),
        (None, Issues::NONE)
    );
    // The newest float next to a histogram: mixed.
    let h = hpoints(&[(15, 1.0)], CounterResetHint::Unknown);
    let (out, issues) = instant_rate(&Window::new(&f, &h), true);
    assert_eq!(out, None);
    assert!(issues.contains(Issue::MixedFloatsHistograms));
    // Two histograms.
    let h = hpoints(&[(10, 2.0), (20, 6.0)], CounterResetHint::Unknown);
    let (out, _) = instant_rate(&Window::histograms(&h), true);
    assert_eq!(out.unwrap().as_histogram().unwrap().count, 0.4);
}

#[test]
fn regression() {
    let f = floats(&[(0, 0.0), (10, 20.0), (20, 40.0)]);
    let w = Window::floats(&f);
    assert!(close(deriv(&w).0.unwrap(), 2.0));
    assert!(close(predict_linear(&w, 10.0, 20_000).0.unwrap(), 60.0));
    let c = floats(&[(0, f64::INFINITY), (10, f64::INFINITY)]);
    assert!(deriv(&Window::floats(&c)).0.unwrap().is_nan());
    let c = floats(&[(0, 3.0), (10, 3.0)]);
    assert_eq!(predict_linear(&Window::floats(&c), 100.0, 0).0, Some(3.0));
    assert_eq!(deriv(&Window::floats(&f[..1])), (None, Issues::NONE));
    let h = hpoints(&[(5, 1.0)], CounterResetHint::Unknown);
    let (v, issues) = deriv(&Window::new(&f, &h));
    assert!(close(v.unwrap(), 2.0));
    assert!(issues.contains(Issue::HistogramIgnoredInMixedRange));
}

#[test]
fn holt_smoothing() {
    let f = floats(&[(0, 1.0), (10, 2.0), (20, 3.0)]);
    let w = Window::floats(&f);
    assert_eq!(
        double_exponential_smoothing(&w, 0.5, 0.5).unwrap().0,
        Some(3.0)
    );
    assert_eq!(
        double_exponential_smoothing(&w, 1.0, 0.5)
            .unwrap_err()
            .to_string(),
        "invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000"
    );
    assert_eq!(
        double_exponential_smoothing(&w, 0.5, 0.0)
            .unwrap_err()
            .to_string(),
        "invalid trend factor. Expected: 0 < tf < 1, got: 0.000000"
    );
    assert!(
        double_exponential_smoothing(&w, f64::NAN, 0.5)
            .unwrap()
            .0
            .unwrap()
            .is_nan()
    );
}

#[test]
fn float_over_time() {
    let f = floats(&[(0, f64::NAN), (10, 3.0), (20, 1.0), (30, 3.0)]);
    let w = Window::floats(&f);
    let cases = [
        (OverTime::Max, 3.0),
        (OverTime::Min, 1.0),
        (OverTime::TsOfMax, 30.0),
        (OverTime::TsOfMin, 20.0),
    ];
    for (func, want) in cases {
        assert_eq!(func.apply(&w).0, Some(want), "{func:?}");
    }
    let f = floats(&[
        (0, 2.0),
        (10, 4.0),
        (20, 4.0),
        (30, 4.0),
        (40, 5.0),
        (50, 5.0),
        (60, 7.0),
        (70, 9.0),
    ]);
    let w = Window::floats(&f);
    assert!(close(OverTime::Stdvar.apply(&w).0.unwrap(), 4.0));
    assert!(close(OverTime::Stddev.apply(&w).0.unwrap(), 2.0));
    assert_eq!(quantile_over_time(0.5, &w).0, Some(4.5));
    assert_eq!(mad_over_time(&w).0, Some(0.5));
    assert_eq!(float_of(sum_over_time(&w)), 40.0);
    assert_eq!(float_of(avg_over_time(&w)), 5.0);
    assert_eq!(count_over_time(&w), Some(8.0));
    assert_eq!(present_over_time(&Window::default()), None);
    assert_eq!(
        OverTime::Max.apply(&Window::default()),
        (None, Issues::NONE)
    );
}

#[test]
fn histogram_over_time() {
    let h = hpoints(&[(10, 2.0), (20, 4.0)], CounterResetHint::Unknown);
    let w = Window::histograms(&h);
    let sum = sum_over_time(&w).0.unwrap();
    assert_eq!(sum.as_histogram().unwrap().count, 6.0);
    let avg = avg_over_time(&w).0.unwrap();
    assert_eq!(avg.as_histogram().unwrap().count, 3.0);
    let f = floats(&[(15, 1.0)]);
    let mixed = Window::new(&f, &h);
    assert_eq!(
        sum_over_time(&mixed),
        (None, Issues::one(Issue::MixedFloatsHistograms))
    );
    assert_eq!(
        last_over_time(&mixed)
            .unwrap()
            .as_histogram()
            .unwrap()
            .count,
        4.0
    );
    assert_eq!(
        first_over_time(&mixed)
            .unwrap()
            .as_histogram()
            .unwrap()
            .count,
        2.0
    );
    assert_eq!(ts_of_first_over_time(&mixed), Some(10.0));
    assert_eq!(ts_of_last_over_time(&mixed), Some(20.0));
    assert_eq!(count_over_time(&mixed), Some(3.0));
    let (v, issues) = OverTime::Max.apply(&mixed);
    assert_eq!(v, Some(1.0));
    assert!(issues.contains(Issue::HistogramIgnoredInMixedRange));
    // Conflicting hints.
    let mut h = hpoints(&[(10, 2.0), (20, 4.0)], CounterResetHint::CounterReset);
    h[1] = HPoint {
        t: 20_000,
        h: Arc::new(hist(4.0, CounterResetHint::NotCounterReset)),
    };
    let (_, issues) = sum_over_time(&Window::histograms(&h));
    assert!(issues.contains(Issue::HistogramCounterResetCollision(
        crate::functions::annotations::HistogramOperation::Aggregation
    )));
}

#[test]
fn changes_and_resets() {
    let f = floats(&[
        (0, 1.0),
        (10, 1.0),
        (20, 2.0),
        (30, f64::NAN),
        (40, f64::NAN),
        (50, 1.0),
    ]);
    let w = Window::floats(&f);
    assert_eq!(changes(&w, None), Some(3.0));
    assert_eq!(resets(&w, None), Some(0.0));
    let f = floats(&[(0, 3.0), (10, 1.0), (20, 2.0), (30, 0.0)]);
    assert_eq!(resets(&Window::floats(&f), None), Some(2.0));
    // Anchored at 15s: the baseline is the sample at 10s.
    assert_eq!(resets(&Window::floats(&f), Some(15_000)), Some(1.0));
    assert_eq!(resets(&Window::floats(&f), Some(30_000)), None);
    // Switching between floats and histograms counts once per switch.
    let f = floats(&[(0, 1.0), (30, 1.0)]);
    let h = hpoints(&[(10, 1.0), (20, 1.0)], CounterResetHint::Unknown);
    let w = Window::new(&f, &h);
    assert_eq!(changes(&w, None), Some(2.0));
    assert_eq!(resets(&w, None), Some(2.0));
    assert_eq!(changes(&Window::default(), None), None);
}

#[test]
fn start_timestamp_rules() {
    assert!(!start_timestamp_reset(0, 10, 0, 20));
    assert!(!start_timestamp_reset(0, 10, 20, 20));
    assert!(start_timestamp_reset(0, 10, 15, 20));
    assert!(!start_timestamp_reset(5, 10, 5, 20));
    assert!(start_timestamp_reset(5, 10, 10, 20));
    assert!(!start_timestamp_reset(10, 10, 10, 20));
    assert!(start_time_overlap(0, 10, 5));
    assert!(!start_time_overlap(5, 10, 5));
}

#[test]
fn anchored_and_smoothed_rates() {
    let f = floats(&[(0, 0.0), (30, 10.0), (60, 20.0), (90, 30.0)]);
    let w = Window::floats(&f);
    let inc = extended_rate(RateKind::Increase, &w, range(30, 90), false);
    assert_eq!(float_of(inc), 20.0);
    let rate = extended_rate(RateKind::Rate, &w, range(30, 90), false);
    assert!(close(float_of(rate), 20.0 / 60.0));

    let f = floats(&[(0, 0.0), (40, 10.0), (80, 20.0), (120, 30.0)]);
    let inc = extended_rate(
        RateKind::Increase,
        &Window::floats(&f),
        range(20, 100),
        true,
    );
    assert!(close(float_of(inc), 20.0));

    // A reset inside the range, boundaries interpolated on both sides.
    let f = floats(&[(0, 10.0), (40, 20.0), (80, 5.0), (120, 15.0)]);
    let inc = extended_rate(
        RateKind::Increase,
        &Window::floats(&f),
        range(20, 100),
        true,
    );
    assert!(close(float_of(inc), 15.0));
    let delta = extended_rate(RateKind::Delta, &Window::floats(&f), range(20, 100), true);
    assert!(close(float_of(delta), -5.0));

    // Nothing inside the range.
    let f = floats(&[(0, 1.0), (10, 2.0)]);
    assert_eq!(
        extended_rate(
            RateKind::Increase,
            &Window::floats(&f),
            range(10, 20),
            false
        )
        .0,
        None
    );
}

#[test]
fn anchored_histogram_increase() {
    let h = hpoints(
        &[(0, 1.0), (30, 3.0), (60, 1.0), (90, 4.0)],
        CounterResetHint::Unknown,
    );
    let (out, issues) = extended_rate(
        RateKind::Increase,
        &Window::histograms(&h),
        range(30, 90),
        false,
    );
    // From 3 at the anchor: reset to 1 (adds 3), then up to 4.
    assert_eq!(out.unwrap().as_histogram().unwrap().count, 4.0);
    assert!(issues.is_empty());
}
