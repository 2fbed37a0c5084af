//! Head chunk files written by upstream Prometheus are read by our head: Debian's `prometheus`
//! receives a deterministic data set by remote write (explicit timestamps, so it is fast and
//! the same on every run), cuts full chunks into `chunks_head/`, is stopped, and our head opened
//! over its data directory must hold exactly the samples sent, and the same as a replay of the
//! WAL alone.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::{Queryable, ValueType};
use pm_testsupport::Daemon;
use pm_tsdb::head::{Head, HeadOptions};
use prost::Message;

const PROMETHEUS: &str = "/usr/bin/prometheus";
const SERIES: usize = 150;
/// 300 samples at 15 s: 75 minutes, under the 3h span that would make upstream compact its
/// head, and two full 120-sample chunks per series (the third stays open in memory).
const SAMPLES: usize = 300;
const PER_REQUEST: usize = 50;
/// Aligned to a 2h block boundary, so upstream cuts chunks by count rather than at a boundary.
const START_MS: i64 = 1_700_006_400_000;
const STEP_MS: i64 = 15_000;

type Dump = Vec<(Labels, Vec<(i64, u64)>)>;

/// The remote-write 1.0 messages (prometheus/prompb), only the fields this test sends.
#[derive(Clone, PartialEq, Message)]
struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    timeseries: Vec<TimeSeries>,
}

#[derive(Clone, PartialEq, Message)]
struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    samples: Vec<PbSample>,
}

#[derive(Clone, PartialEq, Message)]
struct Label {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    value: String,
}

#[derive(Clone, PartialEq, Message)]
struct PbSample {
    #[prost(double, tag = "1")]
    value: f64,
    #[prost(int64, tag = "2")]
    timestamp: i64,
}

fn series_labels(i: usize) -> Vec<(String, String)> {
    vec![
        ("__name__".into(), format!("rw_metric_{}", i % 3)),
        ("instance".into(), format!("host-{i}")),
        ("job".into(), "upstream_chunks_head".into()),
    ]
}

/// Sample `j` of series `i`: counters, gauges with fractions and a few constants, so chunks
/// hold a mix of XOR encodings.
fn sample(i: usize, j: usize) -> (i64, f64) {
    let t = START_MS + j as i64 * STEP_MS + (i % 7) as i64;
    let v = match i % 3 {
        0 => (j * (i + 1)) as f64,
        1 => ((i * 31 + j * 17) % 1000) as f64 / 8.0,
        _ => 42.0,
    };
    (t, v)
}

fn expected() -> Dump {
    let mut out: Dump = (0..SERIES)
        .map(|i| {
            let l = series_labels(i);
            let labels = Labels::from_pairs(l.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            let samples = (0..SAMPLES)
                .map(|j| {
                    let (t, v) = sample(i, j);
                    (t, v.to_bits())
                })
                .collect();
            (labels, samples)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every series with its float samples (values as bits, so NaNs compare).
fn dump(h: &Head) -> Dump {
    let q = h.querier(i64::MIN, i64::MAX).unwrap();
    let any = Matcher::new(MatchType::Regexp, "__name__", ".+").unwrap();
    let mut set = q.select(true, None, &[any]);
    let mut out = Vec::new();
    while let Some(s) = set.next() {
        let mut it = s.iter();
        let mut samples = Vec::new();
        while it.next() == ValueType::Float {
            let (t, v) = it.at();
            samples.push((t, v.to_bits()));
        }
        out.push((s.labels().clone(), samples));
    }
    out
}

/// One HTTP/1.0 request; returns the status line. Before upstream's TSDB is open it may
/// answer early and reset the connection, which the caller retries like a 503.
fn post_write(addr: SocketAddr, req: &WriteRequest) -> std::io::Result<String> {
    let body = snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .unwrap();
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let head = format!(
        "POST /api/v1/write HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes())?;
    conn.write_all(&body)?;
    let mut resp = String::new();
    conn.read_to_string(&mut resp)?;
    Ok(resp.lines().next().unwrap_or_default().to_string())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn our_head_reads_chunk_files_written_by_upstream() {
    if !pm_testsupport::upstream_binary(PROMETHEUS) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", pm_testsupport::free_port())
        .parse()
        .unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1h\n").unwrap();
    let data = dir.path().join("data");
    let mut prometheus = Daemon::spawn(
        Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--web.enable-remote-write-receiver")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        addr,
        Duration::from_secs(60),
    );
    for first in (0..SAMPLES).step_by(PER_REQUEST) {
        let req = WriteRequest {
            timeseries: (0..SERIES)
                .map(|i| TimeSeries {
                    labels: series_labels(i)
                        .into_iter()
                        .map(|(name, value)| Label { name, value })
                        .collect(),
                    samples: (first..first + PER_REQUEST)
                        .map(|j| {
                            let (timestamp, value) = sample(i, j);
                            PbSample { value, timestamp }
                        })
                        .collect(),
                })
                .collect(),
        };
        // Upstream answers 503 until its TSDB is open; a bounded retry covers startup.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = match post_write(addr, &req) {
                Ok(status) if status.contains(" 204") || status.contains(" 200") => break,
                Ok(status) => status,
                Err(e) => e.to_string(),
            };
            assert!(
                Instant::now() < deadline,
                "remote write to upstream failed: {status}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    prometheus.terminate(Duration::from_secs(60));

    // The same directory without its chunk files: the WAL alone.
    let wal_only = dir.path().join("wal-only");
    copy_dir(&data.join("wal"), &wal_only.join("wal"));

    let (with_files, stats) = Head::open(&data, HeadOptions::default()).unwrap();
    // Two full chunks per series were cut and written to chunks_head/.
    assert!(stats.mmapped_chunks >= 2 * SERIES as u64, "{stats:?}");
    assert!(stats.mmapped_samples_skipped > 0, "{stats:?}");
    assert_eq!(
        with_files
            .stats()
            .mmap_chunk_corruptions
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    let (from_wal, wal_stats) = Head::open(&wal_only, HeadOptions::default()).unwrap();
    assert_eq!(wal_stats.mmapped_chunks, 0);
    let want = expected();
    let a = dump(&with_files);
    assert_eq!(a.len(), want.len());
    assert!(
        a == want,
        "the head over chunk files differs from what was sent"
    );
    assert!(
        dump(&from_wal) == want,
        "the WAL replay differs from what was sent"
    );
}
