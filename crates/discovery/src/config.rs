//! What the manager runs: one [`SdConfig`] per provider.

use pm_common::config::Duration;

use crate::TargetGroup;
pub use crate::consul::config::{ConsulSdConfig, ConsulSettings};
pub use crate::dns::config::DnsSdConfig;
pub use crate::file::config::FileSdConfig;
pub use crate::http::config::HttpSdConfig;

/// One discovery config of a scrape job or Alertmanager set. Two equal configs share one
/// running provider, and a config that stays equal across a reload keeps its provider.
// Configs are built once per reload and compared, never moved in bulk: boxing the large
// variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum SdConfig {
    /// A job's whole `static_configs` list: the groups are published once, with their
    /// index as source.
    Static(Vec<TargetGroup>),
    File(FileSdConfig),
    Dns(DnsSdConfig),
    Consul(ConsulSdConfig),
    Http(HttpSdConfig),
}

impl SdConfig {
    /// The mechanism's name as upstream spells it in provider names and metric labels.
    pub fn mechanism(&self) -> &'static str {
        match self {
            SdConfig::Static(_) => "static",
            SdConfig::File(_) => "file",
            SdConfig::Dns(_) => "dns",
            SdConfig::Consul(_) => "consul",
            SdConfig::Http(_) => "http",
        }
    }
}

/// `skip_serializing_if` for durations upstream omits when zero.
pub(crate) fn is_zero_duration(d: &Duration) -> bool {
    d.is_zero()
}
