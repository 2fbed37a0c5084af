//! The notification data as template values, with upstream's Go types and methods:
//! `template.Data`, `Alert`, `Alerts` (`Firing`, `Resolved`), `KV` (`SortedPairs`, `Names`,
//! `Values`, `Remove`) and `Pairs`.

use std::sync::Arc;

use jiff::Timestamp;
use pm_gotmpl::{Map, Object, Value};

use super::time::{GoTime, go_zero};
use crate::alert::LabelSet;
use crate::notify::data::{AlertData, Data};

/// A Go struct: named fields and no methods.
struct Struct {
    type_name: &'static str,
    fields: Vec<(&'static str, Value)>,
}

impl Object for Struct {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn field(&self, name: &str) -> Option<Value> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }
}

/// `template.KV`: a label set. Its sorted order puts `alertname` first, as upstream's.
pub struct Kv(Arc<Map>);

impl Kv {
    pub fn value(labels: &LabelSet) -> Value {
        let map = Map::of_strings(labels.iter().map(|(k, v)| (k.clone(), v.as_str())));
        Value::object(Kv(Arc::new(map)))
    }

    fn sorted(&self) -> Vec<(&String, &Value)> {
        let mut pairs: Vec<_> = self.0.iter().collect();
        if let Some(i) = pairs.iter().position(|(k, _)| *k == "alertname") {
            let first = pairs.remove(i);
            pairs.insert(0, first);
        }
        pairs
    }

    fn pairs(&self) -> Pairs {
        Pairs(
            self.sorted()
                .into_iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }
}

impl Object for Kv {
    fn type_name(&self) -> &str {
        "template.KV"
    }

    fn base(&self) -> Option<Value> {
        Some(Value::Map(Arc::clone(&self.0)))
    }

    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        Some(Ok(match name {
            "SortedPairs" => Value::object(self.pairs()),
            "Names" => self.pairs().names(),
            "Values" => self.pairs().values(),
            "Remove" => {
                let Some(Value::List(names)) = args.first().map(Value::resolved) else {
                    return Some(Err("Remove needs a list of label names".into()));
                };
                let kept = self
                    .0
                    .iter()
                    .filter(|(k, _)| !names.iter().any(|n| n.as_str() == Some(k.as_str())))
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default()));
                Value::object(Kv(Arc::new(Map::of_strings(kept))))
            }
            _ => return None,
        }))
    }

    fn display(&self) -> Option<String> {
        Some(self.pairs().to_string())
    }
}

/// `template.Pairs`: a sorted label set as a list of `{Name, Value}`.
pub struct Pairs(Vec<(String, Value)>);

impl Pairs {
    fn names(&self) -> Value {
        Value::list(self.0.iter().map(|(n, _)| Value::from(n.as_str())))
    }

    fn values(&self) -> Value {
        Value::list(self.0.iter().map(|(_, v)| v.clone()))
    }
}

impl std::fmt::Display for Pairs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}={}", value.as_str().unwrap_or_default())?;
        }
        Ok(())
    }
}

impl Object for Pairs {
    fn type_name(&self) -> &str {
        "template.Pairs"
    }

    fn base(&self) -> Option<Value> {
        Some(Value::list(self.0.iter().map(|(name, value)| {
            Value::object(Struct {
                type_name: "template.Pair",
                fields: vec![
                    ("Name", Value::from(name.as_str())),
                    ("Value", value.clone()),
                ],
            })
        })))
    }

    fn method(&self, name: &str, _: &[Value]) -> Option<Result<Value, String>> {
        match name {
            "Names" => Some(Ok(self.names())),
            "Values" => Some(Ok(self.values())),
            _ => None,
        }
    }

    fn display(&self) -> Option<String> {
        Some(self.to_string())
    }
}

/// `template.Alerts`; `Firing` and `Resolved` return plain lists, as upstream's `[]Alert`.
struct Alerts(Vec<(bool, Value)>);

impl Alerts {
    fn only(&self, firing: bool) -> Value {
        Value::list(
            self.0
                .iter()
                .filter(|(f, _)| *f == firing)
                .map(|(_, a)| a.clone()),
        )
    }
}

impl Object for Alerts {
    fn type_name(&self) -> &str {
        "template.Alerts"
    }

    fn base(&self) -> Option<Value> {
        Some(Value::list(self.0.iter().map(|(_, a)| a.clone())))
    }

    fn method(&self, name: &str, _: &[Value]) -> Option<Result<Value, String>> {
        match name {
            "Firing" => Some(Ok(self.only(true))),
            "Resolved" => Some(Ok(self.only(false))),
            _ => None,
        }
    }
}

/// The field names of `template.Alert` and `template.Data` with their JSON keys, for `toJson`.
pub const ALERT_JSON: &[(&str, &str)] = &[
    ("Status", "status"),
    ("Labels", "labels"),
    ("Annotations", "annotations"),
    ("StartsAt", "startsAt"),
    ("EndsAt", "endsAt"),
    ("GeneratorURL", "generatorURL"),
    ("Fingerprint", "fingerprint"),
];
pub const DATA_JSON: &[(&str, &str)] = &[
    ("Receiver", "receiver"),
    ("Status", "status"),
    ("Alerts", "alerts"),
    ("GroupLabels", "groupLabels"),
    ("CommonLabels", "commonLabels"),
    ("CommonAnnotations", "commonAnnotations"),
    ("ExternalURL", "externalURL"),
];

fn time(s: &str) -> Value {
    GoTime::utc(s.parse::<Timestamp>().unwrap_or_else(|_| go_zero()))
}

fn alert(a: &AlertData) -> (bool, Value) {
    let firing = a.status == "firing";
    let value = Value::object(Struct {
        type_name: "template.Alert",
        fields: vec![
            ("Status", Value::from(a.status)),
            ("Labels", Kv::value(&a.labels)),
            ("Annotations", Kv::value(&a.annotations)),
            ("StartsAt", time(&a.starts_at)),
            ("EndsAt", time(&a.ends_at)),
            ("GeneratorURL", Value::from(a.generator_url.as_str())),
            ("Fingerprint", Value::from(a.fingerprint.as_str())),
        ],
    });
    (firing, value)
}

/// `template.Data` for the notification data of a flushed group.
pub fn data_value(data: &Data) -> Value {
    Value::object(Struct {
        type_name: "template.Data",
        fields: vec![
            ("Receiver", Value::from(data.receiver.as_str())),
            ("Status", Value::from(data.status)),
            (
                "Alerts",
                Value::object(Alerts(data.alerts.iter().map(alert).collect())),
            ),
            ("GroupLabels", Kv::value(&data.group_labels)),
            ("CommonLabels", Kv::value(&data.common_labels)),
            ("CommonAnnotations", Kv::value(&data.common_annotations)),
            ("ExternalURL", Value::from(data.external_url.as_str())),
        ],
    })
}

/// A struct's fields under their JSON keys, in Go's field order, for `toJson`.
pub fn struct_fields(v: &dyn Object) -> Option<Vec<(&'static str, Value)>> {
    let layout = match v.type_name() {
        "template.Alert" => ALERT_JSON,
        "template.Data" => DATA_JSON,
        _ => return None,
    };
    Some(
        layout
            .iter()
            .filter_map(|(field, key)| Some((*key, v.field(field)?)))
            .collect(),
    )
}
