//! One scrape of Consul: every read runs concurrently, each one's metrics are kept when it
//! succeeds, and `consul_up` is 0 when any read failed.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use pm_common::expfmt::dto::MetricFamily;
use pm_common::metrics::{ConstFamily, ConstKind};
use pm_common::template::parse_go_float;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::{CheckStatus, Client, Service};
use crate::error::ApiError;
use crate::metrics::{self, Desc};

/// Check statuses, in the order upstream exports them.
const STATUSES: [&str; 4] = ["passing", "warning", "critical", "maintenance"];

/// What to read beyond the cluster basics.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--kv.prefix`; no key/value read when empty.
    pub kv_prefix: String,
    /// `--kv.filter`, unanchored as Go's `MatchString`.
    pub kv_filter: regex::Regex,
    /// `--meta.filter`, unanchored.
    pub meta_filter: regex::Regex,
    /// `--consul.health-summary`: one extra read per service.
    pub health_summary: bool,
    /// `--consul.agent-only`: only the local agent's services.
    pub agent_only: bool,
    /// `--consul.request-limit`: concurrent health-summary reads; 0 is unlimited.
    pub request_limit: usize,
}

/// Collects the `consul_*` families.
#[derive(Debug, Clone)]
pub struct Exporter {
    client: Client,
    options: Arc<Options>,
    limit: Option<Arc<Semaphore>>,
}

/// The families of one scrape, filled by concurrent reads.
#[derive(Debug, Default)]
struct Sink(Mutex<BTreeMap<&'static str, ConstFamily>>);

impl Sink {
    fn push(&self, desc: Desc, labels: &[(&str, &str)], value: f64) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(desc.name)
            .or_insert_with(|| ConstFamily::new(desc.name, desc.help, ConstKind::Gauge))
            .push(labels, value);
    }

    fn into_families(self) -> Vec<MetricFamily> {
        self.0
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .into_values()
            .map(ConstFamily::into_family)
            .collect()
    }
}

/// Logs a failed read; `false` makes `consul_up` 0.
fn logged(what: &str, result: Result<(), ApiError>) -> bool {
    match result {
        Ok(()) => true,
        Err(err) => {
            tracing::error!(%err, "{what}");
            false
        }
    }
}

impl Exporter {
    pub fn new(client: Client, options: Options) -> Self {
        let limit =
            (options.request_limit > 0).then(|| Arc::new(Semaphore::new(options.request_limit)));
        Exporter {
            client,
            options: Arc::new(options),
            limit,
        }
    }

    /// One scrape. Never fails: an unreachable Consul gives `consul_up 0`.
    pub async fn collect(&self) -> Vec<MetricFamily> {
        let sink = Arc::new(Sink::default());
        let services = self.collect_services(&sink);
        let ok = if self.options.agent_only {
            services.await
        } else {
            let (services, peers, leader, nodes, lan, wan, health, kv) = tokio::join!(
                services,
                self.collect_peers(&sink),
                self.collect_leader(&sink),
                self.collect_nodes(&sink),
                self.collect_members(&sink, false),
                self.collect_members(&sink, true),
                self.collect_health_state(&sink),
                self.collect_key_values(&sink),
            );
            [services, peers, leader, nodes, lan, wan, health, kv]
                .iter()
                .all(|ok| *ok)
        };
        sink.push(metrics::UP, &[], if ok { 1.0 } else { 0.0 });
        Arc::into_inner(sink)
            .expect("every read has finished")
            .into_families()
    }

    async fn collect_peers(&self, sink: &Sink) -> bool {
        let result = self.client.peers().await.map(|peers| {
            sink.push(metrics::RAFT_PEERS, &[], peers.len() as f64);
        });
        logged("Can't query consul", result)
    }

    async fn collect_leader(&self, sink: &Sink) -> bool {
        let result = self.client.leader().await.map(|leader| {
            let value = if leader.is_empty() { 0.0 } else { 1.0 };
            sink.push(metrics::RAFT_LEADER, &[], value);
        });
        logged("Can't query consul", result)
    }

    async fn collect_nodes(&self, sink: &Sink) -> bool {
        let result = self.client.catalog_node_count().await.map(|n| {
            sink.push(metrics::SERF_LAN_MEMBERS, &[], n as f64);
        });
        logged("Failed to query catalog for nodes", result)
    }

    /// A member's info and status; upstream reads the pool once for each, one read serves
    /// both here.
    async fn collect_members(&self, sink: &Sink, wan: bool) -> bool {
        let result = self.client.members(wan).await.map(|members| {
            for m in &members {
                let status = m.status as f64;
                let version = m.tag("build").split(':').next().unwrap_or("");
                let (role, dc) = (m.tag("role"), m.tag("dc"));
                if wan {
                    let info = [("member", &*m.name), ("dc", dc), ("role", role)];
                    sink.push(
                        metrics::SERF_WAN_MEMBER_INFO,
                        &[info[0], info[1], info[2], ("version", version)],
                        status,
                    );
                    sink.push(metrics::SERF_WAN_MEMBER_STATUS, &info[..2], status);
                } else {
                    let info = [("member", &*m.name), ("role", role), ("version", version)];
                    sink.push(metrics::SERF_LAN_MEMBER_INFO, &info, status);
                    sink.push(metrics::SERF_LAN_MEMBER_STATUS, &info[..1], status);
                }
            }
        });
        let what = if wan {
            "Failed to query wan member status"
        } else {
            "Failed to query member status"
        };
        logged(what, result)
    }

    async fn collect_health_state(&self, sink: &Sink) -> bool {
        let result = self.client.health_state_any().await.map(|checks| {
            for hc in &checks {
                for status in STATUSES {
                    let value = if hc.status == status { 1.0 } else { 0.0 };
                    let check = ("check", &*hc.check_id);
                    let node = ("node", &*hc.node);
                    if hc.service_id.is_empty() {
                        sink.push(
                            metrics::HEALTH_NODE_STATUS,
                            &[check, node, ("status", status)],
                            value,
                        );
                    } else {
                        sink.push(
                            metrics::HEALTH_SERVICE_STATUS,
                            &[
                                check,
                                node,
                                ("service_id", &hc.service_id),
                                ("service_name", &hc.service_name),
                                ("status", status),
                            ],
                            value,
                        );
                    }
                }
                if !hc.service_id.is_empty() {
                    sink.push(
                        metrics::SERVICE_CHECKS,
                        &[
                            ("service_id", &hc.service_id),
                            ("service_name", &hc.service_name),
                            ("check_id", &hc.check_id),
                            ("check_name", &hc.name),
                            ("node", &hc.node),
                        ],
                        1.0,
                    );
                }
            }
        });
        logged("Failed to query service health", result)
    }

    async fn collect_key_values(&self, sink: &Sink) -> bool {
        if self.options.kv_prefix.is_empty() {
            return true;
        }
        let result = self
            .client
            .kv_list(&self.options.kv_prefix)
            .await
            .map(|pairs| {
                for pair in pairs
                    .iter()
                    .filter(|p| self.options.kv_filter.is_match(&p.key))
                {
                    let value = pair.value();
                    let parsed = std::str::from_utf8(&value)
                        .ok()
                        .and_then(|text| parse_go_float(text).ok());
                    if let Some(v) = parsed {
                        sink.push(metrics::CATALOG_KV, &[("key", &pair.key)], v);
                    }
                }
            });
        logged("Error fetching key/values", result)
    }

    /// `consul_catalog_services` and, with `--consul.health-summary`, one read per service.
    async fn collect_services(&self, sink: &Arc<Sink>) -> bool {
        let names = if self.options.agent_only {
            self.client.agent_services().await
        } else {
            self.client.catalog_services().await
        };
        let names = match names {
            Ok(names) => names,
            Err(err) => {
                tracing::error!(%err, "Failed to query for services");
                return false;
            }
        };
        sink.push(metrics::CATALOG_SERVICES, &[], names.len() as f64);
        if !self.options.health_summary {
            return true;
        }
        let mut reads = JoinSet::new();
        for name in names {
            let (this, sink) = (self.clone(), Arc::clone(sink));
            reads.spawn(async move {
                let _permit = match &this.limit {
                    Some(limit) => Some(limit.acquire().await.expect("never closed")),
                    None => None,
                };
                this.collect_one_health_summary(&sink, &name).await
            });
        }
        let mut ok = true;
        while let Some(done) = reads.join_next().await {
            ok &= done.unwrap_or_else(|err| {
                tracing::error!(%err, "health summary task failed");
                false
            });
        }
        ok
    }

    async fn collect_one_health_summary(&self, sink: &Sink, name: &str) -> bool {
        // Consul cannot look up a service whose name starts with a slash.
        if name.starts_with('/') {
            tracing::warn!(
                service_name = name,
                "Skipping service because it starts with a slash"
            );
            return true;
        }
        tracing::debug!(service_name = name, "Fetching health summary");
        let entries = if self.options.agent_only {
            let node = match self.client.agent_node_name().await {
                Ok(node) => node,
                Err(err) => {
                    tracing::error!(%err, "Failed to query agent node name");
                    return false;
                }
            };
            match self.client.agent_health_service(name).await {
                Ok(services) => services
                    .into_iter()
                    .map(|s| (node.clone(), s.service, s.checks))
                    .collect::<Vec<_>>(),
                Err(err) => {
                    tracing::error!(%err, "Failed to query agent service health");
                    return false;
                }
            }
        } else {
            match self.client.health_service(name).await {
                Ok(entries) => entries
                    .into_iter()
                    .map(|e| (e.node.node, e.service, e.checks))
                    .collect(),
                Err(err) => {
                    tracing::error!(%err, "Failed to query service health");
                    return false;
                }
            }
        };
        for (node, service, checks) in &entries {
            // Upstream stops at the first instance registered under another name.
            if service.service != name {
                tracing::debug!(
                    service_name = name,
                    registered = service.service,
                    "Skipping service instance registered under another service"
                );
                break;
            }
            self.push_instance(sink, node, service, checks.as_deref().unwrap_or_default());
        }
        true
    }

    /// One instance: healthy when all its checks pass, its distinct tags, its filtered meta.
    fn push_instance(&self, sink: &Sink, node: &str, service: &Service, checks: &[CheckStatus]) {
        let healthy = checks.iter().all(|c| c.status == "passing");
        let (id, node) = (("service_id", &*service.id), ("node", node));
        sink.push(
            metrics::CATALOG_SERVICE_NODE_HEALTHY,
            &[id, node, ("service_name", &service.service)],
            if healthy { 1.0 } else { 0.0 },
        );
        let mut seen = HashSet::new();
        for tag in service.tags.iter().flatten() {
            if seen.insert(tag) {
                sink.push(metrics::SERVICE_TAG, &[id, node, ("tag", tag)], 1.0);
            }
        }
        let meta = service.meta.iter().flatten();
        for (key, value) in meta.filter(|(k, _)| self.options.meta_filter.is_match(k)) {
            sink.push(
                metrics::SERVICE_META_INFO,
                &[id, node, ("key", key), ("value", value)],
                1.0,
            );
        }
    }
}

#[cfg(test)]
mod tests;
