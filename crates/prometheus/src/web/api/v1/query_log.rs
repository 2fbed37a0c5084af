//! `global.query_log_file`: one JSON line per query the API runs, as upstream's 3.x query
//! logger writes them (slog's JSON handler: `time`, `level`, `source`, `msg`, then `params`,
//! `error` when the query failed, `stats` and the `httpRequest` that asked).
//!
//! Every config load reopens the file (appending), so a SIGHUP after a rotation starts a new
//! one, as upstream; an empty setting closes it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use http::request::Parts;
use pm_common::metrics::{Counter, Gauge, MetricsError, Opts, Registry};
use pm_promql::engine::{QueryError, QueryResult, QueryStats};

use super::json::{push_query_timings, push_str};

/// Who asked for a query (upstream's `httpRequest` origin).
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub client_ip: String,
    pub method: String,
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Origin {
            client_ip: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default(),
            method: parts.method.to_string(),
            // Nested routers see the path without their prefix; the log wants the request's.
            path: parts
                .extensions
                .get::<RequestPath>()
                .map_or_else(|| parts.uri.path().to_owned(), |p| p.0.clone()),
        })
    }
}

/// The path a request came with, before nested routers took their prefixes off (what
/// [`remember_path`] saw).
#[derive(Debug, Clone)]
pub struct RequestPath(pub String);

/// Middleware for the outermost router: keeps the full path for the query log.
pub async fn remember_path(mut request: Request) -> Request {
    let path = RequestPath(request.uri().path().to_owned());
    request.extensions_mut().insert(path);
    request
}

/// A query about to run, logged with its outcome once it has.
#[derive(Debug)]
pub struct Pending {
    pub query: String,
    pub start: i64,
    pub end: i64,
    pub step: i64,
    pub origin: Origin,
}

impl Pending {
    pub fn finish(&self, log: &QueryLog, result: &Result<QueryResult, QueryError>) {
        if !log.is_enabled() {
            return;
        }
        let empty = QueryStats::default();
        let error = result.as_ref().err().map(ToString::to_string);
        log.log(&Entry {
            query: &self.query,
            start: self.start,
            end: self.end,
            step: self.step,
            error: error.as_deref(),
            stats: result.as_ref().map_or(&empty, |r| &r.stats),
            origin: &self.origin,
        });
    }
}

/// One executed query.
#[derive(Debug)]
pub struct Entry<'a> {
    pub query: &'a str,
    /// Milliseconds; an instant query starts and ends at its time.
    pub start: i64,
    pub end: i64,
    /// Milliseconds; 0 for instant queries.
    pub step: i64,
    pub error: Option<&'a str>,
    pub stats: &'a QueryStats,
    pub origin: &'a Origin,
}

/// The open query log, if configured, with upstream's two `prometheus_engine_query_log_*`
/// metrics.
pub struct QueryLog {
    file: Mutex<Option<File>>,
    enabled: Gauge,
    failures: Counter,
}

#[derive(Debug, thiserror::Error)]
#[error("can't create json log file: {0}")]
pub struct OpenError(#[from] std::io::Error);

impl QueryLog {
    pub fn new(registry: &Registry) -> Result<Self, MetricsError> {
        let opts = |name: &str, help: &str| Opts::new(format!("prometheus_engine_{name}"), help);
        Ok(QueryLog {
            file: Mutex::new(None),
            enabled: registry.gauge(opts("query_log_enabled", "State of the query log."))?,
            failures: registry.counter(opts(
                "query_log_failures_total",
                "The number of query log failures.",
            ))?,
        })
    }

    /// Opens `path` for appending in place of the current file; `""` turns the log off. On
    /// failure the current file stays open.
    pub fn apply(&self, path: &str) -> Result<(), OpenError> {
        let file = if path.is_empty() {
            None
        } else {
            Some(OpenOptions::new().append(true).create(true).open(path)?)
        };
        self.enabled.set(if file.is_some() { 1.0 } else { 0.0 });
        *self.file.lock().unwrap_or_else(PoisonError::into_inner) = file;
        Ok(())
    }

    /// Whether queries are being logged (spares callers building entries).
    pub fn is_enabled(&self) -> bool {
        self.file
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Appends one line; a failed write counts in `query_log_failures_total`.
    pub fn log(&self, entry: &Entry<'_>) {
        let mut guard = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(file) = guard.as_mut() else {
            return;
        };
        let line = render(entry, jiff::Timestamp::now());
        if let Err(e) = file.write_all(line.as_bytes()) {
            self.failures.inc();
            tracing::error!(err = %e, "can't log query");
        }
    }
}

/// Go's `2006-01-02T15:04:05.000Z07:00` in UTC, as upstream formats dates and slog times.
fn format_date(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            format!(
                "{}.{:03}Z",
                t.strftime("%Y-%m-%dT%H:%M:%S"),
                ms.rem_euclid(1000)
            )
        })
        .unwrap_or_default()
}

fn render(e: &Entry<'_>, now: jiff::Timestamp) -> String {
    let mut out = String::with_capacity(512);
    out.push_str("{\"time\":");
    push_str(&mut out, &format_date(now.as_millisecond()));
    out.push_str(",\"level\":\"INFO\",\"source\":\"engine.go\",\"msg\":\"promql query logged\"");
    // Go's encoder sorts map keys: end, query, start, step.
    out.push_str(",\"params\":{\"end\":");
    push_str(&mut out, &format_date(e.end));
    out.push_str(",\"query\":");
    push_str(&mut out, e.query);
    out.push_str(",\"start\":");
    push_str(&mut out, &format_date(e.start));
    out.push_str(&format!(",\"step\":{}}}", e.step / 1000));
    if let Some(err) = e.error {
        out.push_str(",\"error\":");
        push_str(&mut out, err);
    }
    out.push_str(",\"stats\":{\"timings\":");
    push_query_timings(&mut out, &e.stats.timings);
    out.push_str(&format!(
        ",\"samples\":{{\"totalQueryableSamples\":{},\"samplesRead\":{},\"peakSamples\":{}}}}}",
        e.stats.total_queryable_samples, e.stats.samples_read, e.stats.peak_samples,
    ));
    out.push_str(",\"httpRequest\":{\"clientIP\":");
    push_str(&mut out, &e.origin.client_ip);
    out.push_str(",\"method\":");
    push_str(&mut out, &e.origin.method);
    out.push_str(",\"path\":");
    push_str(&mut out, &e.origin.path);
    out.push_str("}}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_upstreams_line() {
        let stats = QueryStats {
            total_queryable_samples: 10,
            samples_read: 4,
            peak_samples: 3,
            ..QueryStats::default()
        };
        let origin = Origin {
            client_ip: "127.0.0.1".into(),
            method: "GET".into(),
            path: "/api/v1/query_range".into(),
        };
        let entry = Entry {
            query: "up == \"0\"",
            start: 1_581_170_390_368,
            end: 1_581_173_990_368,
            step: 5_000,
            error: Some("query timed out"),
            stats: &stats,
            origin: &origin,
        };
        let now = jiff::Timestamp::from_millisecond(1_581_173_990_387).unwrap();
        assert_eq!(
            render(&entry, now),
            concat!(
                r#"{"time":"2020-02-08T14:59:50.387Z","level":"INFO","source":"engine.go","msg":"promql query logged","#,
                r#""params":{"end":"2020-02-08T14:59:50.368Z","query":"up == \"0\"","start":"2020-02-08T13:59:50.368Z","step":5},"#,
                r#""error":"query timed out","#,
                r#""stats":{"timings":{"evalTotalTime":0,"resultSortTime":0,"queryPreparationTime":0,"innerEvalTime":0,"execQueueTime":0,"execTotalTime":0},"samples":{"totalQueryableSamples":10,"samplesRead":4,"peakSamples":3}},"#,
                r#""httpRequest":{"clientIP":"127.0.0.1","method":"GET","path":"/api/v1/query_range"}}"#,
                "\n"
            )
        );
    }

    #[test]
    fn reopens_and_turns_off() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::new();
        let log = QueryLog::new(&registry).unwrap();
        assert!(!log.is_enabled());
        let path = dir.path().join("q.log");
        log.apply(path.to_str().unwrap()).unwrap();
        assert!(log.is_enabled());
        let stats = QueryStats::default();
        let origin = Origin::default();
        let entry = Entry {
            query: "1",
            start: 0,
            end: 0,
            step: 0,
            error: None,
            stats: &stats,
            origin: &origin,
        };
        log.log(&entry);
        // A rotated file: the reload opens a new one at the same path.
        std::fs::rename(&path, dir.path().join("q.log.1")).unwrap();
        log.apply(path.to_str().unwrap()).unwrap();
        log.log(&entry);
        log.log(&entry);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
        log.apply("").unwrap();
        log.log(&entry);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
        assert_eq!(log.enabled.get(), 0.0);
        assert!(log.apply("/nonexistent/dir/q.log").is_err());
        assert!(!log.is_enabled());
    }
}
