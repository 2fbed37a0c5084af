//! Query statistics against upstream's expectations (the data set and figures of upstream's
//! `TestQueryStatistics`, a representative selection), plus the engine's limits and metrics.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use pm_common::metrics::Registry;
use pm_promql::engine::{Engine, EngineOptions, QueryOptions, QueryResult, StepStat};
use pm_promql::parse_expr;
use pm_promql::promqltest::{Command, apply_load, parse_script};
use pm_storage::MemStorage;

const DATA: &str = "load 10s
  metricWith1SampleEvery10Seconds 1+1x100
  metricWith3SampleEvery10Seconds{a=\"1\",b=\"1\"} 1+1x100
  metricWith3SampleEvery10Seconds{a=\"2\",b=\"2\"} 1+1x100
  metricWith3SampleEvery10Seconds{a=\"3\",b=\"2\"} 1+1x100
  metricWith1HistogramEvery10Seconds {{schema:1 count:5 sum:20 buckets:[1 2 1 1]}}+{{schema:1 count:10 sum:5 buckets:[1 2 3 4]}}x100
";

fn storage() -> MemStorage {
    let storage = MemStorage::new();
    for cmd in parse_script(DATA).unwrap() {
        if let Command::Load(load) = cmd {
            apply_load(&storage, &load).unwrap();
        }
    }
    storage
}

fn engine() -> Engine {
    Engine::new(EngineOptions {
        enable_per_step_stats: true,
        ..EngineOptions::default()
    })
}

/// Runs `query` as an instant query at `start` (s) when `step` is 0, else as a range query.
fn run(
    engine: &Engine,
    storage: &MemStorage,
    query: &str,
    (start, end, step): (i64, i64, i64),
) -> QueryResult {
    let expr = parse_expr(query, &engine.options().parser).unwrap();
    let opts = QueryOptions {
        per_step_stats: true,
        ..QueryOptions::default()
    };
    let result = if step == 0 {
        engine.instant_with(storage, &expr, query, start * 1000, &opts)
    } else {
        engine.range_with(
            storage,
            &expr,
            query,
            (start * 1000, end * 1000, step * 1000),
            &opts,
        )
    };
    result.unwrap_or_else(|e| panic!("{query}: {e}"))
}

fn values(steps: &[StepStat]) -> Vec<u64> {
    steps.iter().map(|s| s.v).collect()
}

/// Query, (start, end, step) in seconds, total per step, read per step, peak.
type Case = (
    &'static str,
    (i64, i64, i64),
    &'static [u64],
    &'static [u64],
    usize,
);

#[test]
fn sample_counts_match_upstream() {
    let storage = storage();
    let engine = engine();
    let cases: &[Case] = &[
        ("\"literal string\"", (21, 21, 0), &[0], &[0], 0),
        ("1", (21, 21, 0), &[0], &[0], 1),
        (
            "metricWith1SampleEvery10Seconds",
            (21, 21, 0),
            &[1],
            &[1],
            1,
        ),
        (
            "metricWith1HistogramEvery10Seconds",
            (21, 21, 0),
            &[13],
            &[13],
            13,
        ),
        // Upstream's peak is 2 here (input and output both held); ours counts the output only.
        (
            "timestamp(metricWith1SampleEvery10Seconds)",
            (21, 21, 0),
            &[1],
            &[1],
            1,
        ),
        (
            "metricWith1SampleEvery10Seconds @ 15",
            (21, 21, 0),
            &[1],
            &[1],
            1,
        ),
        (
            "metricWith3SampleEvery10Seconds",
            (201, 201, 0),
            &[3],
            &[3],
            3,
        ),
        (
            "metricWith1SampleEvery10Seconds[60s]",
            (201, 201, 0),
            &[6],
            &[6],
            6,
        ),
        (
            "max_over_time(metricWith1SampleEvery10Seconds[60s])[20s:5s]",
            (201, 201, 0),
            &[24],
            &[8],
            10,
        ),
        (
            "max_over_time(metricWith3SampleEvery10Seconds[60s:5s])",
            (201, 201, 0),
            &[36],
            &[36],
            51,
        ),
        (
            "metricWith1SampleEvery10Seconds[60s:5s]",
            (201, 201, 0),
            &[12],
            &[12],
            12,
        ),
        (
            "max_over_time(metricWith3SampleEvery10Seconds{a=\"1\"}[10s])",
            (991, 1021, 10),
            &[1, 1, 0, 0],
            &[1, 1, 0, 0],
            2,
        ),
        (
            "metricWith3SampleEvery10Seconds",
            (201, 220, 5),
            &[3, 3, 3, 3],
            &[3, 3, 3, 3],
            12,
        ),
        (
            "max_over_time(metricWith3SampleEvery10Seconds[60s] @ 30)",
            (201, 220, 5),
            &[12, 12, 12, 12],
            &[12, 0, 0, 0],
            12,
        ),
        (
            "max_over_time(metricWith3SampleEvery10Seconds[60s])",
            (201, 220, 5),
            &[18, 18, 18, 18],
            &[18, 0, 3, 0],
            18,
        ),
        (
            "max_over_time(metricWith3SampleEvery10Seconds[60s:5s])",
            (201, 216, 5),
            &[36, 36, 36, 36],
            &[36, 3, 3, 3],
            69,
        ),
    ];
    let mut wrong = Vec::new();
    for &(query, frame, total, read, peak) in cases {
        let s = run(&engine, &storage, query, frame).stats;
        let got = (
            values(&s.total_queryable_samples_per_step),
            values(&s.samples_read_per_step),
            s.peak_samples,
        );
        let want = (total.to_vec(), read.to_vec(), peak);
        if got != want
            || s.total_queryable_samples != total.iter().sum::<u64>()
            || s.samples_read != read.iter().sum::<u64>()
        {
            wrong.push(format!("{query} {frame:?}: got {got:?}, want {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn per_step_counts_need_the_feature_and_the_request() {
    let storage = storage();
    let query = "metricWith3SampleEvery10Seconds";
    let expr = parse_expr(query, &Default::default()).unwrap();
    let off = Engine::new(EngineOptions::default());
    let asked = QueryOptions {
        per_step_stats: true,
        ..QueryOptions::default()
    };
    let r = off
        .range_with(&storage, &expr, query, (201_000, 220_000, 5_000), &asked)
        .unwrap();
    assert!(r.stats.total_queryable_samples_per_step.is_empty());
    assert_eq!(r.stats.total_queryable_samples, 12);
    let r = engine()
        .range_with(
            &storage,
            &expr,
            query,
            (201_000, 220_000, 5_000),
            &QueryOptions::default(),
        )
        .unwrap();
    assert!(r.stats.samples_read_per_step.is_empty());
    let r = run(&engine(), &storage, query, (201, 220, 5));
    assert_eq!(
        r.stats.total_queryable_samples_per_step[1],
        StepStat { t: 206_000, v: 3 }
    );
    let t = r.stats.timings;
    assert!(t.exec_total >= t.eval_total && t.eval_total >= t.inner_eval);
}

#[test]
fn limits_fail_with_upstream_texts() {
    let storage = storage();
    let small = Engine::new(EngineOptions {
        max_samples: 2,
        ..EngineOptions::default()
    });
    assert_eq!(
        small
            .instant(&storage, "metricWith3SampleEvery10Seconds", 201_000)
            .unwrap_err()
            .to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    let query = "metricWith3SampleEvery10Seconds";
    let expr = parse_expr(query, &Default::default()).unwrap();
    let canceled = AtomicBool::new(true);
    let opts = QueryOptions {
        cancel: Some(&canceled),
        ..QueryOptions::default()
    };
    assert_eq!(
        engine()
            .instant_with(&storage, &expr, query, 201_000, &opts)
            .unwrap_err()
            .to_string(),
        "query was canceled in expression evaluation"
    );
    let opts = QueryOptions {
        timeout: Some(Duration::ZERO),
        ..QueryOptions::default()
    };
    assert_eq!(
        engine()
            .instant_with(&storage, &expr, query, 201_000, &opts)
            .unwrap_err()
            .to_string(),
        "query timed out in expression evaluation"
    );
}

#[test]
fn engine_metrics_are_registered_and_counted() {
    let storage = storage();
    let registry = Registry::new();
    let engine = Engine::with_metrics(
        EngineOptions {
            max_concurrency: Some(7),
            ..EngineOptions::default()
        },
        &registry,
    )
    .unwrap();
    engine
        .range(
            &storage,
            "metricWith3SampleEvery10Seconds",
            201_000,
            220_000,
            5_000,
        )
        .unwrap();
    let families = registry.gather();
    let value = |name: &str| {
        let f = families
            .iter()
            .find(|f| f.name() == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        let m = &f.metric[0];
        m.gauge
            .as_ref()
            .and_then(|g| g.value)
            .or(m.counter.as_ref().and_then(|c| c.value))
            .unwrap()
    };
    assert_eq!(value("prometheus_engine_queries"), 0.0);
    assert_eq!(value("prometheus_engine_queries_concurrent_max"), 7.0);
    assert_eq!(value("prometheus_engine_query_samples_total"), 12.0);
    assert_eq!(value("prometheus_engine_query_samples_read_total"), 12.0);
    // The query log's two metrics belong to whoever owns the log (the server).
    assert!(
        !families
            .iter()
            .any(|f| f.name().starts_with("prometheus_engine_query_log"))
    );
    let durations = families
        .iter()
        .find(|f| f.name() == "prometheus_engine_query_duration_seconds")
        .unwrap();
    let slices: Vec<(&str, u64)> = durations
        .metric
        .iter()
        .map(|m| {
            (
                m.label[0].value(),
                m.summary.as_ref().unwrap().sample_count(),
            )
        })
        .collect();
    // One range query: every phase once.
    assert_eq!(
        slices,
        [
            ("inner_eval", 1),
            ("prepare_time", 1),
            ("queue_time", 1),
            ("result_sort", 1)
        ]
    );
}
