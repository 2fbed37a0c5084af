//! The table of SD mechanisms accepted in config but not discovered yet: each one's keys,
//! secrets, paths and load-time checks.

use super::checks::*;
use super::kubernetes;
use super::typed::check_http_url;
use super::unsupported::Mechanism;
use crate::config::global::GoQuoted;
use crate::config::inline;

const AWS_COMMON: [&str; 9] = [
    "region",
    "endpoint",
    "access_key",
    "secret_key",
    "profile",
    "role_arn",
    "external_id",
    "refresh_interval",
    "port",
];

const MECHANISMS: &[Mechanism] = &[
    Mechanism {
        key: "aws_sd_configs",
        package: "aws",
        fields: &[&AWS_COMMON, &["role", "filters", "clusters"]],
        http: true,
        secrets: &["secret_key"],
        files: &[],
        check: check_aws,
    },
    Mechanism {
        key: "azure_sd_configs",
        package: "azure",
        fields: &[&[
            "environment",
            "port",
            "subscription_id",
            "tenant_id",
            "client_id",
            "client_secret",
            "refresh_interval",
            "authentication_method",
            "resource_group",
        ]],
        http: true,
        secrets: &["client_secret"],
        files: &[],
        check: check_azure,
    },
    Mechanism {
        key: "digitalocean_sd_configs",
        package: "digitalocean",
        fields: &[&["refresh_interval", "port", "role"]],
        http: true,
        secrets: &[],
        files: &[],
        check: |f, http| {
            one_of_role(f, &["droplets", "databases"], |r| {
                format!("unknown DigitalOcean SD role {}", GoQuoted(r))
            })?;
            validate_http(http)
        },
    },
    Mechanism {
        key: "docker_sd_configs",
        package: "moby",
        fields: &[&[
            "host",
            "port",
            "filters",
            "host_networking_host",
            "refresh_interval",
            "match_first_network",
        ]],
        http: true,
        secrets: &[],
        files: &[],
        check: |f, http| {
            require(f, "host", "host missing")?;
            inline::go_url_parses(&f.str("host"))?;
            validate_http(http)
        },
    },
    Mechanism {
        key: "dockerswarm_sd_configs",
        package: "moby",
        fields: &[&["host", "role", "port", "filters", "refresh_interval"]],
        http: true,
        secrets: &[],
        files: &[],
        check: |f, http| {
            require(f, "host", "host missing")?;
            inline::go_url_parses(&f.str("host"))?;
            match f.str("role").as_str() {
                "services" | "nodes" | "tasks" => {}
                "" => return Err("role missing (one of: tasks, services, nodes)".into()),
                other => {
                    return Err(format!(
                        "invalid role {other}, expected tasks, services, or nodes"
                    ));
                }
            }
            validate_http(http)
        },
    },
    Mechanism {
        key: "ec2_sd_configs",
        package: "aws",
        fields: &[&AWS_COMMON, &["filters"]],
        http: true,
        secrets: &["secret_key"],
        files: &[],
        check: |f, http| {
            check_filters(f)?;
            validate_http(http)
        },
    },
    Mechanism {
        key: "ecs_sd_configs",
        package: "aws",
        fields: &[&AWS_COMMON, &["clusters", "request_concurrency"]],
        http: true,
        secrets: &["secret_key"],
        files: &[],
        check: |_, http| validate_http(http),
    },
    Mechanism {
        key: "elasticache_sd_configs",
        package: "aws",
        fields: &[&AWS_COMMON, &["clusters", "request_concurrency"]],
        http: true,
        secrets: &["secret_key"],
        files: &[],
        check: |_, http| validate_http(http),
    },
    Mechanism {
        key: "eureka_sd_configs",
        package: "eureka",
        fields: &[&["server", "refresh_interval"]],
        http: true,
        secrets: &[],
        files: &[],
        check: |f, http| {
            require(f, "server", "eureka_sd: empty or null eureka server")?;
            let (scheme, host) = inline::go_url_scheme_host(&f.str("server"))?;
            if scheme.is_empty() || host.is_empty() {
                return Err("eureka_sd: invalid eureka server URL".into());
            }
            validate_http(http)
        },
    },
    Mechanism {
        key: "gce_sd_configs",
        package: "gce",
        fields: &[&[
            "project",
            "zone",
            "filter",
            "refresh_interval",
            "port",
            "tag_separator",
        ]],
        http: false,
        secrets: &[],
        files: &[],
        check: |f, _| {
            require(f, "project", "GCE SD configuration requires a project")?;
            require(f, "zone", "GCE SD configuration requires a zone")
        },
    },
    Mechanism {
        key: "hetzner_sd_configs",
        package: "hetzner",
        fields: &[&["refresh_interval", "port", "role", "label_selector"]],
        http: true,
        secrets: &[],
        files: &[],
        check: |f, http| {
            one_of_role(f, &["robot", "hcloud"], |r| {
                format!("unknown role {}", GoQuoted(r))
            })?;
            require(f, "role", "role missing (one of: robot, hcloud)")?;
            validate_http(http)
        },
    },
    Mechanism {
        key: "ionos_sd_configs",
        package: "ionos",
        fields: &[&["datacenter_id", "refresh_interval", "port"]],
        http: true,
        secrets: &[],
        files: &[],
        check: |f, http| {
            require(f, "datacenter_id", "datacenter id can't be empty")?;
            validate_http(http)
        },
    },
    Mechanism {
        key: "kubernetes_sd_configs",
        package: "kubernetes",
        fields: &[&[
            "api_server",
            "role",
            "kubeconfig_file",
            "namespaces",
            "selectors",
            "attach_metadata",
        ]],
        http: true,
        secrets: &[],
        files: &["kubeconfig_file"],
        check: kubernetes::check,
    },
    Mechanism {
        key: "kuma_sd_configs",
        package: "xds",
        fields: &[&["server", "client_id", "refresh_interval", "fetch_timeout"]],
        http: true,
        secrets: &[],
        files: &[],
        check: |f, http| {
            let server = f.str("server");
            if server.is_empty() {
                return Err(format!("kuma SD server must not be empty: {server}"));
            }
            let (scheme, host) = inline::go_url_scheme_host(&server)?;
            if scheme.is_empty() || host.is_empty() {
                return Err(format!(
                    "kuma SD server must not be empty and have a scheme: {server}"
                ));
            }
            validate_http(http)
        },
    },
    Mechanism {
        key: "lightsail_sd_configs",
        package: "aws",
        fields: &[&AWS_COMMON],
        http: true,
        secrets: &["secret_key"],
        files: &[],
        check: |_, http| validate_http(http),
    },
    Mechanism {
        key: "linode_sd_configs",
        package: "linode",
        fields: &[&["refresh_interval", "port", "tag_separator", "region"]],
        http: true,
        secrets: &[],
        files: &[],
        check: |_, http| validate_http(http),
    },
    Mechanism {
        key: "marathon_sd_configs",
        package: "marathon",
        fields: &[&[
            "servers",
            "refresh_interval",
            "auth_token",
            "auth_token_file",
        ]],
        http: true,
        secrets: &["auth_token"],
        files: &["auth_token_file"],
        check: check_marathon,
    },
    Mechanism {
        key: "msk_sd_configs",
        package: "aws",
        fields: &[&AWS_COMMON, &["clusters", "request_concurrency"]],
        http: true,
        secrets: &["secret_key"],
        files: &[],
        check: |_, http| validate_http(http),
    },
    Mechanism {
        key: "nerve_sd_configs",
        package: "zookeeper",
        fields: &[&["servers", "paths", "timeout"]],
        http: false,
        secrets: &[],
        files: &[],
        check: |f, _| check_zookeeper(f, "nerve"),
    },
    Mechanism {
        key: "nomad_sd_configs",
        package: "nomad",
        fields: &[&[
            "allow_stale",
            "namespace",
            "refresh_interval",
            "region",
            "server",
            "tag_separator",
        ]],
        http: true,
        secrets: &[],
        files: &[],
        check: |f, http| {
            if f.str("server").trim().is_empty() {
                return Err("nomad SD configuration requires a server address".into());
            }
            validate_http(http)
        },
    },
    Mechanism {
        key: "oci_sd_configs",
        package: "oci",
        fields: &[&[
            "auth",
            "tenancy",
            "user",
            "fingerprint",
            "key_file",
            "key_passphrase",
            "key_passphrase_file",
            "region",
            "compartments",
            "port",
            "refresh_interval",
        ]],
        http: true,
        secrets: &["key_passphrase"],
        files: &["key_file", "key_passphrase_file"],
        check: check_oci,
    },
    Mechanism {
        key: "openstack_sd_configs",
        package: "openstack",
        fields: &[&[
            "identity_endpoint",
            "username",
            "userid",
            "password",
            "project_name",
            "project_id",
            "domain_name",
            "domain_id",
            "application_credential_name",
            "application_credential_id",
            "application_credential_secret",
            "role",
            "region",
            "refresh_interval",
            "port",
            "all_tenants",
            "tls_config",
            "availability",
        ]],
        http: false,
        secrets: &["password", "application_credential_secret"],
        files: &[],
        check: check_openstack,
    },
    Mechanism {
        key: "outscale_sd_configs",
        package: "outscale",
        fields: &[&[
            "endpoint",
            "region",
            "access_key",
            "secret_key",
            "secret_key_file",
            "refresh_interval",
            "port",
        ]],
        http: true,
        secrets: &["secret_key"],
        files: &["secret_key_file"],
        check: |f, http| {
            require(f, "region", "outscale SD configuration requires a region")?;
            require(
                f,
                "access_key",
                "outscale SD configuration requires access_key",
            )?;
            check_secret_key(f)?;
            validate_http(http)
        },
    },
    Mechanism {
        key: "ovhcloud_sd_configs",
        package: "ovhcloud",
        fields: &[&[
            "endpoint",
            "application_key",
            "application_secret",
            "consumer_key",
            "refresh_interval",
            "service",
        ]],
        http: false,
        secrets: &["application_secret", "consumer_key"],
        files: &[],
        check: |f, _| {
            require(f, "endpoint", "endpoint can not be empty")?;
            require(f, "application_key", "application key can not be empty")?;
            require(
                f,
                "application_secret",
                "application secret can not be empty",
            )?;
            require(f, "consumer_key", "consumer key can not be empty")?;
            match f.str("service").as_str() {
                "dedicated_server" | "vps" => Ok(()),
                other => Err(format!("unknown service: {other}")),
            }
        },
    },
    Mechanism {
        key: "puppetdb_sd_configs",
        package: "puppetdb",
        fields: &[&[
            "url",
            "query",
            "include_parameters",
            "refresh_interval",
            "port",
        ]],
        http: true,
        secrets: &[],
        files: &[],
        check: |f, http| {
            require(f, "url", "URL is missing")?;
            check_http_url(&f.str("url"))?;
            require(f, "query", "query missing")?;
            validate_http(http)
        },
    },
    Mechanism {
        key: "rds_sd_configs",
        package: "aws",
        fields: &[&AWS_COMMON, &["clusters", "request_concurrency", "filters"]],
        http: true,
        secrets: &["secret_key"],
        files: &[],
        check: |_, http| validate_http(http),
    },
    Mechanism {
        key: "scaleway_sd_configs",
        package: "scaleway",
        fields: &[&[
            "project_id",
            "api_url",
            "zone",
            "access_key",
            "secret_key",
            "secret_key_file",
            "name_filter",
            "tags_filter",
            "refresh_interval",
            "port",
            "role",
        ]],
        http: true,
        secrets: &["secret_key"],
        files: &["secret_key_file"],
        check: |f, http| {
            one_of_role(f, &["instance", "baremetal"], |r| {
                format!("unknown role {}", GoQuoted(r))
            })?;
            require(f, "role", "role missing (one of: instance, baremetal)")?;
            require(f, "project_id", "project_id is mandatory")?;
            check_secret_key(f)?;
            require(f, "access_key", "access_key is mandatory")?;
            validate_http(http)
        },
    },
    Mechanism {
        key: "serverset_sd_configs",
        package: "zookeeper",
        fields: &[&["servers", "paths", "timeout"]],
        http: false,
        secrets: &[],
        files: &[],
        check: |f, _| check_zookeeper(f, "serverset"),
    },
    Mechanism {
        key: "stackit_sd_configs",
        package: "stackit",
        fields: &[&[
            "project",
            "refresh_interval",
            "port",
            "region",
            "endpoint",
            "service_account_key",
            "private_key",
            "service_account_key_path",
            "private_key_path",
            "credentials_file_path",
        ]],
        http: true,
        secrets: &["service_account_key", "private_key"],
        files: &[
            "service_account_key_path",
            "private_key_path",
            "credentials_file_path",
        ],
        check: |f, http| {
            let endpoint = f.str("endpoint");
            // The region defaults to eu01, so only an explicitly empty one is missing.
            let region_missing = f.get("region").is_some() && !f.is_set("region");
            if endpoint.is_empty() && region_missing {
                return Err("stackit_sd: endpoint and region missing".into());
            }
            inline::go_url_parses(&endpoint).map_err(|err| {
                format!(
                    "stackit_sd: invalid endpoint {}: {err}",
                    GoQuoted(&endpoint)
                )
            })?;
            validate_http(http)
        },
    },
    Mechanism {
        key: "triton_sd_configs",
        package: "triton",
        fields: &[&[
            "account",
            "role",
            "dns_suffix",
            "endpoint",
            "groups",
            "port",
            "refresh_interval",
            "tls_config",
            "version",
        ]],
        http: false,
        secrets: &[],
        files: &[],
        check: check_triton,
    },
    Mechanism {
        key: "uyuni_sd_configs",
        package: "uyuni",
        fields: &[&[
            "server",
            "username",
            "password",
            "entitlement",
            "separator",
            "refresh_interval",
        ]],
        http: true,
        secrets: &["password"],
        files: &[],
        check: |f, http| {
            require(f, "server", "Uyuni SD configuration requires server host")?;
            inline::go_url_parses(&f.str("server"))
                .map_err(|err| format!("Uyuni Server URL is not valid: {err}"))?;
            require(f, "username", "Uyuni SD configuration requires a username")?;
            require(f, "password", "Uyuni SD configuration requires a password")?;
            validate_http(http)
        },
    },
    Mechanism {
        key: "vultr_sd_configs",
        package: "vultr",
        fields: &[&["refresh_interval", "port"]],
        http: true,
        secrets: &[],
        files: &[],
        check: |_, http| validate_http(http),
    },
];

/// The mechanism whose list is under `key`.
pub(crate) fn mechanism(key: &str) -> Option<&'static Mechanism> {
    MECHANISMS.iter().find(|m| m.key == key)
}
