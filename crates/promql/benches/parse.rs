//! Parse and print throughput on queries typical of dashboards and alerting rules.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pm_promql::parser::{ParserOptions, parse_expr};

const QUERIES: &[(&str, &str)] = &[
    ("selector", r#"http_requests_total{job="api",code=~"5.."}"#),
    (
        "rate_sum",
        r#"sum by (job, instance) (rate(http_requests_total{job="api"}[5m]))"#,
    ),
    (
        "ratio_alert",
        r#"sum without (code) (rate(http_requests_total{code=~"5.."}[5m])) / on (job) group_left (team) sum without (code) (rate(http_requests_total[5m])) > bool 0.05"#,
    ),
    (
        "histogram_quantile",
        r#"histogram_quantile(0.99, sum by (le, job) (rate(request_duration_seconds_bucket{job=~"api|web"}[5m] offset 1h)))"#,
    ),
    (
        "subquery",
        r#"max_over_time(deriv(rate(node_cpu_seconds_total{mode!="idle"}[1m])[30m:1m])[1h:5m] @ end())"#,
    ),
];

fn bench(c: &mut Criterion) {
    let opts = ParserOptions::all();
    let mut parse = c.benchmark_group("parse");
    for (name, q) in QUERIES {
        parse.bench_function(*name, |b| {
            b.iter(|| parse_expr(black_box(q), &opts).unwrap())
        });
    }
    parse.finish();
    let mut print = c.benchmark_group("print");
    for (name, q) in QUERIES {
        let expr = parse_expr(q, &opts).unwrap();
        print.bench_function(*name, |b| b.iter(|| black_box(&expr).to_string()));
    }
    print.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
