//! `promtool push metrics` against our server's remote-write receiver: the pushed series,
//! labels and expanded histograms and summaries are queryable afterwards.

use crate::server_support;

use std::process::Command;

use server_support::{OURS, start};

const PROMTOOL: &str = env!("CARGO_BIN_EXE_promtool");

fn push(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(PROMTOOL).args(args).output().unwrap();
    (
        out.status.code().expect("exited by signal"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The `/api/v1/query` result of `expr` as `labels value` lines, sorted.
async fn query(server: &server_support::Server, expr: &str) -> Vec<String> {
    let q: String = url::form_urlencoded::byte_serialize(expr.as_bytes()).collect();
    let (code, body) = server.get(&format!("/api/v1/query?query={q}")).await;
    assert_eq!(code, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut lines: Vec<String> = json["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{} {}", s["metric"], s["value"][1].as_str().unwrap()))
        .collect();
    lines.sort();
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_metrics_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        OURS,
        dir.path(),
        &dir.path().join("data"),
        "global: {}\n",
        &["--web.enable-remote-write-receiver"],
    )
    .await;
    let file = dir.path().join("metrics.prom");
    std::fs::write(
        &file,
        "# TYPE reqs counter\nreqs_total{job=\"app\",code=\"200\"} 3\n# TYPE lat histogram\nlat_bucket{le=\"0.5\"} 1\nlat_bucket{le=\"1\"} 2\nlat_sum 1.2\nlat_count 2\n# TYPE q summary\nq{quantile=\"0.9\"} 7\nq_sum 9\nq_count 3\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let (code, stdout, stderr) = push(&["push", "metrics", &server.base, file]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        format!(
            "Parsing metrics file {file}\n  SUCCESS: metrics file {file} pushed to remote write.\n"
        )
    );
    assert_eq!(
        query(&server, "reqs_total").await,
        [r#"{"__name__":"reqs_total","code":"200","exported_job":"app","job":"promtool"} 3"#]
    );
    assert_eq!(
        query(&server, "lat_bucket").await,
        [
            r#"{"__name__":"lat_bucket","job":"promtool","le":"+Inf"} 2"#,
            r#"{"__name__":"lat_bucket","job":"promtool","le":"0.5"} 1"#,
            r#"{"__name__":"lat_bucket","job":"promtool","le":"1"} 2"#,
        ]
    );
    assert_eq!(
        query(&server, "{__name__=~\"q.*\"}").await,
        [
            r#"{"__name__":"q","job":"promtool","quantile":"0.9"} 7"#,
            r#"{"__name__":"q_count","job":"promtool"} 3"#,
            r#"{"__name__":"q_sum","job":"promtool"} 9"#,
        ]
    );

    // Remote write 2.0, custom labels replacing the default one.
    let (code, _, stderr) = push(&[
        "push",
        "metrics",
        "--protobuf_message=io.prometheus.write.v2.Request",
        "--label=env=test",
        &server.base,
        file,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        query(&server, "lat_count").await,
        [
            r#"{"__name__":"lat_count","env":"test"} 2"#,
            r#"{"__name__":"lat_count","job":"promtool"} 2"#,
        ]
    );

    // A wrong path is refused by the server; unparsable input fails before sending.
    let (code, _, stderr) = push(&[
        "push",
        "metrics",
        "--remote-write.path=/nope",
        &server.base,
        file,
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("  FAILED: server returned HTTP status 404"),
        "{stderr}"
    );
    let bad = dir.path().join("bad.prom");
    std::fs::write(&bad, "not a metric line at all {\n").unwrap();
    let (code, stdout, stderr) = push(&["push", "metrics", &server.base, bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stdout.starts_with("Parsing metrics file "), "{stdout}");
    assert!(stderr.starts_with("  FAILED: "), "{stderr}");
    let (code, _, stderr) = push(&[
        "push",
        "metrics",
        "--protobuf_message=x",
        &server.base,
        file,
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "  FAILED: invalid protobuf message \"x\", must be prometheus.WriteRequest or io.prometheus.write.v2.Request\n"
    );
}

/// Our push against Debian's upstream server (2.42, remote write 1.0 only): the same series
/// must be stored as by our receiver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_prometheus_accepts_our_push() {
    if !std::path::Path::new(server_support::UPSTREAM).exists() {
        assert!(
            std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
            "{} is missing and PM_REQUIRE_UPSTREAM is set",
            server_support::UPSTREAM
        );
        eprintln!("SKIP: {} is not installed", server_support::UPSTREAM);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        server_support::UPSTREAM,
        dir.path(),
        &dir.path().join("data"),
        "global: {}\n",
        &["--web.enable-remote-write-receiver"],
    )
    .await;
    let file = dir.path().join("metrics.prom");
    std::fs::write(
        &file,
        "# TYPE reqs counter\nreqs_total{job=\"app\",code=\"200\"} 3\n# TYPE lat histogram\nlat_bucket{le=\"0.5\"} 1\nlat_bucket{le=\"1\"} 2\nlat_sum 1.2\nlat_count 2\n",
    )
    .unwrap();
    let (code, _, stderr) = push(&["push", "metrics", &server.base, file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        query(&server, "reqs_total").await,
        [r#"{"__name__":"reqs_total","code":"200","exported_job":"app","job":"promtool"} 3"#]
    );
    assert_eq!(
        query(&server, "lat_bucket").await,
        [
            r#"{"__name__":"lat_bucket","job":"promtool","le":"+Inf"} 2"#,
            r#"{"__name__":"lat_bucket","job":"promtool","le":"0.5"} 1"#,
            r#"{"__name__":"lat_bucket","job":"promtool","le":"1"} 2"#,
        ]
    );
}
