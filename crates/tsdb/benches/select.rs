//! Select latency over the head for matchers of different selectivity: postings lookups,
//! set and prefix regex matchers, and a negative matcher that selects every series.
//!
//! `cargo bench --workspace --bench select`; `PM_BENCH_SERIES` sets the head's size (default
//! 100,000 series of one sample each).

use criterion::{Criterion, criterion_group, criterion_main};
use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::{ChunkQueryable, SeriesRef};
use pm_tsdb::head::{Head, HeadOptions};

fn head(n: usize) -> Head {
    let head = Head::in_memory(HeadOptions {
        wal: None,
        ..HeadOptions::default()
    });
    let mut app = head.appender();
    for i in 0..n {
        let l = Labels::from_pairs([
            ("__name__", format!("metric_{}", i % 10)),
            ("instance", format!("host-{}:9100", i % 1000)),
            ("job", "node".to_owned()),
            ("series", i.to_string()),
        ]);
        pm_storage::Appender::append(&mut app, SeriesRef::UNKNOWN, &l, 1000, 1.0).unwrap();
    }
    pm_storage::Appender::commit(Box::new(app)).unwrap();
    head
}

fn m(t: MatchType, name: &str, value: &str) -> Matcher {
    Matcher::new(t, name, value).unwrap()
}

fn select(c: &mut Criterion) {
    let n = std::env::var("PM_BENCH_SERIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let head = head(n);
    let cases = [
        // 10 % of the series.
        ("name_eq", vec![m(MatchType::Equal, "__name__", "metric_3")]),
        // 0.3 %: a set matcher resolved as three postings lists.
        (
            "set_regex",
            vec![m(
                MatchType::Regexp,
                "instance",
                "host-1:9100|host-2:9100|host-3:9100",
            )],
        ),
        // 11 %: a prefix regex over 1,000 label values.
        (
            "prefix_regex",
            vec![m(MatchType::Regexp, "instance", "host-1.*")],
        ),
        // Every series: a negative matcher on a label all of them have.
        ("not_empty", vec![m(MatchType::NotEqual, "job", "")]),
    ];
    let mut g = c.benchmark_group("head_select");
    for (name, matchers) in cases {
        g.bench_function(name, |b| {
            b.iter(|| {
                let q = head.chunk_querier(i64::MIN, i64::MAX).unwrap();
                let mut set = q.select(false, None, &matchers);
                let mut count = 0usize;
                while set.next().is_some() {
                    count += 1;
                }
                assert!(count > 0);
                count
            })
        });
    }
    g.finish();
}

criterion_group!(benches, select);
criterion_main!(benches);
