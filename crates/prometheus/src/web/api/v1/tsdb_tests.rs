//! The database endpoints over a real `Db` in a temporary directory.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use pm_common::metrics::Registry;
use pm_common::model::Labels;
use pm_promql::engine::{Engine, EngineOptions};
use pm_storage::{Appendable, SeriesRef};
use pm_tsdb::{Db, DbOptions};
use tower::ServiceExt;

use super::status::ServerStatus;
use super::tsdb::TsdbState;
use super::{ApiState, Storage, router, ungated_router};
use crate::config::load_str;

struct Fixture {
    _dir: tempfile::TempDir,
    app: axum::Router,
    data: std::path::PathBuf,
}

fn fixture(enable_admin: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = Arc::new(Db::open(&data, DbOptions::default(), &Registry::new()).unwrap());
    let mut app = db.appender();
    for job in ["a", "b"] {
        for i in 0..3 {
            let l = Labels::from_pairs([
                ("__name__", "up"),
                ("job", job),
                ("instance", &format!("i{i}")),
            ]);
            for t in 0..5 {
                app.append(SeriesRef::UNKNOWN, &l, t * 15_000, 1.0).unwrap();
            }
        }
    }
    app.commit().unwrap();
    let slot = Arc::new(OnceLock::new());
    let _ = slot.set(Storage::of_db(db.clone()));
    let state = Arc::new(ApiState {
        storage: slot,
        engine: Engine::new(EngineOptions::default()),
        status: Arc::new(ServerStatus::new(
            Arc::new(load_str("", "p.yml").unwrap()),
            vec![],
            "15d".into(),
        )),
        targets: None,
        tsdb: TsdbState {
            dir: data.clone(),
            enable_admin,
            replay: db.replay_progress(),
        },
        alertmanagers: None,
        remote: Default::default(),
        rules: None,
        query_log: Arc::new(
            crate::web::api::v1::query_log::QueryLog::new(&pm_common::metrics::Registry::new())
                .unwrap(),
        ),
    });
    let app = router(state.clone()).merge(ungated_router(state));
    Fixture {
        _dir: dir,
        app,
        data,
    }
}

async fn call(app: &axum::Router, method: &str, uri: &str) -> (StatusCode, String) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn status_tsdb_reports_head_cardinality() {
    let f = fixture(false);
    let (code, body) = call(&f.app, "GET", "/status/tsdb?limit=1").await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let data = &v["data"];
    assert_eq!(data["headStats"]["numSeries"], 6);
    assert_eq!(data["headStats"]["minTime"], 0);
    assert_eq!(data["headStats"]["maxTime"], 60_000);
    assert_eq!(
        data["seriesCountByMetricName"],
        serde_json::json!([{"name": "up", "value": 6}])
    );
    assert_eq!(
        data["labelValueCountByLabelName"].as_array().unwrap().len(),
        1
    );
    for bad in ["0", "-1", "x"] {
        let (code, body) = call(&f.app, "GET", &format!("/status/tsdb?limit={bad}")).await;
        assert_eq!(code, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            r#"{"status":"error","errorType":"bad_data","error":"limit must be a positive number"}"#
        );
    }
}

#[tokio::test]
async fn wal_replay_status_is_done_once_open() {
    let f = fixture(false);
    let (code, body) = call(&f.app, "GET", "/status/walreplay").await;
    assert_eq!(code, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["current"], v["data"]["max"], "{body}");
}

#[tokio::test]
async fn admin_endpoints_are_off_without_the_flag() {
    let f = fixture(false);
    for path in [
        "/admin/tsdb/delete_series?match[]=up",
        "/admin/tsdb/clean_tombstones",
        "/admin/tsdb/snapshot",
    ] {
        let (code, body) = call(&f.app, "POST", path).await;
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(
            body,
            r#"{"status":"error","errorType":"unavailable","error":"admin APIs disabled"}"#
        );
    }
}

#[tokio::test]
async fn delete_series_hides_the_matching_samples() {
    let f = fixture(true);
    let (code, body) = call(&f.app, "POST", "/admin/tsdb/delete_series").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(body.contains("no match[] parameter provided"), "{body}");
    let (code, body) = call(
        &f.app,
        "PUT",
        "/admin/tsdb/delete_series?match[]=up%7Bjob%3D%22a%22%7D&start=0&end=30",
    )
    .await;
    assert_eq!((code, body.as_str()), (StatusCode::NO_CONTENT, ""));
    let (_, body) = call(&f.app, "GET", "/query?query=count(up)&time=15").await;
    assert!(body.contains(r#""value":[15,"3"]"#), "{body}");
    // Samples after the deleted range are still there.
    let (_, body) = call(&f.app, "GET", "/query?query=count(up)&time=45").await;
    assert!(body.contains(r#""value":[45,"6"]"#), "{body}");
    let (code, _) = call(&f.app, "POST", "/admin/tsdb/clean_tombstones").await;
    assert_eq!(code, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn snapshot_writes_an_openable_copy() {
    let f = fixture(true);
    let (code, body) = call(&f.app, "POST", "/admin/tsdb/snapshot?skip_head=maybe").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        body.contains(r#"invalid parameter \"skip_head\""#),
        "{body}"
    );
    let (code, body) = call(&f.app, "POST", "/admin/tsdb/snapshot").await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let name = v["data"]["name"].as_str().unwrap().to_owned();
    // 20060102T150405Z0700 and 16 hex digits.
    assert_eq!(name.len(), 16 + 1 + 16, "{name}");
    assert!(
        name.as_bytes()[8] == b'T' && name.as_bytes()[15] == b'Z',
        "{name}"
    );
    let copy = Db::open(
        f.data.join("snapshots").join(&name),
        DbOptions::default(),
        &Registry::new(),
    )
    .unwrap();
    assert_eq!(copy.head().num_series(), 0, "the head went into a block");
    assert_eq!(copy.blocks().len(), 1);
}
