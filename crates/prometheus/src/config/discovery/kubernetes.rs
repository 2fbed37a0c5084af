//! Load-time checks of `kubernetes_sd_configs`, the most involved of the mechanisms that
//! are accepted but not discovered yet.

use pm_common::config::http::HttpClientConfig;
use serde_norway::{Mapping, Value};

use super::unsupported::Fields;
use crate::config::global::GoQuoted;

const ROLES: [&str; 6] = [
    "pod",
    "service",
    "endpoints",
    "endpointslice",
    "node",
    "ingress",
];

/// Which selector roles each discovery role accepts.
fn allowed_selectors(role: &str) -> &'static [&'static str] {
    match role {
        "pod" => &["pod", "node"],
        "service" => &["service"],
        "endpointslice" => &["pod", "service", "endpointslice"],
        "endpoints" => &["pod", "service", "endpoints"],
        "node" => &["node"],
        _ => &["ingress"],
    }
}

fn check_role(role: &str) -> Result<(), String> {
    if role.is_empty() || ROLES.contains(&role) {
        Ok(())
    } else {
        Err(format!("unknown Kubernetes SD role {}", GoQuoted(role)))
    }
}

fn check_keys(mapping: &Mapping, allowed: &[&str], type_name: &str) -> Result<(), String> {
    for key in mapping.keys() {
        let key = key.as_str().unwrap_or_default();
        if !allowed.contains(&key) {
            return Err(format!("field {key} not found in type {type_name}"));
        }
    }
    Ok(())
}

pub(super) fn check(f: &Fields, http: Option<&mut HttpClientConfig>) -> Result<(), String> {
    let role = f.str("role");
    check_role(&role)?;
    let namespaces = f.map("namespaces").cloned().unwrap_or_default();
    check_keys(&namespaces, &["own_namespace", "names"], "kubernetes.plain")?;
    if let Some(attach) = f.map("attach_metadata") {
        check_keys(
            attach,
            &["node", "namespace", "deployment", "job", "cronjob"],
            "kubernetes.AttachMetadataConfig",
        )?;
    }
    let selectors = f.seq("selectors");
    for selector in &selectors {
        if let Value::Mapping(m) = selector {
            check_keys(m, &["role", "label", "field"], "kubernetes.SelectorConfig")?;
            check_role(m.get("role").and_then(Value::as_str).unwrap_or_default())?;
        }
    }
    if role.is_empty() {
        return Err(
            "role missing (one of: pod, service, endpoints, endpointslice, node, ingress)".into(),
        );
    }
    let http = match http {
        Some(http) => {
            http.validate().map_err(|err| err.to_string())?;
            http
        }
        None => return Ok(()),
    };
    let custom_http = *http != HttpClientConfig::default();
    let api_server = f.is_set("api_server");
    let kubeconfig = f.is_set("kubeconfig_file");
    let own_namespace = namespaces
        .get("own_namespace")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if api_server && kubeconfig {
        return Err("cannot use 'kubeconfig_file' and 'api_server' simultaneously".into());
    }
    if kubeconfig && custom_http {
        return Err(
            "cannot use a custom HTTP client configuration together with 'kubeconfig_file'".into(),
        );
    }
    if !api_server && custom_http {
        return Err(
            "to use custom HTTP client configuration please provide the 'api_server' URL explicitly"
                .into(),
        );
    }
    if api_server && own_namespace {
        return Err("cannot use 'api_server' and 'namespaces.own_namespace' simultaneously".into());
    }
    if kubeconfig && own_namespace {
        return Err(
            "cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously".into(),
        );
    }
    let mut seen = Vec::new();
    for selector in selectors {
        let field = |key: &str| {
            selector
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let selector_role = field("role");
        if seen.contains(&selector_role) {
            return Err(format!("duplicated selector role: {selector_role}"));
        }
        let allowed = allowed_selectors(&role);
        if !allowed.contains(&selector_role.as_str()) {
            return Err(format!(
                "{role} role supports only {} selectors",
                allowed.join(", ")
            ));
        }
        check_field_selector(&field("field"))?;
        seen.push(selector_role);
    }
    Ok(())
}

/// A field selector is comma-separated `key=value`, `key==value` or `key!=value` terms.
fn check_field_selector(selector: &str) -> Result<(), String> {
    for term in selector.split(',').filter(|t| !t.is_empty()) {
        if !["!=", "==", "="].iter().any(|op| term.contains(op)) {
            return Err(format!(
                "invalid selector: '{selector}'; can't understand '{term}'"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_selectors() {
        assert!(check_field_selector("").is_ok());
        assert!(check_field_selector("metadata.name=x,status.phase!=Running").is_ok());
        assert_eq!(
            check_field_selector("metadata.status-Running").unwrap_err(),
            "invalid selector: 'metadata.status-Running'; can't understand 'metadata.status-Running'"
        );
    }
}
