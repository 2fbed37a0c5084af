//! Cloud authentication blocks of remote write configs (`azuread`, `google_iam`; `sigv4` is
//! pm-common's, shared with the notifier and Alertmanager). The server does not authenticate
//! with these two yet; they are typed and checked as upstream checks them so that configs
//! using them load, and wrong ones are refused for the same reason.

use pm_common::config::Secret;
use serde::{Deserialize, Serialize};

/// `azuread`: Azure AD tokens for remote write.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AzureAdConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_identity: Option<AzureClient>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload_identity: Option<AzureClient>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth: Option<AzureClient>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdk: Option<AzureClient>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<AzureClient>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cloud: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
}

/// The keys of any one Azure authentication method (each uses a subset).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AzureClient {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_id: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub client_secret: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tenant_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub token_file_path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub certificate_path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub certificate_key_path: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub certificate_password: Secret,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub send_certificate_chain: bool,
}

/// Whether `s` is a UUID in one of the forms Go's `uuid.Parse` takes.
fn is_uuid(s: &str) -> bool {
    let s = s
        .strip_prefix("urn:uuid:")
        .or_else(|| s.strip_prefix('{').and_then(|r| r.strip_suffix('}')))
        .unwrap_or(s);
    match s.len() {
        32 => s.bytes().all(|b| b.is_ascii_hexdigit()),
        36 => s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        }),
        _ => false,
    }
}

impl AzureAdConfig {
    pub fn validate(&mut self) -> Result<(), String> {
        if self.cloud.is_empty() {
            self.cloud = "AzurePublic".to_owned();
        }
        if !["AzureChina", "AzureGovernment", "AzurePublic"].contains(&self.cloud.as_str()) {
            return Err("must provide a cloud in the Azure AD config".into());
        }
        let methods = [
            &self.managed_identity,
            &self.workload_identity,
            &self.oauth,
            &self.sdk,
            &self.certificate,
        ];
        match methods.iter().filter(|m| m.is_some()).count() {
            0 => return Err("must provide an Azure Managed Identity, Azure Workload Identity, Azure OAuth, Azure Certificate or Azure SDK in the Azure AD config".into()),
            1 => {}
            _ => return Err("cannot provide multiple authentication methods in the Azure AD config".into()),
        }
        let need = |what: &str, value: &str, key: &str| {
            if value.is_empty() {
                Err(format!(
                    "must provide an Azure {what} {key} in the Azure AD config"
                ))
            } else {
                Ok(())
            }
        };
        let uuid = |what: &str, value: &str, key: &str| {
            if is_uuid(value) {
                Ok(())
            } else {
                Err(format!("the provided Azure {what} {key} is invalid"))
            }
        };
        if let Some(m) = &self.managed_identity
            && !m.client_id.is_empty()
        {
            uuid("Managed Identity", &m.client_id, "client_id")?;
        }
        if let Some(w) = &self.workload_identity {
            need("Workload Identity", &w.client_id, "client_id")?;
            need("Workload Identity", &w.tenant_id, "tenant_id")?;
            uuid("Workload Identity", &w.client_id, "client_id")?;
            uuid("Workload Identity", &w.tenant_id, "tenant_id")?;
        }
        if let Some(o) = &self.oauth {
            need("OAuth", &o.client_id, "client_id")?;
            need("OAuth", o.client_secret.expose(), "client_secret")?;
            need("OAuth", &o.tenant_id, "tenant_id")?;
            uuid("OAuth", &o.client_id, "client_id")?;
        }
        if let Some(c) = &self.certificate {
            need("Certificate", &c.client_id, "client_id")?;
            need("Certificate", &c.tenant_id, "tenant_id")?;
            need("Certificate", &c.certificate_path, "certificate_path")?;
            uuid("Certificate", &c.client_id, "client_id")?;
        }
        let scope_ok = self
            .scope
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c.is_whitespace() || ":/.-".contains(c));
        if !scope_ok {
            return Err("the provided scope contains invalid characters".into());
        }
        Ok(())
    }
}

/// `google_iam`: Google service-account credentials.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GoogleIamConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub credentials_file: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_forms() {
        assert!(is_uuid("00000000-0000-0000-0000-000000000000"));
        assert!(is_uuid("{00000000-0000-0000-0000-00000000000a}"));
        assert!(is_uuid("0000000000000000000000000000000a"));
        assert!(!is_uuid("not-a-uuid"));
    }

    #[test]
    fn azuread_needs_exactly_one_method() {
        let mut cfg = AzureAdConfig::default();
        assert!(
            cfg.validate()
                .unwrap_err()
                .starts_with("must provide an Azure Managed")
        );
        cfg.managed_identity = Some(AzureClient::default());
        cfg.sdk = Some(AzureClient::default());
        assert_eq!(
            cfg.validate().unwrap_err(),
            "cannot provide multiple authentication methods in the Azure AD config"
        );
        cfg.sdk = None;
        assert_eq!(cfg.validate(), Ok(()));
        assert_eq!(cfg.cloud, "AzurePublic");
    }
}
