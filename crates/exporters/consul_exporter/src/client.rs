//! The reads of Consul's HTTP API that the exporter makes, and the parts of their JSON
//! answers it uses (Consul's field names, PascalCase).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use pm_common::config::http::{HttpClient, HttpClientConfig, TlsConfig};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use tokio::sync::OnceCell;

use crate::error::{ApiError, ConfigError};

/// Consul's header for an ACL token.
const TOKEN_HEADER: &str = "X-Consul-Token";

/// The consistency mode of catalog, health and key/value reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryOptions {
    /// `?stale`: any server may answer, not only the leader.
    pub allow_stale: bool,
    /// `?consistent`: the leader confirms its leadership before answering.
    pub require_consistent: bool,
}

/// Where and how to reach Consul.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--consul.server`; `http://` is assumed without a scheme.
    pub server: String,
    pub ca_file: String,
    pub cert_file: String,
    pub key_file: String,
    pub server_name: String,
    pub insecure: bool,
    pub timeout: Duration,
    /// An ACL token, sent as `X-Consul-Token` (upstream's Consul client reads it from
    /// `CONSUL_HTTP_TOKEN`).
    pub token: Option<String>,
}

/// A Consul HTTP API client; cheap to clone (clones share connections).
#[derive(Debug, Clone)]
pub struct Client {
    http: HttpClient,
    base: Url,
    timeout: Duration,
    query: QueryOptions,
    token: Option<String>,
    /// The agent's node name, read once (it cannot change while the agent runs).
    node_name: Arc<OnceCell<String>>,
}

/// One member of the LAN or WAN gossip pool (`/v1/agent/members`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Member {
    pub name: String,
    #[serde(default)]
    pub tags: Option<HashMap<String, String>>,
    pub status: i64,
}

impl Member {
    pub fn tag(&self, key: &str) -> &str {
        self.tags
            .as_ref()
            .and_then(|t| t.get(key))
            .map_or("", String::as_str)
    }
}

/// One health check (`/v1/health/state/any`).
#[derive(Debug, Clone, Deserialize)]
pub struct HealthCheck {
    #[serde(rename = "Node", default)]
    pub node: String,
    #[serde(rename = "CheckID", default)]
    pub check_id: String,
    #[serde(rename = "Name", default)]
    pub name: String,
    #[serde(rename = "Status", default)]
    pub status: String,
    #[serde(rename = "ServiceID", default)]
    pub service_id: String,
    #[serde(rename = "ServiceName", default)]
    pub service_name: String,
}

/// The status of a check, the only field the health summary needs.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckStatus {
    #[serde(rename = "Status", default)]
    pub status: String,
}

/// A service instance as registered.
#[derive(Debug, Clone, Deserialize)]
pub struct Service {
    #[serde(rename = "ID", default)]
    pub id: String,
    #[serde(rename = "Service", default)]
    pub service: String,
    #[serde(rename = "Tags", default)]
    pub tags: Option<Vec<String>>,
    #[serde(rename = "Meta", default)]
    pub meta: Option<BTreeMap<String, String>>,
}

/// The node an instance runs on.
#[derive(Debug, Clone, Deserialize)]
pub struct Node {
    #[serde(rename = "Node", default)]
    pub node: String,
}

/// A service instance with its node and checks (`/v1/health/service/<name>`).
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceEntry {
    #[serde(rename = "Node")]
    pub node: Node,
    #[serde(rename = "Service")]
    pub service: Service,
    #[serde(rename = "Checks", default)]
    pub checks: Option<Vec<CheckStatus>>,
}

/// A service instance of the local agent with its checks
/// (`/v1/agent/health/service/name/<name>`).
#[derive(Debug, Clone, Deserialize)]
pub struct AgentServiceChecks {
    #[serde(rename = "Service")]
    pub service: Service,
    #[serde(rename = "Checks", default)]
    pub checks: Option<Vec<CheckStatus>>,
}

/// A key and its (base64) value (`/v1/kv/<prefix>?recurse`).
#[derive(Debug, Clone, Deserialize)]
pub struct KvPair {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value", default)]
    value: Option<String>,
}

impl KvPair {
    /// The raw value; empty when absent or not valid base64.
    pub fn value(&self) -> Vec<u8> {
        self.value
            .as_deref()
            .and_then(|v| BASE64.decode(v).ok())
            .unwrap_or_default()
    }
}

#[derive(Debug, Deserialize)]
struct AgentSelf {
    #[serde(rename = "Config")]
    config: Option<AgentConfig>,
}

#[derive(Debug, Deserialize)]
struct AgentConfig {
    #[serde(rename = "NodeName")]
    node_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AgentService {
    #[serde(rename = "Service", default)]
    service: String,
}

/// Whether a request carries the consistency query parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Consistency {
    Default,
    Configured,
}

impl Client {
    pub fn new(opts: &ConnectOptions, query: QueryOptions) -> Result<Self, ConfigError> {
        let base = server_url(&opts.server)?;
        let cfg = HttpClientConfig {
            tls_config: TlsConfig {
                ca_file: opts.ca_file.clone(),
                cert_file: opts.cert_file.clone(),
                key_file: opts.key_file.clone(),
                server_name: host_of(&opts.server_name).to_owned(),
                insecure_skip_verify: opts.insecure,
                ..TlsConfig::default()
            },
            ..HttpClientConfig::default()
        };
        Ok(Client {
            http: HttpClient::new(&cfg, "consul")?,
            base,
            timeout: opts.timeout,
            query,
            token: opts.token.clone().filter(|t| !t.is_empty()),
            node_name: Arc::default(),
        })
    }

    /// `/v1/status/peers`: the addresses of the Raft peers.
    pub async fn peers(&self) -> Result<Vec<String>, ApiError> {
        self.get("/v1/status/peers", &[], Consistency::Default)
            .await
    }

    /// `/v1/status/leader`: the leader's address, empty without one.
    pub async fn leader(&self) -> Result<String, ApiError> {
        self.get("/v1/status/leader", &[], Consistency::Default)
            .await
    }

    /// `/v1/catalog/nodes`: how many nodes the catalog holds.
    pub async fn catalog_node_count(&self) -> Result<usize, ApiError> {
        let nodes: Option<Vec<IgnoredAny>> = self
            .get("/v1/catalog/nodes", &[], Consistency::Configured)
            .await?;
        Ok(nodes.map_or(0, |n| n.len()))
    }

    /// `/v1/agent/members`, the LAN pool or (`wan`) the WAN pool.
    pub async fn members(&self, wan: bool) -> Result<Vec<Member>, ApiError> {
        let query: &[(&str, &str)] = if wan { &[("wan", "1")] } else { &[] };
        let members: Option<Vec<Member>> = self
            .get("/v1/agent/members", query, Consistency::Default)
            .await?;
        Ok(members.unwrap_or_default())
    }

    /// `/v1/catalog/services`: the names of the registered services.
    pub async fn catalog_services(&self) -> Result<Vec<String>, ApiError> {
        let services: Option<BTreeMap<String, IgnoredAny>> = self
            .get("/v1/catalog/services", &[], Consistency::Configured)
            .await?;
        Ok(services.unwrap_or_default().into_keys().collect())
    }

    /// `/v1/agent/services`: the names of the services registered on this agent.
    pub async fn agent_services(&self) -> Result<Vec<String>, ApiError> {
        let services: Option<HashMap<String, AgentService>> = self
            .get("/v1/agent/services", &[], Consistency::Default)
            .await?;
        let mut names: Vec<String> = services
            .unwrap_or_default()
            .into_values()
            .map(|s| s.service)
            .collect();
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }

    /// `/v1/agent/self`: the agent's node name, read on first use.
    pub async fn agent_node_name(&self) -> Result<String, ApiError> {
        let name = self
            .node_name
            .get_or_try_init(|| async {
                let info: AgentSelf = self
                    .get("/v1/agent/self", &[], Consistency::Default)
                    .await?;
                info.config
                    .and_then(|c| c.node_name)
                    .ok_or(ApiError::NodeName)
            })
            .await?;
        Ok(name.clone())
    }

    /// `/v1/health/state/any`: every check of the cluster.
    pub async fn health_state_any(&self) -> Result<Vec<HealthCheck>, ApiError> {
        let checks: Option<Vec<HealthCheck>> = self
            .get("/v1/health/state/any", &[], Consistency::Configured)
            .await?;
        Ok(checks.unwrap_or_default())
    }

    /// `/v1/health/service/<name>`: the instances of a service with their checks.
    pub async fn health_service(&self, name: &str) -> Result<Vec<ServiceEntry>, ApiError> {
        let entries: Option<Vec<ServiceEntry>> = self
            .get(
                &format!("/v1/health/service/{name}"),
                &[],
                Consistency::Configured,
            )
            .await?;
        Ok(entries.unwrap_or_default())
    }

    /// `/v1/agent/health/service/name/<name>`: the local agent's instances of a service.
    /// Consul answers 429 (warning) and 503 (critical) with the same body as 200.
    pub async fn agent_health_service(
        &self,
        name: &str,
    ) -> Result<Vec<AgentServiceChecks>, ApiError> {
        let path = format!("/v1/agent/health/service/name/{name}");
        let (status, body) = self
            .fetch(&path, &[("format", "json")], Consistency::Default)
            .await?;
        match status {
            StatusCode::OK | StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                let checks: Option<Vec<AgentServiceChecks>> = decode(&path, &body)?;
                Ok(checks.unwrap_or_default())
            }
            StatusCode::NOT_FOUND => Err(ApiError::UnknownService(name.to_owned())),
            status => Err(unexpected(status, &body)),
        }
    }

    /// `/v1/kv/<prefix>?recurse`: the keys under `prefix`; none when Consul has none (404).
    pub async fn kv_list(&self, prefix: &str) -> Result<Vec<KvPair>, ApiError> {
        let path = format!("/v1/kv/{}", prefix.trim_start_matches('/'));
        let (status, body) = self
            .fetch(&path, &[("recurse", "")], Consistency::Configured)
            .await?;
        match status {
            StatusCode::OK => {
                let pairs: Option<Vec<KvPair>> = decode(&path, &body)?;
                Ok(pairs.unwrap_or_default())
            }
            StatusCode::NOT_FOUND => Ok(Vec::new()),
            status => Err(unexpected(status, &body)),
        }
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        consistency: Consistency,
    ) -> Result<T, ApiError> {
        let (status, body) = self.fetch(path, query, consistency).await?;
        if status != StatusCode::OK {
            return Err(unexpected(status, &body));
        }
        decode(path, &body)
    }

    async fn fetch(
        &self,
        path: &str,
        query: &[(&str, &str)],
        consistency: Consistency,
    ) -> Result<(StatusCode, Vec<u8>), ApiError> {
        let mut url = self.base.clone();
        url.set_path(path);
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
            if consistency == Consistency::Configured {
                if self.query.allow_stale {
                    pairs.append_pair("stale", "");
                }
                if self.query.require_consistent {
                    pairs.append_pair("consistent", "");
                }
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let mut request = self.http.request(Method::GET, url).timeout(self.timeout);
        if let Some(token) = &self.token {
            request = request.header(TOKEN_HEADER, token);
        }
        let response = self
            .http
            .send(request)
            .await
            .map_err(|source| ApiError::Request {
                path: path.to_owned(),
                source,
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|source| ApiError::Body {
            path: path.to_owned(),
            source,
        })?;
        Ok((status, body.to_vec()))
    }
}

fn decode<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|source| ApiError::Decode {
        path: path.to_owned(),
        source,
    })
}

fn unexpected(status: StatusCode, body: &[u8]) -> ApiError {
    ApiError::Status {
        status: status.as_u16(),
        body: String::from_utf8_lossy(body).trim().to_owned(),
    }
}

/// `--consul.server` as upstream reads it: `http://` when no scheme is given, and only the
/// scheme and host:port are used.
fn server_url(server: &str) -> Result<Url, ConfigError> {
    let uri = if server.contains("://") {
        server.to_owned()
    } else {
        format!("http://{server}")
    };
    let url = Url::parse(&uri).map_err(|e| ConfigError::Url(e.to_string()))?;
    if url.host_str().is_none_or(str::is_empty) || !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::Url(uri));
    }
    let mut base = url;
    base.set_path("/");
    base.set_query(None);
    base.set_fragment(None);
    Ok(base)
}

/// Consul's client takes `--consul.server-name` as an address and verifies against its host.
fn host_of(address: &str) -> &str {
    let host = match address.rsplit_once(':') {
        Some((host, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!host.contains(':') || host.ends_with(']')) =>
        {
            host
        }
        _ => address,
    };
    host.trim_start_matches('[').trim_end_matches(']')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_defaults_to_http_and_keeps_only_the_host() {
        assert_eq!(
            server_url("consul:8500").unwrap().as_str(),
            "http://consul:8500/"
        );
        assert_eq!(
            server_url("https://consul.example/ui?x=1")
                .unwrap()
                .as_str(),
            "https://consul.example/"
        );
        assert!(matches!(
            server_url("ftp://consul:21"),
            Err(ConfigError::Url(_))
        ));
        assert!(matches!(server_url("http://"), Err(ConfigError::Url(_))));
    }

    #[test]
    fn server_name_drops_a_port() {
        assert_eq!(host_of("consul.example:8501"), "consul.example");
        assert_eq!(host_of("consul.example"), "consul.example");
        assert_eq!(host_of("[::1]:8501"), "::1");
        assert_eq!(host_of(""), "");
    }

    #[test]
    fn kv_values_are_base64() {
        let pair: KvPair = serde_json::from_str(r#"{"Key":"a","Value":"NDI="}"#).unwrap();
        assert_eq!(pair.value(), b"42");
        let pair: KvPair = serde_json::from_str(r#"{"Key":"a","Value":null}"#).unwrap();
        assert!(pair.value().is_empty());
    }
}
