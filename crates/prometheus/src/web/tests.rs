//! The whole router: prefix, readiness gate, lifecycle endpoints and request metrics.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use pm_common::model::GoRegex;
use pm_common::web::Readiness;
use pm_promql::engine::{Engine, EngineOptions};
use pm_storage::MemStorage;
use tokio::sync::{Notify, mpsc};
use tower::ServiceExt;

use super::api::v1::status::ServerStatus;
use super::api::v1::{ApiState, Storage, StorageSlot};
use super::federate::FederationState;
use super::metrics::ServerMetrics;
use super::{ReloadRequest, WebOptions, router};
use crate::config::Config;

struct Fixture {
    app: axum::Router,
    readiness: Readiness,
    storage: StorageSlot,
    reloads: mpsc::Receiver<ReloadRequest>,
    quit: Arc<Notify>,
}

fn fixture(prefix: &str, lifecycle: bool) -> Fixture {
    let storage: StorageSlot = Arc::new(OnceLock::new());
    let status = Arc::new(ServerStatus::new(
        Arc::new(Config::default()),
        Vec::new(),
        "15d".into(),
    ));
    let readiness = Readiness::default();
    let (tx, reloads) = mpsc::channel(1);
    let quit = Arc::new(Notify::new());
    let metrics = ServerMetrics::new();
    let app = router(WebOptions {
        prefix: prefix.into(),
        enable_lifecycle: lifecycle,
        cors_origin: GoRegex::new("https://ok\\.example").unwrap(),
        readiness: readiness.clone(),
        metrics,
        api: Arc::new(ApiState {
            storage: storage.clone(),
            engine: Engine::new(EngineOptions::default()),
            status: status.clone(),
            targets: None,
            tsdb: crate::web::api::v1::tsdb::TsdbState {
                dir: std::env::temp_dir(),
                enable_admin: false,
                replay: Arc::default(),
            },
            alertmanagers: None,
            remote: Default::default(),
            rules: None,
            query_log: Arc::new(
                crate::web::api::v1::query_log::QueryLog::new(&pm_common::metrics::Registry::new())
                    .unwrap(),
            ),
        }),
        federation: Arc::new(FederationState {
            storage: storage.clone(),
            status,
            lookback: 300_000,
        }),
        reload: tx,
        quit: quit.clone(),
    });
    Fixture {
        app,
        readiness,
        storage,
        reloads,
        quit,
    }
}

async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn not_ready_until_storage_opens() {
    let f = fixture("/prom", false);
    let (code, _, body) = send(&f.app, get("/prom/-/ready")).await;
    assert_eq!(
        (code, body.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
    );
    let (code, _, body) = send(&f.app, get("/prom/api/v1/labels")).await;
    assert_eq!(
        (code, body.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
    );
    let (code, _, body) = send(&f.app, get("/prom/-/healthy")).await;
    assert_eq!(
        (code, body.as_str()),
        (StatusCode::OK, "Prometheus Server is Healthy.\n")
    );

    let _ = f.storage.set(Storage::of(MemStorage::new()));
    f.readiness.set_ready(true);
    let (code, _, body) = send(&f.app, get("/prom/-/ready")).await;
    assert_eq!(
        (code, body.as_str()),
        (StatusCode::OK, "Prometheus Server is Ready.\n")
    );
    let (code, _, body) = send(&f.app, get("/prom/api/v1/labels")).await;
    assert_eq!(
        (code, body.as_str()),
        (StatusCode::OK, r#"{"status":"success","data":[]}"#)
    );
    let (code, _, _) = send(&f.app, get("/api/v1/labels")).await;
    assert_eq!(
        code,
        StatusCode::NOT_FOUND,
        "routes live under the prefix only"
    );
    let (code, _, body) = send(&f.app, get("/prom/api/v1/rules")).await;
    assert_eq!(
        (code, body.as_str()),
        (
            StatusCode::OK,
            r#"{"status":"success","data":{"groups":[]}}"#
        ),
        "without a rule manager the list is empty"
    );
}

#[tokio::test]
async fn lifecycle_disabled_and_wrong_methods() {
    let f = fixture("", false);
    let post = |uri: &str| Request::post(uri).body(Body::empty()).unwrap();
    let (code, _, body) = send(&f.app, post("/-/reload")).await;
    assert_eq!(
        (code, body.as_str()),
        (StatusCode::FORBIDDEN, "Lifecycle API is not enabled.")
    );
    let (code, _, body) = send(&f.app, post("/-/quit")).await;
    assert_eq!(
        (code, body.as_str()),
        (StatusCode::FORBIDDEN, "Lifecycle API is not enabled.")
    );
    let (code, _, body) = send(&f.app, get("/-/quit")).await;
    assert_eq!(
        (code, body.as_str()),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "Only POST or PUT requests allowed"
        )
    );
}

#[tokio::test]
async fn reload_answers_with_the_daemons_verdict() {
    let mut f = fixture("", true);
    let app = f.app.clone();
    let request = tokio::spawn(async move {
        send(&app, Request::put("/-/reload").body(Body::empty()).unwrap()).await
    });
    let answer = f.reloads.recv().await.unwrap();
    answer.send(Err("bad file".into())).unwrap();
    let (code, _, body) = request.await.unwrap();
    assert_eq!(
        (code, body.as_str()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "failed to reload config: bad file\n"
        )
    );

    let app = f.app.clone();
    let request = tokio::spawn(async move {
        send(
            &app,
            Request::post("/-/reload").body(Body::empty()).unwrap(),
        )
        .await
    });
    f.reloads.recv().await.unwrap().send(Ok(())).unwrap();
    assert_eq!(request.await.unwrap().0, StatusCode::OK);

    let quit = f.quit.clone();
    let notified = tokio::spawn(async move { quit.notified().await });
    let (code, _, body) = send(
        &f.app,
        Request::post("/-/quit").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (StatusCode::OK, "Requesting termination... Goodbye!")
    );
    notified.await.unwrap();
}

#[tokio::test]
async fn cors_and_request_metrics() {
    let f = fixture("", false);
    let _ = f.storage.set(Storage::of(MemStorage::new()));
    f.readiness.set_ready(true);
    let req = Request::get("/api/v1/label/job/values")
        .header("origin", "https://ok.example")
        .body(Body::empty())
        .unwrap();
    let (_, headers, _) = send(&f.app, req).await;
    assert_eq!(headers["access-control-allow-origin"], "https://ok.example");
    let req = Request::get("/api/v1/labels")
        .header("origin", "https://evil.example")
        .body(Body::empty())
        .unwrap();
    let (_, headers, _) = send(&f.app, req).await;
    assert!(headers.get("access-control-allow-origin").is_none());
    assert_eq!(
        headers["access-control-allow-methods"],
        "GET, POST, OPTIONS"
    );

    let (_, _, text) = send(&f.app, get("/metrics")).await;
    assert!(
        text.contains(
            r#"prometheus_http_requests_total{code="200",handler="/api/v1/label/:name/values"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"prometheus_http_requests_total{code="200",handler="/api/v1/labels"} 1"#),
        "{text}"
    );
    assert!(text.contains("process_cpu_seconds_total"), "{text}");
    assert!(text.contains("prometheus_build_info{"), "{text}");
}

#[tokio::test]
async fn federation_is_empty_without_match() {
    let f = fixture("", false);
    let _ = f.storage.set(Storage::of(MemStorage::new()));
    f.readiness.set_ready(true);
    let (code, headers, body) = send(&f.app, get("/federate")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert_eq!(body, "");
    let (code, _, _) = send(&f.app, get("/federate?match[]=up%7B")).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
}
