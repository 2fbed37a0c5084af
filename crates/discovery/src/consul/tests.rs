//! Consul SD against a small local HTTP server speaking the parts of Consul's HTTP API that
//! discovery uses (agent/self, catalog/services, health/service with blocking queries): no
//! Consul binary is available here.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::watch;

use pm_common::model::Labels;

use super::*;
use crate::testutil::{Recorder, addresses, context, sample};

#[derive(Default)]
struct Catalog {
    /// Service name → (tags, health entries).
    services: BTreeMap<String, (Vec<String>, Value)>,
}

struct FakeConsul {
    index: watch::Sender<u64>,
    catalog: Mutex<Catalog>,
    /// Every request as `path?query`, with the token header if any.
    requests: Mutex<Vec<String>>,
}

impl FakeConsul {
    fn change(&self, edit: impl FnOnce(&mut Catalog)) {
        edit(&mut self.catalog.lock().unwrap());
        self.index.send_modify(|i| *i += 1);
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// Holds a blocking query until the index moves past the client's (bounded by 10 s so
    /// that a test never hangs), then answers with the current index.
    async fn block(&self, path: &str, query: &Option<String>, headers: &HeaderMap) -> u64 {
        let token = headers
            .get("X-Consul-Token")
            .map(|t| format!(" token={}", t.to_str().unwrap()))
            .unwrap_or_default();
        let query = query.clone().unwrap_or_default();
        self.requests
            .lock()
            .unwrap()
            .push(format!("{path}?{query}{token}"));
        let wanted: u64 = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "index")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut rx = self.index.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|i| *i > wanted)).await;
        *rx.borrow()
    }
}

async fn agent_self(State(consul): State<Arc<FakeConsul>>) -> impl IntoResponse {
    consul
        .requests
        .lock()
        .unwrap()
        .push("/v1/agent/self".into());
    axum::Json(json!({"Config": {"Datacenter": "dc1"}}))
}

async fn services(
    State(consul): State<Arc<FakeConsul>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> impl IntoResponse {
    let index = consul.block("/v1/catalog/services", &query, &headers).await;
    let catalog = consul.catalog.lock().unwrap();
    let body: BTreeMap<&String, &Vec<String>> = catalog
        .services
        .iter()
        .map(|(name, (tags, _))| (name, tags))
        .collect();
    (
        [("X-Consul-Index", index.to_string())],
        axum::Json(json!(body)),
    )
}

async fn health(
    State(consul): State<Arc<FakeConsul>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> impl IntoResponse {
    let index = consul
        .block(&format!("/v1/health/service/{name}"), &query, &headers)
        .await;
    let catalog = consul.catalog.lock().unwrap();
    let entries = catalog
        .services
        .get(&name)
        .map_or(json!([]), |(_, entries)| entries.clone());
    ([("X-Consul-Index", index.to_string())], axum::Json(entries))
}

async fn start_consul(catalog: Catalog) -> (Arc<FakeConsul>, String, tokio::task::JoinHandle<()>) {
    let consul = Arc::new(FakeConsul {
        index: watch::Sender::new(1),
        catalog: Mutex::new(catalog),
        requests: Mutex::default(),
    });
    let app = axum::Router::new()
        .route("/v1/agent/self", get(agent_self))
        .route("/v1/catalog/services", get(services))
        .route("/v1/health/service/{name}", get(health))
        .with_state(Arc::clone(&consul));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (consul, server, task)
}

fn entry(
    node: &str,
    node_addr: &str,
    id: &str,
    service_addr: &str,
    port: u16,
    tags: &[&str],
) -> Value {
    json!({
        "Node": {
            "Node": node,
            "Address": node_addr,
            "Meta": {"rack": "r1", "os-version": "12"},
            "TaggedAddresses": {"lan": node_addr, "wan": "198.51.100.1"}
        },
        "Service": {
            "ID": id,
            "Service": "web",
            "Tags": tags,
            "Address": service_addr,
            "Port": port,
            "Meta": {"version": "1.2"},
            "Namespace": "",
            "Partition": ""
        },
        "Checks": [
            {"CheckID": "serfHealth", "Status": "passing"},
            {"CheckID": "service:web", "Status": "warning"}
        ]
    })
}

fn settings(server: &str) -> ConsulSettings {
    ConsulSettings {
        server: server.to_owned(),
        refresh_interval: pm_common::config::Duration::from_millis(10),
        ..ConsulSettings::default()
    }
}

fn run_consul(
    settings: ConsulSettings,
) -> (
    Arc<Recorder>,
    pm_common::metrics::Registry,
    tokio::task::JoinHandle<()>,
) {
    let config = ConsulSdConfig {
        settings,
        http_client: Default::default(),
    };
    let (ctx, registry) = context("job");
    let recorder = Arc::new(Recorder::default());
    let task = tokio::spawn(
        Discovery::new(&config, ctx)
            .unwrap()
            .run(recorder.updates()),
    );
    (recorder, registry, task)
}

fn label<'a>(target: &'a Labels, name: &str) -> &'a str {
    target.get_or_empty(name)
}

#[tokio::test]
async fn catalog_watch_with_tags_node_meta_and_blocking_updates() {
    let mut catalog = Catalog::default();
    catalog.services.insert(
        "web".into(),
        (
            vec!["prod".into(), "v1".into()],
            json!([
                entry("n1", "10.0.0.1", "web-1", "", 8080, &["prod", "v1"]),
                entry("n2", "10.0.0.2", "web-2", "192.0.2.7", 8081, &["prod"]),
            ]),
        ),
    );
    catalog
        .services
        .insert("db".into(), (vec!["dev".into()], json!([])));
    let (consul, server, task_server) = start_consul(catalog).await;
    let mut settings = settings(&server);
    settings.service_tags = vec!["prod".into()];
    settings.node_meta = BTreeMap::from([("rack".into(), "r1".into())]);
    settings.tag_separator = ";".into();
    settings.token = "s3cret".into();
    settings.filter = "Service.Port > 0".into();
    let (recorder, registry, task) = run_consul(settings);

    let state = recorder
        .wait_for("the web service", |s| s.contains_key("web"))
        .await;
    assert!(!state.contains_key("db"), "db lacks the prod tag");
    let web = &state["web"];
    assert_eq!(web.labels.get("__meta_consul_service"), Some("web"));
    assert_eq!(web.labels.get("__meta_consul_dc"), Some("dc1"));
    assert_eq!(addresses(web), ["10.0.0.1:8080", "192.0.2.7:8081"]);
    let first = &web.targets[0];
    let want = [
        ("__meta_consul_address", "10.0.0.1"),
        ("__meta_consul_node", "n1"),
        ("__meta_consul_namespace", ""),
        ("__meta_consul_partition", ""),
        ("__meta_consul_tags", ";prod;v1;"),
        ("__meta_consul_service_address", ""),
        ("__meta_consul_service_port", "8080"),
        ("__meta_consul_service_id", "web-1"),
        ("__meta_consul_health", "warning"),
        ("__meta_consul_metadata_rack", "r1"),
        ("__meta_consul_metadata_os_version", "12"),
        ("__meta_consul_service_metadata_version", "1.2"),
        ("__meta_consul_tagged_address_lan", "10.0.0.1"),
        ("__meta_consul_tagged_address_wan", "198.51.100.1"),
    ];
    for (name, value) in want {
        assert_eq!(label(first, name), value, "{name}");
    }
    // Empty values are absent labels in our label sets (as for relabeling upstream).
    let present = want.iter().filter(|(_, v)| !v.is_empty()).count();
    assert_eq!(first.len(), present + 1, "{first:?}");
    assert_eq!(
        label(&web.targets[1], "__meta_consul_service_address"),
        "192.0.2.7"
    );

    // A change answers the pending blocking query at once.
    consul.change(|c| {
        c.services.get_mut("web").unwrap().1 =
            json!([entry("n3", "10.0.0.3", "web-3", "", 9000, &["prod"])]);
    });
    recorder
        .wait_for("the changed instances", |s| {
            addresses(&s["web"]) == ["10.0.0.3:9000"]
        })
        .await;

    // A service that leaves the catalog is withdrawn, and an empty catalog reports an
    // empty group.
    consul.change(|c| {
        c.services.remove("web");
    });
    recorder
        .wait_for("web withdrawn", |s| {
            s["web"].targets.is_empty() && s.contains_key("")
        })
        .await;

    let requests = consul.requests();
    assert_eq!(requests[0], "/v1/agent/self");
    let catalog_call = requests
        .iter()
        .find(|r| r.starts_with("/v1/catalog/services?"))
        .unwrap();
    for part in [
        "index=0",
        "wait=120000ms",
        "stale",
        "node-meta=rack%3Ar1",
        "filter=Service.Port",
        " token=s3cret",
    ] {
        assert!(
            catalog_call.contains(part),
            "{part} missing from {catalog_call}"
        );
    }
    let health_call = requests
        .iter()
        .find(|r| r.starts_with("/v1/health/service/web?"))
        .unwrap();
    assert!(health_call.contains("tag=prod"), "{health_call}");
    assert!(!health_call.contains("filter="), "{health_call}");
    assert_eq!(
        sample(&registry, "prometheus_sd_consul_rpc_failures_total"),
        Some(0.0)
    );
    let services_rpcs = sample(
        &registry,
        "prometheus_sd_consul_rpc_duration_seconds_count{call=\"services\",endpoint=\"catalog\"}",
    );
    assert!(services_rpcs.is_some_and(|n| n >= 2.0), "{services_rpcs:?}");
    task.abort();
    task_server.abort();
}

#[tokio::test]
async fn named_services_skip_the_catalog() {
    let mut catalog = Catalog::default();
    catalog.services.insert(
        "web".into(),
        (
            vec![],
            json!([entry("n1", "10.0.0.1", "web-1", "", 80, &[])]),
        ),
    );
    let (consul, server, task_server) = start_consul(catalog).await;
    let mut settings = settings(&server);
    settings.services = vec!["web".into()];
    settings.datacenter = "east".into();
    settings.allow_stale = false;
    settings.health_filter = "Checks.Status == \"passing\"".into();
    let (recorder, _registry, task) = run_consul(settings);
    let state = recorder
        .wait_for("the web service", |s| s.contains_key("web"))
        .await;
    assert_eq!(state["web"].labels.get("__meta_consul_dc"), Some("east"));
    assert_eq!(label(&state["web"].targets[0], "__meta_consul_tags"), ",,");
    let requests = consul.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.starts_with("/v1/health/service/web?")),
        "{requests:?}"
    );
    assert!(requests[0].contains("dc=east") && requests[0].contains("filter=Checks.Status"));
    assert!(!requests[0].contains("stale"), "{}", requests[0]);
    task.abort();
    task_server.abort();
}
