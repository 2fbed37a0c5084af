//! Go templates as the server expands them in alert labels and annotations: the data model
//! (`$labels`, `$value`, `$externalLabels`, `$externalURL`) and the function set.

use std::sync::Arc;

use pm_common::model::Labels;
use pm_gotmpl::{Template, Value};

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

/// Why a template did not expand; the rule manager shows it in the label or annotation.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{0}")]
    Parse(#[from] pm_gotmpl::ParseError),
    #[error("{0}")]
    Exec(#[from] pm_gotmpl::ExecError),
}

/// Declares the variables rule templates use, as upstream prepends them.
const ALERT_DEFS: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

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

/// Expands `text` as a template named `name` over `data`.
pub fn expand(
    name: &str,
    text: &str,
    data: &Value,
    _timestamp_ms: i64,
    _env: &Env,
) -> Result<String, TemplateError> {
    let mut template = Template::new(name);
    template.parse(text)?;
    Ok(template.execute(name, data)?)
}

fn labels_value(labels: &Labels) -> Value {
    Value::map(
        labels
            .iter()
            .map(|l| (l.name.to_owned(), Value::string(l.value))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env {
            external_url: "http://prom.example:9090".into(),
            query: None,
        }
    }

    #[test]
    fn alert_variables_expand() {
        let labels = Labels::from_pairs([("instance", "a:1"), ("job", "j")]);
        let external = Labels::from_pairs([("dc", "eu")]);
        let data = AlertData {
            labels: &labels,
            external_labels: &external,
            external_url: "http://prom.example:9090",
            value: 0.5,
        };
        let out = expand_alert(
            "HighLoad",
            "{{ $labels.instance }} in {{ $externalLabels.dc }} is {{ $value }} ({{ $externalURL }})",
            &data,
            0,
            &env(),
        );
        assert_eq!(out, "a:1 in eu is 0.5 (http://prom.example:9090)");
    }

    #[test]
    fn errors_show_in_place() {
        let labels = Labels::default();
        let data = AlertData {
            labels: &labels,
            external_labels: &labels,
            external_url: "",
            value: 0.0,
        };
        let out = expand_alert("X", "{{ .Missing.Field.x", &data, 0, &env());
        assert!(out.starts_with("<error expanding template: "), "{out}");
    }
}
