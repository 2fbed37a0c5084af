//! Engine throughput over the synthetic data set in `MemStorage`: 10,000 series (5,000
//! counters for 20 jobs × 250 instances plus one info-style series per instance) and a six-bucket
//! classic histogram for 10 instances of every job (1,200 more), one day at a 15 s interval
//! (64.5 M samples), evaluated as one-day range queries at a 1 m step and as instant subqueries.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pm_common::model::Labels;
use pm_promql::engine::{Engine, EngineOptions};
use pm_storage::{Appendable, MemStorage, SeriesRef};

const JOBS: usize = 20;
const INSTANCES: usize = 250;
const INTERVAL: i64 = 15_000;
const SPAN: i64 = 24 * 3600 * 1000;
/// `le` bounds of the synthetic request-duration histogram.
const BOUNDS: [&str; 6] = ["0.1", "0.5", "1", "5", "10", "+Inf"];

fn storage() -> MemStorage {
    let storage = MemStorage::new();
    let mut app = storage.appender();
    for job in 0..JOBS {
        for instance in 0..INSTANCES {
            let job_name = format!("job-{job}");
            let inst = format!("host-{instance}:9100");
            let counter = Labels::from_pairs([
                ("__name__", "http_requests_total"),
                ("job", job_name.as_str()),
                ("instance", inst.as_str()),
            ]);
            let mut r = SeriesRef::UNKNOWN;
            let mut v = 0.0;
            for (i, t) in (0..=SPAN).step_by(INTERVAL as usize).enumerate() {
                v += ((i * 7 + instance) % 13) as f64;
                r = app.append(r, &counter, t, v).unwrap();
            }
            let info = Labels::from_pairs([
                ("__name__", "node_info"),
                ("job", job_name.as_str()),
                ("instance", inst.as_str()),
                ("version", "1.0"),
            ]);
            let mut r = SeriesRef::UNKNOWN;
            for t in (0..=SPAN).step_by(INTERVAL as usize) {
                r = app.append(r, &info, t, 1.0).unwrap();
            }
            if instance >= 10 {
                continue;
            }
            for (b, le) in BOUNDS.iter().enumerate() {
                let bucket = Labels::from_pairs([
                    ("__name__", "request_duration_seconds_bucket"),
                    ("job", job_name.as_str()),
                    ("instance", inst.as_str()),
                    ("le", le),
                ]);
                let mut r = SeriesRef::UNKNOWN;
                let mut v = 0.0;
                for (i, t) in (0..=SPAN).step_by(INTERVAL as usize).enumerate() {
                    // Cumulative: every bucket holds at least what the one below holds.
                    v += ((i + instance) % 3 + b) as f64;
                    r = app.append(r, &bucket, t, v).unwrap();
                }
            }
        }
    }
    app.commit().unwrap();
    storage
}

fn bench(c: &mut Criterion) {
    let storage = storage();
    let engine = Engine::new(EngineOptions::default());
    let mut range = c.benchmark_group("engine_range_1d_1m");
    range.sample_size(10);
    for (name, query) in [
        ("selector", "http_requests_total"),
        ("rate_5m", "rate(http_requests_total[5m])"),
        (
            "histogram_quantile",
            "histogram_quantile(0.9, sum by (job, le) (rate(request_duration_seconds_bucket[5m])))",
        ),
        ("sum_by", "sum by (job) (http_requests_total)"),
        ("topk", "topk(5, http_requests_total)"),
        (
            "binary_join",
            "http_requests_total * on (job, instance) group_left (version) node_info",
        ),
    ] {
        range.bench_function(name, |b| {
            b.iter(|| {
                let r = engine.range(&storage, black_box(query), 0, SPAN, 60_000);
                black_box(r.unwrap())
            })
        });
    }
    range.finish();
    let mut instant = c.benchmark_group("engine_instant");
    instant.sample_size(10);
    instant.bench_function("subquery_1h_1m", |b| {
        b.iter(|| {
            let r = engine.instant(
                &storage,
                black_box("sum by (job) (http_requests_total)[1h:1m]"),
                SPAN,
            );
            black_box(r.unwrap())
        })
    });
    instant.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
