//! The API driven in-process over an in-memory storage: shapes, errors and status codes.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use pm_common::model::{Labels, MetricType};
use pm_promql::engine::{Engine, EngineOptions};
use pm_storage::{Appendable, MemStorage, SeriesRef};
use tower::ServiceExt;

use super::status::ServerStatus;
use super::targets::{ActiveTarget, DroppedTarget, Health, TargetMetadata, TargetsSource};
use super::{ApiState, Storage, router};
use crate::config::load_str;

fn storage() -> Storage {
    let storage = MemStorage::new();
    let mut app = storage.appender();
    for (job, code, v) in [("api", "200", 1.0), ("api", "500", 2.0), ("db", "200", 3.0)] {
        let l = Labels::from_pairs([("__name__", "req"), ("job", job), ("code", code)]);
        for t in 0..10 {
            app.append(SeriesRef::UNKNOWN, &l, t * 15_000, v * t as f64)
                .unwrap();
        }
    }
    let l = Labels::from_pairs([("__name__", "req"), ("job", "db"), ("code", "200")]);
    let exemplar = pm_common::model::Exemplar {
        labels: Labels::from_pairs([("trace_id", "abc")]),
        value: 6.0,
        ts: Some(30_500),
    };
    app.append_exemplar(SeriesRef::UNKNOWN, &l, &exemplar)
        .unwrap();
    app.commit().unwrap();
    Storage::of(storage)
}

struct FakeTargets;

impl TargetsSource for FakeTargets {
    fn active_targets(&self) -> Vec<ActiveTarget> {
        ["a", "b"]
            .into_iter()
            .map(|pool| ActiveTarget {
                discovered_labels: Labels::from_pairs([("__address__", "h:1")]),
                labels: Labels::from_pairs([("instance", "h:1"), ("job", pool)]),
                scrape_pool: pool.into(),
                scrape_url: "http://h:1/metrics".into(),
                global_url: "http://h:1/metrics".into(),
                last_error: String::new(),
                last_scrape: None,
                last_scrape_duration: 0.5,
                health: Health::Up,
                scrape_interval: "15s".into(),
                scrape_timeout: "10s".into(),
            })
            .collect()
    }

    fn dropped_targets(&self) -> Vec<DroppedTarget> {
        vec![DroppedTarget {
            discovered_labels: Labels::from_pairs([("__address__", "x:2")]),
            scrape_pool: "b".into(),
        }]
    }

    fn dropped_target_counts(&self) -> BTreeMap<String, usize> {
        [("b".to_owned(), 1)].into_iter().collect()
    }

    fn metadata(&self) -> Vec<TargetMetadata> {
        ["a", "b"]
            .into_iter()
            .map(|job| TargetMetadata {
                target: Labels::from_pairs([("instance", "h:1"), ("job", job)]),
                metric: "req".into(),
                kind: MetricType::Counter,
                help: "Requests.".into(),
                unit: String::new(),
            })
            .collect()
    }
}

fn app(targets: bool) -> axum::Router {
    let slot = Arc::new(OnceLock::new());
    let _ = slot.set(storage());
    let config = load_str("global:\n  external_labels: {dc: x}\n", "p.yml").unwrap();
    router(Arc::new(ApiState {
        storage: slot,
        engine: Engine::new(EngineOptions {
            enable_per_step_stats: true,
            ..EngineOptions::default()
        }),
        status: Arc::new(ServerStatus::new(
            Arc::new(config),
            vec![("b.flag", "2".into()), ("a.flag", "1".into())],
            "15d".into(),
        )),
        targets: targets.then(|| Arc::new(FakeTargets) as Arc<dyn TargetsSource>),
        tsdb: super::tsdb::TsdbState {
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
    }))
}

async fn call(app: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn get(uri: &str) -> (StatusCode, String) {
    call(&app(true), Request::get(uri).body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn instant_query_and_limit() {
    let (code, body) = get("/query?query=sum+by+(job)(req)&time=135").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"api"},"value":[135,"27"]},{"metric":{"job":"db"},"value":[135,"27"]}]}}"#
    );
    let (_, body) = get("/query?query=sum+by+(job)(req)&time=135&limit=1").await;
    assert!(
        body.ends_with(r#"}]},"warnings":["results truncated due to limit"]}"#),
        "{body}"
    );
    let (_, body) = get("/query?query=1%2B1&time=2.5").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"scalar","result":[2.5,"2"]}}"#
    );
}

#[tokio::test]
async fn range_query_over_post_form() {
    let req = Request::post("/query_range")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(
            "query=req%7Bjob%3D%22db%22%7D&start=0&end=30&step=15s",
        ))
        .unwrap();
    let (code, body) = call(&app(false), req).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"req","code":"200","job":"db"},"values":[[0,"0"],[15,"3"],[30,"6"]]}]}}"#
    );
}

#[tokio::test]
async fn stats_carry_timings_and_per_step_samples() {
    let query = "/query_range?query=req%7Bjob%3D%22db%22%7D&start=0&end=30&step=15s";
    let (code, body) = get(&format!("{query}&stats=all")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let stats = &v["data"]["stats"];
    let timings = stats["timings"].as_object().unwrap();
    let names: Vec<&str> = timings.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "evalTotalTime",
            "execQueueTime",
            "execTotalTime",
            "innerEvalTime",
            "queryPreparationTime",
            "resultSortTime"
        ]
    );
    let secs = |k: &str| timings[k].as_f64().unwrap();
    assert!(secs("evalTotalTime") > 0.0, "{body}");
    assert!(secs("execTotalTime") >= secs("evalTotalTime"), "{body}");
    assert!(secs("evalTotalTime") >= secs("innerEvalTime"), "{body}");
    assert_eq!(
        stats["samples"],
        serde_json::json!({
            "totalQueryableSamplesPerStep": [[0, 1], [15, 1], [30, 1]],
            "totalQueryableSamples": 3,
            "peakSamples": 3,
        })
    );
    // Without `all`, the totals only.
    let (_, body) = get(&format!("{query}&stats=1")).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["data"]["stats"]["samples"],
        serde_json::json!({"totalQueryableSamples": 3, "peakSamples": 3})
    );
}

#[test]
fn json_floats_as_go_writes_them() {
    let cases = [
        (0.0, "0"),
        (2.0, "2"),
        (0.000012, "0.000012"),
        (1.5e-7, "1.5e-7"),
        (1e21, "1e+21"),
        (123456.789, "123456.789"),
    ];
    for (v, want) in cases {
        let mut out = String::new();
        super::json::push_json_float(&mut out, v);
        assert_eq!(out, want, "{v}");
    }
}

#[tokio::test]
async fn errors_carry_upstream_types_and_codes() {
    let cases = [
        (
            "/query?query=sum(",
            StatusCode::BAD_REQUEST,
            r#""errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis""#,
        ),
        (
            "/query?query=up&time=yesterday",
            StatusCode::BAD_REQUEST,
            r#""error":"invalid parameter \"time\": invalid time value for 'time': cannot parse \"yesterday\" to a valid timestamp""#,
        ),
        (
            "/query_range?query=up&start=10&end=0&step=1",
            StatusCode::BAD_REQUEST,
            r#""error":"invalid parameter \"end\": end timestamp must not be before start time""#,
        ),
        (
            "/query_range?query=up&start=0&end=100000&step=1",
            StatusCode::BAD_REQUEST,
            "exceeded maximum resolution of 11,000 points per timeseries",
        ),
        (
            "/query_range?query=up&start=0&end=10&step=0",
            StatusCode::BAD_REQUEST,
            "zero or negative query resolution step widths are not accepted",
        ),
        (
            "/query_range?query=up%5B5m%5D&start=0&end=10&step=1",
            StatusCode::BAD_REQUEST,
            r#"invalid parameter \"query\": invalid expression type \"range vector\" for range query"#,
        ),
        (
            "/series",
            StatusCode::BAD_REQUEST,
            r#""error":"no match[] parameter provided""#,
        ),
        (
            "/series?match[]=%7Bjob%3D~%22.*%22%7D",
            StatusCode::BAD_REQUEST,
            "match[] must contain at least one non-empty matcher",
        ),
        (
            "/labels?limit=-1",
            StatusCode::BAD_REQUEST,
            r#"invalid parameter \"limit\": limit must be non-negative"#,
        ),
    ];
    for (uri, want_code, want) in cases {
        let (code, body) = get(uri).await;
        assert_eq!(code, want_code, "{uri}: {body}");
        assert!(body.contains(want), "{uri}: {body}");
        assert!(body.starts_with(r#"{"status":"error""#), "{uri}: {body}");
    }
}

#[tokio::test]
async fn execution_errors_are_422() {
    let (code, body) = get("/query?query=label_replace(req,%22x%22,%22y%22,%22z%22,%22(%22)").await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body,
        r#"{"status":"error","errorType":"execution","error":"invalid regular expression in label_replace(): ("}"#
    );
}

#[tokio::test]
async fn series_labels_and_values() {
    let (_, body) =
        get("/series?match[]=req%7Bjob%3D%22db%22%7D&match[]=req%7Bcode%3D%22500%22%7D").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":[{"__name__":"req","code":"200","job":"db"},{"__name__":"req","code":"500","job":"api"}]}"#
    );
    let (_, body) = get("/labels").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":["__name__","code","job"]}"#
    );
    let (_, body) = get("/label/job/values?match[]=req%7Bcode%3D%22500%22%7D").await;
    assert_eq!(body, r#"{"status":"success","data":["api"]}"#);
    let (_, body) = get("/label/job/values?limit=1").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":["api"],"warnings":["results truncated due to limit"]}"#
    );
    let (_, body) = get("/label/U__jo_62_/values").await;
    assert_eq!(body, r#"{"status":"success","data":["api","db"]}"#);
    let (_, body) = get("/label/nope/values").await;
    assert_eq!(body, r#"{"status":"success","data":[]}"#);
}

#[tokio::test]
async fn format_query_and_status() {
    let (_, body) = get("/format_query?query=sum(rate(x%5B5m%5D))by(job)").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":"sum by (job) (rate(x[5m]))"}"#
    );
    let (_, body) = get("/parse_query?query=-req").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":{"expr":{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"req"}],"name":"req","offset":0,"offsetExpr":null,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"},"op":"-","type":"unaryExpr"}}"#
    );
    let (code, body) = get("/parse_query?query=sum(").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        body.contains(r#""error":"invalid parameter \"query\": "#),
        "{body}"
    );
    let (_, body) = get("/status/flags").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":{"a.flag":"1","b.flag":"2"}}"#
    );
    let (_, body) = get("/status/config").await;
    assert!(
        body.starts_with(r#"{"status":"success","data":{"yaml":"global:\n  scrape_interval: 1m\n"#),
        "{body}"
    );
    assert!(body.contains("external_labels:\\n    dc: x\\n"), "{body}");
    let (_, body) = get("/status/buildinfo").await;
    assert!(body.contains(r#""version":""#), "{body}");
    let (_, body) = get("/status/runtimeinfo").await;
    assert!(body.contains(r#""reloadConfigSuccess":true"#), "{body}");
    assert!(body.contains(r#""storageRetention":"15d""#), "{body}");
}

#[tokio::test]
async fn targets_and_metadata_from_the_source() {
    let (_, body) = get("/targets?state=active&scrapePool=b").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":{"activeTargets":[{"discoveredLabels":{"__address__":"h:1"},"labels":{"instance":"h:1","job":"b"},"scrapePool":"b","scrapeUrl":"http://h:1/metrics","globalUrl":"http://h:1/metrics","lastError":"","lastScrape":"0001-01-01T00:00:00Z","lastScrapeDuration":0.5,"health":"up","scrapeInterval":"15s","scrapeTimeout":"10s"}],"droppedTargets":[],"droppedTargetCounts":null}}"#
    );
    let (_, body) = get("/targets?state=dropped").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":{"activeTargets":[],"droppedTargets":[{"discoveredLabels":{"__address__":"x:2"},"scrapePool":"b"}],"droppedTargetCounts":{"b":1}}}"#
    );
    let (_, body) = get("/targets/metadata?match_target=%7Bjob%3D%22a%22%7D").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":[{"target":{"instance":"h:1","job":"a"},"metric":"req","type":"counter","help":"Requests.","unit":""}]}"#
    );
    let (_, body) = get("/metadata").await;
    assert_eq!(
        body,
        r#"{"status":"success","data":{"req":[{"type":"counter","help":"Requests.","unit":""}]}}"#
    );
    let (_, body) = call(
        &app(false),
        Request::get("/targets").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(
        body,
        r#"{"status":"success","data":{"activeTargets":[],"droppedTargets":[],"droppedTargetCounts":{}}}"#
    );
}

#[tokio::test]
async fn exemplars_of_the_selected_series() {
    let (code, body) =
        get("/query_exemplars?query=sum(req%7Bjob%3D%22db%22%7D)&start=0&end=100").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"status":"success","data":[{"seriesLabels":{"__name__":"req","code":"200","job":"db"},"exemplars":[{"labels":{"trace_id":"abc"},"value":"6","timestamp":30.500}]}]}"#
    );
    let (_, body) = get("/query_exemplars?query=1%2B1").await;
    assert_eq!(body, r#"{"status":"success"}"#);
    let (code, body) = get("/query_exemplars?query=req&start=10&end=0").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("end timestamp must not be before start timestamp"),
        "{body}"
    );
}
