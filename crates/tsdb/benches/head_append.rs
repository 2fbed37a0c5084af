//! Head benchmarks: append throughput with and without cached series references (criterion),
//! then head memory per series and WAL replay time (measured once per run and printed, since
//! they are sizes and one-off costs rather than per-iteration figures).
//!
//! `cargo bench --workspace --bench head_append`; `PM_BENCH_SERIES` and
//! `PM_BENCH_REPLAY_SERIES` scale the memory and replay runs (default 1,000,000 and 100,000
//! series); `PM_BENCH_SAMPLES` and `PM_BENCH_CHUNK_FILES` are described at
//! `memory_per_series`; `PM_BENCH_ONLY_MEMORY=1` stops after the memory figure;
//! `PM_BENCH_ONLY_REPLAY=1` runs only the replay (its variables are described at `wal_replay`).

use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group};
use pm_common::model::Labels;
use pm_storage::{Appender, SeriesRef};
use pm_tsdb::head::{Head, HeadOptions};

const BATCH: usize = 1000;

fn labels(n: usize) -> Vec<Labels> {
    (0..n)
        .map(|i| {
            Labels::from_pairs([
                ("__name__", "bench_metric_total"),
                ("instance", &format!("host-{}:9100", i % 100)),
                ("job", "node"),
                ("series", &i.to_string()),
            ])
        })
        .collect()
}

fn append(c: &mut Criterion) {
    let lbls = labels(BATCH);
    let mut g = c.benchmark_group("head_append");
    g.throughput(Throughput::Elements(BATCH as u64));
    for with_refs in [true, false] {
        let head = Head::in_memory(HeadOptions::default());
        let mut refs = vec![SeriesRef::UNKNOWN; BATCH];
        let mut t = 0i64;
        let name = if with_refs {
            "with_refs"
        } else {
            "without_refs"
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                t += 15_000;
                let mut app = head.appender();
                for (i, l) in lbls.iter().enumerate() {
                    let r = if with_refs {
                        refs[i]
                    } else {
                        SeriesRef::UNKNOWN
                    };
                    refs[i] = app.append(r, l, t, t as f64).unwrap();
                }
                Box::new(app).commit().unwrap();
            })
        });
    }
    g.finish();
}

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn scale(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Resident bytes per series after `PM_BENCH_SAMPLES` samples each (default 1: labels,
/// index, open chunk), 15s apart. With `PM_BENCH_CHUNK_FILES=1` the head has a directory, so
/// its full chunks go to `chunks_head/` instead of staying in memory. One mode per process:
/// memory freed by one run would hide the next one's growth.
fn memory_per_series() {
    let n = scale("PM_BENCH_SERIES", 1_000_000);
    let samples = scale("PM_BENCH_SAMPLES", 1) as i64;
    let files = scale("PM_BENCH_CHUNK_FILES", 0) == 1;
    let lbls = labels(n);
    let dir = tempfile::tempdir().unwrap();
    let before = rss_bytes();
    let head = if files {
        Head::open(dir.path(), HeadOptions::default()).unwrap().0
    } else {
        Head::in_memory(HeadOptions::default())
    };
    let mut refs = vec![SeriesRef::UNKNOWN; n];
    for s in 0..samples {
        for (ls, rs) in lbls.chunks(10_000).zip(refs.chunks_mut(10_000)) {
            let mut app = head.appender();
            for (l, r) in ls.iter().zip(rs.iter_mut()) {
                *r = app.append(*r, l, 1000 + s * 15_000, s as f64).unwrap();
            }
            Box::new(app).commit().unwrap();
        }
    }
    let after = rss_bytes();
    println!(
        "head memory: {n} series x {samples} samples, chunk files {}: {:.0} bytes/series (RSS delta, labels included)",
        if files { "on" } else { "off" },
        (after - before) as f64 / n as f64
    );
}

/// Replay of a WAL holding `n` series with 120 samples each (15 s apart, one commit per
/// scrape). `PM_BENCH_REPLAY_DIR` names a data directory to use and keep (its WAL is written
/// only when missing, so upstream's `prometheus` can replay the same one), and
/// `PM_BENCH_REPLAY_RUNS` the number of timed opens (default 3; 0 only writes the WAL), and
/// `PM_BENCH_REPLAY_COMMIT` how many series one commit (one samples record) holds (default:
/// all of them; a server's scrape commits hold one target's series).
fn wal_replay() {
    let n = scale("PM_BENCH_REPLAY_SERIES", 100_000);
    let runs = scale("PM_BENCH_REPLAY_RUNS", 3);
    let per_commit = scale("PM_BENCH_REPLAY_COMMIT", n).max(1);
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("PM_BENCH_REPLAY_DIR")
        .map_or_else(|| tmp.path().to_owned(), std::path::PathBuf::from);
    if !dir.join("wal").exists() {
        let (head, _) = Head::open(&dir, HeadOptions::default()).unwrap();
        let lbls = labels(n);
        let mut refs = vec![SeriesRef::UNKNOWN; n];
        for s in 0..120i64 {
            for (ls, rs) in lbls.chunks(per_commit).zip(refs.chunks_mut(per_commit)) {
                let mut app = head.appender();
                for (l, r) in ls.iter().zip(rs.iter_mut()) {
                    *r = app.append(*r, l, s * 15_000, s as f64).unwrap();
                }
                Box::new(app).commit().unwrap();
            }
        }
        head.close().unwrap();
    }
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let (head, stats) = Head::open(&dir, HeadOptions::default()).unwrap();
        let took = start.elapsed();
        println!("WAL replay run: {took:.2?}");
        times.push(took);
        assert_eq!(stats.samples, n as u64 * 120);
        drop(head);
    }
    times.sort();
    if let Some(median) = times.get(times.len() / 2) {
        println!("WAL replay: {n} series x 120 samples in {median:.2?} (median of {runs})");
    }
}

criterion_group!(benches, append);

fn main() {
    if scale("PM_BENCH_ONLY_REPLAY", 0) == 1 {
        wal_replay();
        return;
    }
    memory_per_series();
    if scale("PM_BENCH_ONLY_MEMORY", 0) == 1 {
        return;
    }
    wal_replay();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
