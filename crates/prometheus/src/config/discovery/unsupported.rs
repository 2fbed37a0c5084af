//! SD mechanisms that are accepted in config but not discovered yet.
//!
//! Each is described by a [`Mechanism`]: its keys (so typos are refused), whether it inlines
//! the HTTP client block, which values are secrets (hidden when printed) or paths (resolved
//! against the config's directory), and upstream's load-time checks with their messages.

use std::path::Path;

use pm_common::config::http::{HttpClientConfig, TlsConfig};
use pm_common::config::{Duration, join_dir};
use serde::{Serialize, Serializer};
use serde_norway::{Mapping, Value};

use super::kubernetes;
use super::typed::check_http_url;
use crate::config::global::GoQuoted;
use crate::config::inline;

/// One entry of an SD list whose mechanism the server cannot run yet, kept as written.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsupportedSdConfig {
    mechanism: &'static Mechanism,
    /// The mechanism's own keys.
    pub fields: Mapping,
    /// The inline HTTP client block, for mechanisms that have one.
    pub http_client: Option<HttpClientConfig>,
}

/// The keys of one mechanism's mapping, read leniently: checks only need presence and
/// string values.
pub(crate) struct Fields<'a>(pub &'a Mapping);

impl Fields<'_> {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// The value as text; numbers and booleans as written, absent as empty.
    pub fn str(&self, key: &str) -> String {
        match self.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            _ => String::new(),
        }
    }

    pub fn is_set(&self, key: &str) -> bool {
        !self.str(key).is_empty()
    }

    pub fn seq(&self, key: &str) -> Vec<&Value> {
        match self.get(key) {
            Some(Value::Sequence(items)) => items.iter().collect(),
            _ => Vec::new(),
        }
    }

    pub fn map(&self, key: &str) -> Option<&Mapping> {
        match self.get(key) {
            Some(Value::Mapping(m)) => Some(m),
            _ => None,
        }
    }
}

type Check = fn(&Fields, Option<&mut HttpClientConfig>) -> Result<(), String>;

/// How one upstream mechanism is recognised and validated.
#[derive(Debug)]
pub(crate) struct Mechanism {
    /// The YAML key of its list, e.g. `kubernetes_sd_configs`.
    pub key: &'static str,
    /// Upstream's Go package, named in unknown-field messages as upstream does.
    package: &'static str,
    /// Its own keys, in groups (the AWS mechanisms share most of theirs).
    fields: &'static [&'static [&'static str]],
    http: bool,
    secrets: &'static [&'static str],
    files: &'static [&'static str],
    check: Check,
}

impl PartialEq for Mechanism {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

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

impl UnsupportedSdConfig {
    pub(crate) fn parse(mechanism: &'static Mechanism, value: Value) -> Result<Self, String> {
        let mapping = match value {
            Value::Mapping(m) => m,
            other => return Err(format!("expected a mapping, got {other:?}")),
        };
        let split = inline::split(mapping, mechanism.http, |_| false);
        for key in split.own.keys() {
            let name = key.as_str().unwrap_or_default();
            if !mechanism.fields.iter().any(|group| group.contains(&name)) {
                return Err(format!(
                    "field {name} not found in type {}.plain",
                    mechanism.package
                ));
            }
        }
        let fields = Fields(&split.own);
        for key in ["refresh_interval", "timeout", "fetch_timeout"] {
            if let Some(Value::String(text)) = fields.get(key) {
                Duration::parse(text).map_err(|err| err.to_string())?;
            }
        }
        if let Some(tls) = fields.map("tls_config") {
            let tls: TlsConfig = serde_norway::from_value(Value::Mapping(tls.clone()))
                .map_err(|err| format!("tls_config: {err}"))?;
            tls.validate().map_err(|err| err.to_string())?;
        }
        let mut http_client = match mechanism.http {
            true => Some(
                inline::decode_http::<serde_norway::Error>(split.http)
                    .map_err(|err| err.to_string())?,
            ),
            false => None,
        };
        (mechanism.check)(&fields, http_client.as_mut())?;
        Ok(UnsupportedSdConfig {
            mechanism,
            fields: split.own,
            http_client,
        })
    }

    /// The YAML key of this entry's list.
    pub fn key(&self) -> &'static str {
        self.mechanism.key
    }

    pub fn set_directory(&mut self, dir: &Path) {
        for key in self.mechanism.files {
            if let Some(Value::String(path)) = self.fields.get_mut(*key) {
                *path = join_dir(dir, path);
            }
        }
        if let Some(Value::Mapping(tls)) = self.fields.get_mut("tls_config") {
            for key in ["ca_file", "cert_file", "key_file"] {
                if let Some(Value::String(path)) = tls.get_mut(key) {
                    *path = join_dir(dir, path);
                }
            }
        }
        if let Some(http) = &mut self.http_client {
            http.set_directory(dir);
        }
    }
}

impl Serialize for UnsupportedSdConfig {
    /// Secrets print as `<secret>`, like every typed secret.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = self.fields.clone();
        for key in self.mechanism.secrets {
            if let Some(value) = out.get_mut(*key)
                && !Fields(&self.fields).str(key).is_empty()
            {
                *value = Value::String("<secret>".to_owned());
            }
        }
        if let Some(Value::Mapping(tls)) = out.get_mut("tls_config")
            && tls.get("key").is_some_and(|k| !k.is_null())
        {
            tls.insert("key".into(), "<secret>".into());
        }
        if let Some(http) = &self.http_client {
            out.extend(inline::to_mapping::<_, S::Error>(http)?);
        }
        out.serialize(serializer)
    }
}

fn validate_http(http: Option<&mut HttpClientConfig>) -> Result<(), String> {
    match http {
        Some(http) => http.validate().map_err(|err| err.to_string()),
        None => Ok(()),
    }
}

fn require(f: &Fields, key: &str, message: &str) -> Result<(), String> {
    if f.is_set(key) {
        Ok(())
    } else {
        Err(message.to_owned())
    }
}

/// A role outside `allowed` is refused when the value is parsed, before other checks.
fn one_of_role(f: &Fields, allowed: &[&str], message: fn(&str) -> String) -> Result<(), String> {
    let role = f.str("role");
    if role.is_empty() || allowed.contains(&role.as_str()) {
        Ok(())
    } else {
        Err(message(&role))
    }
}

fn check_secret_key(f: &Fields) -> Result<(), String> {
    match (f.is_set("secret_key"), f.is_set("secret_key_file")) {
        (false, false) => Err("one of secret_key & secret_key_file must be configured".into()),
        (true, true) => {
            Err("at most one of secret_key & secret_key_file must be configured".into())
        }
        _ => Ok(()),
    }
}

fn check_filters(f: &Fields) -> Result<(), String> {
    for filter in f.seq("filters") {
        let values = filter.get("values").and_then(Value::as_sequence);
        if values.is_none_or(Vec::is_empty) {
            return Err("EC2 SD configuration filter values cannot be empty".into());
        }
    }
    Ok(())
}

fn check_aws(f: &Fields, http: Option<&mut HttpClientConfig>) -> Result<(), String> {
    const ROLES: [&str; 6] = ["ec2", "ecs", "elasticache", "lightsail", "msk", "rds"];
    let role = f.str("role");
    if !ROLES.contains(&role.as_str()) {
        return Err(format!("unknown AWS SD role {}", GoQuoted(&role)));
    }
    validate_http(http)
}

fn check_azure(f: &Fields, http: Option<&mut HttpClientConfig>) -> Result<(), String> {
    const METHODS: [&str; 4] = ["OAuth", "ManagedIdentity", "SDK", "WorkloadIdentity"];
    let missing = |key: &str| format!("azure SD configuration requires a {key}");
    if !f.is_set("subscription_id") {
        return Err(missing("subscription_id"));
    }
    let method = match f.get("authentication_method") {
        Some(_) => f.str("authentication_method"),
        None => "OAuth".to_owned(),
    };
    if method == "OAuth" {
        for key in ["tenant_id", "client_id", "client_secret"] {
            if !f.is_set(key) {
                return Err(missing(key));
            }
        }
    }
    if !METHODS.contains(&method.as_str()) {
        return Err(format!(
            "unknown authentication_type {}. Supported types are \"OAuth\", \"ManagedIdentity\", \"SDK\" or \"WorkloadIdentity\"",
            GoQuoted(&method)
        ));
    }
    validate_http(http)
}

fn check_marathon(f: &Fields, http: Option<&mut HttpClientConfig>) -> Result<(), String> {
    if f.seq("servers").is_empty() {
        return Err("marathon_sd: must contain at least one Marathon server".into());
    }
    let (token, token_file) = (f.is_set("auth_token"), f.is_set("auth_token_file"));
    if token && token_file {
        return Err(
            "marathon_sd: at most one of auth_token & auth_token_file must be configured".into(),
        );
    }
    if let Some(http) = &http
        && (token || token_file)
    {
        if http.basic_auth.is_some() {
            return Err("marathon_sd: at most one of basic_auth, auth_token & auth_token_file must be configured".into());
        }
        if !http.bearer_token.is_empty() || !http.bearer_token_file.is_empty() {
            return Err("marathon_sd: at most one of bearer_token, bearer_token_file, auth_token & auth_token_file must be configured".into());
        }
        if http.authorization.is_some() {
            return Err("marathon_sd: at most one of auth_token, auth_token_file & authorization must be configured".into());
        }
    }
    validate_http(http)
}

fn check_zookeeper(f: &Fields, kind: &str) -> Result<(), String> {
    if f.seq("servers").is_empty() {
        return Err(format!(
            "{kind} SD config must contain at least one Zookeeper server"
        ));
    }
    let paths = f.seq("paths");
    if paths.is_empty() {
        return Err(format!("{kind} SD config must contain at least one path"));
    }
    for path in paths {
        let path = path.as_str().unwrap_or_default();
        if !path.starts_with('/') {
            return Err(format!(
                "{kind} SD config paths must begin with '/': {path}"
            ));
        }
    }
    Ok(())
}

fn check_oci(f: &Fields, http: Option<&mut HttpClientConfig>) -> Result<(), String> {
    require(f, "region", "oci_sd: region is required")?;
    let keys = [
        "tenancy",
        "user",
        "fingerprint",
        "key_file",
        "key_passphrase",
        "key_passphrase_file",
    ];
    let auth = match f.get("auth") {
        Some(_) => f.str("auth"),
        None => "api_key".to_owned(),
    };
    match auth.as_str() {
        "api_key" => {
            for key in &keys[..4] {
                if !f.is_set(key) {
                    return Err(format!("oci_sd: api_key auth requires {key}"));
                }
            }
            if f.is_set("key_passphrase") && f.is_set("key_passphrase_file") {
                return Err("oci_sd: at most one of key_passphrase and key_passphrase_file must be configured".into());
            }
        }
        "instance_principal" => {
            if keys.iter().any(|k| f.is_set(k)) {
                return Err("oci_sd: instance_principal auth must not have tenancy, user, fingerprint, key_file, key_passphrase, or key_passphrase_file set".into());
            }
        }
        other => {
            return Err(format!(
                "oci_sd: unknown auth method {}, expected \"api_key\" or \"instance_principal\"",
                GoQuoted(other)
            ));
        }
    }
    for (i, compartment) in f.seq("compartments").iter().enumerate() {
        if compartment.as_str().is_none_or(str::is_empty) {
            return Err(format!("oci_sd: compartments[{i}] must not be empty"));
        }
    }
    validate_http(http)
}

fn check_openstack(f: &Fields, _: Option<&mut HttpClientConfig>) -> Result<(), String> {
    one_of_role(f, &["hypervisor", "instance", "loadbalancer"], |r| {
        format!("unknown OpenStack SD role {}", GoQuoted(r))
    })?;
    let availability = match f.get("availability") {
        Some(_) => f.str("availability"),
        None => "public".to_owned(),
    };
    if !["public", "internal", "admin"].contains(&availability.as_str()) {
        return Err(format!(
            "unknown availability {availability}, must be one of admin, internal or public"
        ));
    }
    require(
        f,
        "role",
        "role missing (one of: instance, hypervisor, loadbalancer)",
    )?;
    require(f, "region", "openstack SD configuration requires a region")
}

fn check_triton(f: &Fields, _: Option<&mut HttpClientConfig>) -> Result<(), String> {
    let role = match f.get("role") {
        Some(_) => f.str("role"),
        None => "container".to_owned(),
    };
    if role != "container" && role != "cn" {
        return Err("triton SD configuration requires role to be 'container' or 'cn'".into());
    }
    require(f, "account", "triton SD configuration requires an account")?;
    require(
        f,
        "dns_suffix",
        "triton SD configuration requires a dns_suffix",
    )?;
    require(
        f,
        "endpoint",
        "triton SD configuration requires an endpoint",
    )?;
    if let Some(Value::String(text)) = f.get("refresh_interval")
        && Duration::parse(text).is_ok_and(Duration::is_zero)
    {
        return Err(
            "triton SD configuration requires RefreshInterval to be a positive integer".into(),
        );
    }
    Ok(())
}
