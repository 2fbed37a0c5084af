//! Steady-state ingest of one target: a 1,000-series text page parsed and appended to a TSDB
//! with the target's cache hot (every series known), one committed transaction per scrape.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pm_common::metrics::Registry;
use pm_common::model::Labels;
use pm_discovery::TargetGroup;
use pm_prometheus::config::load_str;
use pm_prometheus::scrape::{GroupTargets, ScrapeMetrics, TargetAppender, targets_from_group};
use pm_storage::Appendable;

const SERIES: usize = 1000;

/// A node_exporter-like page: a few families with labels, HELP and TYPE lines.
fn page(round: u64) -> String {
    let mut out = String::new();
    for family in 0..10 {
        out.push_str(&format!(
            "# HELP node_metric_{family}_total Something counted.\n# TYPE node_metric_{family}_total counter\n"
        ));
        for i in 0..SERIES / 10 {
            out.push_str(&format!(
                "node_metric_{family}_total{{cpu=\"{i}\",mode=\"user\"}} {}\n",
                round * 10 + i as u64
            ));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new();
    let db = Arc::new(
        pm_tsdb::db::Db::open(dir.path(), pm_tsdb::db::DbOptions::default(), &registry).unwrap(),
    );
    let cfg = load_str("scrape_configs:\n- job_name: node\n", "bench.yml")
        .unwrap()
        .scrape_configs[0]
        .clone();
    let mut out = GroupTargets::default();
    targets_from_group(
        &cfg,
        &TargetGroup {
            source: "bench".into(),
            targets: vec![Labels::from_pairs([("__address__", "localhost:9100")])],
            labels: Labels::empty(),
        },
        &mut out,
    );
    let target = Arc::new(out.active.pop().unwrap());
    let metrics = Arc::new(ScrapeMetrics::register(&registry).unwrap());
    let mut appender = TargetAppender::new(target, &cfg, metrics);
    let bodies: Vec<String> = (0..16).map(page).collect();
    let mut ts: i64 = 1_700_000_000_000;
    // Warm the cache.
    let mut app = db.appender();
    appender
        .append(
            &mut *app,
            bodies[0].as_bytes(),
            "text/plain; version=0.0.4",
            ts,
        )
        .unwrap();
    app.commit().unwrap();

    let mut group = c.benchmark_group("scrape");
    group.throughput(Throughput::Elements(SERIES as u64));
    let mut round = 0;
    group.bench_function("append_1000_series_text_cache_hot", |b| {
        b.iter(|| {
            round += 1;
            ts += 15_000;
            let body = &bodies[round % bodies.len()];
            let mut app = db.appender();
            let stats = appender
                .append(
                    &mut *app,
                    black_box(body.as_bytes()),
                    "text/plain; version=0.0.4",
                    ts,
                )
                .unwrap();
            app.commit().unwrap();
            black_box(stats)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
