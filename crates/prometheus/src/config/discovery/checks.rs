//! Upstream's load-time checks of the mechanisms in [`super::mechanisms`], with its messages.

use pm_common::config::Duration;
use pm_common::config::http::HttpClientConfig;
use serde_norway::Value;

use super::unsupported::Fields;
use crate::config::global::GoQuoted;

pub(super) fn validate_http(http: Option<&mut HttpClientConfig>) -> Result<(), String> {
    match http {
        Some(http) => http.validate().map_err(|err| err.to_string()),
        None => Ok(()),
    }
}

pub(super) fn require(f: &Fields, key: &str, message: &str) -> Result<(), String> {
    if f.is_set(key) {
        Ok(())
    } else {
        Err(message.to_owned())
    }
}

/// A role outside `allowed` is refused when the value is parsed, before other checks.
pub(super) fn one_of_role(
    f: &Fields,
    allowed: &[&str],
    message: fn(&str) -> String,
) -> Result<(), String> {
    let role = f.str("role");
    if role.is_empty() || allowed.contains(&role.as_str()) {
        Ok(())
    } else {
        Err(message(&role))
    }
}

pub(super) fn check_secret_key(f: &Fields) -> Result<(), String> {
    match (f.is_set("secret_key"), f.is_set("secret_key_file")) {
        (false, false) => Err("one of secret_key & secret_key_file must be configured".into()),
        (true, true) => {
            Err("at most one of secret_key & secret_key_file must be configured".into())
        }
        _ => Ok(()),
    }
}

pub(super) fn check_filters(f: &Fields) -> Result<(), String> {
    for filter in f.seq("filters") {
        let values = filter.get("values").and_then(Value::as_sequence);
        if values.is_none_or(Vec::is_empty) {
            return Err("EC2 SD configuration filter values cannot be empty".into());
        }
    }
    Ok(())
}

pub(super) fn check_aws(f: &Fields, http: Option<&mut HttpClientConfig>) -> Result<(), String> {
    const ROLES: [&str; 6] = ["ec2", "ecs", "elasticache", "lightsail", "msk", "rds"];
    let role = f.str("role");
    if !ROLES.contains(&role.as_str()) {
        return Err(format!("unknown AWS SD role {}", GoQuoted(&role)));
    }
    validate_http(http)
}

pub(super) fn check_azure(f: &Fields, http: Option<&mut HttpClientConfig>) -> Result<(), String> {
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

pub(super) fn check_marathon(
    f: &Fields,
    http: Option<&mut HttpClientConfig>,
) -> Result<(), String> {
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

pub(super) fn check_zookeeper(f: &Fields, kind: &str) -> Result<(), String> {
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

pub(super) fn check_oci(f: &Fields, http: Option<&mut HttpClientConfig>) -> Result<(), String> {
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

pub(super) fn check_openstack(f: &Fields, _: Option<&mut HttpClientConfig>) -> Result<(), String> {
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

pub(super) fn check_triton(f: &Fields, _: Option<&mut HttpClientConfig>) -> Result<(), String> {
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
