//! Scrape-parsing throughput and allocations per sample, for the Prometheus text format and
//! OpenMetrics, over a generated node_exporter-style page of 10,000 series.
//!
//! Two modes: `iterate` walks the entries and reads each sample's raw series text, timestamp
//! and value (the steady state, where the scrape cache hits); `labels` also builds the label
//! set of every sample into one reused `ScratchBuilder` (every series a cache miss).
// A counting global allocator needs `unsafe impl GlobalAlloc`; it only forwards to the system
// allocator, and this bench is its own crate, so the library stays free of unsafe code.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pm_common::expfmt::textparse::{Entry, OpenMetricsParser, Parser, PromParser};
use pm_common::model::ScratchBuilder;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` through `alloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A node_exporter-like page: CPU counters, filesystem and network gauges/counters with
/// several labels, a latency histogram and a summary, in either format. Exactly 10,000
/// samples.
fn page(openmetrics: bool) -> String {
    let mut out = String::new();
    let mut samples = 0;
    let ts = |out: &mut String| {
        if openmetrics {
            out.push_str(" 1726839813.016\n");
        } else {
            out.push('\n');
        }
    };
    let family = |out: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };

    let cpu = if openmetrics {
        "node_cpu_seconds"
    } else {
        "node_cpu_seconds_total"
    };
    family(
        &mut out,
        cpu,
        "counter",
        "Seconds the CPUs spent in each mode.",
    );
    for c in 0..64 {
        for mode in [
            "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
        ] {
            let _ = write!(
                out,
                "node_cpu_seconds_total{{cpu=\"{c}\",mode=\"{mode}\"}} {}.{}",
                c * 1000 + 17,
                c
            );
            ts(&mut out);
            samples += 1;
        }
    }
    for (metric, kind) in [
        ("node_filesystem_avail_bytes", "gauge"),
        ("node_filesystem_size_bytes", "gauge"),
        ("node_filesystem_files_free", "gauge"),
    ] {
        family(&mut out, metric, kind, "Filesystem space in bytes.");
        for i in 0..400 {
            let _ = write!(
                out,
                "{metric}{{device=\"/dev/nvme0n1p{i}\",fstype=\"ext4\",mountpoint=\"/srv/data/volume-{i}\"}} {}",
                1.2345678e11 + i as f64
            );
            ts(&mut out);
            samples += 1;
        }
    }
    for metric in ["node_network_receive_bytes", "node_network_transmit_bytes"] {
        let exposed = if openmetrics {
            metric.to_string()
        } else {
            format!("{metric}_total")
        };
        family(&mut out, &exposed, "counter", "Network device statistic.");
        for i in 0..1000 {
            let _ = write!(
                out,
                "{metric}_total{{device=\"veth{i:05x}\"}} {}",
                987654321 + i
            );
            ts(&mut out);
            samples += 1;
        }
    }
    family(
        &mut out,
        "http_request_duration_seconds",
        "histogram",
        "Request latency.",
    );
    let bounds = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
    ];
    for h in 0..200 {
        let labels = format!("handler=\"/api/v1/h{h}\",method=\"GET\"");
        for (i, le) in bounds.iter().enumerate() {
            let _ = write!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                i * 10
            );
            ts(&mut out);
        }
        let _ = write!(out, "http_request_duration_seconds_sum{{{labels}}} 12.5");
        ts(&mut out);
        let _ = write!(out, "http_request_duration_seconds_count{{{labels}}} 90");
        ts(&mut out);
        samples += bounds.len() + 2;
    }
    family(&mut out, "rpc_duration_seconds", "summary", "RPC latency.");
    while samples < 10_000 {
        let service = samples;
        for q in ["0.5", "0.9", "0.99"] {
            if samples < 10_000 {
                let _ = write!(
                    out,
                    "rpc_duration_seconds{{service=\"s{service}\",quantile=\"{q}\"}} 0.0{}",
                    q.len()
                );
                ts(&mut out);
                samples += 1;
            }
        }
    }
    if openmetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// Parses the whole page; returns the number of samples.
fn run<'a>(mut p: impl Parser<'a>, builder: Option<&mut ScratchBuilder>) -> usize {
    let mut n = 0;
    match builder {
        Some(b) => {
            while let Some(e) = p.next().expect("valid page") {
                if e == Entry::Series {
                    black_box(p.series());
                    p.labels(b);
                    black_box(b.len());
                    n += 1;
                }
            }
        }
        None => {
            while let Some(e) = p.next().expect("valid page") {
                if e == Entry::Series {
                    black_box(p.series());
                    n += 1;
                }
            }
        }
    }
    n
}

#[derive(Clone, Copy)]
enum Format {
    Prometheus,
    OpenMetrics,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Prometheus => "prometheus",
            Format::OpenMetrics => "openmetrics",
        }
    }

    fn parse(self, input: &[u8], builder: Option<&mut ScratchBuilder>) -> usize {
        match self {
            Format::Prometheus => run(PromParser::new(input), builder),
            Format::OpenMetrics => run(OpenMetricsParser::new(input), builder),
        }
    }
}

fn formats() -> [(Format, Vec<u8>); 2] {
    [
        (Format::Prometheus, page(false).into_bytes()),
        (Format::OpenMetrics, page(true).into_bytes()),
    ]
}

/// Allocations per sample of one warm parse (the builder has already grown to size).
fn report_allocations() {
    for (format, input) in formats() {
        let mut builder = ScratchBuilder::new();
        format.parse(&input, Some(&mut builder));
        for (mode, with_labels) in [("iterate", false), ("labels", true)] {
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            let n = format.parse(&input, with_labels.then_some(&mut builder));
            let allocs = ALLOCATIONS.load(Ordering::Relaxed) - before;
            println!(
                "{format}/{mode}: {n} samples, {allocs} allocations, {per_sample:.4} allocations/sample",
                format = format.name(),
                per_sample = allocs as f64 / n as f64,
            );
        }
    }
}

fn bench(c: &mut Criterion) {
    report_allocations();
    let mut group = c.benchmark_group("parse");
    for (format, input) in formats() {
        let samples = format.parse(&input, None);
        assert_eq!(samples, 10_000);
        group.throughput(Throughput::Elements(samples as u64));
        group.bench_function(format!("{}/iterate", format.name()), |b| {
            b.iter(|| format.parse(black_box(&input), None))
        });
        let mut builder = ScratchBuilder::new();
        group.bench_function(format!("{}/labels", format.name()), |b| {
            b.iter(|| format.parse(black_box(&input), Some(&mut builder)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
