//! A data directory written by upstream Prometheus holding native histograms opens in our Db:
//! Debian's `prometheus` (with `--enable-feature=native-histograms`) scrapes a local protobuf
//! target whose histogram grows on every scrape, is stopped, and we replay its WAL.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pm_common::expfmt::dto;
use pm_common::expfmt::proto::encode_delimited;
use pm_common::metrics::Registry;
use pm_common::model::{FloatHistogram, MatchType, Matcher};
use pm_storage::{Queryable, ValueType};
use pm_testsupport::Daemon;
use pm_tsdb::db::{Db, DbOptions};

const PROMETHEUS: &str = "/usr/bin/prometheus";

/// The exposition after `n` scrapes: `n` observations in the zero bucket and in each of two
/// positive buckets, sum `1.5 n`.
fn exposition(n: u64) -> Vec<u8> {
    let span = dto::BucketSpan {
        offset: Some(0),
        length: Some(2),
    };
    let mf = dto::MetricFamily {
        name: Some("req_seconds".into()),
        help: Some("Request latency.".into()),
        r#type: Some(dto::MetricType::Histogram as i32),
        metric: vec![dto::Metric {
            histogram: Some(dto::Histogram {
                sample_count: Some(3 * n),
                sample_sum: Some(1.5 * n as f64),
                schema: Some(0),
                zero_threshold: Some(0.001),
                zero_count: Some(n),
                positive_span: vec![span],
                positive_delta: vec![n as i64, 0],
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut out = Vec::new();
    encode_delimited(&mf, &mut out);
    out
}

/// Serves the exposition until `stop`, counting the scrapes.
fn serve(listener: TcpListener, scrapes: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    listener.set_nonblocking(true).unwrap();
    while !stop.load(Ordering::Relaxed) {
        let Ok((mut conn, _)) = listener.accept() else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        conn.set_nonblocking(false).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 65_536 {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(k) => req.extend_from_slice(&buf[..k]),
            }
        }
        let n = scrapes.fetch_add(1, Ordering::Relaxed) + 1;
        let body = exposition(n);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = conn.write_all(head.as_bytes());
        let _ = conn.write_all(&body);
    }
}

#[test]
fn our_db_reads_histograms_written_by_upstream() {
    if !pm_testsupport::upstream_binary(PROMETHEUS) {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap();
    let scrapes = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let server = {
        let (scrapes, stop) = (scrapes.clone(), stop.clone());
        std::thread::spawn(move || serve(listener, scrapes, stop))
    };

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: h\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let addr: SocketAddr = format!("127.0.0.1:{}", pm_testsupport::free_port())
        .parse()
        .unwrap();
    let mut prometheus = Daemon::spawn(
        Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--enable-feature=native-histograms")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        addr,
        Duration::from_secs(60),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while scrapes.load(Ordering::Relaxed) < 5 {
        assert!(
            Instant::now() < deadline,
            "prometheus did not scrape the target"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A clean stop flushes the WAL.
    prometheus.terminate(Duration::from_secs(60));
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap();

    let db = Db::open(&data, DbOptions::default(), &Registry::new()).unwrap();
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let name = Matcher::new(MatchType::Equal, "__name__", "req_seconds").unwrap();
    let mut set = q.select(true, None, &[name]);
    let series = set.next().expect("the scraped histogram series");
    assert_eq!(series.labels().get("job"), Some("h"));
    let mut it = series.iter();
    let mut counts = Vec::new();
    loop {
        match it.next() {
            ValueType::None => break,
            ValueType::Histogram => {
                let mut fh = FloatHistogram::default();
                it.at_float_histogram(&mut fh);
                let n = fh.zero_count;
                assert_eq!(fh.count, 3.0 * n);
                assert_eq!(fh.sum, 1.5 * n);
                assert_eq!((fh.schema, fh.zero_threshold), (0, 0.001));
                assert_eq!(fh.positive_buckets, [n, n]);
                counts.push(n);
            }
            other => panic!("expected integer histograms, got {other:?}"),
        }
    }
    assert!(it.err().is_none(), "{:?}", it.err());
    assert!(counts.len() >= 3, "{counts:?}");
    assert!(counts.windows(2).all(|w| w[0] < w[1]), "{counts:?}");
    db.close().unwrap();
}
