use pm_common::model::{Labels, stale_nan};

use super::*;
use crate::promqltest::parse_script;

fn eval(script: &str) -> EvalCmd {
    match parse_script(script).unwrap().remove(0) {
        crate::promqltest::Command::Eval(e) => *e,
        other => panic!("expected an eval, got {other:?}"),
    }
}

fn ok(value: QueryValue) -> QueryResult {
    QueryResult {
        value: Ok(value),
        warnings: Vec::new(),
        infos: Vec::new(),
    }
}

fn sample(labels: &[(&str, &str)], v: f64) -> VectorSample {
    VectorSample {
        labels: Labels::from_pairs(labels.iter().copied()),
        t: 0,
        value: SampleValue::Float(v),
    }
}

#[test]
fn float_tolerance() {
    assert!(almost_equal(1.0, 1.0 + 1e-9));
    assert!(!almost_equal(1.0, 1.001));
    assert!(almost_equal(f64::NAN, f64::NAN));
    assert!(!almost_equal(stale_nan(), f64::NAN));
    assert!(almost_equal(stale_nan(), stale_nan()));
    assert!(almost_equal(f64::INFINITY, f64::INFINITY));
    assert!(!almost_equal(0.0, 1e-9));
}

#[test]
fn vectors_compare_as_sets_unless_ordered() {
    let cmd = eval("eval instant at 0 m\n  m{a=\"1\"} 1\n  m{a=\"2\"} 2\n");
    let reversed = ok(QueryValue::Vector(vec![
        sample(&[("__name__", "m"), ("a", "2")], 2.0),
        sample(&[("__name__", "m"), ("a", "1")], 1.0),
    ]));
    assert_eq!(check_result(&cmd, &reversed), Ok(()));
    let ordered = eval("eval instant at 0 m\n  expect ordered\n  m{a=\"1\"} 1\n  m{a=\"2\"} 2\n");
    assert!(check_result(&ordered, &reversed).is_err());
    let missing = ok(QueryValue::Vector(vec![sample(
        &[("__name__", "m"), ("a", "1")],
        1.0,
    )]));
    assert!(check_result(&cmd, &missing).is_err());
    let wrong = ok(QueryValue::Vector(vec![
        sample(&[("__name__", "m"), ("a", "1")], 1.0),
        sample(&[("__name__", "m"), ("a", "2")], 3.0),
    ]));
    assert!(check_result(&cmd, &wrong).is_err());
}

#[test]
fn failures_and_annotations() {
    let cmd = eval("eval instant at 0 m\n  expect fail regex: bad .*\n");
    let failed = QueryResult {
        value: Err("bad thing".into()),
        warnings: Vec::new(),
        infos: Vec::new(),
    };
    assert_eq!(check_result(&cmd, &failed), Ok(()));
    assert!(check_result(&cmd, &ok(QueryValue::Vector(Vec::new()))).is_err());
    let cmd = eval("eval instant at 0 m\n  expect warn msg: w (1:1)\n");
    let mut res = ok(QueryValue::Vector(Vec::new()));
    assert!(check_result(&cmd, &res).is_err());
    res.warnings.push("w (1:1)".into());
    assert_eq!(check_result(&cmd, &res), Ok(()));
    res.warnings.push("other".into());
    assert!(check_result(&cmd, &res).is_err());
    let no_info = eval("eval instant at 0 m\n  expect no_info\n");
    res.infos.push("i".into());
    assert!(check_result(&no_info, &res).is_err());
}

#[test]
fn range_results_use_step_timestamps() {
    let cmd = eval("eval range from 0 to 2m step 1m m\n  m 1 _ 3\n");
    let series = RangeSeries {
        labels: Labels::from_pairs([("__name__", "m")]),
        floats: vec![(0, 1.0), (120_000, 3.0)],
        histograms: Vec::new(),
    };
    assert_eq!(
        check_result(&cmd, &ok(QueryValue::Matrix(vec![series.clone()]))),
        Ok(())
    );
    let mut shifted = series;
    shifted.floats[1].0 = 60_000;
    assert!(check_result(&cmd, &ok(QueryValue::Matrix(vec![shifted]))).is_err());
}

#[test]
fn histograms_compare_compacted_and_hint_only_when_stated() {
    let cmd = eval("eval instant at 0 h\n  h {{count:2 sum:2 buckets:[0 2] offset:0}}\n");
    let actual = crate::promqltest::parse_histogram(
        "{{count:2 sum:2.0000000001 buckets:[2] offset:1 counter_reset_hint:gauge}}",
    )
    .unwrap()
    .0;
    let res = ok(QueryValue::Vector(vec![VectorSample {
        labels: Labels::from_pairs([("__name__", "h")]),
        t: 0,
        value: SampleValue::Histogram(actual),
    }]));
    assert_eq!(check_result(&cmd, &res), Ok(()));
    let hinted = eval(
        "eval instant at 0 h\n  h {{count:2 sum:2 buckets:[2] offset:1 counter_reset_hint:reset}}\n",
    );
    assert!(check_result(&hinted, &res).is_err());
}

#[test]
fn scalars_and_strings() {
    let cmd = eval("eval instant at 0 1\n  1\n");
    assert_eq!(
        check_result(&cmd, &ok(QueryValue::Scalar { t: 0, v: 1.0 })),
        Ok(())
    );
    assert!(check_result(&cmd, &ok(QueryValue::Scalar { t: 0, v: 2.0 })).is_err());
    let cmd = eval("eval instant at 0 \"a\"\n  expect string \"a\"\n");
    let s = |s: &str| ok(QueryValue::String { t: 0, s: s.into() });
    assert_eq!(check_result(&cmd, &s("a")), Ok(()));
    assert!(check_result(&cmd, &s("b")).is_err());
}
