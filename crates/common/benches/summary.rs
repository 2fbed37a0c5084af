//! A summary's observations: client_golang's quantile streams, one per age bucket, each
//! taking every value (the Alertmanager observes one per ingested alert).
//!
//! `cargo bench -p pm-common --bench summary`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use pm_common::metrics::{Objective, Summary, SummaryWindow, objective};

/// Upstream Alertmanager's objectives for its alert processing duration.
const OBJECTIVES: [Objective; 3] = [
    objective(0.5, 0.05),
    objective(0.9, 0.01),
    objective(0.99, 0.001),
];

/// Durations in seconds, in no order (a fixed pseudo-random sequence).
fn values(n: usize) -> Vec<f64> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 40) as f64 * 1e-9
        })
        .collect()
}

fn observe(c: &mut Criterion) {
    let objectives: Arc<[Objective]> = OBJECTIVES.into();
    let values = values(10_000);
    let mut group = c.benchmark_group("summary");
    group.bench_function("observe_10000", |b| {
        b.iter(|| {
            let s = Summary::with_window(&objectives, SummaryWindow::default());
            for &v in &values {
                s.observe(black_box(v));
            }
            s
        });
    });
    group.bench_function("observe_all_100x100", |b| {
        b.iter(|| {
            let s = Summary::with_window(&objectives, SummaryWindow::default());
            for batch in values.chunks(100) {
                s.observe_all(batch.iter().copied());
            }
            s
        });
    });
    group.finish();
}

criterion_group!(benches, observe);
criterion_main!(benches);
