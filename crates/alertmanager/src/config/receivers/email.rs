//! `email_configs`.

use std::collections::BTreeMap;

use pm_common::config::Secret;
use pm_common::config::http::TlsConfig;
use serde::{Deserialize, Serialize};

use super::tmpl;
use crate::config::types::HostPort;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub to: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub hello: String,
    #[serde(skip_serializing_if = "HostPort::is_empty")]
    pub smarthost: HostPort,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auth_username: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub auth_password: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auth_password_file: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub auth_secret: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auth_secret_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auth_identity: String,
    /// Keys in MIME canonical form after loading (`x-foo` becomes `X-Foo`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub html: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_tls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    /// `None`: implicit TLS on port 465 only, as upstream decides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_implicit_tls: Option<bool>,
    pub threading: ThreadingConfig,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThreadingConfig {
    pub enabled: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub thread_by_date: String,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            send_resolved: false,
            to: String::new(),
            from: String::new(),
            hello: String::new(),
            smarthost: HostPort::default(),
            auth_username: String::new(),
            auth_password: Secret::default(),
            auth_password_file: String::new(),
            auth_secret: Secret::default(),
            auth_secret_file: String::new(),
            auth_identity: String::new(),
            headers: BTreeMap::new(),
            html: tmpl("email.default.html"),
            text: String::new(),
            require_tls: None,
            tls_config: None,
            force_implicit_tls: None,
            threading: ThreadingConfig::default(),
        }
    }
}

/// Go's `textproto.CanonicalMIMEHeaderKey` for header names made of token characters.
pub(crate) fn canonical_mime_header_key(name: &str) -> String {
    if name.bytes().any(|b| b == b' ' || !b.is_ascii_graphic()) {
        return name.to_owned();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

impl EmailConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        if self.to.is_empty() {
            return Err("missing to address in email config".into());
        }
        let mut normalized = BTreeMap::new();
        for (name, value) in std::mem::take(&mut self.headers) {
            let key = canonical_mime_header_key(&name);
            if normalized.insert(key.clone(), value).is_some() {
                return Err(format!("duplicate header {key:?} in email config"));
            }
        }
        self.headers = normalized;
        if self.threading.enabled {
            for header in ["References", "In-Reply-To"] {
                if self.headers.contains_key(header) {
                    return Err(format!(
                        "conflicting configuration: threading.enabled conflicts with custom {header} header"
                    ));
                }
            }
            if !matches!(self.threading.thread_by_date.as_str(), "none" | "daily") {
                return Err("threading.thread_by_date must be either 'none' or 'daily'".into());
            }
        }
        Ok(())
    }
}
