//! Golden compatibility with upstream Prometheus: build a real block with upstream's
//! `promtool tsdb create-blocks-from openmetrics`, then read its chunk segments with our reader,
//! decode every XOR chunk with our iterator, and re-encode the samples with our appender, which
//! must reproduce upstream's chunk bytes exactly.
//!
//! Needs `promtool` on PATH (Debian: `apt-get install prometheus`). Without it the test is skipped
//! loudly, unless `PM_REQUIRE_UPSTREAM` is set, in which case it fails.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use pm_tsdb::chunkenc::{ChunkEncoding, ValueType, XorChunk};
use pm_tsdb::chunks::ChunkReader;

type Series = Vec<(i64, f64)>;

fn promtool_available() -> bool {
    let found = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
            "PM_REQUIRE_UPSTREAM is set but promtool is not on PATH (apt-get install prometheus)"
        );
        eprintln!(
            "\n!!!! SKIPPED upstream golden test: promtool not found on PATH \
             (apt-get install prometheus, and set PM_REQUIRE_UPSTREAM=1 to make this fatal) !!!!\n"
        );
    }
    found
}

/// A small deterministic generator, so failures reproduce without a seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// Series shaped like real scrapes (jittered 15 s interval, gauge, counter, constant, special
/// values, a gap) plus an irregular one, each long enough to span several chunks and blocks.
fn series() -> Vec<(&'static str, Series)> {
    let mut rng = Lcg(42);
    let start = 1_700_000_000_000i64;
    let mut out = Vec::new();
    let mut gauge = Vec::new();
    let mut counter = Vec::new();
    let mut constant = Vec::new();
    let mut special = Vec::new();
    let mut irregular = Vec::new();
    let (mut g, mut c) = (21.5f64, 1000.0f64);
    let mut ti = start + 7;
    for i in 0..1500i64 {
        let t = start + i * 15_000 + (rng.next() % 20) as i64;
        g += (rng.next() % 200) as f64 / 1000.0 - 0.1;
        g = (g * 1000.0).round() / 1000.0;
        c += (rng.next() % 50) as f64;
        if i % 700 == 699 {
            c = 0.0;
        }
        gauge.push((t, g));
        counter.push((t, c));
        constant.push((start + i * 15_000, 1.0));
        if !(400..460).contains(&i) {
            let v = match i % 97 {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => f64::NEG_INFINITY,
                3 => -0.0,
                _ => (rng.next() as f64) * 1e-3 - 1e6,
            };
            special.push((t, v));
        }
        ti += 1 + (rng.next() % 100_000) as i64;
        irregular.push((ti, (rng.next() % 7) as f64 * 0.25));
    }
    out.push(("node_temp_celsius", gauge));
    out.push(("http_requests_total", counter));
    out.push(("up", constant));
    out.push(("special_values", special));
    out.push(("irregular", irregular));
    out
}

fn openmetrics(series: &[(&str, Series)]) -> String {
    let mut text = String::new();
    for (name, samples) in series {
        for &(t, v) in samples {
            let v = if v.is_nan() {
                "NaN".to_owned()
            } else if v.is_infinite() {
                if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
            } else {
                format!("{v:?}")
            };
            writeln!(
                text,
                "{name}{{job=\"golden\"}} {v} {}.{:03}",
                t / 1000,
                t % 1000
            )
            .unwrap();
        }
    }
    text.push_str("# EOF\n");
    text
}

fn decode(data: &[u8]) -> Series {
    let chunk = XorChunk::from_bytes(data.to_vec()).unwrap();
    let mut it = chunk.iter();
    let mut out = Vec::new();
    while it.next_value() == ValueType::Float {
        out.push(it.at());
    }
    assert_eq!(it.err(), None, "decoding upstream chunk");
    out
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Where `run` lies in one of the series: (series index, start position).
fn locate(series: &[(&str, Series)], run: &Series) -> (usize, usize) {
    let mut found = Vec::new();
    for (si, (_, samples)) in series.iter().enumerate() {
        for (pos, _) in samples.iter().enumerate().filter(|(_, s)| s.0 == run[0].0) {
            let window = &samples[pos..];
            if window.len() >= run.len()
                && run
                    .iter()
                    .zip(window)
                    .all(|(a, b)| a.0 == b.0 && same(a.1, b.1))
            {
                found.push((si, pos));
            }
        }
    }
    assert_eq!(
        found.len(),
        1,
        "chunk starting at {} matches {found:?}",
        run[0].0
    );
    found[0]
}

#[test]
fn upstream_blocks_decode_and_reencode_byte_for_byte() {
    if !promtool_available() {
        return;
    }
    let series = series();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.om");
    std::fs::write(&input, openmetrics(&series)).unwrap();
    let out = dir.path().join("blocks");
    let status = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(&out)
        .output()
        .expect("run promtool");
    assert!(
        status.status.success(),
        "promtool failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );

    let mut covered: Vec<Vec<u32>> = series.iter().map(|(_, s)| vec![0; s.len()]).collect();
    let mut chunks = 0;
    for block in std::fs::read_dir(&out).unwrap() {
        let chunk_dir = block.unwrap().path().join("chunks");
        assert!(Path::new(&chunk_dir).is_dir(), "{chunk_dir:?}");
        let reader = ChunkReader::open(&chunk_dir).unwrap();
        for item in reader.iter() {
            let (chunk_ref, raw) = item.unwrap();
            assert_eq!(reader.chunk(chunk_ref).unwrap(), raw);
            assert_eq!(raw.encoding, ChunkEncoding::Xor);
            let samples = decode(raw.data);
            assert!(!samples.is_empty());
            let (si, pos) = locate(&series, &samples);
            for n in &mut covered[si][pos..pos + samples.len()] {
                *n += 1;
            }

            let mut ours = XorChunk::new();
            let mut app = ours.appender().unwrap();
            for &(t, v) in &samples {
                app.append(t, v).unwrap();
            }
            assert_eq!(
                ours.bytes(),
                raw.data,
                "re-encoding chunk {chunk_ref:?} of {}",
                series[si].0
            );
            chunks += 1;
        }
    }
    for ((name, _), cover) in series.iter().zip(&covered) {
        assert!(
            cover.iter().all(|&n| n == 1),
            "{name}: every sample must be in exactly one upstream chunk"
        );
    }
    assert!(chunks > series.len() * 5, "only {chunks} chunks");
}
