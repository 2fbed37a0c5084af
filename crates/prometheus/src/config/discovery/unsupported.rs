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

pub(crate) use super::mechanisms::mechanism;
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

pub(crate) type Check = fn(&Fields, Option<&mut HttpClientConfig>) -> Result<(), String>;

/// How one upstream mechanism is recognised and validated.
#[derive(Debug)]
pub(crate) struct Mechanism {
    /// The YAML key of its list, e.g. `kubernetes_sd_configs`.
    pub key: &'static str,
    /// Upstream's Go package, named in unknown-field messages as upstream does.
    pub package: &'static str,
    /// Its own keys, in groups (the AWS mechanisms share most of theirs).
    pub fields: &'static [&'static [&'static str]],
    pub http: bool,
    pub secrets: &'static [&'static str],
    pub files: &'static [&'static str],
    pub check: Check,
}

impl PartialEq for Mechanism {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
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
        // The value types every mechanism shares are checked; the rest only by the rules.
        for key in ["refresh_interval", "timeout", "fetch_timeout"] {
            if let Some(value) = fields.get(key) {
                let text = value
                    .as_str()
                    .ok_or_else(|| format!("{key}: expected a duration"))?;
                Duration::parse(text).map_err(|err| format!("{key}: {err}"))?;
            }
        }
        if fields.get("port").is_some_and(|port| !port.is_i64()) {
            return Err("port: expected an integer".to_owned());
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
