//! Dashboard-style range queries over a deterministic data set, for the comparison with
//! upstream in `scripts/bench/promql.sh`.
//!
//! * `bench_queries openmetrics <file>` writes the data set as OpenMetrics, for upstream's
//!   `promtool tsdb create-blocks-from openmetrics`;
//! * `bench_queries queries` prints the queries, one `name<TAB>query` a line, with the range
//!   (`start end step` in seconds) on the first line;
//! * `bench_queries run <runs>` loads the same samples into `MemStorage` and prints, per query,
//!   the median wall time in milliseconds of `runs` evaluations (after one warm-up).
//!
//! The data: 10 jobs × 50 instances, each with a request counter, a memory gauge and an info
//! series, and a six-bucket classic histogram for 10 instances per job; 3 hours at 15 s
//! (about 1.5 M samples).

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Instant;

use pm_common::model::Labels;
use pm_promql::engine::{Engine, EngineOptions};
use pm_storage::{Appendable, MemStorage, SeriesRef};

const JOBS: usize = 10;
const INSTANCES: usize = 50;
const HISTOGRAM_INSTANCES: usize = 10;
const INTERVAL: i64 = 15_000;
/// 2023-11-14T22:13:20Z: fixed, so runs are comparable.
const START: i64 = 1_700_000_000_000;
const SPAN: i64 = 3 * 3600 * 1000;
const STEP: i64 = 60_000;
const BOUNDS: [&str; 6] = ["0.1", "0.5", "1", "5", "10", "+Inf"];

const QUERIES: [(&str, &str); 20] = [
    ("rate", "rate(http_requests_total[5m])"),
    (
        "sum_rate_by_job",
        "sum by (job) (rate(http_requests_total[5m]))",
    ),
    (
        "histogram_quantile",
        "histogram_quantile(0.9, sum by (job, le) (rate(request_duration_seconds_bucket[5m])))",
    ),
    (
        "topk_rate",
        "topk(5, sum by (instance) (rate(http_requests_total[5m])))",
    ),
    ("avg_gauge", "avg by (job) (process_resident_memory_bytes)"),
    (
        "max_over_time",
        "max_over_time(process_resident_memory_bytes[10m])",
    ),
    (
        "join_info",
        "sum by (version) (rate(http_requests_total[5m]) * on (job, instance) group_left (version) node_info)",
    ),
    (
        "count_filter",
        "count by (job) (process_resident_memory_bytes > 500000000)",
    ),
    ("increase_1h", "sum(increase(http_requests_total[1h]))"),
    (
        "subquery",
        "max_over_time(sum by (job) (rate(http_requests_total[5m]))[30m:1m])",
    ),
    ("irate", "irate(http_requests_total[1m])"),
    ("selector_regex", r#"http_requests_total{job=~"job-[1-3]"}"#),
    (
        "rate_ratio",
        r#"sum by (job) (rate(http_requests_total{instance=~"host-1.*"}[5m])) / sum by (job) (rate(http_requests_total[5m]))"#,
    ),
    (
        "quantile_over_time",
        "quantile_over_time(0.95, process_resident_memory_bytes[15m])",
    ),
    (
        "sum_avg_over_time",
        "sum by (job) (avg_over_time(process_resident_memory_bytes[5m]))",
    ),
    ("deriv", "deriv(process_resident_memory_bytes[10m])"),
    ("count_by_version", "count by (version) (node_info)"),
    (
        "stddev_by_job",
        "stddev by (job) (process_resident_memory_bytes)",
    ),
    ("bottomk_rate", "bottomk(3, rate(http_requests_total[5m]))"),
    (
        "label_replace",
        r#"label_replace(sum by (instance) (rate(http_requests_total[5m])), "host", "$1", "instance", "(.*):.*")"#,
    ),
];

/// One series: labels and its value at sample number `i`.
struct SeriesDef {
    name: &'static str,
    labels: Vec<(&'static str, String)>,
    value: Box<dyn Fn(usize) -> f64>,
}

fn data_set() -> Vec<SeriesDef> {
    let mut out = Vec::new();
    for job in 0..JOBS {
        for inst in 0..INSTANCES {
            let base = vec![
                ("job", format!("job-{job}")),
                ("instance", format!("host-{inst}:9100")),
            ];
            let seed = job * INSTANCES + inst;
            out.push(SeriesDef {
                name: "http_requests_total",
                labels: base.clone(),
                // Increments of 0..12 per scrape, varying by series and time.
                value: Box::new(move |i| {
                    let i = i as f64;
                    i * (6.0 + (seed % 7) as f64) + (i / 3.0).floor()
                }),
            });
            out.push(SeriesDef {
                name: "process_resident_memory_bytes",
                labels: base.clone(),
                value: Box::new(move |i| 3e8 + ((seed * 7919 + i * 104_729) % 4_000) as f64 * 1e5),
            });
            let mut info = base.clone();
            info.push(("version", format!("1.{}", inst % 3)));
            out.push(SeriesDef {
                name: "node_info",
                labels: info,
                value: Box::new(|_| 1.0),
            });
            if inst >= HISTOGRAM_INSTANCES {
                continue;
            }
            for (b, le) in BOUNDS.iter().enumerate() {
                let mut labels = base.clone();
                labels.push(("le", (*le).to_owned()));
                out.push(SeriesDef {
                    name: "request_duration_seconds_bucket",
                    labels,
                    // Cumulative over buckets and time.
                    value: Box::new(move |i| (i * (b + 1) + (i + seed) % 3 * b) as f64),
                });
            }
        }
    }
    out
}

fn samples() -> impl Iterator<Item = (usize, i64)> {
    (0..=(SPAN / INTERVAL) as usize).map(|i| (i, START + i as i64 * INTERVAL))
}

fn write_openmetrics(path: &str) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let defs = data_set();
    let mut names: Vec<&str> = defs.iter().map(|d| d.name).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        writeln!(out, "# TYPE {name} gauge")?;
        for d in defs.iter().filter(|d| d.name == name) {
            let mut sel = String::new();
            for (n, v) in &d.labels {
                let sep = if sel.is_empty() { "" } else { "," };
                write!(sel, "{sep}{n}=\"{v}\"").expect("writing to a String");
            }
            for (i, t) in samples() {
                writeln!(
                    out,
                    "{name}{{{sel}}} {} {}.{:03}",
                    (d.value)(i),
                    t / 1000,
                    t % 1000
                )?;
            }
        }
    }
    writeln!(out, "# EOF")?;
    out.flush()
}

fn load() -> MemStorage {
    let storage = MemStorage::new();
    let mut app = storage.appender();
    for d in data_set() {
        let mut pairs: Vec<(&str, &str)> = vec![("__name__", d.name)];
        pairs.extend(d.labels.iter().map(|(n, v)| (*n, v.as_str())));
        let labels = Labels::from_pairs(pairs);
        let mut r = SeriesRef::UNKNOWN;
        for (i, t) in samples() {
            r = app
                .append(r, &labels, t, (d.value)(i))
                .expect("in-order samples");
        }
    }
    app.commit().expect("commit to memory");
    storage
}

fn median_ms(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (start, end) = (START, START + SPAN);
    match args.get(1).map(String::as_str) {
        Some("openmetrics") => write_openmetrics(args.get(2).ok_or("missing file")?)?,
        Some("queries") => {
            println!("{} {} {}", start / 1000, end / 1000, STEP / 1000);
            for (name, q) in QUERIES {
                println!("{name}\t{q}");
            }
        }
        Some("run") => {
            let runs: usize = args.get(2).map_or(Ok(5), |r| r.parse())?;
            let storage = load();
            let engine = Engine::new(EngineOptions::default());
            for (name, q) in QUERIES {
                engine.range(&storage, q, start, end, STEP)?;
                let times = (0..runs)
                    .map(|_| {
                        let began = Instant::now();
                        let r = engine.range(&storage, q, start, end, STEP);
                        let ms = began.elapsed().as_secs_f64() * 1000.0;
                        r.map(|_| ms)
                    })
                    .collect::<Result<Vec<f64>, _>>()?;
                println!("{name}\t{:.1}", median_ms(times));
            }
        }
        _ => return Err("usage: bench_queries openmetrics <file> | queries | run [runs]".into()),
    }
    Ok(())
}
