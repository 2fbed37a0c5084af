//! Remote write and read end to end, loopback only: our receiver answers upstream's status
//! codes and serves what it received back through the query API and remote read; our sender
//! (tailing the WAL) delivers a scraping server's samples to a second server of ours, across
//! an outage of the receiver; and both directions against Debian's upstream Prometheus 2.42.

use crate::server_support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pm_common::model::Labels;
use pm_prometheus::remote::codec;
use pm_prometheus::remote::prompb::{
    LabelMatcher, MatcherType, Query, ReadRequest, ReadResponse, ResponseType, Sample, TimeSeries,
    WriteRequest,
};
use pm_testsupport::{Daemon, free_port, upstream_binary};
use server_support::{OURS, Server, UPSTREAM, start};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn post_raw(
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    let mut req = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
}

fn write_body(name: &str, samples: &[(i64, f64)]) -> Vec<u8> {
    codec::encode(&WriteRequest {
        timeseries: vec![TimeSeries {
            labels: codec::labels_to_proto(&Labels::from_pairs([
                ("__name__", name),
                ("job", "pushed"),
            ])),
            samples: samples
                .iter()
                .map(|&(timestamp, value)| Sample { value, timestamp })
                .collect(),
            ..Default::default()
        }],
        metadata: Vec::new(),
    })
}

const RW1: &[(&str, &str)] = &[
    ("content-type", "application/x-protobuf"),
    ("content-encoding", "snappy"),
    ("x-prometheus-remote-write-version", "0.1.0"),
];

/// Polls `path` of `base` until `done` holds (bounded by `secs`).
async fn poll(base: &str, path: &str, secs: u64, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(resp) = reqwest::get(format!("{base}{path}")).await {
            let ok = resp.status().is_success();
            let body = resp.text().await.unwrap_or_default();
            if ok && done(&body) {
                return body;
            }
            assert!(Instant::now() < deadline, "{path} never satisfied: {body}");
        } else {
            assert!(Instant::now() < deadline, "{base} never answered {path}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The single value of an instant query's vector result, if any.
fn value(body: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

fn query(expr: &str) -> String {
    format!("/api/v1/query?query={}", url_escape(expr))
}

fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_status_codes_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = "global:\n  external_labels:\n    region: eu\n";
    let server = start(
        OURS,
        dir.path(),
        &dir.path().join("data"),
        config,
        &["--web.enable-remote-write-receiver"],
    )
    .await;
    let t = now_ms() - 60_000;
    let samples: Vec<(i64, f64)> = (0..10).map(|i| (t + i * 1000, i as f64)).collect();
    let (code, _) = post_raw(
        &server.base,
        "/api/v1/write",
        RW1,
        write_body("pushed_metric", &samples),
    )
    .await;
    assert_eq!(code, 204);
    // Out of order: the same series, older than what it has.
    let (code, body) = post_raw(
        &server.base,
        "/api/v1/write",
        RW1,
        write_body("pushed_metric", &[(t - 5000, 1.0)]),
    )
    .await;
    assert_eq!(
        (code, String::from_utf8_lossy(&body).trim()),
        (400, "out of order sample")
    );
    let (code, _) = post_raw(
        &server.base,
        "/api/v1/write",
        &[("content-type", "text/plain")],
        write_body("x", &[(t, 1.0)]),
    )
    .await;
    assert_eq!(code, 415);
    let (code, _) = post_raw(
        &server.base,
        "/api/v1/write",
        RW1,
        codec::compress(b"\xff\xff\xff"),
    )
    .await;
    assert_eq!(code, 400);

    let body = poll(
        &server.base,
        &query("count_over_time(pushed_metric[5m])"),
        10,
        |b| value(b).is_some(),
    )
    .await;
    assert_eq!(value(&body), Some(10.0));

    // Remote read, both response types; the external label is added and its matcher ignored.
    let read = |types: Vec<i32>| ReadRequest {
        queries: vec![Query {
            start_timestamp_ms: t - 1000,
            end_timestamp_ms: t + 20_000,
            matchers: vec![
                LabelMatcher {
                    r#type: MatcherType::Eq as i32,
                    name: "__name__".into(),
                    value: "pushed_metric".into(),
                },
                LabelMatcher {
                    r#type: MatcherType::Eq as i32,
                    name: "region".into(),
                    value: "eu".into(),
                },
            ],
            hints: None,
        }],
        accepted_response_types: types,
    };
    let headers = [
        ("content-type", "application/x-protobuf"),
        ("content-encoding", "snappy"),
    ];
    let (code, body) = post_raw(
        &server.base,
        "/api/v1/read",
        &headers,
        codec::encode(&read(vec![])),
    )
    .await;
    assert_eq!(code, 200);
    let resp: ReadResponse = codec::decode(&body).unwrap();
    let ts = &resp.results[0].timeseries;
    assert_eq!(ts.len(), 1);
    assert_eq!(
        codec::labels_from_proto(&ts[0].labels).get("region"),
        Some("eu")
    );
    assert_eq!(ts[0].samples.len(), 10);
    let (code, body) = post_raw(
        &server.base,
        "/api/v1/read",
        &headers,
        codec::encode(&read(vec![ResponseType::StreamedXorChunks as i32])),
    )
    .await;
    assert_eq!(code, 200);
    let (msg, used) = codec::read_frame(&body, 1 << 20).unwrap().unwrap();
    assert_eq!(used, body.len());
    let frame = <pm_prometheus::remote::prompb::ChunkedReadResponse as prost::Message>::decode(msg)
        .unwrap();
    assert_eq!(frame.chunked_series.len(), 1);
    assert_eq!(frame.chunked_series[0].chunks.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_is_off_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(OURS, dir.path(), &dir.path().join("data"), "", &[]).await;
    let (code, _) = post_raw(
        &server.base,
        "/api/v1/write",
        RW1,
        write_body("x", &[(now_ms(), 1.0)]),
    )
    .await;
    assert_eq!(code, 404);
}

/// Starts `binary` listening on `addr` (so that a receiver can come back on the same port).
fn spawn_at(
    binary: &str,
    dir: &Path,
    data: &Path,
    config: &str,
    addr: SocketAddr,
    extra: &[&str],
) -> Daemon {
    let config_path = dir.join(format!("prometheus-{}.yml", addr.port()));
    std::fs::write(&config_path, config).unwrap();
    let mut cmd = Command::new(binary);
    cmd.arg(format!("--config.file={}", config_path.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address={addr}"))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Daemon::spawn(&mut cmd, addr, Duration::from_secs(30))
}

fn sender_config(self_addr: &str, receiver: &str) -> String {
    format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['{self_addr}']\nremote_write:\n  - url: http://{receiver}/api/v1/write\n    queue_config:\n      batch_send_deadline: 100ms\n      min_backoff: 10ms\n      max_backoff: 200ms\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_to_ours_across_a_receiver_outage() {
    let dir = tempfile::tempdir().unwrap();
    let recv_addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let recv_base = format!("http://{recv_addr}");
    let recv_data = dir.path().join("recv");
    let receiver = spawn_at(
        OURS,
        dir.path(),
        &recv_data,
        "",
        recv_addr,
        &["--web.enable-remote-write-receiver"],
    );
    let send_port = free_port();
    let sender_addr = format!("127.0.0.1:{send_port}");
    let sender = spawn_at(
        OURS,
        dir.path(),
        &dir.path().join("send"),
        &sender_config(&sender_addr, &recv_addr.to_string()),
        sender_addr.parse().unwrap(),
        &[],
    );
    let up = query("count_over_time(up{job=\"self\"}[1h])");
    poll(&recv_base, &up, 40, |b| value(b).is_some_and(|v| v >= 2.0)).await;

    // The receiver goes away for a few scrapes, then comes back on the same port and data.
    drop(receiver);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let _receiver = spawn_at(
        OURS,
        dir.path(),
        &recv_data,
        "",
        recv_addr,
        &["--web.enable-remote-write-receiver"],
    );
    let sender_base = format!("http://{sender_addr}");
    // Every sample the sender has (up to a fixed time) arrives.
    let at = now_ms() as f64 / 1000.0;
    let counted = format!("{up}&time={at}");
    let want = value(&poll(&sender_base, &counted, 20, |b| value(b).is_some()).await).unwrap();
    assert!(want >= 6.0, "the sender scraped only {want} times");
    poll(&recv_base, &counted, 40, |b| value(b) == Some(want)).await;
    let metrics = poll(&sender_base, "/metrics", 5, |_| true).await;
    assert!(metrics.contains("prometheus_remote_storage_samples_retried_total"));
    assert!(
        metrics.lines().any(
            |l| l.starts_with("prometheus_remote_storage_samples_total{") && !l.ends_with(" 0")
        )
    );
    drop(sender);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_remote_writes_to_ours_and_reads_from_ours() {
    if !upstream_binary(UPSTREAM) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ours = start(
        OURS,
        dir.path(),
        &dir.path().join("ours"),
        "",
        &["--web.enable-remote-write-receiver"],
    )
    .await;
    let port = free_port();
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: upstream\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\nremote_write:\n  - url: {base}/api/v1/write\n    queue_config:\n      batch_send_deadline: 100ms\nremote_read:\n  - url: {base}/api/v1/read\n    read_recent: true\n",
        base = ours.base
    );
    let upstream = spawn_at(
        UPSTREAM,
        dir.path(),
        &dir.path().join("up"),
        &config,
        ([127, 0, 0, 1], port).into(),
        &[],
    );
    let up = query("up{job=\"upstream\"}");
    poll(&ours.base, &up, 40, |b| value(b) == Some(1.0)).await;
    // Data only we have, read by upstream through remote read.
    let t = now_ms() - 30_000;
    let (code, _) = post_raw(
        &ours.base,
        "/api/v1/write",
        RW1,
        write_body("only_in_ours", &[(t, 7.0)]),
    )
    .await;
    assert_eq!(code, 204);
    let upstream_base = format!("http://127.0.0.1:{port}");
    let body = poll(&upstream_base, &query("only_in_ours[5m]"), 20, |b| {
        b.contains("\"7\"")
    })
    .await;
    assert!(body.contains("\"job\":\"pushed\""), "{body}");
    drop(upstream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_remote_writes_to_upstream() {
    if !upstream_binary(UPSTREAM) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let upstream: Server = start(
        UPSTREAM,
        dir.path(),
        &dir.path().join("up"),
        "",
        &["--web.enable-remote-write-receiver"],
    )
    .await;
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let receiver = upstream.base.trim_start_matches("http://").to_owned();
    let _ours = spawn_at(
        OURS,
        dir.path(),
        &dir.path().join("ours"),
        &sender_config(&addr, &receiver),
        addr.parse().unwrap(),
        &[],
    );
    let up = query("up{job=\"self\"}");
    poll(&upstream.base, &up, 40, |b| value(b) == Some(1.0)).await;
}
