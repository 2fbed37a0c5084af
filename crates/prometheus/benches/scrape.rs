//! Steady-state ingest of one target: a 1,000-series text page parsed and appended to a TSDB
//! with the target's cache hot (every series known), one committed transaction per scrape.
//!
//! `PM_BENCH_SCRAPES=N` runs exactly N scrapes after the warm-up instead of the criterion
//! benchmark, so that an instruction count is deterministic:
//! `PM_BENCH_SCRAPES=200 valgrind --tool=callgrind --collect-atstart=no
//! --toggle-collect='*steady_scrapes*' <bench binary>` counts those scrapes only.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput};
use pm_common::metrics::Registry;
use pm_common::model::Labels;
use pm_discovery::TargetGroup;
use pm_prometheus::config::load_str;
use pm_prometheus::scrape::{
    AppendStats, GroupTargets, ScrapeMetrics, TargetAppender, targets_from_group,
};
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

/// One target appending to a fresh TSDB, its cache warmed by a first scrape.
struct Fixture {
    db: pm_tsdb::db::Db,
    appender: TargetAppender,
    bodies: Vec<String>,
    round: usize,
    ts: i64,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::new();
        let db = pm_tsdb::db::Db::open(dir.path(), pm_tsdb::db::DbOptions::default(), &registry)
            .unwrap();
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
        let mut fixture = Fixture {
            db,
            appender: TargetAppender::new(target, &cfg, metrics),
            bodies: (0..16).map(page).collect(),
            round: 0,
            ts: 1_700_000_000_000,
            _dir: dir,
        };
        fixture.scrape();
        fixture
    }

    /// One scrape of the next page, 15 s after the previous one, committed.
    fn scrape(&mut self) -> AppendStats {
        self.round += 1;
        self.ts += 15_000;
        let body = &self.bodies[self.round % self.bodies.len()];
        let mut app = self.db.appender();
        let stats = self
            .appender
            .append(
                &mut *app,
                black_box(body.as_bytes()),
                "text/plain; version=0.0.4",
                self.ts,
            )
            .unwrap();
        app.commit().unwrap();
        stats
    }
}

#[inline(never)]
fn steady_scrapes(fixture: &mut Fixture, n: usize) {
    for _ in 0..n {
        black_box(fixture.scrape());
    }
}

fn main() {
    let mut fixture = Fixture::new();
    if let Ok(n) = std::env::var("PM_BENCH_SCRAPES") {
        let n: usize = n.parse().expect("PM_BENCH_SCRAPES is a number of scrapes");
        steady_scrapes(&mut fixture, n);
        println!("{n} scrapes of {SERIES} series");
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("scrape");
    group.throughput(Throughput::Elements(SERIES as u64));
    group.bench_function("append_1000_series_text_cache_hot", |b| {
        b.iter(|| fixture.scrape())
    });
    group.finish();
    c.final_summary();
}
