//! The `consul_*` families: upstream's names, help texts and label names.

/// A family's name and help.
#[derive(Debug, Clone, Copy)]
pub struct Desc {
    pub name: &'static str,
    pub help: &'static str,
}

const fn desc(name: &'static str, help: &'static str) -> Desc {
    Desc { name, help }
}

pub const UP: Desc = desc("consul_up", "Was the last query of Consul successful.");
pub const RAFT_PEERS: Desc = desc(
    "consul_raft_peers",
    "How many peers (servers) are in the Raft cluster.",
);
pub const RAFT_LEADER: Desc = desc(
    "consul_raft_leader",
    "Does Raft cluster have a leader (according to this node).",
);
pub const SERF_LAN_MEMBERS: Desc = desc(
    "consul_serf_lan_members",
    "How many members are in the cluster.",
);
pub const SERF_LAN_MEMBER_INFO: Desc = desc(
    "consul_serf_lan_member_info",
    "Information of member in the cluster.",
);
pub const SERF_LAN_MEMBER_STATUS: Desc = desc(
    "consul_serf_lan_member_status",
    "Status of member in the cluster. 1=Alive, 2=Leaving, 3=Left, 4=Failed.",
);
pub const SERF_WAN_MEMBER_INFO: Desc = desc(
    "consul_serf_wan_member_info",
    "Information of member in the wan cluster.",
);
pub const SERF_WAN_MEMBER_STATUS: Desc = desc(
    "consul_serf_wan_member_status",
    "Status of member in the wan cluster. 1=Alive, 2=Leaving, 3=Left, 4=Failed.",
);
pub const CATALOG_SERVICES: Desc = desc(
    "consul_catalog_services",
    "How many services are in the cluster.",
);
pub const SERVICE_TAG: Desc = desc("consul_service_tag", "Tags of a service.");
pub const SERVICE_META_INFO: Desc = desc("consul_service_meta_info", "Meta of a service.");
pub const CATALOG_SERVICE_NODE_HEALTHY: Desc = desc(
    "consul_catalog_service_node_healthy",
    "Is this service healthy on this node?",
);
pub const HEALTH_NODE_STATUS: Desc = desc(
    "consul_health_node_status",
    "Status of health checks associated with a node.",
);
pub const HEALTH_SERVICE_STATUS: Desc = desc(
    "consul_health_service_status",
    "Status of health checks associated with a service.",
);
pub const SERVICE_CHECKS: Desc = desc(
    "consul_service_checks",
    "Link the service id and check name if available.",
);
pub const CATALOG_KV: Desc = desc(
    "consul_catalog_kv",
    "The values for selected keys in Consul's key/value catalog. Keys with non-numeric values are omitted.",
);
