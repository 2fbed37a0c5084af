//! The service-discovery lists of scrape and Alertmanager configs.
//!
//! The mechanisms the server implements (static, file, DNS, Consul, HTTP) are fully typed.
//! Every other upstream mechanism is accepted and validated as upstream does, so existing
//! configs load and wrong ones are refused for the same reason, but it is kept as an
//! [`UnsupportedSdConfig`] because nothing discovers its targets yet.

mod checks;
mod kubernetes;
mod mechanisms;
mod typed;
mod unsupported;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_norway::{Mapping, Value};

use pm_common::model::Labels;
pub use pm_discovery::{
    ConsulSdConfig, ConsulSettings, DnsSdConfig, FileSdConfig, HttpSdConfig, SdConfig,
};
pub use unsupported::UnsupportedSdConfig;

use super::global::GoQuoted;
use typed::Wire;

/// One entry of `static_configs`: fixed targets sharing labels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetGroup {
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl TargetGroup {
    /// The group as discovery reports it: each target an `__address__` label set.
    fn to_discovery(&self) -> pm_discovery::TargetGroup {
        pm_discovery::TargetGroup {
            source: String::new(),
            targets: self
                .targets
                .iter()
                .map(|t| Labels::from_pairs([("__address__", t.as_str())]))
                .collect(),
            labels: Labels::from_pairs(&self.labels),
        }
    }
}

/// Every SD list of one scrape or Alertmanager config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceDiscovery {
    pub static_configs: Vec<TargetGroup>,
    pub file_sd_configs: Vec<FileSdConfig>,
    pub dns_sd_configs: Vec<DnsSdConfig>,
    pub consul_sd_configs: Vec<ConsulSdConfig>,
    pub http_sd_configs: Vec<HttpSdConfig>,
    /// Mechanisms accepted in config whose discovery is not implemented, in file order.
    pub unsupported: Vec<UnsupportedSdConfig>,
}

const STATIC: &str = "static_configs";
const FILE: &str = "file_sd_configs";
const DNS: &str = "dns_sd_configs";
const CONSUL: &str = "consul_sd_configs";
const HTTP: &str = "http_sd_configs";

/// Decodes one SD list: null is an empty list, a null entry is refused as upstream does.
fn list<T: serde::de::DeserializeOwned, E: serde::de::Error>(
    key: &str,
    value: Value,
    check: impl Fn(&mut T) -> Result<(), String>,
) -> Result<Vec<T>, E> {
    let items: Vec<Option<Value>> = Option::<Vec<Option<Value>>>::deserialize(value)
        .map_err(|err| E::custom(format!("{key}: {err}")))?
        .unwrap_or_default();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let item = item.ok_or_else(|| E::custom(format!("empty or null section in {key}")))?;
        let mut parsed: T = serde_norway::from_value(item)
            .map_err(|err| E::custom(format!("{key}[{i}]: {err}")))?;
        check(&mut parsed).map_err(|err| E::custom(format!("{key}[{i}]: {err}")))?;
        out.push(parsed);
    }
    Ok(out)
}

impl ServiceDiscovery {
    /// Whether `key` names an SD list (of any mechanism upstream knows).
    pub fn is_key(key: &str) -> bool {
        [STATIC, FILE, DNS, CONSUL, HTTP].contains(&key) || unsupported::mechanism(key).is_some()
    }

    /// Decodes the SD keys split off a parent mapping.
    pub(crate) fn from_mapping<E: serde::de::Error>(mapping: Mapping) -> Result<Self, E> {
        let mut sd = ServiceDiscovery::default();
        for (key, value) in mapping {
            let key = key.as_str().unwrap_or_default().to_owned();
            match key.as_str() {
                STATIC => sd.static_configs = list(&key, value, check_target_group)?,
                FILE => sd.file_sd_configs = list(&key, value, typed::validate_file)?,
                DNS => sd.dns_sd_configs = list(&key, value, typed::validate_dns)?,
                CONSUL => sd.consul_sd_configs = unwire(list(&key, value, |_| Ok(()))?),
                HTTP => sd.http_sd_configs = unwire(list(&key, value, |_| Ok(()))?),
                _ => {
                    let mechanism = unsupported::mechanism(&key)
                        .ok_or_else(|| E::custom(format!("unknown field `{key}`")))?;
                    let items: Vec<Value> = list(&key, value, |_: &mut Value| Ok(()))?;
                    for (i, item) in items.into_iter().enumerate() {
                        let parsed = UnsupportedSdConfig::parse(mechanism, item)
                            .map_err(|err| E::custom(format!("{key}[{i}]: {err}")))?;
                        sd.unsupported.push(parsed);
                    }
                }
            }
        }
        Ok(sd)
    }

    /// The SD keys as upstream prints them (alphabetical by key), ready to merge into the
    /// parent's mapping.
    pub(crate) fn to_mapping<E: serde::ser::Error>(&self) -> Result<Mapping, E> {
        fn put<T: Serialize, E: serde::ser::Error>(
            out: &mut BTreeMap<String, Vec<Value>>,
            key: &str,
            items: &[T],
        ) -> Result<(), E> {
            for item in items {
                let value = serde_norway::to_value(item).map_err(E::custom)?;
                out.entry(key.to_owned()).or_default().push(value);
            }
            Ok(())
        }
        let mut out = BTreeMap::new();
        put::<_, E>(&mut out, STATIC, &self.static_configs)?;
        put::<_, E>(&mut out, FILE, &self.file_sd_configs)?;
        put::<_, E>(&mut out, DNS, &self.dns_sd_configs)?;
        let consul: Vec<_> = self.consul_sd_configs.iter().map(Wire).collect();
        put::<_, E>(&mut out, CONSUL, &consul)?;
        let http: Vec<_> = self.http_sd_configs.iter().map(Wire).collect();
        put::<_, E>(&mut out, HTTP, &http)?;
        for config in &self.unsupported {
            let value = serde_norway::to_value(config).map_err(E::custom)?;
            out.entry(config.key().to_owned()).or_default().push(value);
        }
        Ok(out
            .into_iter()
            .map(|(key, items)| (Value::String(key), Value::Sequence(items)))
            .collect())
    }

    /// What the discovery manager runs for this config: the static groups as one config
    /// (sources are their indexes), then every discovery config in file order per mechanism.
    /// The not-yet-supported mechanisms discover nothing.
    pub fn sd_configs(&self) -> Vec<SdConfig> {
        let mut out = Vec::new();
        if !self.static_configs.is_empty() {
            let groups = self.static_configs.iter().map(TargetGroup::to_discovery);
            out.push(SdConfig::Static(groups.collect()));
        }
        out.extend(self.file_sd_configs.iter().cloned().map(SdConfig::File));
        out.extend(self.dns_sd_configs.iter().cloned().map(SdConfig::Dns));
        out.extend(self.consul_sd_configs.iter().cloned().map(SdConfig::Consul));
        out.extend(self.http_sd_configs.iter().cloned().map(SdConfig::Http));
        out
    }

    /// Resolves relative file paths against `dir`.
    pub fn set_directory(&mut self, dir: &Path) {
        for file in &mut self.file_sd_configs {
            file.set_directory(dir);
        }
        for consul in &mut self.consul_sd_configs {
            consul.http_client.set_directory(dir);
        }
        for http in &mut self.http_sd_configs {
            http.http_client.set_directory(dir);
        }
        for other in &mut self.unsupported {
            other.set_directory(dir);
        }
    }

    /// A static target with a `/` is a URL pasted where a `host:port` belongs; upstream
    /// refuses it unless relabeling may rewrite the address.
    pub(crate) fn check_static_targets(&self) -> Result<(), String> {
        for target in self.static_configs.iter().flat_map(|g| &g.targets) {
            if target.contains('/') {
                return Err(format!("{} is not a valid hostname", GoQuoted(target)));
            }
        }
        Ok(())
    }
}

fn unwire<T>(items: Vec<Wire<T>>) -> Vec<T> {
    items.into_iter().map(|Wire(item)| item).collect()
}

fn check_target_group(group: &mut TargetGroup) -> Result<(), String> {
    match group.labels.keys().find(|name| name.is_empty()) {
        Some(name) => Err(format!("{} is not a valid label name", GoQuoted(name))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
