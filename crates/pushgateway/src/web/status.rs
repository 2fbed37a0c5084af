//! The status page (`/` and `/status`): every group with its metrics and a delete button, then
//! the flags and build information.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Html;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::AppState;
use super::api::go_float;
use crate::store::{Group, PUSH_FAILURE_METRIC, PUSH_TIME_METRIC};

const STYLE: &str = "body{font-family:sans-serif;margin:0}header{background:#e6522c;color:#fff;padding:.6em 1em}\
main{padding:1em}details{border:1px solid #ccc;border-radius:4px;margin:.5em 0;padding:.4em}\
summary{cursor:pointer}.label{background:#eee;border-radius:3px;padding:0 .3em;margin-right:.3em}\
.failed{color:#b00}pre{background:#f7f7f7;padding:.4em;overflow-x:auto}table{border-collapse:collapse}\
td{border:1px solid #ddd;padding:.2em .5em}button{float:right}";

const SCRIPT: &str = "function del(path){if(!confirm('Delete group '+path+'?'))return;\
fetch(path,{method:'DELETE'}).then(r=>{if(r.ok)location.reload();else r.text().then(alert)})}";

pub async fn page(State(s): State<Arc<AppState>>) -> Html<String> {
    s.metrics.request("status", 200, &http::Method::GET);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Pushgateway</title>\
         <style>{STYLE}</style><script>{SCRIPT}</script></head><body>\
         <header><h1>Pushgateway</h1></header><main><h2>Metrics</h2>"
    );
    let groups = s.store.groups();
    if groups.is_empty() {
        out.push_str("<p>No metrics pushed yet.</p>");
    }
    for group in &groups {
        write_group(&mut out, group, &s.external_prefix);
    }
    out.push_str("<h2>Flags</h2><table>");
    for (name, value) in &s.flags {
        let _ = write!(out, "<tr><td>{name}</td><td>{}</td></tr>", escape(value));
    }
    let _ = write!(
        out,
        "</table><h2>Build information</h2><table><tr><td>version</td><td>{}</td></tr>\
         <tr><td>started</td><td>{}</td></tr></table></main></body></html>",
        env!("CARGO_PKG_VERSION"),
        s.start_time
    );
    Html(out)
}

fn write_group(out: &mut String, group: &Group, prefix: &str) {
    out.push_str("<details><summary>");
    for (name, value) in &group.labels {
        let _ = write!(
            out,
            "<span class=\"label\">{}=\"{}\"</span>",
            escape(name),
            escape(value)
        );
    }
    let pushed = group
        .get(PUSH_TIME_METRIC)
        .and_then(|f| f.timestamp)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let class = if group.last_push_successful() {
        ""
    } else {
        " class=\"failed\""
    };
    let _ = write!(
        out,
        "<span{class}>last push: {}</span><button onclick=\"del('{}')\">Delete group</button></summary>",
        escape(&pushed),
        delete_path(group, prefix)
    );
    for stored in group.families() {
        let name = stored.name();
        if name == PUSH_TIME_METRIC || name == PUSH_FAILURE_METRIC {
            continue;
        }
        let _ = write!(
            out,
            "<p><b>{}</b> ({}) {}</p><pre>",
            escape(name),
            escape(
                pm_common::expfmt::dto::MetricType::try_from(stored.metric_type())
                    .map_or("UNKNOWN", |t| t.as_str_name())
            ),
            escape(stored.help())
        );
        for metric in stored.metrics() {
            let labels: Vec<String> = metric
                .label
                .iter()
                .map(|p| format!("{}=\"{}\"", p.name(), p.value()))
                .collect();
            let value = metric
                .gauge
                .as_ref()
                .map(|g| g.value())
                .or_else(|| metric.counter.as_ref().map(|c| c.value()))
                .or_else(|| metric.untyped.as_ref().map(|u| u.value()));
            let value = match value {
                Some(v) => go_float(v),
                None => "(summary or histogram)".to_owned(),
            };
            let _ = writeln!(out, "{{{}}} {}", escape(&labels.join(",")), value);
        }
        out.push_str("</pre>");
    }
    out.push_str("</details>");
}

/// The DELETE URL of a group, every value base64url-encoded so any value survives the path.
fn delete_path(group: &Group, prefix: &str) -> String {
    let mut path = format!("{prefix}/metrics");
    let job = group
        .labels
        .get("job")
        .map(String::as_str)
        .unwrap_or_default();
    let _ = write!(path, "/job@base64/{}", b64(job));
    for (name, value) in &group.labels {
        if name != "job" {
            let _ = write!(path, "/{name}@base64/{}", b64(value));
        }
    }
    path
}

fn b64(value: &str) -> String {
    if value.is_empty() {
        "=".to_owned()
    } else {
        URL_SAFE_NO_PAD.encode(value)
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
