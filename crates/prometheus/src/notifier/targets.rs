//! Alertmanager targets from discovered groups: the labels upstream gives them
//! (`__scheme__`, `__address__`, `__alerts_path__`), relabeling, and the URL alerts are
//! posted to.

use pm_common::model::{Labels, LabelsBuilder};
use pm_common::relabel;
use pm_discovery::TargetGroup;

use crate::config::AlertmanagerSettings;

const SCHEME_LABEL: &str = "__scheme__";
const ADDRESS_LABEL: &str = "__address__";
/// Where on the Alertmanager alerts are posted; relabeling may change it.
pub const PATH_LABEL: &str = "__alerts_path__";

/// The v2 API's push endpoint, below the configured `path_prefix`.
const PUSH_ENDPOINT: &str = "/api/v2/alerts";

/// One Alertmanager, as its labels after relabeling (or before, for a dropped one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertmanagerTarget {
    labels: Labels,
}

/// A relabeled `__address__` that cannot be a host: the whole group is skipped, as upstream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{address:?} is not a valid hostname")]
pub struct InvalidAddress {
    pub address: String,
}

impl AlertmanagerTarget {
    pub fn new(labels: Labels) -> Self {
        AlertmanagerTarget { labels }
    }

    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// The URL alerts go to, written as Go's `url.URL{Scheme, Host, Path}.String()` writes it
    /// (so the API and the `alertmanager` metric label match upstream's: no normalisation of
    /// the host or a default port).
    pub fn url(&self) -> String {
        let scheme = self.labels.get_or_empty(SCHEME_LABEL);
        let host = self.labels.get_or_empty(ADDRESS_LABEL);
        let path = self.labels.get_or_empty(PATH_LABEL);
        let mut out = String::with_capacity(scheme.len() + host.len() + path.len() + 3);
        if !scheme.is_empty() {
            out.push_str(scheme);
            out.push(':');
        }
        if !scheme.is_empty() || !host.is_empty() {
            if !host.is_empty() || !path.is_empty() {
                out.push_str("//");
            }
            escape(&mut out, host, keep_in_host);
        }
        let mut escaped = String::with_capacity(path.len());
        escape(&mut escaped, path, keep_in_path);
        if !escaped.is_empty() && !escaped.starts_with('/') && !host.is_empty() {
            out.push('/');
        }
        if out.is_empty()
            && let Some(colon) = escaped.find(':')
            && !escaped[..colon].contains('/')
        {
            // A first segment with a colon would read as a scheme.
            out.push_str("./");
        }
        out.push_str(&escaped);
        out
    }
}

/// `path_prefix` joined with the push endpoint and cleaned, as Go's `path.Join("/", …)`.
pub fn alerts_path(prefix: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in prefix.split('/').chain(PUSH_ENDPOINT.split('/')) {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    format!("/{}", segments.join("/"))
}

/// The Alertmanagers of one discovered group under `settings`: those kept by
/// `relabel_configs` (labels after relabeling) and those dropped (labels before). A target's
/// own label wins over the group's; the configured scheme and path replace whatever the
/// target says, as upstream sets them after the target's labels.
pub fn targets_from_group(
    group: &TargetGroup,
    settings: &AlertmanagerSettings,
) -> Result<(Vec<AlertmanagerTarget>, Vec<AlertmanagerTarget>), InvalidAddress> {
    let path = alerts_path(&settings.path_prefix);
    let mut active = Vec::new();
    let mut dropped = Vec::new();
    for target in &group.targets {
        let mut lb = LabelsBuilder::new(target.clone());
        lb.set(SCHEME_LABEL, &settings.scheme);
        lb.set(PATH_LABEL, &path);
        for l in group.labels.iter() {
            if !target.has(l.name) {
                lb.set(l.name, l.value);
            }
        }
        let before = lb.labels();
        if !relabel::process_builder(&mut lb, &settings.relabel_configs) {
            dropped.push(AlertmanagerTarget::new(before));
            continue;
        }
        let address = lb.get(ADDRESS_LABEL).unwrap_or_default();
        if address.contains('/') {
            return Err(InvalidAddress {
                address: address.to_owned(),
            });
        }
        active.push(AlertmanagerTarget::new(lb.labels()));
    }
    Ok((active, dropped))
}

/// Percent-encodes the bytes `keep` rejects, with upper-case hex as Go does.
fn escape(out: &mut String, s: &str, keep: fn(u8) -> bool) {
    for b in s.bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Go's `shouldEscape` in host mode: sub-delimiters, `:` and brackets stay.
fn keep_in_host(b: u8) -> bool {
    unreserved(b)
        || matches!(
            b,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
}

/// Go's `shouldEscape` in path mode: reserved characters other than `?` stay.
fn keep_in_path(b: u8) -> bool {
    unreserved(b)
        || matches!(
            b,
            b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'@'
        )
}
