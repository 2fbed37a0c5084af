//! The sample paths PromQL leans on: reading a series through `fill` windows, and merging
//! overlapping series (several blocks, or local plus remote data) with the chain iterator.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pm_common::model::{Labels, Sample};
use pm_storage::merge::ChainIterator;
use pm_storage::{HistogramSample, ListSeries, SampleIterator, Series, ValueType};

const SAMPLES: i64 = 100_000;
const SCRAPE_MS: i64 = 15_000;

fn series(offset: i64, step: i64) -> ListSeries {
    ListSeries::from_floats(
        Labels::from_pairs([("__name__", "up")]),
        (0..SAMPLES).map(|i| (offset + i * step, i as f64)),
    )
}

fn bench_fill(c: &mut Criterion) {
    let s = series(0, SCRAPE_MS);
    let mut g = c.benchmark_group("fill");
    g.throughput(Throughput::Elements(SAMPLES as u64));
    // A range query of `rate(x[5m])` stepping by 1m, evaluated as PromQL does: the window's
    // samples are kept, old ones dropped from the front, new ones appended by `fill`.
    g.bench_function("5m_windows_1m_step", |b| {
        let (mut floats, mut hs): (Vec<Sample>, Vec<HistogramSample>) = (Vec::new(), Vec::new());
        b.iter(|| {
            let mut it = s.iter();
            let mut n = 0;
            let mut t = 0;
            let mut filled_to = i64::MIN;
            while t < SAMPLES * SCRAPE_MS {
                let mint = t - 300_000 + 1;
                let keep_from = floats.partition_point(|x| x.t < mint);
                floats.drain(..keep_from);
                it.fill(mint.max(filled_to + 1), t, &mut floats, &mut hs);
                filled_to = t;
                n += floats.len();
                t += 60_000;
            }
            black_box(n)
        })
    });
    g.finish();
}

fn bench_chain(c: &mut Criterion) {
    // Two copies of the same data, as from overlapping blocks or local plus remote storage,
    // and a third series interleaving with them.
    let parts = [
        series(0, SCRAPE_MS),
        series(0, SCRAPE_MS),
        series(7_000, SCRAPE_MS),
    ];
    let mut g = c.benchmark_group("chain");
    g.throughput(Throughput::Elements(3 * SAMPLES as u64));
    g.bench_function("next_3_series", |b| {
        b.iter(|| {
            let mut it = ChainIterator::new(parts.iter().map(|p| p.iter()).collect());
            let mut sum = 0.0;
            while it.next() == ValueType::Float {
                sum += it.at().1;
            }
            black_box(sum)
        })
    });
    // Three blocks' worth of one series, back to back: the common shape of a query spanning
    // several TSDB blocks.
    let blocks = [
        series(0, SCRAPE_MS),
        series(SAMPLES * SCRAPE_MS, SCRAPE_MS),
        series(2 * SAMPLES * SCRAPE_MS, SCRAPE_MS),
    ];
    g.bench_function("next_3_disjoint_blocks", |b| {
        b.iter(|| {
            let mut it = ChainIterator::new(blocks.iter().map(|p| p.iter()).collect());
            let mut sum = 0.0;
            while it.next() == ValueType::Float {
                sum += it.at().1;
            }
            black_box(sum)
        })
    });
    g.finish();
}

criterion_group!(benches, bench_fill, bench_chain);
criterion_main!(benches);
