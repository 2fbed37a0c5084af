//! Alertmanager's template data model (`template.Data`, `Alert`, `KV`, `Pairs`, `Alerts`) and
//! default function map, rebuilt over `pm_gotmpl` values the way the Alertmanager port will.

use std::collections::BTreeMap;
use std::sync::Arc;

use pm_gotmpl::{FuncError, Map, Object, Template, Value, arg_str};
use regex::Regex;

/// A Go struct: named fields, no methods.
pub struct Struct {
    pub type_name: &'static str,
    pub fields: BTreeMap<&'static str, Value>,
}

impl Object for Struct {
    fn type_name(&self) -> &str {
        self.type_name
    }
    fn field(&self, name: &str) -> Option<Value> {
        self.fields.get(name).cloned()
    }
}

/// `template.KV`: a `map[string]string` with sorting helpers.
pub struct Kv(Arc<Map>);

impl Kv {
    pub fn value(pairs: &[(&str, &str)]) -> Value {
        Value::object(Kv(Arc::new(Map::of_strings(pairs.iter().copied()))))
    }

    fn strings(&self, key: bool) -> Value {
        Value::list(self.0.iter().map(|(k, v)| {
            if key {
                Value::from(k.as_str())
            } else {
                v.clone()
            }
        }))
    }
}

impl Object for Kv {
    fn type_name(&self) -> &str {
        "template.KV"
    }
    fn base(&self) -> Option<Value> {
        Some(Value::Map(self.0.clone()))
    }
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        Some(Ok(match name {
            "SortedPairs" => {
                let pairs = self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                Value::object(Pairs(pairs))
            }
            "Names" => self.strings(true),
            "Values" => self.strings(false),
            "Remove" => {
                let Some(Value::List(keys)) = args.first().map(Value::resolved) else {
                    return Some(Err("Remove needs a list of names".to_owned()));
                };
                let keep = self
                    .0
                    .iter()
                    .filter(|(k, _)| !keys.iter().any(|r| r.as_str() == Some(k.as_str())));
                let pairs: Vec<(&str, &str)> = keep
                    .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
                    .collect();
                Kv::value(&pairs)
            }
            _ => return None,
        }))
    }
}

/// `template.Pairs`: label pairs sorted by name.
pub struct Pairs(Vec<(String, Value)>);

impl Object for Pairs {
    fn type_name(&self) -> &str {
        "template.Pairs"
    }
    fn base(&self) -> Option<Value> {
        Some(Value::list(self.0.iter().map(|(name, value)| {
            Value::object(Struct {
                type_name: "template.Pair",
                fields: BTreeMap::from([
                    ("Name", Value::from(name.as_str())),
                    ("Value", value.clone()),
                ]),
            })
        })))
    }
    fn method(&self, name: &str, _: &[Value]) -> Option<Result<Value, String>> {
        match name {
            "Names" => Some(Ok(Value::list(
                self.0.iter().map(|(n, _)| Value::from(n.as_str())),
            ))),
            "Values" => Some(Ok(Value::list(self.0.iter().map(|(_, v)| v.clone())))),
            _ => None,
        }
    }
}

/// `template.Alerts` with its `Firing`/`Resolved` filters.
pub struct Alerts(pub Vec<(bool, Value)>);

impl Alerts {
    fn filter(&self, firing: bool) -> Value {
        let kept = self
            .0
            .iter()
            .filter(|(f, _)| *f == firing)
            .cloned()
            .collect();
        Value::object(Alerts(kept))
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
            "Firing" => Some(Ok(self.filter(true))),
            "Resolved" => Some(Ok(self.filter(false))),
            _ => None,
        }
    }
}

pub struct AlertSpec<'a> {
    pub firing: bool,
    pub labels: &'a [(&'a str, &'a str)],
    pub annotations: &'a [(&'a str, &'a str)],
    pub generator_url: &'a str,
}

pub fn alert(spec: &AlertSpec<'_>) -> (bool, Value) {
    let status = if spec.firing { "firing" } else { "resolved" };
    let value = Value::object(Struct {
        type_name: "template.Alert",
        fields: BTreeMap::from([
            ("Status", Value::from(status)),
            ("Labels", Kv::value(spec.labels)),
            ("Annotations", Kv::value(spec.annotations)),
            ("GeneratorURL", Value::from(spec.generator_url)),
            ("Fingerprint", Value::from("0123456789abcdef")),
        ]),
    });
    (spec.firing, value)
}

pub struct DataSpec<'a> {
    pub receiver: &'a str,
    pub alerts: Vec<(bool, Value)>,
    pub group_labels: &'a [(&'a str, &'a str)],
    pub common_labels: &'a [(&'a str, &'a str)],
    pub common_annotations: &'a [(&'a str, &'a str)],
    pub external_url: &'a str,
}

pub fn data(spec: DataSpec<'_>) -> Value {
    let status = if spec.alerts.iter().any(|(f, _)| *f) {
        "firing"
    } else {
        "resolved"
    };
    Value::object(Struct {
        type_name: "template.Data",
        fields: BTreeMap::from([
            ("Receiver", Value::from(spec.receiver)),
            ("Status", Value::from(status)),
            ("Alerts", Value::object(Alerts(spec.alerts))),
            ("GroupLabels", Kv::value(spec.group_labels)),
            ("CommonLabels", Kv::value(spec.common_labels)),
            ("CommonAnnotations", Kv::value(spec.common_annotations)),
            ("ExternalURL", Value::from(spec.external_url)),
        ]),
    })
}

fn strings(v: &Value) -> Result<Vec<String>, FuncError> {
    match v.resolved() {
        Value::List(items) => Ok(items
            .iter()
            .map(|i| i.as_str().unwrap_or_default().to_owned())
            .collect()),
        other => Err(FuncError::arg_type("[]string", &other)),
    }
}

fn regex(pattern: &str) -> Result<Regex, FuncError> {
    Regex::new(pattern).map_err(|e| FuncError::Failed(e.to_string()))
}

/// Go's `cases.Title` for English: each word capitalised, the rest lowered.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = !c.is_alphanumeric() && c != '\'';
    }
    out
}

fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v.resolved() {
        Value::Nil | Value::Func(_) | Value::Object(_) => J::Null,
        Value::Bool(b) => J::Bool(b),
        Value::Int(i) => J::from(i),
        Value::Float(x) => J::from(x),
        Value::String(s) | Value::Html(s) => J::from(&*s),
        Value::List(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

/// Registers Alertmanager's default functions (those not depending on time).
pub fn register(t: &mut Template) {
    t.func("toUpper", |a| {
        FuncError::check_arity(a, 1)?;
        Ok(arg_str(a, 0)?.to_uppercase().into())
    });
    t.func("toLower", |a| {
        FuncError::check_arity(a, 1)?;
        Ok(arg_str(a, 0)?.to_lowercase().into())
    });
    t.func("title", |a| {
        FuncError::check_arity(a, 1)?;
        Ok(title(arg_str(a, 0)?).into())
    });
    t.func("trimSpace", |a| {
        FuncError::check_arity(a, 1)?;
        Ok(arg_str(a, 0)?.trim().into())
    });
    t.func("join", |a| {
        FuncError::check_arity(a, 2)?;
        Ok(strings(&a[1])?.join(arg_str(a, 0)?).into())
    });
    t.func("match", |a| {
        FuncError::check_arity(a, 2)?;
        Ok(regex(arg_str(a, 0)?)?.is_match(arg_str(a, 1)?).into())
    });
    t.func("safeHtml", |a| {
        FuncError::check_arity(a, 1)?;
        Ok(Value::html(arg_str(a, 0)?))
    });
    t.func("reReplaceAll", |a| {
        FuncError::check_arity(a, 3)?;
        let re = regex(arg_str(a, 0)?)?;
        Ok(re
            .replace_all(arg_str(a, 2)?, arg_str(a, 1)?)
            .into_owned()
            .into())
    });
    t.func("stringSlice", |a| {
        let items: Result<Vec<Value>, FuncError> =
            (0..a.len()).map(|i| Ok(arg_str(a, i)?.into())).collect();
        Ok(Value::list(items?))
    });
    t.func("toJson", |a| {
        FuncError::check_arity(a, 1)?;
        Ok(to_json(&a[0]).to_string().into())
    });
}
