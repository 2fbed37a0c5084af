//! The API's JSON as amtool reads it back. The server's model types borrow from the alert
//! store and only serialize, so the client owns its copies; field order follows upstream's
//! generated models, because `-o json` re-encodes what it read in that order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::api::model::SilenceMatcher;

pub type LabelSet = BTreeMap<String, String>;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Receiver {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertStatus {
    pub inhibited_by: Vec<String>,
    pub silenced_by: Vec<String>,
    pub state: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableAlert {
    #[serde(default)]
    pub annotations: LabelSet,
    pub ends_at: String,
    pub fingerprint: String,
    pub receivers: Vec<Receiver>,
    pub starts_at: String,
    pub status: AlertStatus,
    pub updated_at: String,
    #[serde(
        default,
        rename = "generatorURL",
        skip_serializing_if = "String::is_empty"
    )]
    pub generator_url: String,
    pub labels: LabelSet,
}

/// What `alert add` posts; unset times are left out so the server picks them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableAlert {
    #[serde(skip_serializing_if = "LabelSet::is_empty")]
    pub annotations: LabelSet,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<String>,
    #[serde(rename = "generatorURL", skip_serializing_if = "String::is_empty")]
    pub generator_url: String,
    pub labels: LabelSet,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SilenceStatus {
    pub state: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableSilence {
    pub id: String,
    pub status: SilenceStatus,
    pub updated_at: String,
    #[serde(flatten)]
    pub silence: Silence,
}

/// The editable part of a silence, shared by what is read and what is posted.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Silence {
    pub comment: String,
    pub created_by: String,
    pub ends_at: String,
    pub matchers: Vec<SilenceMatcher>,
    pub starts_at: String,
}

/// A silence to create (no `id`) or to replace (`id` set). Reads `silence query -o json`
/// output too, whose extra fields it ignores.
#[derive(Debug, Deserialize, Serialize)]
pub struct PostableSilence {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(flatten)]
    pub silence: Silence,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SilenceCreated {
    #[serde(rename = "silenceID")]
    pub silence_id: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PeerStatus {
    pub address: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ClusterStatus {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default)]
    pub peers: Vec<PeerStatus>,
    pub status: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ConfigStatus {
    pub original: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    pub branch: String,
    pub build_date: String,
    pub build_user: String,
    pub go_version: String,
    pub revision: String,
    pub version: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerStatus {
    pub cluster: ClusterStatus,
    pub config: ConfigStatus,
    pub uptime: String,
    pub version_info: VersionInfo,
}
