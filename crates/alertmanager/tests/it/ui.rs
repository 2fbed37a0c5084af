//! The web UI: the daemon serves its page and assets with the right content types under a
//! route prefix, redirects to it as upstream does, and every API call the script makes hits
//! a real route (no browser here, so the script's `api(...)` calls are read from its source).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use jiff::SignedDuration;
use pm_alertmanager::clock::SystemClock;
use pm_alertmanager::daemon::{App, AppOptions, Limits, router};
use regex::Regex;
use tower::ServiceExt as _;

const SCRIPT: &str = include_str!("../../src/ui/script.js");

const CONFIG: &str = r#"
route:
  receiver: team
  group_by: [alertname]
receivers:
  - name: team
"#;

/// The daemon's router under `prefix`, over a fresh app (kept alive by the tempdir).
fn app_router(prefix: &str) -> (tempfile::TempDir, Router) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alertmanager.yml");
    std::fs::write(&path, CONFIG).unwrap();
    let app: Arc<App> = App::new(AppOptions {
        config_file: path,
        storage_dir: None,
        clock: Arc::new(SystemClock),
        retention: SignedDuration::from_hours(120),
        external_url: "http://am.test/am".into(),
    })
    .unwrap();
    let limits = Arc::new(Limits::new(8, Duration::ZERO));
    (dir, router(app, prefix, limits))
}

struct Answer {
    status: StatusCode,
    content_type: String,
    location: String,
    body: String,
}

async fn call(router: &Router, method: Method, uri: &str, body: Option<String>) -> Answer {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.map_or_else(Body::empty, Body::from))
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let text = |name| {
        resp.headers()
            .get(name)
            .map(|v: &header::HeaderValue| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (status, content_type, location) = (
        resp.status(),
        text(header::CONTENT_TYPE),
        text(header::LOCATION),
    );
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        content_type,
        location,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

#[tokio::test]
async fn serves_page_and_assets_under_the_prefix() {
    let (_dir, r) = app_router("/am");
    for (path, content_type, marker) in [
        (
            "/am/",
            "text/html; charset=utf-8",
            "<title>Alertmanager</title>",
        ),
        (
            "/am/script.js",
            "text/javascript; charset=utf-8",
            "function api(",
        ),
        ("/am/style.css", "text/css; charset=utf-8", ".card"),
        ("/am/favicon.svg", "image/svg+xml", "<svg"),
    ] {
        let a = call(&r, Method::GET, path, None).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert_eq!(a.content_type, content_type, "{path}");
        assert!(a.body.contains(marker), "{path} lacks {marker:?}");
        let head = call(&r, Method::HEAD, path, None).await;
        assert_eq!((head.status, head.body.as_str()), (StatusCode::OK, ""));
    }
    // Outside the prefix, nothing but the redirect of `/`.
    for path in ["/script.js", "/am/index.html", "/am/nope.js"] {
        assert_eq!(
            call(&r, Method::GET, path, None).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn redirects_to_the_ui_as_upstream() {
    let (_dir, r) = app_router("/am");
    let root = call(&r, Method::GET, "/", None).await;
    assert_eq!(
        (root.status, root.location.as_str()),
        (StatusCode::FOUND, "/am")
    );
    let bare = call(&r, Method::GET, "/am", None).await;
    assert_eq!(
        (bare.status, bare.location.as_str()),
        (StatusCode::MOVED_PERMANENTLY, "/am/")
    );

    let (_dir, r) = app_router("");
    let root = call(&r, Method::GET, "/", None).await;
    assert_eq!(root.status, StatusCode::OK);
    assert!(root.body.contains("src=\"script.js\""));
}

/// Every `api("METHOD", "/path", ...)` call in the script answers 2xx from the daemon under a
/// prefix, with `{id}` filled by a real silence.
#[tokio::test]
async fn every_api_call_of_the_script_hits_a_route() {
    let call_re = Regex::new(r#"\bapi\("([A-Z]+)", "([^"]+)""#).unwrap();
    let calls: BTreeSet<(String, String)> = call_re
        .captures_iter(SCRIPT)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    let expected = [
        ("GET", "/alerts"),
        ("GET", "/alerts/groups"),
        ("GET", "/receivers"),
        ("GET", "/silences"),
        ("POST", "/silences"),
        ("GET", "/silence/{id}"),
        ("DELETE", "/silence/{id}"),
        ("GET", "/status"),
    ];
    let expected: BTreeSet<(String, String)> = expected
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(calls, expected, "the script's API calls changed: test them");
    // The script must not reach the API by any other way.
    assert_eq!(
        SCRIPT.matches("fetch(").count(),
        1,
        "one fetch, inside api()"
    );
    assert!(
        SCRIPT.contains(r#""api/v2""#),
        "API base relative to the page"
    );

    let (_dir, r) = app_router("/am");
    let silence = r#"{"matchers":[{"name":"alertname","value":"A","isRegex":false,"isEqual":true}],
        "startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z",
        "createdBy":"ui test","comment":"c"}"#;
    let created = call(
        &r,
        Method::POST,
        "/am/api/v2/silences",
        Some(silence.to_owned()),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let created: serde_json::Value = serde_json::from_str(&created.body).unwrap();
    let id = created["silenceID"].as_str().unwrap();

    // DELETE last, so the GET of the same silence runs first.
    let mut ordered: Vec<&(String, String)> = calls.iter().collect();
    ordered.sort_by_key(|(m, _)| m == "DELETE");
    for (method, path) in ordered {
        let uri = format!("/am/api/v2{}", path.replace("{id}", id));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body = (method == Method::POST).then(|| silence.to_owned());
        let a = call(&r, method.clone(), &uri, body).await;
        assert!(
            a.status.is_success(),
            "{method} {uri}: {} {}",
            a.status,
            a.body
        );
    }
}

/// The binary mounts the UI under the prefix taken from `--web.external-url`.
#[tokio::test]
async fn binary_serves_the_ui_under_the_external_url_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(&config, CONFIG).unwrap();
    let port = pm_testsupport::free_port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let _daemon = pm_testsupport::Daemon::spawn(
        std::process::Command::new(env!("CARGO_BIN_EXE_alertmanager"))
            .arg(format!("--web.listen-address={addr}"))
            .arg(format!("--web.external-url=http://{addr}/am/"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg("--cluster.listen-address=")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
        addr,
        Duration::from_secs(20),
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let root = client.get(format!("http://{addr}/")).send().await.unwrap();
    assert_eq!(root.status(), reqwest::StatusCode::FOUND);
    assert_eq!(root.headers()["location"], "/am");
    let page = client
        .get(format!("http://{addr}/am/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let script = client
        .get(format!("http://{addr}/am/script.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.text().await.unwrap(), SCRIPT);
}

/// The script's matcher and duration helpers, run under Node (src/ui/script.test.js).
#[test]
fn script_helpers_pass_under_node() {
    let node = std::process::Command::new("node").arg("--version").output();
    if !pm_testsupport::available("node (Debian's nodejs)", node.is_ok()) {
        return;
    }
    let test = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ui/script.test.js");
    let out = std::process::Command::new("node")
        .arg(test)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
