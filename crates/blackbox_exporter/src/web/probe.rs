//! `/probe`: run one probe and answer with its metrics (or, with `debug=true`, its log,
//! metrics and module as text).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pm_common::metrics::render;
use pm_common::web::exposition;

use super::state::AppState;
use crate::config::Module;
use crate::prober::{self, Probe, ProbeLog, ProbeMetrics};

/// Prometheus's default scrape timeout stands in when the header is absent.
const DEFAULT_TIMEOUT_SECONDS: f64 = 120.0;

/// Go's `http.Error`: plain text, newline-terminated.
pub fn go_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        format!("{message}\n"),
    )
        .into_response()
}

pub async fn handler(
    State(app): State<Arc<AppState>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let config = app.config();
    let module_name = params.get("module").map_or("http_2xx", String::as_str);
    let Some(module) = config.modules.get(module_name) else {
        app.module_unknown.inc();
        tracing::debug!(module = module_name, "Unknown module");
        return go_error(
            StatusCode::BAD_REQUEST,
            &format!("Unknown module {module_name:?}"),
        );
    };
    let timeout = match timeout_seconds(&headers, module, app.settings.timeout_offset) {
        Ok(t) => t,
        Err(err) => {
            return go_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("Failed to parse timeout from Prometheus header: {err}"),
            );
        }
    };
    let target = match params.get("target") {
        Some(t) if !t.is_empty() => query_unescape(t),
        _ => return go_error(StatusCode::BAD_REQUEST, "Target parameter is missing"),
    };
    if !prober::IMPLEMENTED.contains(&module.prober.as_str()) {
        return go_error(
            StatusCode::BAD_REQUEST,
            &format!("Unknown prober {:?}", module.prober),
        );
    }
    let mut module = module.clone();
    if let Some(hostname) = params.get("hostname").filter(|h| !h.is_empty()) {
        if module.prober == "http"
            && let Err(err) = set_http_host(hostname, &mut module)
        {
            return go_error(StatusCode::BAD_REQUEST, &err);
        }
        if module.prober == "tcp" && module.tcp.tls_config.server_name.is_empty() {
            module.tcp.tls_config.server_name = hostname.clone();
        }
    }
    let metrics = ProbeMetrics::new();
    let log = ProbeLog::new(module_name, &target, Some(app.settings.prober_log_level));
    log.debug(
        "Beginning probe",
        &[("probe", &module.prober), ("timeout_seconds", &timeout)],
    );
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(timeout.max(0.0));
    let probe = Probe {
        target: &target,
        module: &module,
        metrics: &metrics,
        log: &log,
        deadline,
    };
    let success = prober::run(&probe).await;
    let duration = start.elapsed().as_secs_f64();
    metrics.set(
        "probe_success",
        "Displays whether or not the probe was a success",
        if success { 1.0 } else { 0.0 },
    );
    metrics.set(
        "probe_duration_seconds",
        "Returns how long the probe took to complete in seconds",
        duration,
    );
    metrics.set(
        "probe_timeout_seconds",
        "Returns how long the probe timeout is in seconds",
        timeout,
    );
    if success {
        log.debug("Probe succeeded", &[("duration_seconds", &duration)]);
    } else {
        log.error("Probe failed", &[("duration_seconds", &duration)]);
    }
    let families = metrics.gather();
    let debug_output = debug_output(&log, &families, &module);
    let debug = params.get("debug").is_some_and(|d| d == "true");
    let response = if debug {
        ([(header::CONTENT_TYPE, "text/plain")], debug_output.clone()).into_response()
    } else {
        exposition(&families, &headers)
    };
    app.history.add(module_name, &target, debug_output, success);
    response
}

/// Upstream unescapes the already-decoded `target` once more (`url.QueryUnescape`), so a
/// doubly-encoded target from relabeling arrives decoded; an invalid escape keeps it as is.
fn query_unescape(target: &str) -> String {
    let bytes = target.as_bytes();
    let valid = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || (bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if !valid {
        return target.to_owned();
    }
    let plus_as_space = target.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map_or_else(|_| target.to_owned(), |s| s.into_owned())
}

/// The scrape timeout minus the offset, capped by the module's timeout when that is shorter.
fn timeout_seconds(headers: &HeaderMap, module: &Module, offset: f64) -> Result<f64, String> {
    let mut timeout = 0.0;
    if let Some(value) = headers.get("X-Prometheus-Scrape-Timeout-Seconds") {
        let text = value.to_str().map_err(|e| e.to_string())?;
        if !text.is_empty() {
            timeout = text
                .parse::<f64>()
                .map_err(|_| format!("strconv.ParseFloat: parsing {text:?}: invalid syntax"))?;
        }
    }
    if timeout == 0.0 {
        timeout = DEFAULT_TIMEOUT_SECONDS;
    }
    let max = timeout - offset;
    let module_timeout = module.timeout.as_secs_f64();
    if (module_timeout < max && module_timeout > 0.0) || max < 0.0 {
        Ok(module_timeout)
    } else {
        Ok(max)
    }
}

/// `hostname=` sets the `Host` header, unless the module already sets a different one.
fn set_http_host(hostname: &str, module: &mut Module) -> Result<(), String> {
    let headers = &mut module.http.probe.headers;
    if let Some((_, value)) = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("host"))
        && value != hostname
    {
        return Err(format!(
            "host header defined both in module configuration ({value}) and with URL-parameter 'hostname' ({hostname})"
        ));
    }
    headers.retain(|k, _| !k.eq_ignore_ascii_case("host"));
    headers.insert("Host".to_owned(), hostname.to_owned());
    Ok(())
}

fn debug_output(
    log: &ProbeLog,
    families: &[pm_common::expfmt::dto::MetricFamily],
    module: &Module,
) -> String {
    let (_, metrics) = render(families, None);
    let module_yaml = serde_norway::to_string(module)
        .unwrap_or_else(|err| format!("Error marshalling config: {err}\n"));
    format!(
        "Logs for the probe:\n{}\n\n\nMetrics that would have been returned:\n{}\n\n\nModule configuration:\n{}",
        log.text(),
        String::from_utf8_lossy(&metrics),
        module_yaml
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(timeout: u64) -> Module {
        Module {
            timeout: Duration::from_secs(timeout),
            ..Module::default()
        }
    }

    #[test]
    fn timeout_from_header_offset_and_module() {
        let mut headers = HeaderMap::new();
        assert_eq!(timeout_seconds(&headers, &module(0), 0.5).unwrap(), 119.5);
        assert_eq!(timeout_seconds(&headers, &module(5), 0.5).unwrap(), 5.0);
        headers.insert("X-Prometheus-Scrape-Timeout-Seconds", "3".parse().unwrap());
        assert_eq!(timeout_seconds(&headers, &module(5), 0.5).unwrap(), 2.5);
        assert_eq!(timeout_seconds(&headers, &module(0), 0.5).unwrap(), 2.5);
        headers.insert(
            "X-Prometheus-Scrape-Timeout-Seconds",
            "0.2".parse().unwrap(),
        );
        assert_eq!(
            timeout_seconds(&headers, &module(5), 0.5).unwrap(),
            5.0,
            "negative budget: module timeout"
        );
        headers.insert("X-Prometheus-Scrape-Timeout-Seconds", "x".parse().unwrap());
        assert!(timeout_seconds(&headers, &module(5), 0.5).is_err());
    }

    #[test]
    fn target_is_unescaped_once_more() {
        assert_eq!(query_unescape("http%3A%2F%2Fa%3Fb%3Dc"), "http://a?b=c");
        assert_eq!(query_unescape("a+b"), "a b");
        assert_eq!(query_unescape("100%zz"), "100%zz");
        assert_eq!(query_unescape("plain:80"), "plain:80");
    }

    #[test]
    fn hostname_parameter_and_host_header() {
        let mut m = module(1);
        set_http_host("a.example", &mut m).unwrap();
        assert_eq!(m.http.probe.headers["Host"], "a.example");
        assert!(set_http_host("b.example", &mut m).is_err());
    }
}
