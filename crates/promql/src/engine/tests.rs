use std::sync::atomic::AtomicBool;

use pm_common::model::Labels;
use pm_storage::{Appendable, MemStorage, SeriesRef};

use super::*;

/// `m{i="0"}`, `m{i="1"}` with value `i + minute` every minute for 10 minutes.
fn storage() -> MemStorage {
    let storage = MemStorage::new();
    let mut app = storage.appender();
    for i in 0..2 {
        let l = Labels::from_pairs([("__name__", "m"), ("i", &i.to_string())]);
        let mut r = SeriesRef::UNKNOWN;
        for minute in 0..=10 {
            r = app
                .append(r, &l, minute * 60_000, (i + minute) as f64)
                .unwrap();
        }
    }
    app.commit().unwrap();
    storage
}

fn engine() -> Engine {
    Engine::new(EngineOptions::default())
}

#[test]
fn instant_vector_scalar_and_string() {
    let s = storage();
    let Value::Vector(v) = engine().instant(&s, "m", 120_000).unwrap().value else {
        panic!("vector expected");
    };
    assert_eq!(v.len(), 2);
    assert_eq!((v[0].f, v[1].f), (2.0, 3.0));
    assert_eq!(
        engine().instant(&s, "1 + 2", 0).unwrap().value,
        Value::Scalar { t: 0, v: 3.0 }
    );
    assert_eq!(
        engine().instant(&s, "\"x\"", 5).unwrap().value,
        Value::String {
            t: 5,
            s: "x".into()
        }
    );
}

#[test]
fn lookback_is_left_open_and_range_results_are_sorted() {
    let s = storage();
    // The last sample is at 10m; 5m later it is exactly one lookback delta old.
    let Value::Vector(v) = engine().instant(&s, "m", 15 * 60_000).unwrap().value else {
        panic!("vector expected");
    };
    assert!(v.is_empty());
    let Value::Matrix(m) = engine()
        .range(&s, "sum(m) by (i)", 0, 120_000, 60_000)
        .unwrap()
        .value
    else {
        panic!("matrix expected");
    };
    assert_eq!(m.len(), 2);
    assert!(m[0].metric < m[1].metric);
    let values: Vec<f64> = m[1].floats.iter().map(|p| p.f).collect();
    assert_eq!(values, [1.0, 2.0, 3.0]);
}

#[test]
fn limits_and_errors_keep_upstream_texts() {
    let s = storage();
    let tight = Engine::new(EngineOptions {
        max_samples: 3,
        ..EngineOptions::default()
    });
    assert_eq!(
        tight
            .range(&s, "m", 0, 600_000, 60_000)
            .unwrap_err()
            .to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    assert_eq!(
        engine()
            .range(&s, "m[5m]", 0, 60_000, 60_000)
            .unwrap_err()
            .to_string(),
        "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector"
    );
    assert_eq!(
        engine()
            .instant(&s, "m + on() m", 60_000)
            .unwrap_err()
            .to_string(),
        "found duplicate series for the match group {} on the right hand-side of the operation: [{__name__=\"m\", i=\"0\"}, {__name__=\"m\", i=\"1\"}];many-to-many matching not allowed: matching labels must be unique on one side"
    );
    let canceled = AtomicBool::new(true);
    let expr = crate::parser::parse_expr("m", &Default::default()).unwrap();
    assert_eq!(
        engine()
            .instant_expr(&s, &expr, "m", 0, Some(&canceled))
            .unwrap_err(),
        QueryError::Canceled("expression evaluation")
    );
}

#[test]
fn annotations_carry_the_expression_position() {
    let s = storage();
    let r = engine().range(&s, "sort(m)", 0, 60_000, 60_000).unwrap();
    assert_eq!(
        r.warnings,
        [
            "PromQL warning: sort is ineffective for range queries since results are always ordered by labels (1:1)"
        ]
    );
    let r = engine().instant(&s, "quantile(2, m)", 60_000).unwrap();
    assert_eq!(
        r.warnings,
        ["PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)"]
    );
}

#[test]
fn extend_floats_pins_windows_to_their_bounds() {
    use crate::value::FPoint;
    let p = |t, f| FPoint { t, f };
    let floats = [p(0, 0.0), p(60, 6.0), p(120, 12.0)];
    // Anchored (the window ends at its upper bound): the sample at or before the start and
    // the last one are pinned to the bounds.
    let anchored = eval::selectors_extend_floats(&floats[..2], 30, 90, false);
    assert_eq!(anchored, [p(30, 0.0), p(60, 6.0), p(90, 6.0)]);
    // Smoothed: interpolated at both bounds.
    let smoothed = eval::selectors_extend_floats(&floats, 30, 90, true);
    assert_eq!(smoothed, [p(30, 3.0), p(60, 6.0), p(90, 9.0)]);
}

#[test]
fn start_timestamps_are_read_only_when_enabled() {
    // A delta-style counter: every sample reports the 60 increments since the previous one.
    let storage = MemStorage::new();
    let l = Labels::from_pairs([("__name__", "d_total")]);
    let mut app = storage.appender();
    let mut r = SeriesRef::UNKNOWN;
    for minute in 1..=10 {
        let t = minute * 60_000;
        r = app.append_with_st(r, &l, t - 60_000, t, 60.0).unwrap();
    }
    app.commit().unwrap();
    let opts = |use_start_timestamps| EngineOptions {
        use_start_timestamps,
        parser: ParserOptions::all(),
        ..EngineOptions::default()
    };
    let value = |engine: &Engine, q: &str| match engine.instant(&storage, q, 600_000).unwrap().value
    {
        Value::Vector(v) => v.iter().map(|s| s.f).collect::<Vec<_>>(),
        other => panic!("vector expected, got {other:?}"),
    };
    let on = Engine::new(opts(true));
    assert_eq!(value(&on, "increase(d_total[5m])"), [300.0]);
    assert_eq!(value(&on, "start_timestamp(d_total)"), [540.0]);
    assert!(value(&on, "start_timestamp(d_total * 1)").is_empty());
    let off = Engine::new(opts(false));
    assert_eq!(value(&off, "increase(d_total[5m])"), [0.0]);
    assert!(value(&off, "start_timestamp(d_total)").is_empty());
}
