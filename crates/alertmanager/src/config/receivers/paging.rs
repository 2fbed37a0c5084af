//! Incident and paging receivers: PagerDuty, OpsGenie, VictorOps, incident.io, Jira,
//! Pushover.

use std::collections::BTreeMap;

use pm_common::config::http::HttpClientConfig;
use pm_common::config::{Duration, Secret};
use serde::{Deserialize, Serialize};

use super::{at_most_one, tmpl};
use crate::config::types::{GoDuration, HttpUrl};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PagerdutyConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub service_key: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service_key_file: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub routing_key: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub routing_key_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<HttpUrl>,
    pub client: String,
    pub client_url: String,
    pub description: String,
    /// Free-form values (templates in strings); the defaults fill missing keys.
    pub details: BTreeMap<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<PagerdutyImage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<PagerdutyLink>,
    pub source: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub severity: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub class: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub component: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group: String,
    pub timeout: GoDuration,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PagerdutyLink {
    pub href: String,
    pub text: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PagerdutyImage {
    pub src: String,
    pub alt: String,
    pub href: String,
}

impl Default for PagerdutyConfig {
    fn default() -> Self {
        PagerdutyConfig {
            send_resolved: true,
            http_config: None,
            service_key: Secret::default(),
            service_key_file: String::new(),
            routing_key: Secret::default(),
            routing_key_file: String::new(),
            url: None,
            client: tmpl("pagerduty.default.client"),
            client_url: tmpl("pagerduty.default.clientURL"),
            description: "{{ template \"pagerduty.default.description\" .}}".to_owned(),
            details: BTreeMap::new(),
            images: Vec::new(),
            links: Vec::new(),
            source: String::new(),
            severity: String::new(),
            class: String::new(),
            component: String::new(),
            group: String::new(),
            timeout: GoDuration::default(),
        }
    }
}

impl PagerdutyConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        if self.routing_key.is_empty()
            && self.service_key.is_empty()
            && self.routing_key_file.is_empty()
            && self.service_key_file.is_empty()
        {
            return Err("missing service or routing key in PagerDuty config".into());
        }
        at_most_one(
            !self.routing_key.is_empty(),
            &self.routing_key_file,
            "routing_key & routing_key_file",
        )?;
        at_most_one(
            !self.service_key.is_empty(),
            &self.service_key_file,
            "service_key & service_key_file",
        )?;
        if self.source.is_empty() {
            self.source = self.client.clone();
        }
        let defaults = [
            ("firing", "{{ .Alerts.Firing | toJson }}"),
            ("resolved", "{{ .Alerts.Resolved | toJson }}"),
            ("num_firing", "{{ .Alerts.Firing | len }}"),
            ("num_resolved", "{{ .Alerts.Resolved | len }}"),
        ];
        for (key, value) in defaults {
            self.details
                .entry(key.to_owned())
                .or_insert_with(|| value.into());
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpsGenieResponder {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpsGenieConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub api_key: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_key_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<HttpUrl>,
    pub message: String,
    pub description: String,
    pub source: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub entity: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub responders: Vec<OpsGenieResponder>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub actions: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tags: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub priority: String,
    pub update_alerts: bool,
}

impl Default for OpsGenieConfig {
    fn default() -> Self {
        OpsGenieConfig {
            send_resolved: true,
            http_config: None,
            api_key: Secret::default(),
            api_key_file: String::new(),
            api_url: None,
            message: tmpl("opsgenie.default.message"),
            description: tmpl("opsgenie.default.description"),
            source: tmpl("opsgenie.default.source"),
            details: BTreeMap::new(),
            entity: String::new(),
            responders: Vec::new(),
            actions: String::new(),
            tags: String::new(),
            note: String::new(),
            priority: String::new(),
            update_alerts: false,
        }
    }
}

impl OpsGenieConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        at_most_one(
            !self.api_key.is_empty(),
            &self.api_key_file,
            "api_key & api_key_file",
        )?;
        for r in &mut self.responders {
            // Go prints the struct as `{id name username type}`.
            let shown = format!("{{{} {} {} {}}}", r.id, r.name, r.username, r.kind);
            if r.id.is_empty() && r.username.is_empty() && r.name.is_empty() {
                return Err(format!(
                    "opsGenieConfig responder {shown} has to have at least one of id, username or name specified"
                ));
            }
            if r.kind.contains("{{") {
                pm_gotmpl::Template::new("").parse(&r.kind).map_err(|e| {
                    format!("opsGenieConfig responder {shown} type contains invalid template syntax: {e}")
                })?;
                continue;
            }
            r.kind = r.kind.to_lowercase();
            if !matches!(
                r.kind.as_str(),
                "team" | "teams" | "user" | "escalation" | "schedule"
            ) {
                return Err(format!(
                    "opsGenieConfig responder {shown} type does not match valid options ^(team|teams|user|escalation|schedule)$"
                ));
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct VictorOpsConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub api_key: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_key_file: String,
    pub api_url: Option<HttpUrl>,
    pub routing_key: String,
    pub message_type: String,
    pub state_message: String,
    pub entity_display_name: String,
    pub monitoring_tool: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_fields: BTreeMap<String, String>,
}

impl Default for VictorOpsConfig {
    fn default() -> Self {
        VictorOpsConfig {
            send_resolved: true,
            http_config: None,
            api_key: Secret::default(),
            api_key_file: String::new(),
            api_url: None,
            routing_key: String::new(),
            message_type: "CRITICAL".to_owned(),
            state_message: tmpl("victorops.default.state_message"),
            entity_display_name: tmpl("victorops.default.entity_display_name"),
            monitoring_tool: tmpl("victorops.default.monitoring_tool"),
            custom_fields: BTreeMap::new(),
        }
    }
}

impl VictorOpsConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        if self.routing_key.is_empty() {
            return Err("missing Routing key in VictorOps config".into());
        }
        at_most_one(
            !self.api_key.is_empty(),
            &self.api_key_file,
            "api_key & api_key_file",
        )?;
        let reserved = [
            "routing_key",
            "message_type",
            "state_message",
            "entity_display_name",
            "monitoring_tool",
            "entity_id",
            "entity_state",
        ];
        if let Some(field) = reserved
            .iter()
            .find(|f| self.custom_fields.contains_key(**f))
        {
            return Err(format!(
                "victorOps config contains custom field {field} which cannot be used as it conflicts with the fixed/static fields"
            ));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncidentioConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    pub url: Option<HttpUrl>,
    pub url_file: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub alert_source_token: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub alert_source_token_file: String,
    pub max_alerts: u64,
    pub timeout: GoDuration,
}

impl Default for IncidentioConfig {
    fn default() -> Self {
        IncidentioConfig {
            send_resolved: true,
            http_config: None,
            url: None,
            url_file: String::new(),
            alert_source_token: Secret::default(),
            alert_source_token_file: String::new(),
            max_alerts: 0,
            timeout: GoDuration::default(),
        }
    }
}

impl IncidentioConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        if self.url.is_none() && self.url_file.is_empty() {
            return Err("one of url or url_file must be configured".into());
        }
        at_most_one(self.url.is_some(), &self.url_file, "url & url_file")?;
        let has_token =
            !self.alert_source_token.is_empty() || !self.alert_source_token_file.is_empty();
        at_most_one(
            !self.alert_source_token.is_empty(),
            &self.alert_source_token_file,
            "alert_source_token & alert_source_token_file",
        )?;
        if let Some(http) = &self.http_config {
            if http.authorization.is_some() && has_token {
                return Err("cannot specify alert_source_token or alert_source_token_file when using http_config.authorization".into());
            }
            if http.authorization.is_none() && !has_token {
                return Err("at least one of alert_source_token, alert_source_token_file or http_config.authorization must be configured".into());
            }
        }
        Ok(())
    }
}

/// A Jira field: a plain template string, or `{template, enable_update}`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct JiraFieldConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub template: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_update: Option<bool>,
}

impl<'de> Deserialize<'de> for JiraFieldConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            #[serde(default)]
            template: String,
            #[serde(default)]
            enable_update: Option<bool>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Plain(String),
            Full(Full),
        }
        Ok(match Either::deserialize(d)? {
            Either::Plain(template) => JiraFieldConfig {
                template,
                enable_update: None,
            },
            Either::Full(f) => JiraFieldConfig {
                template: f.template,
                enable_update: f.enable_update,
            },
        })
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct JiraConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<HttpUrl>,
    pub api_type: String,
    pub project: String,
    pub summary: JiraFieldConfig,
    pub description: JiraFieldConfig,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    pub priority: String,
    pub issue_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reopen_transition: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resolve_transition: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub wont_fix_resolution: String,
    pub reopen_duration: Duration,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, serde_json::Value>,
}

impl Default for JiraConfig {
    fn default() -> Self {
        let field = |name| JiraFieldConfig {
            template: tmpl(name),
            enable_update: None,
        };
        JiraConfig {
            send_resolved: true,
            http_config: None,
            api_url: None,
            api_type: "auto".to_owned(),
            project: String::new(),
            summary: field("jira.default.summary"),
            description: field("jira.default.description"),
            labels: Vec::new(),
            priority: tmpl("jira.default.priority"),
            issue_type: String::new(),
            reopen_transition: String::new(),
            resolve_transition: String::new(),
            wont_fix_resolution: String::new(),
            reopen_duration: Duration::default(),
            fields: BTreeMap::new(),
        }
    }
}

impl JiraConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        if self.project.is_empty() {
            return Err("missing project in jira_config".into());
        }
        if self.issue_type.is_empty() {
            return Err("missing issue_type in jira_config".into());
        }
        if !matches!(self.api_type.as_str(), "auto" | "cloud" | "datacenter") {
            return Err(
                "unknown api_type on jira_config, must be auto, cloud or datacenter".into(),
            );
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PushoverConfig {
    pub send_resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub user_key: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user_key_file: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub token: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub token_file: String,
    pub title: String,
    pub message: String,
    pub url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url_title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub device: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sound: String,
    pub priority: String,
    pub retry: GoDuration,
    pub expire: GoDuration,
    pub ttl: GoDuration,
    pub html: bool,
    pub monospace: bool,
}

impl Default for PushoverConfig {
    fn default() -> Self {
        PushoverConfig {
            send_resolved: true,
            http_config: None,
            user_key: Secret::default(),
            user_key_file: String::new(),
            token: Secret::default(),
            token_file: String::new(),
            title: tmpl("pushover.default.title"),
            message: tmpl("pushover.default.message"),
            url: tmpl("pushover.default.url"),
            url_title: String::new(),
            device: String::new(),
            sound: String::new(),
            priority: r#"{{ if eq .Status "firing" }}2{{ else }}0{{ end }}"#.to_owned(),
            retry: GoDuration(std::time::Duration::from_secs(60)),
            expire: GoDuration(std::time::Duration::from_secs(3600)),
            ttl: GoDuration::default(),
            html: false,
            monospace: false,
        }
    }
}

impl PushoverConfig {
    pub(super) fn validate(&mut self) -> Result<(), String> {
        if self.user_key.is_empty() && self.user_key_file.is_empty() {
            return Err("one of user_key or user_key_file must be configured".into());
        }
        at_most_one(
            !self.user_key.is_empty(),
            &self.user_key_file,
            "user_key & user_key_file",
        )?;
        if self.token.is_empty() && self.token_file.is_empty() {
            return Err("one of token or token_file must be configured".into());
        }
        at_most_one(
            !self.token.is_empty(),
            &self.token_file,
            "token & token_file",
        )?;
        if self.html && self.monospace {
            return Err("at most one of monospace & html must be configured".into());
        }
        Ok(())
    }
}
