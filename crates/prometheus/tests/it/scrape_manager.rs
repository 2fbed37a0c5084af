//! The scrape manager end to end: local HTTP targets on 127.0.0.1, scraped every 100ms into
//! pm-storage's in-memory storage.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use pm_common::metrics::Registry;
use pm_common::model::{Labels, is_stale_nan};
use pm_discovery::{TargetGroup, TargetSets};
use pm_prometheus::config::load_str;
use pm_prometheus::scrape::{ScrapeManager, ScrapeManagerOptions, TargetHealth};
use pm_storage::{MemStorage, SampleValue};
use tokio::sync::watch;

#[derive(Clone)]
struct Exposition {
    body: Vec<u8>,
    content_type: &'static str,
    status: StatusCode,
    gzip: bool,
}

#[derive(Clone)]
struct ServerState {
    exposition: Arc<Mutex<Exposition>>,
    requests: Arc<Mutex<Vec<HeaderMap>>>,
}

/// A target on an ephemeral loopback port, stopped on drop.
struct Server {
    addr: SocketAddr,
    state: ServerState,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handler(State(s): State<ServerState>, headers: HeaderMap) -> impl IntoResponse {
    s.requests.lock().unwrap().push(headers);
    let e = s.exposition.lock().unwrap().clone();
    let mut body = e.body;
    let mut out = HeaderMap::new();
    out.insert(header::CONTENT_TYPE, e.content_type.parse().unwrap());
    if e.gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&body).unwrap();
        body = enc.finish().unwrap();
        out.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
    }
    (e.status, out, body)
}

async fn serve(body: &str) -> Server {
    let state = ServerState {
        exposition: Arc::new(Mutex::new(Exposition {
            body: body.as_bytes().to_vec(),
            content_type: "text/plain; version=0.0.4",
            status: StatusCode::OK,
            gzip: false,
        })),
        requests: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(handler))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server { addr, state, task }
}

impl Server {
    fn set(&self, f: impl FnOnce(&mut Exposition)) {
        f(&mut self.state.exposition.lock().unwrap());
    }

    fn address(&self) -> String {
        self.addr.to_string()
    }
}

struct Setup {
    manager: ScrapeManager,
    storage: Arc<MemStorage>,
    registry: Registry,
    sets: watch::Sender<Arc<TargetSets>>,
}

fn config(jobs: &str) -> pm_prometheus::config::Config {
    let yaml = format!(
        "global:\n  scrape_interval: 100ms\n  scrape_timeout: 100ms\nscrape_configs:\n{jobs}"
    );
    load_str(&yaml, "test.yml").expect("config loads")
}

fn sets(jobs: &[(&str, &[String])]) -> Arc<TargetSets> {
    let mut sets: TargetSets = HashMap::new();
    for (job, addrs) in jobs {
        sets.insert(
            (*job).to_owned(),
            vec![TargetGroup {
                source: "0".into(),
                targets: addrs
                    .iter()
                    .map(|a| Labels::from_pairs([("__address__", a.as_str())]))
                    .collect(),
                labels: Labels::empty(),
            }],
        );
    }
    Arc::new(sets)
}

async fn start(jobs: &str, targets: &[(&str, &[String])]) -> Setup {
    let storage = Arc::new(MemStorage::new());
    let registry = Registry::new();
    let manager = ScrapeManager::new(
        storage.clone(),
        ScrapeManagerOptions {
            discovery_reload_interval: Duration::from_millis(10),
            ..Default::default()
        },
        &registry,
    )
    .unwrap();
    manager.apply_config(&config(jobs)).await.unwrap();
    let (tx, rx) = watch::channel(sets(targets));
    let m = manager.clone();
    tokio::spawn(async move { m.run(rx).await });
    Setup {
        manager,
        storage,
        registry,
        sets: tx,
    }
}

/// Polls `f` every 10ms for up to 10s.
async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

impl Setup {
    fn series(&self, name: &str, job: &str, instance: &str) -> Vec<(i64, f64)> {
        let labels = Labels::from_pairs([("__name__", name), ("job", job), ("instance", instance)]);
        self.storage
            .samples(&labels)
            .into_iter()
            .map(|s| match s.value {
                SampleValue::Float(v) => (s.t, v),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    fn last(&self, name: &str, job: &str, instance: &str) -> Option<f64> {
        self.series(name, job, instance).last().map(|s| s.1)
    }

    fn metric(&self, name: &str) -> f64 {
        self.registry
            .gather()
            .into_iter()
            .find(|f| f.name() == name)
            .map(|f| {
                f.metric
                    .iter()
                    .map(|m| m.counter.as_ref().map_or(0.0, |c| c.value()))
                    .sum()
            })
            .unwrap_or(0.0)
    }
}

const JOB: &str = "- job_name: app\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_series_headers_and_target_status() {
    let srv = serve("a 1\nb 2\n").await;
    let addr = srv.address();
    let s = start(
        "- job_name: app\n  extra_scrape_metrics: true\n",
        &[("app", std::slice::from_ref(&addr))],
    )
    .await;
    wait_for("two scrapes", || s.series("up", "app", &addr).len() >= 2).await;
    assert_eq!(s.last("up", "app", &addr), Some(1.0));
    assert_eq!(s.last("scrape_samples_scraped", "app", &addr), Some(2.0));
    assert_eq!(
        s.last("scrape_samples_post_metric_relabeling", "app", &addr),
        Some(2.0)
    );
    assert_eq!(s.series("scrape_series_added", "app", &addr)[0].1, 2.0);
    assert_eq!(s.last("scrape_series_added", "app", &addr), Some(0.0));
    assert!(s.last("scrape_duration_seconds", "app", &addr).is_some());
    assert_eq!(s.last("scrape_timeout_seconds", "app", &addr), Some(0.1));
    assert_eq!(s.last("scrape_sample_limit", "app", &addr), Some(0.0));
    assert_eq!(s.last("scrape_body_size_bytes", "app", &addr), Some(8.0));
    assert_eq!(s.last("a", "app", &addr), Some(1.0));

    let headers = srv.state.requests.lock().unwrap()[0].clone();
    let get = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
    assert!(get("accept").starts_with("application/openmetrics-text;version=1.0.0"));
    assert!(get("accept").ends_with("*/*;q=0.2"), "{}", get("accept"));
    assert!(get("user-agent").starts_with("Prometheus/"));
    assert_eq!(get("x-prometheus-scrape-timeout-seconds"), "0.1");
    assert_eq!(get("accept-encoding"), "gzip");

    let active = s.manager.active_targets();
    let t = &active["app"][0];
    assert_eq!(t.health, TargetHealth::Up);
    assert_eq!(t.last_error, "");
    assert_eq!(t.scrape_url, format!("http://{addr}/metrics"));
    assert_eq!(t.scrape_interval, "100ms");
    assert_eq!(t.discovered_labels.get("__address__"), Some(addr.as_str()));
    s.manager.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bodies_are_decompressed() {
    let srv = serve("g 7\n").await;
    srv.set(|e| e.gzip = true);
    let addr = srv.address();
    let s = start(JOB, &[("app", std::slice::from_ref(&addr))]).await;
    wait_for("a scrape", || s.last("g", "app", &addr).is_some()).await;
    assert_eq!(s.last("g", "app", &addr), Some(7.0));
    s.manager.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_scrapes_report_down_with_upstream_errors() {
    let srv = serve("a 1\n").await;
    srv.set(|e| e.status = StatusCode::INTERNAL_SERVER_ERROR);
    let big = serve(&"x 1\n".repeat(100)).await;
    let (addr, big_addr) = (srv.address(), big.address());
    let s = start(
        "- job_name: app\n- job_name: limited\n  body_size_limit: 100B\n  extra_scrape_metrics: true\n",
        &[
            ("app", std::slice::from_ref(&addr)),
            ("limited", std::slice::from_ref(&big_addr)),
        ],
    )
    .await;
    wait_for("failed scrapes", || {
        s.last("up", "app", &addr).is_some() && s.last("up", "limited", &big_addr).is_some()
    })
    .await;
    assert_eq!(s.last("up", "app", &addr), Some(0.0));
    assert_eq!(s.last("up", "limited", &big_addr), Some(0.0));
    assert_eq!(
        s.last("scrape_body_size_bytes", "limited", &big_addr),
        Some(-1.0)
    );
    let active = s.manager.active_targets();
    assert_eq!(active["app"][0].health, TargetHealth::Down);
    assert_eq!(
        active["app"][0].last_error,
        "server returned HTTP status 500 Internal Server Error"
    );
    assert_eq!(active["limited"][0].last_error, "body size limit exceeded");
    assert!(s.metric("prometheus_target_scrapes_exceeded_body_size_limit_total") >= 1.0);
    s.manager.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_target_goes_stale() {
    let srv = serve("a 1\n").await;
    let addr = srv.address();
    let s = start(JOB, &[("app", std::slice::from_ref(&addr))]).await;
    wait_for("a scrape", || s.last("a", "app", &addr).is_some()).await;
    s.sets.send(sets(&[("app", &[])])).unwrap();
    wait_for("staleness markers", || {
        s.last("a", "app", &addr).is_some_and(is_stale_nan)
            && s.last("up", "app", &addr).is_some_and(is_stale_nan)
    })
    .await;
    assert!(s.manager.active_targets()["app"].is_empty());
    s.manager.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_pools_keep_their_loops_across_apply_config() {
    let srv = serve("a 1\n").await;
    let addr = srv.address();
    let jobs = "- job_name: app\n- job_name: other\n";
    let s = start(
        jobs,
        &[
            ("app", std::slice::from_ref(&addr)),
            ("other", std::slice::from_ref(&addr)),
        ],
    )
    .await;
    wait_for("both pools", || {
        s.last("up", "app", &addr).is_some() && s.last("up", "other", &addr).is_some()
    })
    .await;
    let before = s.manager.active_targets();
    s.manager.apply_config(&config(jobs)).await.unwrap();
    assert_eq!(s.metric("prometheus_target_scrape_pool_reloads_total"), 0.0);
    let after = s.manager.active_targets();
    assert!(Arc::ptr_eq(
        &before["app"][0].target,
        &after["app"][0].target
    ));

    // Changing one job reloads only that pool; dropping a job stops its pool.
    s.manager
        .apply_config(&config("- job_name: app\n  sample_limit: 10\n"))
        .await
        .unwrap();
    assert_eq!(s.metric("prometheus_target_scrape_pool_reloads_total"), 1.0);
    let after = s.manager.active_targets();
    assert!(!after.contains_key("other"));
    wait_for("the removed pool's markers", || {
        s.last("a", "other", &addr).is_some_and(is_stale_nan)
    })
    .await;
    s.manager.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_limit_fails_every_target_of_the_pool() {
    let a = serve("a 1\n").await;
    let b = serve("a 1\n").await;
    let addrs = [a.address(), b.address()];
    let s = start("- job_name: app\n  target_limit: 1\n", &[("app", &addrs)]).await;
    wait_for("reports", || {
        addrs.iter().all(|x| s.last("up", "app", x).is_some())
    })
    .await;
    for t in &s.manager.active_targets()["app"] {
        assert_eq!(t.health, TargetHealth::Down);
        assert_eq!(
            t.last_error,
            "target_limit exceeded (number of targets: 2, limit: 1)"
        );
    }
    assert!(a.state.requests.lock().unwrap().is_empty());
    s.manager.stop().await;
}
