//! Reads a WAL written by upstream Prometheus: run `/usr/bin/prometheus` on loopback scraping
//! itself every second, stop it with SIGTERM, then decode its `wal/` with our reader and
//! replay it into our head.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pm_common::model::{MatchType, Matcher};
use pm_storage::{Queryable, ValueType};
use pm_tsdb::head::{Head, HeadOptions};
use pm_tsdb::record::{self, Record};
use pm_tsdb::wal::LogReader;

const PROMETHEUS: &str = "/usr/bin/prometheus";

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(body)
}

/// The sum over all series of a metric in Prometheus' own `/metrics` (2.4x labels some of them
/// by sample `type`).
fn own_metric(port: u16, name: &str) -> f64 {
    let body = http_get(port, "/metrics").unwrap_or_default();
    body.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with([' ', '{']))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn run_upstream(data: &Path) -> bool {
    if !pm_testsupport::upstream_binary(PROMETHEUS) {
        return false;
    }
    let port = pm_testsupport::free_port();
    let config = data.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    \
             static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .unwrap();
    let mut upstream = pm_testsupport::Daemon::spawn(
        Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                data.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        ([127, 0, 0, 1], port).into(),
        Duration::from_secs(60),
    );
    // Wait for a few scrapes to have been appended (bounded).
    let deadline = Instant::now() + Duration::from_secs(60);
    // Five scrapes' worth of samples at least.
    while {
        let series = own_metric(port, "prometheus_tsdb_head_series");
        series == 0.0
            || own_metric(port, "prometheus_tsdb_head_samples_appended_total") < 5.0 * series
    } {
        assert!(
            Instant::now() < deadline,
            "upstream did not ingest scrapes in time"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    upstream.terminate(Duration::from_secs(30));
    true
}

#[test]
fn reads_a_wal_written_by_upstream_prometheus() {
    let tmp = tempfile::tempdir().unwrap();
    if !run_upstream(tmp.path()) {
        return;
    }
    let data = tmp.path().join("tsdb");
    let mut reader = LogReader::open(data.join("wal"), 0..=u32::MAX).unwrap();
    let mut series = HashMap::new();
    let mut samples: HashMap<u64, Vec<(i64, f64)>> = HashMap::new();
    while let Some(rec) = reader.next_record().unwrap() {
        match record::decode(rec).unwrap() {
            Record::Series(s) => {
                for s in s {
                    assert!(s.labels.get("__name__").is_some(), "{:?}", s.labels);
                    assert!(
                        series.insert(s.r, s.labels).is_none(),
                        "series defined twice"
                    );
                }
            }
            Record::Samples(s) => {
                for s in s {
                    samples.entry(s.r).or_default().push((s.t, s.v));
                }
            }
            _ => {}
        }
    }
    assert!(series.len() > 100, "only {} series", series.len());
    for r in samples.keys() {
        assert!(series.contains_key(r), "sample for undefined series {r}");
    }
    let up = series
        .iter()
        .find(|(_, l)| l.get("__name__") == Some("up"))
        .map(|(r, _)| *r)
        .expect("up series");
    let ups = &samples[&up];
    assert!(ups.len() >= 3, "{ups:?}");
    assert!(ups.iter().all(|&(_, v)| v == 1.0));
    assert!(
        ups.windows(2)
            .all(|w| w[1].0 > w[0].0 && w[1].0 - w[0].0 < 5000),
        "{ups:?}"
    );

    // Our head replays the same directory and serves the same samples.
    let (head, stats) = Head::open(&data, HeadOptions::default()).unwrap();
    assert_eq!(stats.repaired, None);
    assert_eq!(stats.unknown_refs, 0);
    let q = head.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(MatchType::Equal, "__name__", "up").unwrap();
    let mut set = q.select(true, None, &[m]);
    let s = set.next().expect("up in the replayed head");
    let mut it = s.iter();
    let mut got = Vec::new();
    while it.next() == ValueType::Float {
        got.push(it.at());
    }
    assert_eq!(&got, ups);
}
