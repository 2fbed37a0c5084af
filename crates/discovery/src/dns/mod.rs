//! `dns_sd_configs`: targets from SRV, A, AAAA, MX or NS records, re-resolved every
//! `refresh_interval`, one group per name (its source).

pub(crate) mod config;

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use pm_common::model::Labels;
use tokio::task::JoinSet;

use self::config::DnsSdConfig;
use crate::TargetGroup;
use crate::provider::{Context, ProviderError, Updates};
use crate::refresh::{self, Refresh};

pub const NAME_LABEL: &str = "__meta_dns_name";
pub const SRV_TARGET_LABEL: &str = "__meta_dns_srv_record_target";
pub const SRV_PORT_LABEL: &str = "__meta_dns_srv_record_port";
pub const MX_TARGET_LABEL: &str = "__meta_dns_mx_record_target";
pub const NS_TARGET_LABEL: &str = "__meta_dns_ns_record_target";

pub(crate) struct Discovery {
    names: Vec<String>,
    record_type: RecordType,
    port: u16,
    interval: Duration,
    resolver: TokioResolver,
    ctx: Context,
}

impl Discovery {
    pub(crate) fn new(config: &DnsSdConfig, ctx: Context) -> Result<Discovery, ProviderError> {
        let record_type = match config.record_type.to_ascii_uppercase().as_str() {
            "A" => RecordType::A,
            "AAAA" => RecordType::AAAA,
            "MX" => RecordType::MX,
            "NS" => RecordType::NS,
            _ => RecordType::SRV,
        };
        let resolver_error =
            |err: hickory_resolver::net::NetError| ProviderError::Resolver(err.to_string());
        let mut builder = match &ctx.nameservers {
            Some(servers) => TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(servers.iter().map(name_server).collect()),
                TokioRuntimeProvider::default(),
            ),
            None => TokioResolver::builder_tokio().map_err(resolver_error)?,
        };
        // Upstream asks the servers on every refresh; a cache would hide changes until the
        // records' TTL ran out.
        builder.options_mut().cache_size = 0;
        Ok(Discovery {
            names: config.names.clone(),
            record_type,
            port: config.port,
            interval: config.refresh_interval.into(),
            resolver: builder.build().map_err(resolver_error)?,
            ctx,
        })
    }

    pub(crate) async fn run(self, updates: Updates) {
        let (interval, ctx) = (self.interval, self.ctx.clone());
        refresh::run(self, "dns", interval, ctx, updates).await;
    }
}

fn name_server(addr: &SocketAddr) -> NameServerConfig {
    let mut udp = ConnectionConfig::udp();
    udp.port = addr.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = addr.port();
    NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
}

impl Refresh for Discovery {
    /// Looks every name up at once; a name whose lookup fails keeps its last group.
    async fn refresh(&mut self) -> Result<Vec<TargetGroup>, String> {
        let mut lookups = JoinSet::new();
        for name in &self.names {
            let (resolver, name) = (self.resolver.clone(), name.clone());
            let (record_type, port) = (self.record_type, self.port);
            lookups.spawn(async move {
                let result = resolver.lookup(name.as_str(), record_type).await;
                (name, port, result)
            });
        }
        let mut groups = Vec::with_capacity(self.names.len());
        while let Some(joined) = lookups.join_next().await {
            let Ok((name, port, result)) = joined else {
                continue;
            };
            self.ctx.metrics.dns_lookups.inc();
            let records: Vec<RData> = match result {
                Ok(lookup) => lookup.answers().iter().map(|r| r.data.clone()).collect(),
                // A name without records of the type is an empty group, not a failure.
                Err(err) if err.is_no_records_found() => Vec::new(),
                Err(err) => {
                    self.ctx.metrics.dns_lookup_failures.inc();
                    tracing::error!(name, %err, "Error refreshing DNS targets");
                    continue;
                }
            };
            groups.push(TargetGroup {
                targets: records
                    .iter()
                    .filter_map(|r| target(&name, r, port))
                    .collect(),
                source: name,
                labels: Labels::default(),
            });
        }
        Ok(groups)
    }
}

/// The target for one answer record; other record types in the answer (the CNAMEs that
/// lead to an A record) are skipped.
fn target(name: &str, record: &RData, port: u16) -> Option<Labels> {
    let (address, srv_target, srv_port, mx, ns) = match record {
        RData::SRV(srv) => {
            let target = srv.target.to_ascii();
            let address = join_host_port(trim_dot(&target), srv.port);
            (
                address,
                target,
                srv.port.to_string(),
                String::new(),
                String::new(),
            )
        }
        RData::MX(mx) => {
            let exchange = mx.exchange.to_ascii();
            let address = join_host_port(trim_dot(&exchange), port);
            (
                address,
                String::new(),
                String::new(),
                exchange,
                String::new(),
            )
        }
        RData::NS(ns) => {
            let host = ns.0.to_ascii();
            let address = join_host_port(trim_dot(&host), port);
            (address, String::new(), String::new(), String::new(), host)
        }
        RData::A(a) => (
            join_host_port(&a.0.to_string(), port),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ),
        RData::AAAA(aaaa) => (
            join_host_port(&aaaa.0.to_string(), port),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ),
        _ => return None,
    };
    Some(Labels::from_pairs([
        ("__address__", address.as_str()),
        (NAME_LABEL, name),
        (SRV_TARGET_LABEL, &srv_target),
        (SRV_PORT_LABEL, &srv_port),
        (MX_TARGET_LABEL, &mx),
        (NS_TARGET_LABEL, &ns),
    ]))
}

fn trim_dot(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

/// Go's `net.JoinHostPort`: an IPv6 host goes in brackets.
pub(crate) fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests;
