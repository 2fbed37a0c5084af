//! `query` and the functions over its result: templates see upstream's `queryResult` (a list
//! of `*sample` with `.Labels` and `.Value`), and `first`, `label`, `value`, `strvalue` and
//! `sortByLabel` accept only those types, as Go's typed signatures do.

use std::sync::Arc;

use pm_gotmpl::fmt::to_v;
use pm_gotmpl::{FuncError, FuncMap, FuncResult, Function, Map, Object, Value, arg_str};

use super::{QueryFn, QuerySample};

const RESULT_TYPE: &str = "template.queryResult";
const SAMPLE_TYPE: &str = "*template.sample";

/// One query result element.
struct Sample {
    labels: Value,
    value: Value,
}

impl Sample {
    fn new(s: &QuerySample) -> Self {
        Sample {
            labels: Value::from(Map::of_strings(s.labels.iter().map(|l| (l.name, l.value)))),
            value: Value::Float(s.value),
        }
    }

    fn label(&self, name: &str) -> Value {
        match &self.labels {
            Value::Map(m) => m.get(name).cloned().unwrap_or_else(|| Value::from("")),
            _ => Value::from(""),
        }
    }
}

impl Object for Sample {
    fn type_name(&self) -> &str {
        SAMPLE_TYPE
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Labels" => Some(self.labels.clone()),
            "Value" => Some(self.value.clone()),
            _ => None,
        }
    }

    /// Go prints a pointer to a struct as `&{field field}`.
    fn display(&self) -> Option<String> {
        Some(format!("&{{{} {}}}", to_v(&self.labels), to_v(&self.value)))
    }
}

/// A whole query result; ranges, indexes and prints as its list of samples.
struct QueryResult(Arc<Vec<Arc<Sample>>>);

impl Object for QueryResult {
    fn type_name(&self) -> &str {
        RESULT_TYPE
    }

    fn base(&self) -> Option<Value> {
        Some(Value::list(
            self.0
                .iter()
                .map(|s| Value::Object(s.clone() as Arc<dyn Object>)),
        ))
    }
}

/// Registers `query`, evaluated at `timestamp_ms`.
pub(super) fn register_query(map: &mut FuncMap, query: Option<QueryFn>, timestamp_ms: i64) {
    map.insert(
        "query",
        Function::new(move |args| {
            FuncError::check_arity(args, 1)?;
            let q = arg_str(args, 0)?;
            let run = query
                .as_ref()
                .ok_or("no query engine is available to templates")?;
            let samples = run(q, timestamp_ms)?;
            Ok(result_value(
                samples.iter().map(|s| Arc::new(Sample::new(s))).collect(),
            ))
        }),
    );
}

/// Registers the functions over query results.
pub(super) fn register_static(map: &mut FuncMap) {
    map.insert("first", Function::new(first));
    map.insert(
        "label",
        Function::new(|args| {
            FuncError::check_arity(args, 2)?;
            let name = arg_str(args, 0)?;
            Ok(sample_arg(args, 1)?.label(name))
        }),
    );
    map.insert(
        "value",
        Function::new(|args| {
            FuncError::check_arity(args, 1)?;
            Ok(sample_arg(args, 0)?.value.clone())
        }),
    );
    map.insert(
        "strvalue",
        Function::new(|args| {
            FuncError::check_arity(args, 1)?;
            Ok(sample_arg(args, 0)?.label("__value__"))
        }),
    );
    map.insert("sortByLabel", Function::new(sort_by_label));
    map.insert(
        "args",
        Function::new(|args| {
            Ok(Value::map(
                args.iter()
                    .enumerate()
                    .map(|(i, a)| (format!("arg{i}"), a.clone())),
            ))
        }),
    );
}

fn result_value(samples: Vec<Arc<Sample>>) -> Value {
    Value::object(QueryResult(Arc::new(samples)))
}

fn first(args: &[Value]) -> FuncResult {
    FuncError::check_arity(args, 1)?;
    let samples = result_arg(args, 0)?;
    let first = samples
        .first()
        .ok_or("first() called on vector with no elements")?;
    Ok(Value::Object(first.clone() as Arc<dyn Object>))
}

fn sort_by_label(args: &[Value]) -> FuncResult {
    FuncError::check_arity(args, 2)?;
    let name = arg_str(args, 0)?;
    let mut samples: Vec<Arc<Sample>> = result_arg(args, 1)?.to_vec();
    // A stable sort on the label's value, byte-wise as Go compares strings.
    samples.sort_by_cached_key(|s| s.label(name).as_str().unwrap_or_default().to_owned());
    Ok(result_value(samples))
}

/// The samples of a `queryResult` argument (nil is an empty result, as in Go).
fn result_arg(args: &[Value], i: usize) -> Result<Arc<Vec<Arc<Sample>>>, FuncError> {
    let v = &args[i];
    match v {
        Value::Nil => Ok(Arc::default()),
        Value::Object(o) if o.type_name() == RESULT_TYPE => {
            let Some(Value::List(items)) = o.base() else {
                return Err(FuncError::arg_type(RESULT_TYPE, v));
            };
            items
                .iter()
                .map(|item| sample_of(item).ok_or_else(|| FuncError::arg_type(RESULT_TYPE, v)))
                .collect::<Result<Vec<_>, _>>()
                .map(Arc::new)
        }
        _ => Err(FuncError::arg_type(RESULT_TYPE, v)),
    }
}

/// The `*sample` argument `i`; nil dereferences as Go's would.
fn sample_arg(args: &[Value], i: usize) -> Result<Arc<Sample>, FuncError> {
    let v = &args[i];
    if matches!(v, Value::Nil) {
        return Err(FuncError::Failed(
            "runtime error: invalid memory address or nil pointer dereference".to_owned(),
        ));
    }
    sample_of(v).ok_or_else(|| FuncError::arg_type(SAMPLE_TYPE, v))
}

/// Rebuilds a sample from a template value of the sample type.
fn sample_of(v: &Value) -> Option<Arc<Sample>> {
    match v {
        Value::Object(o) if o.type_name() == SAMPLE_TYPE => Some(Arc::new(Sample {
            labels: o.field("Labels")?,
            value: o.field("Value")?,
        })),
        _ => None,
    }
}
