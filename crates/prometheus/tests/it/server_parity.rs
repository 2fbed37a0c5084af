//! Our server and Debian's upstream Prometheus on copies of the same blocks (written by
//! upstream's `promtool tsdb create-blocks-from openmetrics`), asked the same things: through
//! upstream's promtool as the client, and as raw API JSON.

use crate::server_support;

use server_support::{OURS, PROMTOOL, UPSTREAM, copy_dir, promtool, start};

/// Two hours of data at 1700000000 (2023-11-14T22:13:20Z) and on: counters, a gauge, label
/// values that need escaping, a series that ends early (stale in the last queries).
fn openmetrics() -> String {
    let mut out = String::new();
    out.push_str("# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n");
    for (code, job, rate) in [("200", "api", 5), ("500", "api", 1), ("200", "db", 3)] {
        for i in 0..120 {
            out.push_str(&format!(
                "http_requests_total{{code=\"{code}\",job=\"{job}\"}} {} {}\n",
                i * rate * 60,
                1_700_000_000 + i * 60
            ));
        }
    }
    out.push_str("# TYPE temperature gauge\n");
    for i in 0..60 {
        out.push_str(&format!(
            "temperature{{room=\"a<b>&\\\"c\\\"\"}} {} {}\n",
            20.0 + (i as f64) / 8.0,
            1_700_000_000 + i * 60
        ));
    }
    out.push_str("# EOF\n");
    out
}

#[tokio::test]
async fn promtool_and_api_answer_as_upstream() {
    if !pm_testsupport::upstream_binary(UPSTREAM) || !pm_testsupport::upstream_binary(PROMTOOL) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let om = dir.path().join("data.om");
    std::fs::write(&om, openmetrics()).unwrap();
    let ours_data = dir.path().join("ours");
    let out = std::process::Command::new(PROMTOOL)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&ours_data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let up_data = dir.path().join("upstream");
    copy_dir(&ours_data, &up_data);

    let config = "global:\n  scrape_interval: 15s\n  external_labels:\n    dc: eu\n";
    let ours = start(OURS, dir.path(), &ours_data, config, &[]).await;
    let upstream = start(UPSTREAM, dir.path(), &up_data, config, &[]).await;

    let commands: &[&[&str]] = &[
        &[
            "query",
            "instant",
            "--time=1700003000",
            "SERVER",
            "sum by (job) (rate(http_requests_total[5m]))",
        ],
        &[
            "query",
            "instant",
            "--time=1700003000",
            "SERVER",
            "http_requests_total",
        ],
        &[
            "query",
            "instant",
            "--time=1700003000",
            "SERVER",
            "topk(1, temperature)",
        ],
        &[
            "query",
            "instant",
            "--time=1700003000",
            "SERVER",
            "scalar(sum(http_requests_total))",
        ],
        &[
            "query",
            "instant",
            "--time=1700003000",
            "SERVER",
            "nonexistent_metric",
        ],
        &[
            "query",
            "instant",
            "--time=1700003000",
            "SERVER",
            "rate(http_requests_total",
        ],
        &[
            "query",
            "range",
            "--start=1700000000",
            "--end=1700003600",
            "--step=5m",
            "SERVER",
            "sum(rate(http_requests_total[5m])) by (code)",
        ],
        &[
            "query",
            "range",
            "--start=1700000000",
            "--end=1700007200",
            "--step=10m",
            "SERVER",
            "temperature",
        ],
        &["query", "series", "--match=http_requests_total", "SERVER"],
        &[
            "query",
            "series",
            "--match={job=\"db\"}",
            "--match=temperature",
            "--start=1700000000",
            "--end=1700007200",
            "SERVER",
        ],
        &["query", "labels", "SERVER", "job"],
        &["query", "labels", "--match=temperature", "SERVER", "room"],
        &["query", "labels", "SERVER", "__name__"],
    ];
    for args in commands {
        let run = |base: &str| {
            let args: Vec<&str> = args
                .iter()
                .map(|a| if *a == "SERVER" { base } else { a })
                .collect();
            promtool(&args)
        };
        let (want, got) = (run(&upstream.base), run(&ours.base));
        assert_eq!(got, want, "promtool {args:?}");
    }

    // Raw JSON, byte for byte. Requests whose answers changed between upstream 2.x (Debian's)
    // and 3.x (what we follow) are covered by the in-process tests instead.
    let requests = [
        "/api/v1/query?query=http_requests_total%7Bjob%3D%22api%22%7D&time=1700003000.123",
        "/api/v1/query?query=sum(http_requests_total)%20by%20(job)&time=2023-11-14T23:00:00Z",
        "/api/v1/query?query=1%2F0&time=1700003000",
        "/api/v1/query?query=-1%2F0&time=1700003000",
        "/api/v1/query?query=0%2F0&time=1700003000",
        "/api/v1/query?query=%22text%22&time=1700003000.5",
        "/api/v1/query?query=temperature%5B150s%5D&time=1700003000",
        "/api/v1/query?query=sum(&time=1700003000",
        "/api/v1/query_range?query=temperature&start=1700000000&end=1700000600&step=100",
        "/api/v1/query_range?query=temperature&start=1700000000&end=1700000600&step=1m40s",
        "/api/v1/query_range?query=temperature&start=1700000600&end=1700000000&step=100",
        "/api/v1/query_range?query=temperature&start=1700000000&end=1800000000&step=1",
        "/api/v1/query_range?query=temperature&start=1700000000&end=1700000600&step=-1",
        "/api/v1/series?match[]=temperature&start=1700000000&end=1700007200",
        "/api/v1/series?match[]=%7B__name__%3D~%22.%2B%22%7D",
        "/api/v1/series",
        "/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D",
        "/api/v1/labels",
        "/api/v1/labels?match[]=temperature",
        "/api/v1/label/job/values",
        "/api/v1/label/code/values?match[]=http_requests_total%7Bjob%3D%22db%22%7D",
        "/api/v1/label/nonexistent/values",
        "/api/v1/status/flags",
    ];
    for path in requests {
        let (want_code, want) = upstream.get(path).await;
        let (got_code, got) = ours.get(path).await;
        if path.ends_with("/status/flags") {
            // Upstream has flags we leave out; ours must give upstream's value for each we have.
            let want: serde_json::Value = serde_json::from_str(&want).unwrap();
            let got: serde_json::Value = serde_json::from_str(&got).unwrap();
            for name in [
                "query.lookback-delta",
                "query.max-concurrency",
                "query.max-samples",
                "query.timeout",
                "storage.tsdb.path",
                "web.enable-lifecycle",
                "web.cors.origin",
            ] {
                let (w, g) = (&want["data"][name], &got["data"][name]);
                assert!(!g.is_null(), "flag {name} missing");
                if name != "storage.tsdb.path" {
                    assert_eq!(g, w, "flag {name}");
                }
            }
            continue;
        }
        assert_eq!((got_code, &got), (want_code, &want), "GET {path}");
    }
    let (code, body) = ours
        .post(
            "/api/v1/query",
            Some("query=sum(http_requests_total)&time=1700003000"),
        )
        .await;
    assert_eq!(
        (code, body),
        upstream
            .post(
                "/api/v1/query",
                Some("query=sum(http_requests_total)&time=1700003000")
            )
            .await
    );
}
