use axum::body::Body;
use clap::Parser as _;
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use crate::Flags;

/// URI, headers, body, expected start of the 400 response.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);

struct App(axum::Router);

impl App {
    fn new(args: &[&str]) -> Self {
        let flags = Flags::parse_from(std::iter::once("pushgateway").chain(args.iter().copied()));
        Self(crate::build(&flags).1)
    }

    async fn call(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> (StatusCode, String) {
        let (status, bytes) = self.call_raw(method, uri, headers, body).await;
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn call_raw(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> (StatusCode, Vec<u8>) {
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .0
            .clone()
            .oneshot(req.body(body.into()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, bytes.to_vec())
    }

    /// The pushed part of `/metrics`, push times zeroed.
    async fn pushed(&self) -> String {
        let (_, body) = self.call("GET", "/metrics", &[], Body::empty()).await;
        body.lines()
            .filter(|l| !l.contains("pushgateway_") && !l.contains("process_"))
            .map(|l| match l.find("_time_seconds{") {
                Some(_) if !l.starts_with('#') => format!("{} T", &l[..l.rfind(' ').unwrap()]),
                _ => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[tokio::test]
async fn bad_inputs_are_refused_and_change_nothing() {
    let app = App::new(&[]);
    let (code, _) = app
        .call(
            "PUT",
            "/metrics/job/j/instance/i",
            &[],
            "# TYPE m counter\nm 1\n",
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let before = app.pushed().await;

    let cases: &[Case] = &[
        (
            "/metrics/job/j",
            &[],
            "m{ 1\n",
            "text format parsing error in line 1: ",
        ),
        (
            "/metrics/job/j",
            &[],
            "e 1",
            "text format parsing error in line 1: unexpected end of input stream",
        ),
        (
            "/metrics/job/k",
            &[],
            "m 1\n",
            "pushed metrics are invalid or inconsistent with existing metrics: collected metric \"m\" {",
        ),
        (
            "/metrics/job/k",
            &[],
            "t 1 10\n",
            "pushed metrics are invalid or inconsistent with existing metrics: pushed metrics must not have timestamps",
        ),
        (
            "/metrics/job/k/a@base64/!!",
            &[],
            "x 1\n",
            "invalid base64 encoding for label a=\"!!\": illegal base64 data at input byte 0",
        ),
        (
            "/metrics/job@base64/!!",
            &[],
            "x 1\n",
            "invalid base64 encoding in job name \"\": illegal base64 data at input byte 0",
        ),
        (
            "/metrics/job/k/a-b/c",
            &[],
            "x 1\n",
            "improper label name \"a-b\"",
        ),
        (
            "/metrics/job/k/__x/c",
            &[],
            "x 1\n",
            "improper label name \"__x\"",
        ),
        (
            "/metrics/job/k/a",
            &[],
            "x 1\n",
            "odd number of components in label string \"/a\"",
        ),
        (
            "/metrics/job/k",
            &[(
                "content-type",
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
            )],
            "garbage",
            "",
        ),
        (
            "/metrics/job/k",
            &[("content-encoding", "gzip")],
            "not gzip",
            "",
        ),
    ];
    for (uri, headers, body, message) in cases {
        let (code, text) = app.call("PUT", uri, headers, *body).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{uri} {body:?}: {text}");
        assert!(text.starts_with(message), "{uri} {body:?}: {text}");
        assert!(text.ends_with('\n'));
    }
    // Only failure times were added (for the groups the refused pushes named).
    let after = app.pushed().await;
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("_time_seconds"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&after), strip(&before));
    assert!(
        after.contains("push_failure_time_seconds{instance=\"\",job=\"k\"} T"),
        "{after}"
    );
}

#[tokio::test]
async fn content_types_and_encodings() {
    let app = App::new(&[]);
    // Any content type other than delimited protobuf is read as text, as upstream.
    let (code, _) = app
        .call(
            "PUT",
            "/metrics/job/a",
            &[("content-type", "application/json")],
            "a 1\n",
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let family = pm_common::expfmt::dto::MetricFamily {
        name: Some("p".into()),
        r#type: Some(pm_common::expfmt::dto::MetricType::Gauge as i32),
        metric: vec![pm_common::expfmt::dto::Metric {
            gauge: Some(pm_common::expfmt::dto::Gauge { value: Some(2.5) }),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut body = Vec::new();
    pm_common::expfmt::proto::encode_delimited(&family, &mut body);
    let ct = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";
    let (code, text) = app
        .call("PUT", "/metrics/job/b", &[("content-type", ct)], body)
        .await;
    assert_eq!(code, StatusCode::OK, "{text}");
    let pushed = app.pushed().await;
    assert!(
        pushed.contains("a{instance=\"\",job=\"a\"} 1\n"),
        "{pushed}"
    );
    assert!(
        pushed.contains("# TYPE p gauge\np{instance=\"\",job=\"b\"} 2.5\n"),
        "{pushed}"
    );

    // Protobuf scrape.
    let (code, body) = app
        .call_raw("GET", "/metrics", &[("accept", ct)], Body::empty())
        .await;
    assert_eq!(code, StatusCode::OK);
    let families = pm_common::expfmt::proto::decode_delimited(&body);
    assert!(families.is_ok_and(|f| f.iter().any(|f| f.name() == "p")));
}

#[tokio::test]
async fn delete_wipe_and_admin_api() {
    let app = App::new(&[]);
    app.call("PUT", "/metrics/job/a/x@base64/=", &[], "a 1\n")
        .await;
    app.call("PUT", "/metrics/job/b", &[], "a 2\n").await;
    let (code, _) = app
        .call("PUT", "/api/v1/admin/wipe", &[], Body::empty())
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "admin API is off by default");
    let (code, _) = app
        .call("DELETE", "/metrics/job/a/x", &[], Body::empty())
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let (code, _) = app
        .call("DELETE", "/metrics/job/a/x@base64/", &[], Body::empty())
        .await;
    assert_eq!(code, StatusCode::ACCEPTED);
    let pushed = app.pushed().await;
    assert!(!pushed.contains("job=\"a\""), "{pushed}");
    assert!(pushed.contains("job=\"b\""), "{pushed}");

    let app = App::new(&["--web.enable-admin-api"]);
    app.call("PUT", "/metrics/job/b", &[], "a 2\n").await;
    let (code, _) = app
        .call("PUT", "/api/v1/admin/wipe", &[], Body::empty())
        .await;
    assert_eq!(code, StatusCode::ACCEPTED);
    assert_eq!(app.pushed().await, "");
}

#[tokio::test]
async fn json_api_status_page_and_lifecycle() {
    let app = App::new(&["--web.route-prefix=/pg"]);
    let (code, _) = app
        .call(
            "PUT",
            "/pg/metrics/job/j",
            &[],
            "# HELP s help\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 3\ns_count 2\n",
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let (code, body) = app
        .call("GET", "/pg/api/v1/metrics", &[], Body::empty())
        .await;
    assert_eq!(code, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "success");
    let group = &json["data"][0];
    assert_eq!(group["labels"]["job"], "j");
    assert_eq!(group["last_push_successful"], true);
    assert_eq!(group["s"]["type"], "SUMMARY");
    assert_eq!(group["s"]["help"], "help");
    assert_eq!(group["s"]["metrics"][0]["quantiles"]["0.5"], "1");
    assert_eq!(group["s"]["metrics"][0]["count"], "2");
    assert_eq!(group["push_time_seconds"]["type"], "GAUGE");

    let (code, body) = app
        .call("GET", "/pg/api/v1/status", &[], Body::empty())
        .await;
    assert_eq!(code, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["data"]["flags"]["web.route-prefix"], "/pg");

    let (code, page) = app.call("GET", "/pg/", &[], Body::empty()).await;
    assert_eq!(code, StatusCode::OK);
    assert!(
        page.contains("job=&quot;j&quot;") && page.contains("del('/metrics/job@base64/ag')"),
        "{page}"
    );

    assert_eq!(
        app.call("GET", "/pg/-/healthy", &[], Body::empty()).await,
        (StatusCode::OK, "OK".into())
    );
    assert_eq!(
        app.call("GET", "/pg/-/ready", &[], Body::empty()).await,
        (StatusCode::OK, "OK".into())
    );
    assert_eq!(
        app.call("POST", "/pg/-/quit", &[], Body::empty()).await,
        (
            StatusCode::FORBIDDEN,
            "Lifecycle API is not enabled.".into()
        )
    );
    let (_, metrics) = app.call("GET", "/pg/metrics", &[], Body::empty()).await;
    assert!(
        metrics.contains(
            "pushgateway_http_requests_total{code=\"200\",handler=\"push\",method=\"put\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("pushgateway_build_info{"), "{metrics}");
    assert!(
        metrics.contains("s_sum{instance=\"\",job=\"j\"} 3"),
        "{metrics}"
    );
}

#[tokio::test]
async fn unchecked_pushes_answer_202() {
    let app = App::new(&["--push.disable-consistency-check"]);
    let (code, _) = app.call("PUT", "/metrics/job/j", &[], "a 1\n").await;
    assert_eq!(code, StatusCode::ACCEPTED);
}

/// The push summaries carry upstream's quantiles, and the size is client_golang's estimate of
/// the whole request (the same request to upstream 1.5.1 gives 135).
#[tokio::test]
async fn push_summaries_as_upstream() {
    let app = App::new(&[]);
    let headers = [
        ("host", "127.0.0.1:19698"),
        ("user-agent", "curl/7.88.1"),
        ("accept", "*/*"),
        ("content-length", "4"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let (status, _) = app.call("POST", "/metrics/job/x", &headers, "a 1\n").await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = app.call("GET", "/metrics", &[], Body::empty()).await;
    for line in [
        "pushgateway_http_push_size_bytes{method=\"post\",quantile=\"0.1\"} 135\n",
        "pushgateway_http_push_size_bytes{method=\"post\",quantile=\"0.9\"} 135\n",
        "pushgateway_http_push_size_bytes_sum{method=\"post\"} 135\n",
        "pushgateway_http_push_size_bytes_count{method=\"post\"} 1\n",
        "pushgateway_http_push_duration_seconds{method=\"post\",quantile=\"0.5\"} ",
        "pushgateway_http_requests_total{code=\"200\",handler=\"push\",method=\"post\"} 1\n",
    ] {
        assert!(body.contains(line), "{line:?} missing from:\n{body}");
    }
}
