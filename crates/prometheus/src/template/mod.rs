//! Go templates as the server expands them in alert labels and annotations (and console-style
//! HTML): the data model (`$labels`, `$value`, `$externalLabels`, `$externalURL`) and
//! upstream's function set, with `missingkey=zero` and errors worded as upstream.
//!
//! Functions that do not depend on the evaluation are built once per process; each expansion
//! adds `query`, `now`, `externalURL` and `pathPrefix` for its own time and server.

mod humanize;
mod links;
mod metrics;
mod query;
mod time;

use std::sync::{Arc, LazyLock, OnceLock};

use pm_common::model::Labels;
use pm_common::template::{TitleRest, register_shared, register_title};
use pm_gotmpl::{FuncError, FuncMap, Map, MissingKey, Template, Value, arg_str};

pub use self::metrics::register_metrics;
pub use self::time::{GoDuration, GoTime};

/// One element of a `query` result as templates see it (`.Labels`, `.Value`).
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySample {
    pub labels: Labels,
    pub value: f64,
}

/// Evaluates a PromQL instant query at a time in milliseconds, for the `query` function.
pub type QueryFn = Arc<dyn Fn(&str, i64) -> Result<Vec<QuerySample>, String> + Send + Sync>;

/// What every expansion in one server shares.
#[derive(Clone)]
pub struct Env {
    /// `--web.external-url`, for `externalURL`, `pathPrefix`, `graphLink` and `tableLink`.
    pub external_url: String,
    pub query: Option<QueryFn>,
}

/// The data an alert's labels and annotations are expanded with.
pub struct AlertData<'a> {
    pub labels: &'a Labels,
    pub external_labels: &'a Labels,
    pub external_url: &'a str,
    pub value: f64,
}

/// Why a template did not expand, worded as upstream's expander words it.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("error parsing template {name}: {source}")]
    Parse {
        name: String,
        source: pm_gotmpl::ParseError,
    },
    #[error("error executing template {name}: {source}")]
    Exec {
        name: String,
        source: pm_gotmpl::ExecError,
    },
}

/// Declares the variables alert templates use; upstream prepends it to every alert label and
/// annotation, both when validating rule files and when expanding.
pub const ALERT_DEFS: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// Expands one alert label or annotation at `timestamp_ms` (the evaluation time, for `query`).
/// A failure comes back as the text upstream puts in its place, so evaluation goes on.
pub fn expand_alert(
    name: &str,
    text: &str,
    data: &AlertData<'_>,
    timestamp_ms: i64,
    env: &Env,
) -> String {
    let value = Value::map([
        ("Labels", labels_value(data.labels)),
        ("ExternalLabels", labels_value(data.external_labels)),
        ("ExternalURL", Value::string(data.external_url)),
        ("Value", Value::Float(data.value)),
    ]);
    let full = format!("{ALERT_DEFS}{text}");
    expand(&format!("__alert_{name}"), &full, &value, timestamp_ms, env)
        .unwrap_or_else(|e| format!("<error expanding template: {e}>"))
}

/// Expands `text` as a template named `name` over `data`, in text mode (counted in the
/// `prometheus_template_text_*` metrics, see [`register_metrics`]).
pub fn expand(
    name: &str,
    text: &str,
    data: &Value,
    timestamp_ms: i64,
    env: &Env,
) -> Result<String, TemplateError> {
    let mut template = Template::new(name);
    *template.funcs_mut() = function_map(env, timestamp_ms);
    template.missing_key(MissingKey::Zero);
    let result = run(&mut template, name, text, data);
    metrics::record(result.is_err());
    result
}

/// Expands `text` with HTML escaping by context (upstream's `ExpandHTML`, for console-style
/// pages), with the extra `tmpl NAME DATA` function that inlines a defined template as HTML.
pub fn expand_html(
    name: &str,
    text: &str,
    data: &Value,
    timestamp_ms: i64,
    env: &Env,
) -> Result<String, TemplateError> {
    // `tmpl` needs the finished set it belongs to; it holds a weak reference so the set
    // and its function do not keep each other alive.
    let slot: Arc<OnceLock<Template>> = Arc::new(OnceLock::new());
    let weak = Arc::downgrade(&slot);
    let mut template = Template::new_html(name);
    *template.funcs_mut() = function_map(env, timestamp_ms);
    template.missing_key(MissingKey::Zero);
    template.func("tmpl", move |args| {
        FuncError::check_arity(args, 2)?;
        let inner = arg_str(args, 0)?;
        let set = weak.upgrade().ok_or("template set no longer exists")?;
        let set = set.get().ok_or("template set is not parsed yet")?;
        let out = set.execute(inner, &args[1]).map_err(|e| e.to_string())?;
        Ok(Value::html(out))
    });
    parse(&mut template, name, text)?;
    execute(slot.get_or_init(|| template), name, data)
}

fn run(
    template: &mut Template,
    name: &str,
    text: &str,
    data: &Value,
) -> Result<String, TemplateError> {
    parse(template, name, text)?;
    execute(template, name, data)
}

fn parse(template: &mut Template, name: &str, text: &str) -> Result<(), TemplateError> {
    template
        .parse(text)
        .map(|_| ())
        .map_err(|source| TemplateError::Parse {
            name: name.to_owned(),
            source,
        })
}

fn execute(template: &Template, name: &str, data: &Value) -> Result<String, TemplateError> {
    template
        .execute(name, data)
        .map_err(|source| TemplateError::Exec {
            name: name.to_owned(),
            source,
        })
}

/// Go's builtins and every upstream function that does not depend on the evaluation.
static STATIC_FUNCS: LazyLock<FuncMap> = LazyLock::new(|| {
    let mut map = FuncMap::default();
    register_shared(&mut map);
    register_title(&mut map, TitleRest::Keep);
    humanize::register_static(&mut map);
    links::register_static(&mut map);
    query::register_static(&mut map);
    map
});

/// The full function map for one expansion at `timestamp_ms`.
pub fn function_map(env: &Env, timestamp_ms: i64) -> FuncMap {
    let mut map = STATIC_FUNCS.clone();
    query::register_query(&mut map, env.query.clone(), timestamp_ms);
    humanize::register_now(&mut map, timestamp_ms);
    links::register_external_url(&mut map, &env.external_url);
    map
}

/// Whether templates may call `name`: a Go builtin or one of upstream's functions. Rule
/// files are checked against this when they load.
pub fn is_function(name: &str) -> bool {
    static ALL: LazyLock<FuncMap> = LazyLock::new(|| {
        function_map(
            &Env {
                external_url: String::new(),
                query: None,
            },
            0,
        )
    });
    ALL.contains(name)
}

/// Labels as Go's `map[string]string`: a missing name reads as `""`.
fn labels_value(labels: &Labels) -> Value {
    Value::from(Map::of_strings(labels.iter().map(|l| (l.name, l.value))))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod upstream_tests;
