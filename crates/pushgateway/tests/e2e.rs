//! End to end: our binary and upstream's (Debian's prometheus-pushgateway) on loopback, the
//! same pushes (HTTP and Python's prometheus_client) to both, then `/metrics` compared family
//! by family. Also SIGTERM persistence of our binary.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use pm_common::expfmt::dto;
use pm_common::expfmt::textparse::decode_text_families;

const UPSTREAM: &str = "/usr/bin/prometheus-pushgateway";

/// A daemon killed when dropped.
struct Daemon {
    child: Child,
    url: String,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(binary: &str, extra: &[&str]) -> Daemon {
    // reqwest is built without a default TLS provider; plain HTTP still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let port = pm_testsupport::free_port();
    let child = Command::new(binary)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {binary}: {e}"));
    let daemon = Daemon {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{}/-/ready", daemon.url)).send().await
            && r.status().is_success()
        {
            return daemon;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{binary} did not become ready on {}", daemon.url);
}

fn python_client_available() -> bool {
    let present = Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .status()
        .is_ok_and(|s| s.success());
    pm_testsupport::available("Python's prometheus_client", present)
}

/// (method, path, content type, body) of the HTTP part of the sequence.
const SEQUENCE: &[(&str, &str, &str, &str)] = &[
    (
        "PUT",
        "/metrics/job/batch",
        "",
        "# HELP rows Rows processed.\n# TYPE rows counter\nrows 10\nduration_seconds 3.5\n",
    ),
    ("POST", "/metrics/job/batch", "", "duration_seconds 4\n"),
    (
        "PUT",
        "/metrics/job/batch/instance/a",
        "",
        "# TYPE rows counter\nrows{stage=\"x\"} 1\n",
    ),
    (
        "PUT",
        "/metrics/job/other/path@base64/L3Zhci90bXA",
        "text/plain; version=0.0.4",
        "temp{job=\"ignored\"} 21\n",
    ),
    ("PUT", "/metrics/job/conflict", "", "rows 1\n"),
    ("PUT", "/metrics/job/ts", "", "t 1 1000\n"),
    ("PUT", "/metrics/job/bad", "", "bad{ 1\n"),
    ("PUT", "/metrics/job/bad/a", "", "x 1\n"),
    ("PUT", "/metrics/job/bad/a@base64/%21%21", "", "x 1\n"),
    ("PUT", "/metrics/job/empty", "", ""),
    (
        "PUT",
        "/metrics/job/sum",
        "",
        "# TYPE lat summary\nlat{quantile=\"0.5\"} 0.2\nlat_sum 5\nlat_count 10\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n",
    ),
    ("PUT", "/metrics/job/clash", "", "lat_count 1\n"),
    ("PUT", "/metrics/job/gone", "", "g 1\n"),
    ("DELETE", "/metrics/job/gone", "", ""),
    (
        "PUT",
        "/metrics/job/batch/instance/b",
        "",
        "rows{instance=\"a\"} 1\n",
    ),
    ("PUT", "/metrics/job/big", "", ""),
];

async fn run_sequence(url: &str) -> Vec<(u16, String)> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    let big_value = "v".repeat(100_000);
    for (method, path, ct, body) in SEQUENCE {
        let body = if *path == "/metrics/job/big" {
            format!("big{{label=\"{big_value}\"}} 1\n")
        } else {
            (*body).to_owned()
        };
        let mut req = client.request(method.parse().unwrap(), format!("{url}{path}"));
        if !ct.is_empty() {
            req = req.header("content-type", *ct);
        }
        let resp = req.body(body).send().await.unwrap();
        let code = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        // Upstream's consistency texts depend on Go's map order (which group is named, how
        // many errors are listed); keep the stable prefix of those.
        const INCONSISTENT: &str =
            "pushed metrics are invalid or inconsistent with existing metrics: ";
        let text = match text.find(INCONSISTENT) {
            Some(0) if !text.contains("timestamps") => INCONSISTENT.to_owned(),
            _ => text,
        };
        out.push((code, text));
    }
    out
}

const PYTHON: &str = r#"
import sys
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary
from prometheus_client import push_to_gateway, pushadd_to_gateway, delete_from_gateway
gw = sys.argv[1]
r = CollectorRegistry()
Gauge('py_last_success', 'Last success.', registry=r).set(7)
c = Counter('py_jobs', 'Jobs done.', ['kind'], registry=r)
c.labels('a').inc(3)
h = Histogram('py_latency_seconds', 'Latency.', buckets=(0.1, 1), registry=r)
h.observe(0.5)
push_to_gateway(gw, job='py', registry=r, grouping_key={'instance': 'host:1', 'path': '/a b'})
r2 = CollectorRegistry()
Summary('py_size_bytes', 'Sizes.', registry=r2).observe(12)
pushadd_to_gateway(gw, job='py', registry=r2, grouping_key={'instance': 'host:1', 'path': '/a b'})
push_to_gateway(gw, job='py2', registry=r2)
delete_from_gateway(gw, job='py2')
r3 = CollectorRegistry()
Gauge('py_last_success', 'Other help.', registry=r3).set(1)
try:
    push_to_gateway(gw, job='py3', registry=r3)
    print('accepted')
except Exception as e:
    print('refused', type(e).__name__)
"#;

fn run_python(url: &str) -> String {
    let out = Command::new("python3")
        .args(["-c", PYTHON, url.trim_start_matches("http://")])
        .output()
        .expect("running python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `/metrics` without the daemon's own families; time values reduced to "set or not".
async fn pushed_families(url: &str) -> BTreeMap<String, dto::MetricFamily> {
    let body = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut families: BTreeMap<String, dto::MetricFamily> = decode_text_families(&body)
        .unwrap()
        .into_iter()
        .filter(|f| {
            !["process_", "go_", "pushgateway_"]
                .iter()
                .any(|p| f.name().starts_with(p))
        })
        .map(|f| (f.name().to_owned(), f))
        .collect();
    // The client's `_created` gauges are creation times too.
    let times: Vec<String> = families
        .keys()
        .filter(|n| n.ends_with("_created") || n.ends_with("time_seconds"))
        .cloned()
        .collect();
    for name in times {
        if let Some(f) = families.get_mut(&name) {
            for m in &mut f.metric {
                let g = m.gauge.as_mut().unwrap();
                g.value = Some(if g.value() > 0.0 { 1.0 } else { 0.0 });
            }
        }
    }
    families
}

/// The daemon's own `pushgateway_*` families of `/metrics` (build info left out), each reduced
/// to its type, help and per-series shape: label sets, and for the request counters and the
/// summary counts their values (the same requests give the same counts); durations and sizes
/// differ by nature, so only the presence of their quantile lines is kept.
async fn own_families(url: &str) -> BTreeMap<String, (Option<i32>, String, Vec<String>)> {
    let body = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    decode_text_families(&body)
        .unwrap()
        .into_iter()
        .filter(|f| f.name().starts_with("pushgateway_") && f.name() != "pushgateway_build_info")
        .map(|f| {
            let series = f
                .metric
                .iter()
                .map(|m| {
                    let labels: Vec<String> = m
                        .label
                        .iter()
                        .map(|p| format!("{}={}", p.name(), p.value()))
                        .collect();
                    let shape = match (&m.counter, &m.summary) {
                        (Some(c), _) => format!("{}", c.value()),
                        (_, Some(s)) => {
                            let q: Vec<String> = s
                                .quantile
                                .iter()
                                .map(|q| format!("{}:{}", q.quantile(), q.value().is_finite()))
                                .collect();
                            format!("count={} {}", s.sample_count(), q.join(","))
                        }
                        _ => String::new(),
                    };
                    format!("{} {shape}", labels.join(","))
                })
                .collect();
            (f.name().to_owned(), (f.r#type, f.help().to_owned(), series))
        })
        .collect()
}

#[tokio::test]
async fn same_pushes_same_metrics_as_upstream() {
    if !pm_testsupport::upstream_binary(UPSTREAM) {
        return;
    }
    let ours = start(env!("CARGO_BIN_EXE_pushgateway"), &[]).await;
    // Debian's build defaults to a persistence file; keep it in memory like ours.
    let upstream = start(UPSTREAM, &["--persistence.file="]).await;

    let our_codes = run_sequence(&ours.url).await;
    let their_codes = run_sequence(&upstream.url).await;
    for (i, (a, b)) in our_codes.iter().zip(&their_codes).enumerate() {
        assert_eq!(a, b, "request {i} {:?}", SEQUENCE[i]);
    }
    if python_client_available() {
        assert_eq!(run_python(&ours.url), run_python(&upstream.url));
    }

    let a = pushed_families(&ours.url).await;
    let b = pushed_families(&upstream.url).await;
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, theirs) in &b {
        let mine = &a[name];
        assert_eq!(mine.r#type, theirs.r#type, "{name}");
        assert_eq!(mine.metric, theirs.metric, "{name}");
        // Upstream picks the help of a random group when groups disagree, as they do for these.
        if !["rows", "py_last_success"].contains(&name.as_str()) {
            assert_eq!(mine.help, theirs.help, "{name}");
        }
    }
    assert_eq!(
        own_families(&ours.url).await,
        own_families(&upstream.url).await
    );
}

#[tokio::test]
async fn sigterm_writes_state_that_the_next_start_loads() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pg.state");
    let arg = format!("--persistence.file={}", file.display());
    let binary = env!("CARGO_BIN_EXE_pushgateway");
    let mut first = start(binary, &[&arg, "--persistence.interval=1h"]).await;
    let client = reqwest::Client::new();
    let resp = client
        .put(format!("{}/metrics/job/keep/instance/i", first.url))
        .body("# TYPE kept gauge\nkept 42\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let before = pushed_families(&first.url).await;

    let status = Command::new("kill")
        .args(["-TERM", &first.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut exited = None;
    for _ in 0..200 {
        exited = first.child.try_wait().unwrap();
        if exited.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        exited.is_some_and(|s| s.success()),
        "clean exit on SIGTERM: {exited:?}"
    );
    assert!(file.exists());

    let second = start(binary, &[&arg]).await;
    assert_eq!(pushed_families(&second.url).await, before);
    drop(second);

    // A corrupt file is moved aside, not overwritten, and the daemon starts empty.
    std::fs::write(&file, b"not a state file").unwrap();
    let third = start(binary, &[&arg]).await;
    assert!(pushed_families(&third.url).await.is_empty());
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("pg.state.corrupt-")
        })
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(std::fs::read(aside[0].path()).unwrap(), b"not a state file");
}
