//! XOR chunk throughput on upstream's typical 120-sample chunks, and the compression achieved on
//! realistic series (15 s scrapes of a slowly changing gauge and of a counter).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pm_tsdb::chunkenc::{ValueType, XorChunk};

const SAMPLES: usize = 120;

/// Jittered 15 s scrape timestamps with values from `value(i)`.
fn scrape_series(value: impl Fn(usize) -> f64) -> Vec<(i64, f64)> {
    let start = 1_700_000_000_000i64;
    (0..SAMPLES)
        .map(|i| {
            let jitter = ((i * 7919) % 13) as i64 - 6;
            (start + i as i64 * 15_000 + jitter, value(i))
        })
        .collect()
}

fn gauge() -> Vec<(i64, f64)> {
    // A temperature-like reading with 0.1 resolution.
    scrape_series(|i| ((200.0 + ((i as f64) / 17.0).sin() * 25.0).round()) / 10.0)
}

fn counter() -> Vec<(i64, f64)> {
    scrape_series(|i| (1_000_000 + i * 37 + (i * i) % 11) as f64)
}

fn encode(samples: &[(i64, f64)]) -> XorChunk {
    let mut chunk = XorChunk::new();
    let mut app = chunk.appender().expect("new chunk");
    for &(t, v) in samples {
        app.append(t, v).expect("increasing timestamps");
    }
    chunk
}

fn bench(c: &mut Criterion) {
    for (name, samples) in [("gauge", gauge()), ("counter", counter())] {
        let chunk = encode(&samples);
        println!(
            "{name}: {} bytes for {SAMPLES} samples = {:.2} bytes/sample",
            chunk.bytes().len(),
            chunk.bytes().len() as f64 / SAMPLES as f64
        );
        let mut group = c.benchmark_group(format!("xor_{name}"));
        group.throughput(Throughput::Elements(SAMPLES as u64));
        group.bench_function("append_120", |b| b.iter(|| encode(black_box(&samples))));
        group.bench_function("iterate_120", |b| {
            b.iter(|| {
                let mut it = black_box(&chunk).iter();
                let mut sum = 0.0;
                while it.next_value() == ValueType::Float {
                    sum += it.at().1;
                }
                sum
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
