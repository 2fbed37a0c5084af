use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;

use super::*;
use crate::testutil::{Recorder, addresses, context, sample};

/// What the local SD endpoint answers: status, content type, body; plus the last request's
/// headers.
#[derive(Default)]
struct Endpoint {
    answer: Mutex<(u16, String, String)>,
    seen: Mutex<Option<HeaderMap>>,
}

async fn serve(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
) -> axum::response::Response {
    *endpoint.seen.lock().unwrap() = Some(headers);
    let (status, content_type, body) = endpoint.answer.lock().unwrap().clone();
    axum::response::Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header(header::CONTENT_TYPE, content_type)
        .body(axum::body::Body::from(body))
        .unwrap()
}

async fn start_endpoint(endpoint: Arc<Endpoint>) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sd", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/sd", get(serve))
        .with_state(endpoint);
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, server)
}

fn set(endpoint: &Endpoint, status: u16, content_type: &str, body: &str) {
    *endpoint.answer.lock().unwrap() = (status, content_type.to_owned(), body.to_owned());
}

#[tokio::test]
async fn fetches_groups_and_keeps_them_when_the_endpoint_fails() {
    let endpoint = Arc::new(Endpoint::default());
    set(
        &endpoint,
        200,
        "application/json; charset=utf-8",
        r#"[{"targets":["h1:80","h2:80"],"labels":{"dc":"x"}},{"targets":["h3:80"]}]"#,
    );
    let (url, server) = start_endpoint(Arc::clone(&endpoint)).await;
    let config = HttpSdConfig {
        url: url.clone(),
        refresh_interval: pm_common::config::Duration::from_millis(30),
        http_client: Default::default(),
    };
    let (ctx, registry) = context("job");
    let recorder = Arc::new(Recorder::default());
    let task = tokio::spawn(
        Discovery::new(&config, ctx)
            .unwrap()
            .run(recorder.updates()),
    );

    let state = recorder.wait_for("the first fetch", |s| s.len() == 2).await;
    let first = &state[&format!("{url}:0")];
    assert_eq!(addresses(first), ["h1:80", "h2:80"]);
    assert_eq!(first.labels.get("dc"), Some("x"));
    assert_eq!(first.labels.get(URL_LABEL), Some(url.as_str()));
    let headers = endpoint.seen.lock().unwrap().clone().unwrap();
    assert_eq!(headers[header::ACCEPT], "application/json");
    assert_eq!(headers["X-Prometheus-Refresh-Interval-Seconds"], "0.03");

    // A shorter list withdraws the groups past its end.
    set(
        &endpoint,
        200,
        "application/json",
        r#"[{"targets":["h9:80"]}]"#,
    );
    recorder
        .wait_for("the second group withdrawn", |s| {
            s[&format!("{url}:1")].targets.is_empty()
                && addresses(&s[&format!("{url}:0")]) == ["h9:80"]
        })
        .await;

    // Errors are counted and report nothing, so the last groups stay.
    for (status, content_type, body) in [
        (500, "application/json", "[]"),
        (200, "text/plain", "[]"),
        (200, "application/json", "[null]"),
    ] {
        let failures = sample(&registry, "prometheus_sd_http_failures_total").unwrap();
        set(&endpoint, status, content_type, body);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        while sample(&registry, "prometheus_sd_http_failures_total").unwrap() <= failures {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{status} {content_type} not counted"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(
            addresses(&recorder.merged()[&format!("{url}:0")]),
            ["h9:80"]
        );
    }
    let refresh_failures = sample(
        &registry,
        "prometheus_sd_refresh_failures_total{config=\"job\",mechanism=\"http\"}",
    );
    assert!(
        refresh_failures.is_some_and(|v| v >= 3.0),
        "{refresh_failures:?}"
    );
    task.abort();
    server.abort();
}

#[test]
fn content_types_as_upstream() {
    for ok in [
        "application/json",
        "Application/JSON",
        "application/json;charset=utf-8",
        "application/json; charset=\"utf-8\"",
    ] {
        assert!(is_json(ok), "{ok}");
    }
    for bad in [
        "text/json",
        "application/json; charset=latin1",
        "application/jsonx",
        "",
    ] {
        assert!(!is_json(bad), "{bad}");
    }
}
