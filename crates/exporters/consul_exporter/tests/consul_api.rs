//! The exporter against a stand-in Consul (see `fake_consul`: no Consul binary is packaged
//! here, so a local server answers the documented HTTP API endpoints): in-process scrapes
//! asserting families, labels and values, the consistency query parameters, failures giving
//! `consul_up 0`, and the binary end to end.

mod fake_consul;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fake_consul::{FakeConsul, cluster};
use pm_common::config::http::{HttpClient, HttpClientConfig, HttpClientError};
use pm_common::expfmt::encode::write_text;
use pm_consul_exporter::{Client, ConnectOptions, Exporter, Options, QueryOptions};

fn options() -> Options {
    Options {
        kv_prefix: String::new(),
        kv_filter: regex::Regex::new(".*").unwrap(),
        meta_filter: regex::Regex::new("^$").unwrap(),
        health_summary: true,
        agent_only: false,
        request_limit: 0,
    }
}

fn exporter(addr: SocketAddr, query: QueryOptions, options: Options) -> Exporter {
    let connect = ConnectOptions {
        server: addr.to_string(),
        timeout: Duration::from_secs(5),
        ..ConnectOptions::default()
    };
    Exporter::new(Client::new(&connect, query).unwrap(), options)
}

async fn scrape(exporter: &Exporter) -> String {
    let mut out = String::new();
    for family in exporter.collect().await {
        write_text(&mut out, &family).unwrap();
    }
    out
}

/// The sample lines (no comments) of an exposition, sorted.
fn samples(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    lines.sort_unstable();
    lines
}

fn assert_contains(text: &str, wanted: &[&str]) {
    for want in wanted {
        assert!(
            text.lines().any(|l| l == *want),
            "{want:?} missing from\n{text}"
        );
    }
}

const STALE: QueryOptions = QueryOptions {
    allow_stale: true,
    require_consistent: false,
};

#[tokio::test]
async fn a_cluster_as_upstreams_families() {
    let (_fake, addr) = cluster().serve().await;
    let options = Options {
        kv_prefix: "app".into(),
        meta_filter: regex::Regex::new("ver").unwrap(),
        ..options()
    };
    let text = scrape(&exporter(addr, STALE, options)).await;
    assert_contains(
        &text,
        &[
            "# HELP consul_up Was the last query of Consul successful.",
            "# TYPE consul_up gauge",
            "consul_up 1",
            "consul_raft_peers 3",
            "consul_raft_leader 1",
            "consul_serf_lan_members 2",
            "consul_serf_lan_member_status{member=\"alpha\"} 1",
            "consul_serf_lan_member_status{member=\"beta\"} 4",
            "consul_serf_lan_member_info{member=\"beta\",role=\"consul\",version=\"1.17.0\"} 4",
            "consul_serf_wan_member_status{dc=\"dc1\",member=\"alpha.dc1\"} 1",
            "consul_serf_wan_member_info{dc=\"dc1\",member=\"alpha.dc1\",role=\"consul\",version=\"1.17.0\"} 1",
            "consul_catalog_services 3",
            "consul_catalog_service_node_healthy{node=\"alpha\",service_id=\"consul\",service_name=\"consul\"} 1",
            "consul_catalog_service_node_healthy{node=\"alpha\",service_id=\"redis\",service_name=\"redis\"} 1",
            "consul_catalog_service_node_healthy{node=\"beta\",service_id=\"redis-2\",service_name=\"redis\"} 0",
            "consul_service_tag{node=\"alpha\",service_id=\"redis\",tag=\"primary\"} 1",
            "consul_service_tag{node=\"alpha\",service_id=\"redis\",tag=\"v1\"} 1",
            "consul_service_tag{node=\"beta\",service_id=\"redis-2\",tag=\"v1\"} 1",
            "consul_service_meta_info{key=\"version\",node=\"alpha\",service_id=\"redis\",value=\"7.2\"} 1",
            "consul_health_node_status{check=\"serfHealth\",node=\"beta\",status=\"critical\"} 1",
            "consul_health_node_status{check=\"serfHealth\",node=\"beta\",status=\"passing\"} 0",
            "consul_health_node_status{check=\"serfHealth\",node=\"alpha\",status=\"maintenance\"} 0",
            "consul_health_service_status{check=\"service:redis-2\",node=\"beta\",service_id=\"redis\",service_name=\"redis\",status=\"warning\"} 1",
            "consul_service_checks{check_id=\"service:redis\",check_name=\"Redis alive\",node=\"alpha\",service_id=\"redis\",service_name=\"redis\"} 1",
            "consul_catalog_kv{key=\"app/limit\"} 42",
            "consul_catalog_kv{key=\"app/ratio\"} 0.25",
        ],
    );
    let lines = samples(&text);
    // Duplicate tags are exported once, unmatched meta keys and non-numeric values not at all.
    assert_eq!(lines.iter().filter(|l| l.contains("tag=\"v1\"")).count(), 2);
    assert!(!text.contains("team"), "{text}");
    assert!(
        !text.contains("app/name") && !text.contains("app/folder/"),
        "{text}"
    );
    // Four statuses per check: 2 node checks and 2 service checks.
    let count = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(count("consul_health_node_status{"), 8);
    assert_eq!(count("consul_health_service_status{"), 8);
    assert_eq!(count("consul_service_checks{"), 2);
}

#[tokio::test]
async fn consistency_flags_become_query_parameters() {
    let (fake, addr) = cluster().serve().await;
    let options = Options {
        kv_prefix: "app".into(),
        ..options()
    };
    scrape(&exporter(addr, STALE, options.clone())).await;
    let requests = fake.requests();
    for want in [
        "/v1/catalog/services?stale=",
        "/v1/catalog/nodes?stale=",
        "/v1/health/state/any?stale=",
        "/v1/health/service/redis?stale=",
        "/v1/kv/app?recurse=&stale=",
        "/v1/status/peers",
        "/v1/status/leader",
        "/v1/agent/members",
        "/v1/agent/members?wan=1",
    ] {
        assert!(
            requests.iter().any(|r| r == want),
            "{want} not in {requests:?}"
        );
    }

    let (fake, addr) = cluster().serve().await;
    let consistent = QueryOptions {
        allow_stale: false,
        require_consistent: true,
    };
    scrape(&exporter(addr, consistent, options)).await;
    let requests = fake.requests();
    assert!(
        requests
            .iter()
            .any(|r| r == "/v1/catalog/services?consistent=")
    );
    assert!(
        requests
            .iter()
            .any(|r| r == "/v1/kv/app?recurse=&consistent=")
    );
    assert!(
        !requests.iter().any(|r| r.contains("stale")),
        "{requests:?}"
    );
}

#[tokio::test]
async fn an_acl_token_goes_with_every_request() {
    let (fake, addr) = cluster().serve().await;
    let connect = ConnectOptions {
        server: addr.to_string(),
        timeout: Duration::from_secs(5),
        token: Some("s3cr3t".into()),
        ..ConnectOptions::default()
    };
    let exporter = Exporter::new(Client::new(&connect, STALE).unwrap(), options());
    scrape(&exporter).await;
    let tokens = fake.tokens.lock().unwrap().clone();
    assert_eq!(tokens.len(), fake.requests().len());
    assert!(tokens.iter().all(|t| t == "s3cr3t"), "{tokens:?}");
}

#[tokio::test]
async fn without_health_summary_no_read_per_service() {
    let (fake, addr) = cluster().serve().await;
    let options = Options {
        health_summary: false,
        ..options()
    };
    let text = scrape(&exporter(addr, STALE, options)).await;
    assert_contains(&text, &["consul_up 1", "consul_catalog_services 3"]);
    assert!(
        !text.contains("consul_catalog_service_node_healthy"),
        "{text}"
    );
    assert!(
        !fake
            .requests()
            .iter()
            .any(|r| r.starts_with("/v1/health/service/"))
    );
}

#[tokio::test]
async fn agent_only_reads_the_local_agent() {
    let (fake, addr) = cluster().serve().await;
    let options = Options {
        agent_only: true,
        request_limit: 1,
        ..options()
    };
    let exporter = exporter(addr, STALE, options);
    let text = scrape(&exporter).await;
    assert_eq!(
        samples(&text),
        [
            "consul_catalog_service_node_healthy{node=\"alpha\",service_id=\"redis\",service_name=\"redis\"} 0",
            "consul_catalog_services 1",
            "consul_service_tag{node=\"alpha\",service_id=\"redis\",tag=\"primary\"} 1",
            "consul_up 1",
        ]
    );
    let requests = fake.requests();
    assert!(
        requests
            .iter()
            .any(|r| r == "/v1/agent/health/service/name/redis?format=json")
    );
    assert!(
        !requests.iter().any(|r| r.starts_with("/v1/catalog/")),
        "{requests:?}"
    );
}

#[tokio::test]
async fn a_failed_read_is_up_zero_and_keeps_the_rest() {
    let mut fake = cluster();
    fake.set(
        "/v1/status/leader",
        500,
        serde_json::json!("No cluster leader"),
    );
    fake.set(
        "/v1/health/service/web",
        403,
        serde_json::json!("ACL not found"),
    );
    let (_fake, addr) = fake.serve().await;
    let text = scrape(&exporter(addr, STALE, options())).await;
    assert_contains(&text, &["consul_up 0", "consul_raft_peers 3"]);
    assert!(!text.contains("consul_raft_leader"), "{text}");
    // A missing KV prefix (404) is no error.
    let options = Options {
        kv_prefix: "absent".into(),
        ..options()
    };
    let (_fake, addr) = cluster().serve().await;
    let text = scrape(&exporter(addr, STALE, options)).await;
    assert_contains(&text, &["consul_up 1"]);
    assert!(!text.contains("consul_catalog_kv"), "{text}");
}

#[tokio::test]
async fn unreachable_or_silent_consul_is_up_zero() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = listener.local_addr().unwrap();
    drop(listener);
    let text = scrape(&exporter(closed, STALE, options())).await;
    assert_eq!(samples(&text), ["consul_up 0"]);

    let stalled = FakeConsul {
        stall: true,
        ..cluster()
    };
    let (_fake, addr) = stalled.serve().await;
    let connect = ConnectOptions {
        server: format!("http://{addr}"),
        timeout: Duration::from_millis(100),
        ..ConnectOptions::default()
    };
    let exporter = Exporter::new(Client::new(&connect, STALE).unwrap(), options());
    let text = scrape(&exporter).await;
    assert_eq!(samples(&text), ["consul_up 0"]);
}

/// The binary, killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn get(url: &str) -> Result<reqwest::Response, HttpClientError> {
    let client = HttpClient::new(&HttpClientConfig::default(), "test").unwrap();
    client.get(url.parse().unwrap()).await
}

/// Runs the binary with `args`; returns it and `/metrics`'s body once it answers.
async fn run_binary(args: &[String]) -> (Proc, String, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_consul_exporter"))
        .arg(format!("--web.listen-address={addr}"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start consul_exporter");
    let proc = Proc(child);
    for _ in 0..200 {
        if let Ok(response) = get(&format!("http://{addr}/metrics")).await {
            assert_eq!(response.status(), 200);
            let body = response.text().await.unwrap();
            return (proc, addr, body);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("consul_exporter on {addr} never answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_scrapes_and_reports_itself() {
    let (_fake, consul) = cluster().serve().await;
    let (_proc, addr, text) = run_binary(&[
        format!("--consul.server=http://{consul}"),
        "--kv.prefix=app".into(),
        "--kv.filter=limit".into(),
    ])
    .await;
    assert_contains(
        &text,
        &[
            "consul_up 1",
            "consul_raft_peers 3",
            "consul_catalog_kv{key=\"app/limit\"} 42",
        ],
    );
    assert!(!text.contains("app/ratio"), "{text}");
    assert!(text.contains("consul_exporter_build_info{"), "{text}");
    assert!(text.contains("process_cpu_seconds_total"), "{text}");
    for path in ["/-/healthy", "/-/ready"] {
        let response = get(&format!("http://{addr}{path}")).await.unwrap();
        assert_eq!(response.text().await.unwrap(), "OK");
    }
    let landing = get(&format!("http://{addr}/")).await.unwrap();
    assert!(landing.text().await.unwrap().contains("consul_exporter"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_with_consul_down_still_answers() {
    let port = free_port();
    let (_proc, _addr, text) = run_binary(&[format!("--consul.server=127.0.0.1:{port}")]).await;
    assert_contains(&text, &["consul_up 0"]);
    assert!(text.contains("consul_exporter_build_info{"), "{text}");
}

#[test]
fn bad_flags_fail_start_up() {
    for (arg, want) in [
        ("--kv.filter=(", "invalid --kv.filter"),
        ("--consul.server=ftp://consul:21", "invalid consul URL"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_consul_exporter"))
            .arg(arg)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{arg}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{arg}: {stderr}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_consul_exporter"))
        .arg("--consul.timeout=soon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
