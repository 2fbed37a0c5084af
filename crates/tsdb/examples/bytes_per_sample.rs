//! Bytes per sample on disk for a realistic data set, written through `Db` (head → level-1
//! blocks → compaction), plus the same samples as OpenMetrics for
//! `promtool tsdb create-blocks-from openmetrics`, so upstream's blocks can be measured too
//! (`scripts/bench/tsdb-bytes-per-sample.sh` runs both).
//!
//! `cargo run --example bytes_per_sample -- <out dir> <series> <hours> [entropy|typical]` (built
//! with `--workspace`); the profiles are described at [`Profile`].

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use pm_common::metrics::Registry;
use pm_common::model::Labels;
use pm_storage::{Appendable, SeriesRef};
use pm_tsdb::db::{Db, DbOptions};

const SCRAPE_MS: i64 = 15_000;

/// A deterministic xorshift generator: the data set must be the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Which data set to generate.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    /// Deliberately high-entropy: random counter increments, two-decimal random-walk gauges,
    /// ±2 ms jitter on a fifth of the scrapes. A worst case for XOR chunks, not typical data.
    Entropy,
    /// Shaped like a node_exporter scrape: mostly constant series and integer counters that
    /// rise by a steady amount, gauges with a handful of values, a tenth of float counters
    /// (CPU seconds), and jitter on 1% of the scrapes.
    Typical,
}

/// What a series looks like.
#[derive(Clone, Copy)]
enum Kind {
    /// Request-like counters: +0..200 per scrape.
    BusyCounter,
    /// Error-like counters: mostly flat, sometimes +1.
    QuietCounter,
    /// Gauges with two decimals, random walk (temperatures, load, ratios).
    Gauge,
    /// `up`, info metrics, configuration values, sizes of filesystems.
    Constant,
    /// Integer counters rising by a per-series step each scrape, one more on a tenth of the
    /// scrapes (packets, interrupts, context switches at a steady rate).
    SteadyCounter,
    /// Gauges moving between a few small integers (processes running, open connections).
    SmallGauge,
    /// Float counters of seconds (CPU time): +15 s × a busy fraction with 0.01 s resolution.
    SecondsCounter,
}

impl Kind {
    fn of(profile: Profile, i: usize) -> Kind {
        match profile {
            Profile::Entropy => match i % 10 {
                0..=3 => Kind::BusyCounter,
                4 => Kind::QuietCounter,
                5..=7 => Kind::Gauge,
                _ => Kind::Constant,
            },
            Profile::Typical => match i % 20 {
                0..=7 => Kind::Constant,
                8..=11 => Kind::SteadyCounter,
                12..=14 => Kind::QuietCounter,
                15..=17 => Kind::SmallGauge,
                _ => Kind::SecondsCounter,
            },
        }
    }

    const ALL: [Kind; 7] = [
        Kind::BusyCounter,
        Kind::QuietCounter,
        Kind::Gauge,
        Kind::Constant,
        Kind::SteadyCounter,
        Kind::SmallGauge,
        Kind::SecondsCounter,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::BusyCounter => "bench_requests",
            Kind::QuietCounter => "bench_errors",
            Kind::Gauge => "bench_temperature",
            Kind::Constant => "bench_up",
            Kind::SteadyCounter => "bench_packets",
            Kind::SmallGauge => "bench_procs_running",
            Kind::SecondsCounter => "bench_cpu_seconds",
        }
    }

    /// The first value; `i` varies it between series.
    fn start(self, i: usize) -> f64 {
        match self {
            Kind::Gauge => 40.0,
            Kind::SteadyCounter => (i * 7919) as f64,
            Kind::SmallGauge => 2.0,
            Kind::SecondsCounter => (i * 1000) as f64 + 0.25,
            Kind::BusyCounter | Kind::QuietCounter | Kind::Constant => 1.0,
        }
    }

    fn step(self, i: usize, v: f64, rng: &mut Rng) -> f64 {
        match self {
            Kind::BusyCounter => v + rng.below(200) as f64,
            Kind::QuietCounter => v + f64::from(rng.below(20) == 0),
            Kind::Gauge => ((v * 100.0).round() + rng.below(101) as f64 - 50.0) / 100.0,
            Kind::Constant => v,
            Kind::SteadyCounter => v + (i % 50 + 1) as f64 + f64::from(rng.below(10) == 0),
            Kind::SmallGauge if rng.below(10) == 0 => (rng.below(5) + 1) as f64,
            Kind::SmallGauge => v,
            Kind::SecondsCounter => {
                let busy = (i % 4) as f64 * 0.25;
                ((v + 15.0 * busy) * 100.0 + rng.below(3) as f64).round() / 100.0
            }
        }
    }
}

type Series = (Labels, Vec<(i64, f64)>);

fn data(profile: Profile, series: usize, hours: i64) -> Vec<Series> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let scrapes = hours * 3600 * 1000 / SCRAPE_MS;
    // One scrape in five (entropy) or a hundred (typical) is a few milliseconds late or early.
    let jitter_one_in = match profile {
        Profile::Entropy => 5,
        Profile::Typical => 100,
    };
    (0..series)
        .map(|i| {
            let kind = Kind::of(profile, i);
            let labels = Labels::from_pairs([
                ("__name__", kind.name().to_owned()),
                ("instance", format!("host-{:03}:9100", i / 10)),
                ("job", "node".to_owned()),
                ("series", i.to_string()),
            ]);
            // Each target is scraped at its own offset (from 1s, so that jitter keeps timestamps
            // positive), with a few milliseconds of jitter.
            let offset = 1_000 + (i / 10) as i64 * 37 % (SCRAPE_MS - 1_000);
            let mut v = kind.start(i);
            let samples = (0..scrapes)
                .map(|s| {
                    let jitter = if rng.below(jitter_one_in) == 0 {
                        rng.below(5) as i64 - 2
                    } else {
                        0
                    };
                    v = kind.step(i, v, &mut rng);
                    (offset + s * SCRAPE_MS + jitter, v)
                })
                .collect();
            (labels, samples)
        })
        .collect()
}

fn write_openmetrics(path: &Path, data: &[Series]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for kind in Kind::ALL {
        writeln!(out, "# TYPE {} gauge", kind.name())?;
        for (labels, samples) in data
            .iter()
            .filter(|s| s.0.get("__name__") == Some(kind.name()))
        {
            let mut sel = String::new();
            for l in labels.without_metric_name().iter() {
                let sep = if sel.is_empty() { "" } else { "," };
                write!(sel, "{sep}{}=\"{}\"", l.name, l.value).expect("writing to a String");
            }
            for (t, v) in samples {
                writeln!(
                    out,
                    "{}{{{sel}}} {v} {}.{:03}",
                    kind.name(),
                    t / 1000,
                    t % 1000
                )?;
            }
        }
    }
    writeln!(out, "# EOF")?;
    out.flush()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: bytes_per_sample <out dir> <series> <hours> [entropy|typical]";
    let (out, series, hours, profile) = match &args[..] {
        [_, out, series, hours] => (out, series, hours, Profile::Entropy),
        [_, out, series, hours, p] => match p.as_str() {
            "entropy" => (out, series, hours, Profile::Entropy),
            "typical" => (out, series, hours, Profile::Typical),
            _ => return Err(usage.into()),
        },
        _ => return Err(usage.into()),
    };
    let (out, series, hours) = (Path::new(out), series.parse()?, hours.parse()?);
    let data = data(profile, series, hours);
    std::fs::create_dir_all(out)?;
    write_openmetrics(&out.join("input.om"), &data)?;

    let opts = DbOptions {
        retention_duration: 0,
        ..DbOptions::default()
    };
    let db = Db::open(out.join("ours"), opts, &Registry::new())?;
    let scrapes = data[0].1.len();
    for s in 0..scrapes {
        let mut app = db.appender();
        for (labels, samples) in &data {
            let (t, v) = samples[s];
            app.append(SeriesRef::UNKNOWN, labels, t, v)?;
        }
        app.commit()?;
    }
    db.compact()?;
    println!("level\tmint\tmaxt\tsamples\tbytes\tbytes/sample");
    for b in db.blocks() {
        let m = b.meta();
        let bytes = b.size();
        println!(
            "{}\t{}\t{}\t{}\t{}\t{:.3}",
            m.compaction.level,
            m.min_time,
            m.max_time,
            m.stats.num_samples,
            bytes,
            bytes as f64 / m.stats.num_samples as f64
        );
    }
    db.close()?;
    Ok(())
}
