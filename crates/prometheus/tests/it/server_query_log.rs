//! `global.query_log_file` and the engine's metrics on the running binary: a real query is
//! logged as one JSON line with upstream's fields, a reload without the setting turns the
//! log off, and the `prometheus_engine_*` families are upstream's, each registered once.

use crate::server_support;

use serde_json::Value;
use server_support::{OURS, UPSTREAM, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_are_logged_until_the_setting_goes() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("queries.log");
    let config = format!("global:\n  query_log_file: {}\n", log.display());
    let server = start(
        OURS,
        dir.path(),
        &dir.path().join("data"),
        &config,
        &["--web.enable-lifecycle"],
    )
    .await;
    let (_, metrics) = server.get("/metrics").await;
    assert!(
        metrics.contains("prometheus_engine_query_log_enabled 1\n"),
        "{metrics}"
    );

    let (code, body) = server
        .post(
            "/api/v1/query_range",
            Some("query=vector(1)&start=1700000000&end=1700000060&step=15"),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let entry: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(entry["msg"], "promql query logged");
    assert_eq!(entry["level"], "INFO");
    assert_eq!(
        entry["params"],
        serde_json::json!({
            "query": "vector(1)",
            "start": "2023-11-14T22:13:20.000Z",
            "end": "2023-11-14T22:14:20.000Z",
            "step": 15,
        })
    );
    assert_eq!(
        entry["httpRequest"],
        serde_json::json!({"clientIP": "127.0.0.1", "method": "POST", "path": "/api/v1/query_range"})
    );
    assert!(
        entry["stats"]["timings"]["evalTotalTime"].is_number(),
        "{entry}"
    );
    assert!(
        entry["stats"]["samples"]["peakSamples"].is_number(),
        "{entry}"
    );
    assert!(entry.get("error").is_none(), "{entry}");

    // A failing evaluation is logged with its error; an unparsable query is not logged.
    let (code, _) = server.get("/api/v1/query?query=1%2B").await;
    assert_eq!(code, 400);
    let (code, body) = server
        .get("/api/v1/query?query=label_replace(vector(1),%22a%22,%22b%22,%22c%22,%22(%22)")
        .await;
    assert_eq!(code, 422, "{body}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert!(
        last["error"]
            .as_str()
            .is_some_and(|e| e.contains("label_replace")),
        "{last}"
    );
    assert_eq!(last["params"]["step"], 0, "{last}");

    std::fs::write(&server.config, "global: {}\n").unwrap();
    let (code, body) = server.post("/-/reload", None).await;
    assert_eq!(code, 200, "{body}");
    let (_, metrics) = server.get("/metrics").await;
    assert!(
        metrics.contains("prometheus_engine_query_log_enabled 0\n"),
        "{metrics}"
    );
    server.get("/api/v1/query?query=1").await;
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);
}

/// The `# HELP`/`# TYPE` lines and the `slice` label values of the `prometheus_engine_*`
/// families in an exposition.
fn engine_families(metrics: &str) -> Vec<String> {
    let mut out: Vec<String> = metrics
        .lines()
        .filter(|l| {
            l.starts_with("# HELP prometheus_engine_") || l.starts_with("# TYPE prometheus_engine_")
        })
        .map(str::to_owned)
        .collect();
    let mut slices: Vec<String> = metrics
        .lines()
        .filter(|l| l.starts_with("prometheus_engine_query_duration_seconds_count{"))
        .map(|l| l.split_once(' ').unwrap().0.to_owned())
        .collect();
    slices.sort();
    out.extend(slices);
    out
}

/// Each `prometheus_engine_*` family upstream exposes is there once, with its help, type and
/// `slice` series, and counts a query (3.x adds families 2.42 lacks: those are allowed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_metrics_as_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let ours = start(OURS, dir.path(), &dir.path().join("ours"), "{}\n", &[]).await;
    let (code, _) = ours.get("/api/v1/query?query=vector(1)").await;
    assert_eq!(code, 200);
    let (_, metrics) = ours.get("/metrics").await;
    let families = engine_families(&metrics);
    for line in &families {
        assert_eq!(
            families.iter().filter(|l| *l == line).count(),
            1,
            "{line} twice in\n{metrics}"
        );
    }
    for expected in [
        "# TYPE prometheus_engine_queries gauge",
        "# TYPE prometheus_engine_queries_concurrent_max gauge",
        "# TYPE prometheus_engine_query_duration_seconds summary",
        "# TYPE prometheus_engine_query_log_enabled gauge",
        "# TYPE prometheus_engine_query_log_failures_total counter",
        "# TYPE prometheus_engine_query_samples_total counter",
    ] {
        assert!(
            families.iter().any(|l| l == expected),
            "{expected} missing:\n{metrics}"
        );
    }
    assert!(
        metrics.contains("prometheus_engine_queries_concurrent_max 20\n"),
        "{metrics}"
    );
    assert!(
        metrics
            .contains("prometheus_engine_query_duration_seconds_count{slice=\"inner_eval\"} 1\n"),
        "{metrics}"
    );

    if !pm_testsupport::upstream_binary(UPSTREAM) {
        return;
    }
    let upstream = start(UPSTREAM, dir.path(), &dir.path().join("up"), "{}\n", &[]).await;
    upstream.get("/api/v1/query?query=vector(1)").await;
    let (_, theirs) = upstream.get("/metrics").await;
    for line in engine_families(&theirs) {
        assert!(
            families.contains(&line),
            "upstream's {line} missing:\n{metrics}"
        );
    }
}
