//! Load driver for `scripts/bench/alertmanager.sh`: posts ALERTS alerts (their `group` label
//! taking GROUPS values) to an Alertmanager's `POST /api/v2/alerts` in batches of BATCH from
//! WORKERS threads, each on one keep-alive connection, and prints the ingest rate with the
//! CPU time the driver itself used (so a run can show the driver was not what bounded it).
//!
//! Every request, headers included, is encoded before the clock starts; a worker then only
//! writes bytes and reads the answer's head and `Content-Length` bytes of body. The same
//! driver measures ours and upstream's daemon.
//!
//! With ENDS_IN (seconds, default 0: none) every alert carries an `endsAt` that far after the
//! driver's start, as Prometheus sends its firing alerts; running the driver again re-sends
//! the same alerts with a later end.
//!
//! `alertmanager_load PORT [ALERTS [GROUPS [BATCH [WORKERS [ENDS_IN]]]]]` (defaults 100000
//! 10000 100 4 0);
//! built with `cargo build --offline --locked --workspace --example alertmanager_load`.
//! Bounded: a fixed number of requests, each socket read and write with a timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);

/// The requests of one worker: batches `worker`, `worker + workers`, … of the alert range.
fn requests(
    port: u16,
    alerts: usize,
    groups: usize,
    batch: usize,
    worker: usize,
    workers: usize,
    ends_at: Option<&str>,
) -> Vec<Vec<u8>> {
    (worker * batch..alerts)
        .step_by(batch * workers)
        .map(|start| {
            let chunk: Vec<serde_json::Value> = (start..alerts.min(start + batch))
                .map(|i| {
                    let mut alert = serde_json::json!({
                        "labels": {
                            "alertname": "BenchAlert",
                            "group": format!("g{}", i % groups),
                            "instance": format!("host-{i}:9100"),
                            "severity": "warning",
                        },
                        "annotations": {"summary": format!("bench alert {i}")},
                        "generatorURL": "http://127.0.0.1:9090/graph",
                    });
                    if let Some(end) = ends_at {
                        alert["endsAt"] = end.into();
                    }
                    alert
                })
                .collect();
            let body = serde_json::to_vec(&chunk).expect("JSON values always encode");
            let mut request = format!(
                "POST /api/v2/alerts HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            request.extend_from_slice(&body);
            request
        })
        .collect()
}

/// Sends the requests one after another on one connection; fails on anything but a 200.
fn post_all(stream: TcpStream, requests: &[Vec<u8>]) -> Result<(), String> {
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut body = Vec::new();
    for request in requests {
        writer
            .write_all(request)
            .map_err(|e| format!("write: {e}"))?;
        line.clear();
        reader
            .read_line(&mut line)
            .map_err(|e| format!("read: {e}"))?;
        if line.split(' ').nth(1) != Some("200") {
            return Err(format!(
                "POST /api/v2/alerts answered {:?}",
                line.trim_end()
            ));
        }
        let mut length = 0;
        loop {
            line.clear();
            reader
                .read_line(&mut line)
                .map_err(|e| format!("read: {e}"))?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().map_err(|_| "bad Content-Length")?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(format!("unexpected {header:?}"));
            }
        }
        body.resize(length, 0);
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("read body: {e}"))?;
    }
    Ok(())
}

/// User plus system CPU seconds this process used so far (Linux `/proc/self/stat`, in the
/// usual 100 Hz clock ticks).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    ticks.iter().sum::<f64>() / 100.0
}

fn main() -> ExitCode {
    let args: Vec<usize> = match std::env::args().skip(1).map(|a| a.parse()).collect() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "usage: alertmanager_load PORT [ALERTS [GROUPS [BATCH [WORKERS [ENDS_IN]]]]]: {e}"
            );
            return ExitCode::FAILURE;
        }
    };
    let defaults = [0, 100_000, 10_000, 100, 4, 0];
    let [port, alerts, groups, batch, workers, ends_in] =
        std::array::from_fn(|i| args.get(i).copied().unwrap_or(defaults[i]));
    let ends_at = (ends_in > 0).then(|| {
        let secs = i64::try_from(ends_in).unwrap_or(i64::MAX);
        jiff::Timestamp::now()
            .saturating_add(jiff::SignedDuration::from_secs(secs))
            .map_or_else(|_| jiff::Timestamp::MAX.to_string(), |t| t.to_string())
    });
    let Ok(port) = u16::try_from(port) else {
        eprintln!("bad port {port}");
        return ExitCode::FAILURE;
    };
    if [alerts, groups, batch, workers].contains(&0) {
        eprintln!("ALERTS, GROUPS, BATCH and WORKERS must be positive");
        return ExitCode::FAILURE;
    }
    let barrier = Arc::new(Barrier::new(workers + 1));
    let mut handles = Vec::with_capacity(workers);
    let mut total = 0;
    for w in 0..workers {
        let reqs = requests(port, alerts, groups, batch, w, workers, ends_at.as_deref());
        total += reqs.len();
        let stream = match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("connect to 127.0.0.1:{port}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let setup = stream
            .set_read_timeout(Some(TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
            .and_then(|()| stream.set_nodelay(true));
        if let Err(e) = setup {
            eprintln!("socket options: {e}");
            return ExitCode::FAILURE;
        }
        let barrier = Arc::clone(&barrier);
        handles.push(std::thread::spawn(move || {
            barrier.wait();
            post_all(stream, &reqs)
        }));
    }
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    barrier.wait();
    let mut failed = false;
    for h in handles {
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                eprintln!("worker failed: {e}");
                failed = true;
            }
            Err(_) => {
                eprintln!("worker panicked");
                failed = true;
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    if failed {
        return ExitCode::FAILURE;
    }
    println!(
        "requests={total} seconds={elapsed:.3} alerts_per_s={:.0} driver_cpu_s={cpu:.2}",
        alerts as f64 / elapsed
    );
    ExitCode::SUCCESS
}
