//! Head chunk files written by upstream Prometheus are read by our head: Debian's `prometheus`
//! scrapes itself every 50ms until it has cut (and so written to `chunks_head/`) chunks, is
//! stopped, and our head opened over its data directory must hold exactly the samples that a
//! replay of the WAL alone gives.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::{Queryable, ValueType};
use pm_testsupport::Daemon;
use pm_tsdb::head::{Head, HeadOptions};

const PROMETHEUS: &str = "/usr/bin/prometheus";

type Dump = Vec<(Labels, Vec<(i64, u64)>)>;

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

/// A metric's value in an exposition, 0 when absent.
fn value(exposition: &str, name: &str) -> f64 {
    exposition
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Upstream's own `/metrics`; empty when the request fails.
fn get_metrics(addr: SocketAddr) -> String {
    let Ok(mut conn) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
        return String::new();
    };
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let req = format!("GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    let mut body = String::new();
    if conn.write_all(req.as_bytes()).is_err() || conn.read_to_string(&mut body).is_err() {
        return String::new();
    }
    body
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
#[ignore = "written in session 6, not yet passing: the data upstream writes during the test is shorter than it expects (no series above 150 samples)"]
fn our_head_reads_chunk_files_written_by_upstream() {
    if !pm_testsupport::upstream_binary(PROMETHEUS) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", pm_testsupport::free_port())
        .parse()
        .unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 50ms\n  scrape_timeout: 50ms\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['{addr}']\n"
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let mut prometheus = Daemon::spawn(
        Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        addr,
        Duration::from_secs(60),
    );
    // Chunks are cut once their predicted end passes (about 120 scrapes here); wait until
    // most series have had one cut.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let body = get_metrics(addr);
        let series = value(&body, "prometheus_tsdb_head_series");
        let created = value(&body, "prometheus_tsdb_head_chunks_created_total");
        if series > 0.0 && created > 1.8 * series {
            break;
        }
        assert!(Instant::now() < deadline, "prometheus cut no chunks");
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = Command::new("kill")
        .args(["-TERM", &prometheus.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit_deadline = Instant::now() + Duration::from_secs(60);
    while prometheus.child_mut().try_wait().unwrap().is_none() {
        assert!(Instant::now() < exit_deadline, "prometheus did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The same directory without its chunk files: the WAL alone.
    let wal_only = dir.path().join("wal-only");
    copy_dir(&data.join("wal"), &wal_only.join("wal"));

    let (with_files, stats) = Head::open(&data, HeadOptions::default()).unwrap();
    assert!(stats.mmapped_chunks > 0, "{stats:?}");
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
    let (a, b) = (dump(&with_files), dump(&from_wal));
    assert!(a.len() > 100, "{} series", a.len());
    assert!(a.iter().any(|(_, s)| s.len() > 150));
    assert!(a == b, "the chunk files and the WAL disagree");
}
