//! A Consul health answer turned into a group with upstream's `__meta_consul_*` labels.

use std::collections::BTreeMap;

use pm_common::model::Labels;
use serde::Deserialize;

use crate::TargetGroup;
use crate::dns::join_host_port;

pub const ADDRESS_LABEL: &str = "__meta_consul_address";
pub const DATACENTER_LABEL: &str = "__meta_consul_dc";
pub const HEALTH_LABEL: &str = "__meta_consul_health";
pub const METADATA_PREFIX: &str = "__meta_consul_metadata_";
pub const NAMESPACE_LABEL: &str = "__meta_consul_namespace";
pub const NODE_LABEL: &str = "__meta_consul_node";
pub const PARTITION_LABEL: &str = "__meta_consul_partition";
pub const SERVICE_LABEL: &str = "__meta_consul_service";
pub const SERVICE_ADDRESS_LABEL: &str = "__meta_consul_service_address";
pub const SERVICE_ID_LABEL: &str = "__meta_consul_service_id";
pub const SERVICE_METADATA_PREFIX: &str = "__meta_consul_service_metadata_";
pub const SERVICE_PORT_LABEL: &str = "__meta_consul_service_port";
pub const TAGGED_ADDRESS_PREFIX: &str = "__meta_consul_tagged_address_";
pub const TAGS_LABEL: &str = "__meta_consul_tags";

/// One entry of `/v1/health/service/<name>`: the fields discovery reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ServiceEntry {
    node: Node,
    service: Service,
    #[serde(default)]
    checks: Option<Vec<Check>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Node {
    #[serde(default)]
    node: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    meta: Option<BTreeMap<String, String>>,
    #[serde(default)]
    tagged_addresses: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Service {
    #[serde(default, rename = "ID")]
    id: String,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    port: i64,
    #[serde(default)]
    meta: Option<BTreeMap<String, String>>,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    partition: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Check {
    #[serde(default, rename = "CheckID")]
    check_id: String,
    #[serde(default)]
    status: String,
}

/// The group of service `name`: the service and datacenter as group labels, one target per
/// instance.
pub(crate) fn group(
    name: &str,
    datacenter: &str,
    separator: &str,
    entries: &[ServiceEntry],
) -> TargetGroup {
    TargetGroup {
        source: name.to_owned(),
        labels: Labels::from_pairs([(SERVICE_LABEL, name), (DATACENTER_LABEL, datacenter)]),
        targets: entries.iter().map(|e| target(e, separator)).collect(),
    }
}

fn target(entry: &ServiceEntry, separator: &str) -> Labels {
    let (node, service) = (&entry.node, &entry.service);
    // The tag list is wrapped in separators so that a relabel regex can match `,tag,`
    // wherever the tag is.
    let tags = service.tags.as_deref().unwrap_or_default();
    let tags = format!("{separator}{}{separator}", tags.join(separator));
    // A service registered with its own address (e.g. by another node) is reached there.
    let host = if service.address.is_empty() {
        &node.address
    } else {
        &service.address
    };
    let port = service.port.to_string();
    let address = match u16::try_from(service.port) {
        Ok(p) => join_host_port(host, p),
        Err(_) => format!("{host}:{port}"),
    };
    let mut pairs: Vec<(String, String)> = vec![
        ("__address__".into(), address),
        (ADDRESS_LABEL.into(), node.address.clone()),
        (NODE_LABEL.into(), node.node.clone()),
        (NAMESPACE_LABEL.into(), service.namespace.clone()),
        (PARTITION_LABEL.into(), service.partition.clone()),
        (TAGS_LABEL.into(), tags),
        (SERVICE_ADDRESS_LABEL.into(), service.address.clone()),
        (SERVICE_PORT_LABEL.into(), port),
        (SERVICE_ID_LABEL.into(), service.id.clone()),
        (
            HEALTH_LABEL.into(),
            aggregated_status(entry.checks.as_deref().unwrap_or_default()).into(),
        ),
    ];
    let maps = [
        (METADATA_PREFIX, &node.meta),
        (SERVICE_METADATA_PREFIX, &service.meta),
        (TAGGED_ADDRESS_PREFIX, &node.tagged_addresses),
    ];
    for (prefix, map) in maps {
        for (key, value) in map.iter().flatten() {
            pairs.push((format!("{prefix}{}", sanitize(key)), value.clone()));
        }
    }
    Labels::from_pairs(pairs)
}

/// Consul's `HealthChecks.AggregatedStatus`: maintenance beats critical beats warning beats
/// passing; an unknown status makes the whole status empty.
fn aggregated_status(checks: &[Check]) -> &'static str {
    let (mut warning, mut critical, mut maintenance) = (false, false, false);
    for check in checks {
        if check.check_id == "_node_maintenance"
            || check.check_id.starts_with("_service_maintenance:")
        {
            maintenance = true;
            continue;
        }
        match check.status.as_str() {
            "passing" => {}
            "warning" => warning = true,
            "critical" => critical = true,
            _ => return "",
        }
    }
    if maintenance {
        "maintenance"
    } else if critical {
        "critical"
    } else if warning {
        "warning"
    } else {
        "passing"
    }
}

/// Upstream's `strutil.SanitizeLabelName`: every byte outside `[a-zA-Z0-9_]` becomes `_`.
fn sanitize(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregated_status_as_consul() {
        let status = |checks: serde_json::Value| {
            let checks: Vec<Check> = serde_json::from_value(checks).unwrap();
            aggregated_status(&checks)
        };
        let check = |id: &str, status: &str| serde_json::json!({"CheckID": id, "Status": status});
        assert_eq!(status(serde_json::json!([])), "passing");
        assert_eq!(
            status(serde_json::json!([
                check("a", "passing"),
                check("b", "warning")
            ])),
            "warning"
        );
        assert_eq!(
            status(serde_json::json!([
                check("a", "critical"),
                check("b", "warning")
            ])),
            "critical"
        );
        assert_eq!(
            status(serde_json::json!([
                check("_service_maintenance:web", "critical"),
                check("a", "critical")
            ])),
            "maintenance"
        );
        assert_eq!(status(serde_json::json!([check("a", "bogus")])), "");
    }

    #[test]
    fn sanitizes_metadata_keys() {
        assert_eq!(sanitize("os-version.x"), "os_version_x");
        assert_eq!(sanitize("ok_1"), "ok_1");
    }
}
