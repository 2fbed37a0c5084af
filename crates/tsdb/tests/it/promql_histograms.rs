//! PromQL over our TSDB gives what it gives over the in-memory reference storage for native
//! histograms, whether the samples come from the head, from blocks, or from both.

use pm_common::metrics::Registry;
use pm_common::model::{Histogram, Labels, Span};
use pm_promql::engine::{Engine, EngineOptions};
use pm_storage::{Appendable, MemStorage, Queryable, SeriesRef};
use pm_tsdb::db::{Db, DbOptions};

const MINUTE: i64 = 60_000;

/// Request-duration histograms of two instances, scraped every 15s for 12h; instance b
/// restarts (a counter reset) after 7h and gains finer buckets over time.
fn samples() -> Vec<(Labels, i64, Histogram)> {
    let mut out = Vec::new();
    for inst in ["a", "b"] {
        let labels = Labels::from_pairs([("__name__", "req_duration_seconds"), ("instance", inst)]);
        let mut counts = [0u64; 6];
        for i in 0..12 * 60 * 4i64 {
            if inst == "b" && i == 7 * 60 * 4 {
                counts = [0; 6];
            }
            let n = if inst == "b" {
                4 + (i as usize / 1000).min(2)
            } else {
                4
            };
            for (j, c) in counts.iter_mut().enumerate().take(n) {
                *c += ((i as u64 * 31 + j as u64 * 17) % 7) + j as u64;
            }
            let mut prev = 0i64;
            let deltas = counts[..n]
                .iter()
                .map(|&c| {
                    let d = c as i64 - prev;
                    prev = c as i64;
                    d
                })
                .collect();
            let total: u64 = counts[..n].iter().sum();
            out.push((
                labels.clone(),
                i * 15_000,
                Histogram {
                    schema: 0,
                    zero_threshold: 0.001,
                    count: total,
                    sum: total as f64 * 0.37,
                    positive_spans: vec![Span {
                        offset: -2,
                        length: n as u32,
                    }],
                    positive_deltas: deltas,
                    ..Histogram::default()
                },
            ));
        }
    }
    out
}

fn load(storage: &dyn Appendable) {
    let mut app = storage.appender();
    for (l, t, h) in samples() {
        app.append_histogram(SeriesRef::UNKNOWN, &l, t, Some(&h), None)
            .unwrap();
    }
    app.commit().unwrap();
}

fn run(q: &dyn Queryable, query: &str) -> String {
    let engine = Engine::new(EngineOptions::default());
    let r = engine
        .range(q, query, 30 * MINUTE, 12 * 60 * MINUTE - MINUTE, 5 * MINUTE)
        .unwrap();
    format!("{:?} {:?}", r.value, r.warnings)
}

#[test]
fn histogram_queries_match_the_reference_storage() {
    let mem = MemStorage::new();
    load(&mem);
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        retention_duration: 0,
        ..DbOptions::default()
    };
    let db = Db::open(dir.path(), opts, &Registry::new()).unwrap();
    load(&db);
    let queries = [
        "histogram_quantile(0.9, rate(req_duration_seconds[5m]))",
        "histogram_quantile(0.5, sum(rate(req_duration_seconds[10m])))",
        "histogram_count(increase(req_duration_seconds[1h]))",
        "resets(req_duration_seconds[1h])",
    ];
    let want: Vec<String> = queries.iter().map(|q| run(&mem, q)).collect();
    assert!(want.iter().all(|w| w.contains("FPoint")), "{want:?}");
    for (q, w) in queries.iter().zip(&want) {
        assert_eq!(&run(&db, q), w, "{q} over the head");
    }
    db.compact().unwrap();
    assert!(!db.blocks().is_empty());
    for (q, w) in queries.iter().zip(&want) {
        assert_eq!(&run(&db, q), w, "{q} over blocks and the head");
    }
    db.close().unwrap();
}
