//! A stand-in for Consul: no Consul binary is packaged here, so a local axum server answers
//! the HTTP API endpoints the exporter reads with JSON shaped as Consul's API documentation
//! shows (https://developer.hashicorp.com/consul/api-docs: status, agent, catalog, health,
//! kv), and records each request's path and query.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// Answers by path: status and JSON body. Unknown paths get 404.
#[derive(Debug, Default)]
pub struct FakeConsul {
    pub answers: HashMap<String, (u16, Value)>,
    /// `path?query` of every request, in arrival order.
    pub requests: Mutex<Vec<String>>,
    /// The `X-Consul-Token` header of every request that had one.
    pub tokens: Mutex<Vec<String>>,
    /// Never answer: the exporter's `--consul.timeout` must end each read.
    pub stall: bool,
}

impl FakeConsul {
    pub fn set(&mut self, path: &str, status: u16, body: Value) {
        self.answers.insert(path.to_owned(), (status, body));
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// Serves on an ephemeral loopback port until the runtime ends.
    pub async fn serve(self) -> (Arc<FakeConsul>, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fake = Arc::new(self);
        let app = Router::new().fallback(answer).with_state(Arc::clone(&fake));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (fake, addr)
    }
}

async fn answer(State(fake): State<Arc<FakeConsul>>, request: Request) -> Response {
    let uri = request.uri();
    let path = uri.path().to_owned();
    let logged = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    fake.requests.lock().unwrap().push(logged);
    if let Some(token) = request.headers().get("x-consul-token") {
        let token = token.to_str().unwrap_or_default().to_owned();
        fake.tokens.lock().unwrap().push(token);
    }
    if fake.stall {
        std::future::pending::<()>().await;
    }
    // The WAN pool shares the LAN pool's path.
    let key = if path == "/v1/agent/members" && uri.query() == Some("wan=1") {
        "/v1/agent/members?wan=1".to_owned()
    } else {
        path
    };
    match fake.answers.get(&key) {
        Some((status, body)) => (
            StatusCode::from_u16(*status).unwrap(),
            [("content-type", "application/json")],
            body.to_string(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such path").into_response(),
    }
}

fn member(name: &str, dc: &str, status: u8) -> Value {
    json!({
        "Name": name, "Addr": "10.1.10.12", "Port": 8301,
        "Tags": {"bootstrap": "1", "dc": dc, "id": "40e4a748-2192-161a-0510-9bf59fe950b5",
                 "port": "8300", "role": "consul", "vsn": "1", "vsn_max": "1", "vsn_min": "1",
                 "build": "1.17.0:abcdef12"},
        "Status": status, "ProtocolMin": 1, "ProtocolMax": 5, "ProtocolCur": 2,
        "DelegateMin": 2, "DelegateMax": 5, "DelegateCur": 4
    })
}

fn check(node: &str, id: &str, name: &str, status: &str, service: &str) -> Value {
    json!({
        "Node": node, "CheckID": id, "Name": name, "Status": status, "Notes": "",
        "Output": "", "ServiceID": service, "ServiceName": service, "ServiceTags": [],
        "Namespace": "default"
    })
}

fn service(id: &str, name: &str, tags: &[&str], meta: Value) -> Value {
    json!({"ID": id, "Service": name, "Tags": tags, "Address": "", "Meta": meta,
           "Port": 6379, "Weights": {"Passing": 1, "Warning": 1}, "EnableTagOverride": false})
}

fn kv(key: &str, value: Option<&str>) -> Value {
    json!({"LockIndex": 0, "Key": key, "Flags": 0,
           "Value": value.map(|v| BASE64.encode(v)), "CreateIndex": 100, "ModifyIndex": 200})
}

/// A two-node cluster (`alpha`, `beta`) with a `redis` service on each and a `web` service.
pub fn cluster() -> FakeConsul {
    let mut fake = FakeConsul::default();
    fake.set(
        "/v1/status/peers",
        200,
        json!(["10.1.10.12:8300", "10.1.10.11:8300", "10.1.10.10:8300"]),
    );
    fake.set("/v1/status/leader", 200, json!("10.1.10.12:8300"));
    fake.set(
        "/v1/catalog/nodes",
        200,
        json!([
            {"ID": "1", "Node": "alpha", "Address": "10.1.10.12", "Datacenter": "dc1",
             "TaggedAddresses": {"lan": "10.1.10.12", "wan": "10.1.10.12"}, "Meta": {}},
            {"ID": "2", "Node": "beta", "Address": "10.1.10.11", "Datacenter": "dc1",
             "TaggedAddresses": {"lan": "10.1.10.11", "wan": "10.1.10.11"}, "Meta": {}}
        ]),
    );
    fake.set(
        "/v1/agent/members",
        200,
        json!([member("alpha", "dc1", 1), member("beta", "dc1", 4)]),
    );
    fake.set(
        "/v1/agent/members?wan=1",
        200,
        json!([member("alpha.dc1", "dc1", 1)]),
    );
    fake.set(
        "/v1/catalog/services",
        200,
        json!({"consul": [], "redis": ["primary", "v1"], "web": []}),
    );
    fake.set(
        "/v1/health/state/any",
        200,
        json!([
            check("alpha", "serfHealth", "Serf Health Status", "passing", ""),
            check("beta", "serfHealth", "Serf Health Status", "critical", ""),
            check("alpha", "service:redis", "Redis alive", "passing", "redis"),
            check("beta", "service:redis-2", "Redis alive", "warning", "redis")
        ]),
    );
    fake.set(
        "/v1/health/service/consul",
        200,
        json!([{
            "Node": {"Node": "alpha", "Address": "10.1.10.12"},
            "Service": service("consul", "consul", &[], json!({})),
            "Checks": [{"Node": "alpha", "CheckID": "serfHealth", "Status": "passing"}]
        }]),
    );
    fake.set(
        "/v1/health/service/redis",
        200,
        json!([
            {
                "Node": {"Node": "alpha", "Address": "10.1.10.12"},
                "Service": service("redis", "redis", &["primary", "v1", "v1"],
                                   json!({"version": "7.2", "team": "cache"})),
                "Checks": [
                    {"Node": "alpha", "CheckID": "serfHealth", "Status": "passing"},
                    {"Node": "alpha", "CheckID": "service:redis", "Status": "passing"}
                ]
            },
            {
                "Node": {"Node": "beta", "Address": "10.1.10.11"},
                "Service": service("redis-2", "redis", &["v1"], Value::Null),
                "Checks": [
                    {"Node": "beta", "CheckID": "serfHealth", "Status": "critical"},
                    {"Node": "beta", "CheckID": "service:redis-2", "Status": "warning"}
                ]
            }
        ]),
    );
    fake.set("/v1/health/service/web", 200, json!([]));
    fake.set(
        "/v1/kv/app",
        200,
        json!([
            kv("app/folder/", None),
            kv("app/limit", Some("42")),
            kv("app/name", Some("hello")),
            kv("app/ratio", Some("0.25"))
        ]),
    );
    fake.set(
        "/v1/agent/self",
        200,
        json!({"Config": {"Datacenter": "dc1", "NodeName": "alpha", "NodeID": "1"},
               "Member": member("alpha", "dc1", 1)}),
    );
    fake.set(
        "/v1/agent/services",
        200,
        json!({"redis": service("redis", "redis", &["primary"], json!({}))}),
    );
    fake.set(
        "/v1/agent/health/service/name/redis",
        503,
        json!([{
            "AggregatedStatus": "critical",
            "Service": service("redis", "redis", &["primary"], json!({})),
            "Checks": [{"Node": "alpha", "CheckID": "service:redis", "Status": "critical"}]
        }]),
    );
    fake
}
