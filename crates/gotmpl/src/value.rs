//! The dynamic value model templates execute over.
//!
//! Go templates walk arbitrary Go values through reflection. Here callers build a [`Value`]
//! tree instead; host types that need Go-style methods (Alertmanager's `KV.SortedPairs`,
//! `Alerts.Firing`, …) implement [`Object`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::funcs::Function;

/// A value a template can see, print, compare and pass to functions.
#[derive(Clone, Default)]
pub enum Value {
    /// Go's nil interface; also what a missing map key evaluates to. Printed by an action as
    /// `<no value>` and by `print`/`printf` as `<nil>`, exactly like Go.
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(Arc<str>),
    /// Trusted HTML (Go's `html/template.HTML`): a string that HTML-escaping mode emits verbatim
    /// in text context. Behaves as a string everywhere else.
    Html(Arc<str>),
    List(Arc<Vec<Value>>),
    Map(Arc<Map>),
    /// A function value, callable through the `call` builtin.
    Func(Function),
    Object(Arc<dyn Object>),
}

/// A Go map with string keys; iteration and printing are in key order as in Go's template
/// `range` and `fmt`.
#[derive(Clone, Debug, Default)]
pub struct Map {
    entries: BTreeMap<String, Value>,
    /// The zero value of the element type, which `index` and `missingkey=zero` return for an
    /// absent key (`""` for Go's `map[string]string`, nil for `map[string]any`).
    zero: Value,
}

impl Map {
    /// A map whose elements are interfaces (absent keys are nil).
    pub fn new(entries: BTreeMap<String, Value>) -> Self {
        Self {
            entries,
            zero: Value::Nil,
        }
    }

    /// A map of strings (Go's `map[string]string`: absent keys index to `""`).
    pub fn of_strings<K: Into<String>, V: Into<Arc<str>>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            entries: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), Value::String(v.into())))
                .collect(),
            zero: Value::String(Arc::from("")),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.get(key)
    }

    pub fn zero(&self) -> &Value {
        &self.zero
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.entries.iter()
    }

    /// The Go type name used in error messages and `%T`-like contexts.
    pub(crate) fn type_name(&self) -> &'static str {
        match self.zero {
            Value::String(_) => "map[string]string",
            _ => "map[string]interface {}",
        }
    }
}

/// Host data with Go-like fields and methods.
///
/// A Go type such as Alertmanager's `KV` is a map with methods; [`Object::base`] exposes the
/// map so `len`, `index`, `range` and printing behave as on the underlying value, while
/// [`Object::method`] and [`Object::field`] answer `.Name` lookups first.
pub trait Object: Send + Sync {
    /// The Go type name shown in errors (`can't evaluate field X in type T`).
    fn type_name(&self) -> &str;

    /// The plain value this object is built on (a map or list), or `None` for struct-like data.
    fn base(&self) -> Option<Value> {
        None
    }

    /// A struct field. Fields cannot take arguments.
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }

    /// A method call with the arguments written after it in the template (and the piped
    /// value last). `None` if there is no such method.
    fn method(&self, _name: &str, _args: &[Value]) -> Option<Result<Value, String>> {
        None
    }

    /// Go's `fmt.Stringer`: how the value prints (e.g. `time.Time`). `None` prints the base
    /// value, or `{TypeName}` without one.
    fn display(&self) -> Option<String> {
        None
    }
}

impl fmt::Debug for dyn Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Object({})", self.type_name())
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nil => f.write_str("Nil"),
            Self::Bool(b) => write!(f, "Bool({b})"),
            Self::Int(i) => write!(f, "Int({i})"),
            Self::Float(x) => write!(f, "Float({x})"),
            Self::String(s) => write!(f, "String({s:?})"),
            Self::Html(s) => write!(f, "Html({s:?})"),
            Self::List(l) => f.debug_list().entries(l.iter()).finish(),
            Self::Map(m) => f.debug_map().entries(m.iter()).finish(),
            Self::Func(_) => f.write_str("Func"),
            Self::Object(o) => o.fmt(f),
        }
    }
}

impl Value {
    pub fn string(s: impl Into<Arc<str>>) -> Self {
        Self::String(s.into())
    }

    /// Trusted HTML, emitted unescaped in HTML text context.
    pub fn html(s: impl Into<Arc<str>>) -> Self {
        Self::Html(s.into())
    }

    pub fn list(items: impl IntoIterator<Item = Value>) -> Self {
        Self::List(Arc::new(items.into_iter().collect()))
    }

    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Self {
        Self::Map(Arc::new(Map::new(
            entries.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        )))
    }

    pub fn object(o: impl Object + 'static) -> Self {
        Self::Object(Arc::new(o))
    }

    /// The value with host objects replaced by their base value (if they have one).
    pub fn resolved(&self) -> Value {
        match self {
            Self::Object(o) => o.base().unwrap_or_else(|| self.clone()),
            _ => self.clone(),
        }
    }

    /// The string content of a string-kind value (plain or trusted HTML).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) | Self::Html(s) => Some(s),
            _ => None,
        }
    }

    /// Go's template truthiness: false, 0, nil and empty strings/lists/maps are false.
    pub fn is_true(&self) -> bool {
        match self {
            Self::Nil => false,
            Self::Bool(b) => *b,
            Self::Int(i) => *i != 0,
            Self::Float(x) => *x != 0.0,
            Self::String(s) | Self::Html(s) => !s.is_empty(),
            Self::List(l) => !l.is_empty(),
            Self::Map(m) => !m.is_empty(),
            Self::Func(_) => true,
            Self::Object(o) => o.base().is_none_or(|b| b.is_true()),
        }
    }

    /// The Go type name of the value, as Go's `%T` and error messages show it.
    pub fn type_name(&self) -> String {
        match self {
            Self::Nil => "<nil>".into(),
            Self::Bool(_) => "bool".into(),
            Self::Int(_) => "int".into(),
            Self::Float(_) => "float64".into(),
            Self::String(_) => "string".into(),
            Self::Html(_) => "template.HTML".into(),
            Self::List(_) => "[]interface {}".into(),
            Self::Map(m) => m.type_name().into(),
            Self::Func(_) => "func(...interface {}) (interface {}, error)".into(),
            Self::Object(o) => o.type_name().into(),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Self::Int(i.into())
    }
}

impl From<usize> for Value {
    fn from(i: usize) -> Self {
        Self::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Self::Float(x)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::String(s.into())
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Self::List(Arc::new(items))
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Self::Map(Arc::new(m))
    }
}

impl From<BTreeMap<String, Value>> for Value {
    fn from(entries: BTreeMap<String, Value>) -> Self {
        Self::Map(Arc::new(Map::new(entries)))
    }
}

/// JSON objects and arrays become Go's `map[string]any` and `[]any`. Numbers that fit an `i64`
/// become ints rather than Go's `float64`, because data built from JSON almost always means
/// integers there and `{{ .count }}` should print `3` either way.
impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        use serde_json::Value as J;
        match v {
            J::Null => Self::Nil,
            J::Bool(b) => Self::Bool(b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Self::Int(i),
                None => Self::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Self::String(s.into()),
            J::Array(items) => Self::list(items.into_iter().map(Self::from)),
            J::Object(m) => Self::map(m.into_iter().map(|(k, v)| (k, Self::from(v)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truthiness_follows_go() {
        assert!(!Value::Nil.is_true());
        assert!(!Value::Int(0).is_true());
        assert!(Value::Float(0.5).is_true());
        assert!(!Value::from("").is_true());
        assert!(Value::from("x").is_true());
        assert!(!Value::list([]).is_true());
        assert!(Value::map([("a", Value::Nil)]).is_true());
    }

    #[test]
    fn json_numbers_keep_integers() {
        let v = Value::from(serde_json::json!({"a": 3, "b": 1.5, "c": null}));
        let Value::Map(m) = v else {
            panic!("not a map")
        };
        assert!(matches!(m.get("a"), Some(Value::Int(3))));
        assert!(matches!(m.get("b"), Some(Value::Float(x)) if *x == 1.5));
        assert!(matches!(m.get("c"), Some(Value::Nil)));
    }
}
