//! Lists of relabeling rules. Upstream refuses a null entry with a message naming the list,
//! so each list has its own decoder.

use pm_common::relabel::RelabelConfig;
use serde::{Deserialize, Deserializer};
use serde_norway::Value;

/// Go's YAML decoder reads an unquoted `regex: 1` into a string field; serde wants a
/// string, so number and boolean scalars of the text fields are turned into text first.
fn stringify_scalars(rule: &mut Value) {
    fn text(value: &mut Value) {
        let replacement = match value {
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return,
        };
        *value = Value::String(replacement);
    }
    let Value::Mapping(fields) = rule else { return };
    for (key, value) in fields.iter_mut() {
        match key.as_str() {
            Some("modulus") => {}
            Some("source_labels") => {
                if let Value::Sequence(items) = value {
                    items.iter_mut().for_each(text);
                }
            }
            _ => text(value),
        }
    }
}

fn rules<'de, D: Deserializer<'de>>(d: D, what: &str) -> Result<Vec<RelabelConfig>, D::Error> {
    use serde::de::Error;
    let rules = Option::<Vec<Option<Value>>>::deserialize(d)?.unwrap_or_default();
    let rules = super::inline::non_null(rules, &format!("empty or null {what}"))?;
    rules
        .into_iter()
        .map(|mut rule| {
            stringify_scalars(&mut rule);
            serde_norway::from_value(rule).map_err(D::Error::custom)
        })
        .collect()
}

macro_rules! rule_list {
    ($($name:ident => $what:literal),* $(,)?) => {$(
        pub(crate) fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RelabelConfig>, D::Error> {
            rules(d, $what)
        }
    )*};
}

rule_list! {
    target => "target relabeling rule in scrape config",
    metric => "metric relabeling rule in scrape config",
    alert => "alert relabeling rule",
    alertmanager_target => "Alertmanager target relabeling rule",
    alertmanager_alert => "Alertmanager alert relabeling rule",
    remote_write => "relabeling rule in remote write config",
}
